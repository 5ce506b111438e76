package gateway_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	ooption "github.com/openai/openai-go/v3/option"
)

func TestRetriesLandOnTheHealthyDeployment(t *testing.T) {
	for _, bad := range []string{"500", "refused", "garbage", "401"} {
		t.Run(bad, func(t *testing.T) {
			good := newUpstream(t, "ok")
			base := refusedAddr(t)
			var sick *fakeUpstream
			if bad != "refused" {
				sick = newUpstream(t, bad)
				base = sick.URL
			}
			// allowed_fails high so the sick deployment keeps being picked
			g := startGateway(t, doc([]any{
				dep("coder", "openai/up-model", base+"/v1", nil),
				dep("coder", "openai/up-model", good.URL+"/v1", nil),
			}, map[string]any{"num_retries": 1, "allowed_fails": 100}), nil)
			c := openaiClient(g, gatewayKey)
			for i := 0; i < 8; i++ {
				out, err := c.Chat.Completions.New(context.Background(), chatParams("coder"))
				if err != nil || out.Choices[0].Message.Content != "PONG" {
					t.Fatalf("request %d: %v", i, err)
				}
			}
			if good.hits.Load() != 8 {
				t.Fatalf("healthy deployment served %d of 8", good.hits.Load())
			}
		})
	}
}

func TestFallbacksAreTriedInOrder(t *testing.T) {
	a, b, c := newUpstream(t, "500"), newUpstream(t, "500"), newUpstream(t, "ok")
	g := startGateway(t, doc([]any{
		dep("a", "openai/up-model", a.URL+"/v1", nil),
		dep("b", "openai/up-model", b.URL+"/v1", nil),
		dep("c", "openai/up-model", c.URL+"/v1", nil),
	}, map[string]any{"num_retries": 0, "fallbacks": []any{map[string]any{"a": []any{"b", "c"}}}}), nil)
	resp, body := g.post(t, "/v1/chat/completions", `{"model":"a","messages":[]}`, nil)
	if resp.StatusCode != 200 || resp.Header.Get("X-Flowgate-Model-Group") != "c" || resp.Header.Get("X-Flowgate-Fallbacks") != "2" || resp.Header.Get("X-Flowgate-Attempts") != "3" {
		t.Fatalf("%d %v %s", resp.StatusCode, resp.Header, body)
	}
	if a.hits.Load() != 1 || b.hits.Load() != 1 || c.hits.Load() != 1 {
		t.Fatalf("hits a=%d b=%d c=%d", a.hits.Load(), b.hits.Load(), c.hits.Load())
	}
}

func TestFallbackHopLimitAndCyclesRejectedAtLoad(t *testing.T) {
	up := newUpstream(t, "ok")
	var deps []any
	for _, n := range []string{"a", "b", "c", "d", "e", "f", "g"} {
		deps = append(deps, dep(n, "openai/up-model", up.URL, nil))
	}
	g := startGateway(t, doc(deps, nil), nil)
	_, err := g.Reload(doc(deps, map[string]any{"fallbacks": []any{map[string]any{"a": []any{"b", "c", "d", "e", "f", "g"}}}}), "x")
	if err == nil || !strings.Contains(err.Error(), "at most 5") {
		t.Fatalf("6 hops: %v", err)
	}
	_, err = g.Reload(doc(deps, map[string]any{"fallbacks": []any{map[string]any{"a": []any{"b"}}, map[string]any{"b": []any{"a"}}}}), "x")
	if err == nil || !strings.Contains(err.Error(), "cycle") {
		t.Fatalf("cycle: %v", err)
	}
	if g.Generation() != 1 {
		t.Fatalf("invalid reload changed generation to %d", g.Generation())
	}
}

