package compat_test

import (
	"strings"
	"testing"

	"github.com/flowgate/flowgate/internal/compat"
)

// The error rows: what a client gets when the upstream fails.

func rowError400(t *testing.T, p proto, k kind) compat.Outcome {
	for _, s := range modes {
		g, _ := single(t, k, mode400, nil)
		r := send(t, g, p, request(p, ""), s, nil)
		if inShape(t, r, p, s, 400) && !strings.Contains(r.err.msg, "bad field x") {
			t.Errorf("%s: the error message lost the upstream's: %s", streamName(s), r.err.raw)
		}
	}
	return pass
}

func rowError429(t *testing.T, p proto, k kind) compat.Outcome {
	for _, s := range modes {
		g, _ := single(t, k, mode429, nil)
		r := send(t, g, p, request(p, ""), s, nil)
		if inShape(t, r, p, s, 429) && r.err.retryAfter != "7" {
			t.Errorf("%s: Retry-After %q, want 7", streamName(s), r.err.retryAfter)
		}
	}
	return pass
}

func rowError500(t *testing.T, p proto, k kind) compat.Outcome {
	for _, s := range modes {
		g, _ := single(t, k, mode500, nil)
		inShape(t, send(t, g, p, request(p, ""), s, nil), p, s, 500)
	}
	return pass
}

// inShape checks an error answer: the status (any 5xx for 500) and the
// client protocol's error shape with a type and a message.
func inShape(t *testing.T, r reply, p proto, stream bool, status int) bool {
	t.Helper()
	if r.err == nil {
		t.Errorf("%s: want a %d error, got text %q (stream error %q)", streamName(stream), status, r.text, r.streamErr)
		return false
	}
	if r.err.status != status && !(status == 500 && r.err.status >= 500) {
		t.Errorf("%s: status %d, want %d: %s", streamName(stream), r.err.status, status, r.err.raw)
	}
	if r.err.typ == "" || r.err.msg == "" {
		t.Errorf("%s: the error is not in the %s error shape: %s", streamName(stream), p, r.err.raw)
		return false
	}
	return true
}

func rowBreak(t *testing.T, p proto, k kind) compat.Outcome {
	g, _ := single(t, k, modeBreak, nil)
	r := send(t, g, p, request(p, ""), true, nil)
	switch {
	case r.err != nil:
		t.Errorf("the stream did not start: %d %s", r.err.status, r.err.raw)
	case r.streamErr == "":
		t.Errorf("the client saw a clean end of a broken stream (text %q)", r.text)
	}
	return pass
}
