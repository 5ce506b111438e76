package gateway

import (
	"net/http"
	"strings"
	"testing"

	"github.com/flowgate/flowgate/internal/jsonscan"
)

func TestRequestSessionComesFromTheClientsHeadersOrBody(t *testing.T) {
	for _, c := range []struct {
		name   string
		header map[string]string
		body   string
		want   string
	}{
		{"claude code header", map[string]string{"X-Claude-Code-Session-Id": "cc-1"}, `{"model":"m"}`, "cc-1"},
		{"codex responses header", map[string]string{"session-id": "cx-1"}, `{"model":"m","prompt_cache_key":"other"}`, "cx-1"},
		{"codex chat header", map[string]string{"session_id": "cx-2"}, `{"model":"m"}`, "cx-2"},
		{"claude code metadata", nil, `{"model":"m","metadata":{"user_id":"{\"device_id\":\"d\",\"account_uuid\":\"\",\"session_id\":\"s-uuid\"}"}}`, "s-uuid"},
		{"older claude code metadata", nil, `{"model":"m","metadata":{"user_id":"user_ab12_account_u-1_session_s-2"}}`, "s-2"},
		{"api user id", nil, `{"model":"m","metadata":{"user_id":"alice"}}`, "alice"},
		{"prompt cache key", nil, `{"model":"m","prompt_cache_key":"pck"}`, "pck"},
		{"none", nil, `{"model":"m","messages":[{"metadata":{"user_id":"nested"}}]}`, ""},
		{"capped", nil, `{"model":"m","prompt_cache_key":"` + strings.Repeat("k", 300) + `"}`, strings.Repeat("k", maxSessionID) + "...(300 bytes)"},
	} {
		r, _ := http.NewRequest("POST", "http://x/", nil)
		for k, v := range c.header {
			r.Header.Set(k, v)
		}
		info, err := jsonscan.ScanBody([]byte(c.body))
		if err != nil {
			t.Fatal(err)
		}
		if got := requestSession(r, &info); got != c.want {
			t.Errorf("%s: session %q, want %q", c.name, got, c.want)
		}
	}
}