func TestCooldownStartsAfterAllowedFailsAndEndsAfterCooldownTime(t *testing.T) {
	up := newUpstream(t, "500")
	clock := newClock()
	g := startGateway(t, doc([]any{dep("coder", "openai/up-model", up.URL+"/v1", nil)},
		map[string]any{"num_retries": 0, "allowed_fails": 1, "cooldown_time": 30}), clock)
	for i := 0; i < 2; i++ {
		resp, _ := g.post(t, "/v1/chat/completions", `{"model":"coder","messages":[]}`, nil)
		if resp.StatusCode != 500 {
			t.Fatalf("request %d: %d", i, resp.StatusCode)
		}
	}
	// the second consecutive failure exceeded allowed_fails=1: cooling, no fallback -> 429
	resp, body := g.post(t, "/v1/chat/completions", `{"model":"coder","messages":[]}`, nil)
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "30" || !strings.Contains(body, "cooling") {
		t.Fatalf("%d retry-after=%q %s", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	if up.hits.Load() != 2 {
		t.Fatalf("upstream hits = %d, want 2", up.hits.Load())
	}
	clock.Advance(29 * time.Second)
	if resp, _ := g.post(t, "/v1/chat/completions", `{"model":"coder","messages":[]}`, nil); resp.StatusCode != 429 {
		t.Fatalf("still cooling: %d", resp.StatusCode)
	}
	up.setMode("ok")
	clock.Advance(2 * time.Second)
	if resp, _ := g.post(t, "/v1/chat/completions", `{"model":"coder","messages":[]}`, nil); resp.StatusCode != 200 {
		t.Fatalf("after cooldown: %d", resp.StatusCode)
	}
}

func TestSingleTransientFailureDoesNotCoolTheOnlyDeployment(t *testing.T) {
	up := newUpstream(t, "500")
	g := startGateway(t, doc([]any{dep("coder", "openai/up-model", up.URL+"/v1", nil)}, map[string]any{"num_retries": 0}), newClock())
	g.post(t, "/v1/chat/completions", `{"model":"coder","messages":[]}`, nil)
	up.setMode("ok")
	if resp, _ := g.post(t, "/v1/chat/completions", `{"model":"coder","messages":[]}`, nil); resp.StatusCode != 200 {
		t.Fatalf("one 500 took the deployment out: %d", resp.StatusCode)
	}
}

func TestUpstream429RetryAfterIsForwarded(t *testing.T) {
	up := newUpstream(t, "429")
	g := startGateway(t, doc([]any{dep("claude", "anthropic/up-model", up.URL, nil)}, map[string]any{"num_retries": 3}), newClock())
	resp, body := g.post(t, "/v1/messages", `{"model":"claude","max_tokens":1,"messages":[]}`, nil)
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "7" || !strings.Contains(body, `"type":"error"`) || !strings.Contains(body, "rate_limit_error") {
		t.Fatalf("%d %v %s", resp.StatusCode, resp.Header, body)
	}
	if up.hits.Load() != 1 {
		t.Fatalf("a 429 with Retry-After was retried at once: %d hits", up.hits.Load())
	}
}

func TestClientError400ReturnedAsIsOnceWithoutCooldown(t *testing.T) {
	up := newUpstream(t, "400")
	g := startGateway(t, doc([]any{dep("coder", "openai/up-model", up.URL+"/v1", nil)},
		map[string]any{"num_retries": 3, "allowed_fails": 0}), newClock())
	c := openaiClient(g, gatewayKey)
	for i := 0; i < 2; i++ {
		_, err := c.Chat.Completions.New(context.Background(), chatParams("coder"))
		var oe *openai.Error
		if !errors.As(err, &oe) || oe.StatusCode != 400 || oe.RawJSON() == "" || !strings.Contains(oe.RawJSON(), `"param":"x"`) {
			t.Fatalf("request %d: %v", i, err)
		}
	}
	if up.hits.Load() != 2 {
		t.Fatalf("400 retried: %d hits for 2 requests", up.hits.Load())
	}
}

func TestGarbageAndConnectionFailuresMapTo502(t *testing.T) {
	up := newUpstream(t, "garbage")
	g := startGateway(t, doc([]any{
		dep("junk", "openai/up-model", up.URL+"/v1", nil),
		dep("gone", "anthropic/up-model", refusedAddr(t), nil),
	}, map[string]any{"num_retries": 0}), newClock())
	resp, body := g.post(t, "/v1/chat/completions", `{"model":"junk","messages":[]}`, nil)
	if resp.StatusCode != 502 || !strings.Contains(body, "not JSON") {
		t.Fatalf("garbage: %d %s", resp.StatusCode, body)
	}
	resp, body = g.post(t, "/v1/messages", `{"model":"gone","max_tokens":1,"messages":[]}`, nil)
	if resp.StatusCode != 502 || !strings.Contains(body, `"type":"error"`) {
		t.Fatalf("refused: %d %s", resp.StatusCode, body)
	}
}

func TestAttemptTimeoutIs504(t *testing.T) {
	up := newUpstream(t, "hang")
	g := startGateway(t, doc([]any{dep("coder", "openai/up-model", up.URL+"/v1", map[string]any{"timeout": 0.2})}, map[string]any{"num_retries": 0}), newClock())
	resp, body := g.post(t, "/v1/chat/completions", `{"model":"coder","messages":[]}`, nil)
	if resp.StatusCode != http.StatusGatewayTimeout {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
}

func TestContextWindowFallback(t *testing.T) {
	small := newUpstream(t, "400")
	big := newUpstream(t, "ok")
	g := startGateway(t, doc([]any{
		dep("small", "openai/up-model", small.URL+"/v1", nil),
		dep("big", "openai/up-model", big.URL+"/v1", nil),
	}, map[string]any{"context_window_fallbacks": []any{map[string]any{"small": []any{"big"}}}}), newClock())
	// a plain 400 is not a context-window error: returned as is
	if resp, _ := g.post(t, "/v1/chat/completions", `{"model":"small","messages":[]}`, nil); resp.StatusCode != 400 {
		t.Fatalf("plain 400: %d", resp.StatusCode)
	}
	small.setMode("ctx")
	resp, _ := g.post(t, "/v1/chat/completions", `{"model":"small","messages":[]}`, nil)
	if resp.StatusCode != 200 || resp.Header.Get("X-Flowgate-Model-Group") != "big" {
		t.Fatalf("context window fallback: %d %v", resp.StatusCode, resp.Header)
	}
}

var _ = ooption.WithMaxRetries

func TestHealthSaysWhatIsCoolingUntilWhenAndTheLastError(t *testing.T) {
	bad := newUpstream(t, "500")
	good := newUpstream(t, "ok")
	clock := newClock()
	g := startGateway(t, doc([]any{
		dep("coder", "openai/up-model", bad.URL+"/v1", map[string]any{"api_key": upstreamKey}),
		dep("claude", "anthropic/up-model", good.URL, nil),
	}, map[string]any{"num_retries": 0, "allowed_fails": 0, "cooldown_time": 30}), clock)
	if resp, _ := g.post(t, "/v1/chat/completions", `{"model":"coder","messages":[]}`, nil); resp.StatusCode != 500 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	resp, err := http.Get(g.URL + "/health")
	if err != nil || resp.StatusCode != 401 {
		t.Fatalf("/health without the key: %v %v", err, resp.StatusCode)
	}
	resp.Body.Close()
	req, _ := http.NewRequest("GET", g.URL+"/health", nil)
	req.Header.Set("Authorization", "Bearer "+gatewayKey)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var h struct {
		Status         string `json:"status"`
		Generation     uint64 `json:"generation"`
		CheckedAt      string `json:"checked_at"`
		UnhealthyCount int    `json:"unhealthy_count"`
		Deployments    []struct {
			ModelGroup   string  `json:"model_group"`
			State        string  `json:"state"`
			CoolingUntil *string `json:"cooling_until"`
			LastError    string  `json:"last_error"`
			LastErrorAt  string  `json:"last_error_at"`
			LastStatus   int     `json:"last_status"`
		} `json:"deployments"`
	}
	if err := json.Unmarshal(raw, &h); err != nil {
		t.Fatal(err)
	}
	if h.Status != "degraded" || h.UnhealthyCount != 1 || h.Generation != 1 || len(h.Deployments) != 2 {
		t.Fatalf("health %s", raw)
	}
	d := h.Deployments[0]
	if d.ModelGroup != "coder" || d.State != "cooling" || d.CoolingUntil == nil || d.LastStatus != 500 || !strings.Contains(d.LastError, "boom") {
		t.Fatalf("cooling deployment %s", raw)
	}
	until, err := time.Parse(time.RFC3339, *d.CoolingUntil)
	if err != nil || !until.Equal(clock.Now().Add(30*time.Second)) {
		t.Fatalf("cooling_until %q: %v (clock %v)", *d.CoolingUntil, err, clock.Now())
	}
	if at, err := time.Parse(time.RFC3339, d.LastErrorAt); err != nil || !at.Equal(clock.Now()) {
		t.Fatalf("last_error_at %q %v", d.LastErrorAt, err)
	}
	if ca, err := time.Parse(time.RFC3339, h.CheckedAt); err != nil || !ca.Equal(clock.Now()) {
		t.Fatalf("checked_at %q %v", h.CheckedAt, err)
	}
	if h.Deployments[1].State != "healthy" || h.Deployments[1].CoolingUntil != nil {
		t.Fatalf("healthy deployment %s", raw)
	}
	if strings.Contains(string(raw), upstreamKey) || strings.Contains(string(raw), gatewayKey) {
		t.Fatal("health shows a key")
	}
}
