package gateway

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"testing"

	"github.com/flowgate/flowgate/internal/apierr"
	"github.com/flowgate/flowgate/internal/upstream"
)

// A failure gets the same error type whether the gateway answers it before
// the first byte (an error body with a status) or after it (the protocol's
// in-stream error event), and that type is the one table's.
func TestAFailureHasTheSameTypeBeforeAndAfterTheFirstByte(t *testing.T) {
	failures := []struct {
		name   string
		err    *upstream.Error
		status int
	}{
		{"402 payment", &upstream.Error{Kind: upstream.FailStatus, Status: 402, Body: []byte("no credit left")}, 402},
		{"429 rate limit", &upstream.Error{Kind: upstream.FailStatus, Status: 429}, 429},
		{"503 overloaded", &upstream.Error{Kind: upstream.FailStatus, Status: 503, Body: []byte("<html>busy</html>")}, 503},
		{"504 from upstream", &upstream.Error{Kind: upstream.FailStatus, Status: 504}, 504},
		{"timeout", &upstream.Error{Kind: upstream.FailTimeout, Err: upstream.ErrIdleTimeout}, 504},
		{"connection broke", &upstream.Error{Kind: upstream.FailConnect, Err: errors.New("connection reset by peer")}, 502},
		{"truncated", &upstream.Error{Kind: upstream.FailBadResponse, Err: errors.New("ended early")}, 502},
	}
	protos := []struct {
		p    upstream.Protocol
		want func(apierr.Types) string
	}{
		{upstream.Chat, func(t apierr.Types) string { return t.Chat }},
		{upstream.Responses, func(t apierr.Types) string { return t.Responses }},
		{upstream.Messages, func(t apierr.Types) string { return t.Anthropic }},
	}
	for _, f := range failures {
		for _, pr := range protos {
			want := pr.want(apierr.For(f.status))

			rec := httptest.NewRecorder()
			if got := writeUpstreamError(rec, apiOf(pr.p), f.err); got != f.status || rec.Code != f.status {
				t.Fatalf("%s %s: answered %d (recorded %d), want %d", f.name, pr.p, got, rec.Code, f.status)
			}
			var before struct {
				Error struct{ Type string }
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &before); err != nil {
				t.Fatalf("%s %s: error body %q: %v", f.name, pr.p, rec.Body, err)
			}

			frame := streamErrorFrame(nil, pr.p, clientError(f.err), 2)
			data, ok := frameData(nil, bytes.TrimSuffix(frame, []byte("\n")))
			if !ok {
				t.Fatalf("%s %s: error frame without data: %q", f.name, pr.p, frame)
			}
			var after struct {
				Code  string
				Error struct{ Type string }
			}
			if err := json.Unmarshal(data, &after); err != nil {
				t.Fatalf("%s %s: error event %q: %v", f.name, pr.p, data, err)
			}
			afterType := after.Error.Type
			if pr.p == upstream.Responses {
				afterType = after.Code // a Responses error event carries a code
			}
			if before.Error.Type != want || afterType != want {
				t.Errorf("%s %s: type before the first byte %q, after %q, want %q", f.name, pr.p, before.Error.Type, afterType, want)
			}
		}
	}
}
