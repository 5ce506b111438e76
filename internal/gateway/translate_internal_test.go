package gateway

import (
	"errors"
	"testing"

	"github.com/flowgate/flowgate/internal/upstream"
)

// Every cross-protocol pair has a translator; only same-protocol pairs
// (served by passthrough, never sent to the translator) are unavailable.
func TestTranslateAdapterCoversEveryProtocolPair(t *testing.T) {
	bodies := map[upstream.Protocol]string{
		upstream.Chat:      `{"model":"a","stream":true,"messages":[{"role":"user","content":"hi"}]}`,
		upstream.Messages:  `{"model":"a","stream":true,"max_tokens":5,"messages":[{"role":"user","content":"hi"}]}`,
		upstream.Responses: `{"model":"a","stream":true,"input":"hi"}`,
	}
	for from, body := range bodies {
		for to := range bodies {
			c, err := translateAdapter{}.Request(from, to, []byte(body), &upstream.Target{Model: "up"}, "a")
			if from == to {
				if !errors.Is(err, ErrTranslationUnavailable) {
					t.Errorf("%v -> %v: err = %v, want ErrTranslationUnavailable", from, to, err)
				}
				continue
			}
			if err != nil || len(c.Body) == 0 || c.Response == nil || c.Stream == nil || c.Stream() == nil {
				t.Errorf("%v -> %v: %v %+v", from, to, err, c)
			}
		}
	}
}
