package gateway_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/flowgate/flowgate/internal/gateway"
	"github.com/flowgate/flowgate/internal/requestlog"
)

// usageUpstream answers with token usage that includes cache tokens, and
// fails on demand: /fail always answers 500, /flaky the first time only.
func usageUpstream(t *testing.T) *httptest.Server {
	var flaky atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if strings.HasPrefix(r.URL.Path, "/fail/") || (strings.HasPrefix(r.URL.Path, "/flaky/") && flaky.Add(1) == 1) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(500)
			io.WriteString(w, `{"error":{"message":"boom","type":"server_error"}}`)
			return
		}
		if strings.HasSuffix(r.URL.Path, "/messages") {
			w.Header().Set("Content-Type", "text/event-stream")
			io.WriteString(w, "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"up\",\"content\":[],\"usage\":{\"input_tokens\":8,\"cache_creation_input_tokens\":300,\"cache_read_input_tokens\":2000,\"output_tokens\":1}}}\n\n")
			io.WriteString(w, "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n")
			io.WriteString(w, "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"PONG\"}}\n\n")
			io.WriteString(w, "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n")
			io.WriteString(w, "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":42}}\n\n")
			io.WriteString(w, "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n")
			return
		}
		_ = body
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"id":"c1","object":"chat.completion","created":1,"model":"up","choices":[{"index":0,"message":{"role":"assistant","content":"PONG"},"finish_reason":"stop"}],"usage":{"prompt_tokens":120,"completion_tokens":30,"total_tokens":150,"prompt_tokens_details":{"cached_tokens":100}}}`)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func entry(alias, id, model, base string, info map[string]any) map[string]any {
	mi := map[string]any{"id": id}
	for k, v := range info {
		mi[k] = v
	}
	return map[string]any{"model_name": alias, "model_info": mi,
		"litellm_params": map[string]any{"model": model, "api_base": base, "api_key": upstreamKey}}
}

func reqlogDoc(up string) map[string]any {
	return doc([]any{
		entry("coder", "coder-1", "openai/up", up+"/v1", map[string]any{"input_cost_per_million": 2.0, "output_cost_per_million": 10.0, "cache_read_cost_per_million": 0.5}),
		entry("claude", "claude-1", "anthropic/claude-sonnet-4-5", up, nil),
		entry("flaky", "flaky-1", "openai/up", up+"/flaky/v1", nil),
		entry("primary", "primary-1", "openai/up", up+"/fail/v1", nil),
		entry("backup", "backup-1", "openai/up", up+"/v1", nil),
	}, map[string]any{"num_retries": 1, "fallbacks": []any{map[string]any{"primary": []any{"backup"}}}, "allowed_fails": 100})
}

func startLogged(t *testing.T, capture bool) (*gw, *requestlog.Log, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), requestlog.FileName)
	l, err := requestlog.New(requestlog.Options{Path: path, Capture: capture})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	g := startGatewayWith(t, reqlogDoc(usageUpstream(t).URL), nil, func(o *gateway.Options) { o.RequestLog = l })
	return g, l, path
}

func readLog(t *testing.T, path string, want int) map[string]requestlog.Record {
	t.Helper()
	out := map[string]requestlog.Record{}
	waitFor(t, fmt.Sprintf("%d rows in the request log", want), func() bool {
		r, err := requestlog.Open(path)
		if err != nil {
			return false
		}
		defer r.Close()
		rows, _ := r.List(context.Background(), requestlog.Filter{Limit: 100})
		clear(out)
		for _, row := range rows {
			out[row.ID] = row.Record
		}
		return len(rows) >= want
	})
	return out
}

func TestEveryRequestIsRecordedWithRouteAttemptsAndTokens(t *testing.T) {
	g, _, path := startLogged(t, false)
	ids := map[string]string{}
	for _, c := range []struct{ name, path, body string }{
		{"coder", "/v1/chat/completions", `{"model":"coder","messages":[{"role":"user","content":"hi"}]}`},
		{"claude", "/v1/messages", `{"model":"claude","max_tokens":5,"stream":true,"messages":[{"role":"user","content":"hi"}]}`},
		{"flaky", "/v1/chat/completions", `{"model":"flaky","messages":[{"role":"user","content":"hi"}]}`},
		{"primary", "/v1/chat/completions", `{"model":"primary","messages":[{"role":"user","content":"hi"}]}`},
		{"unknown", "/v1/chat/completions", `{"model":"nope","messages":[]}`},
	} {
		resp, body := g.post(t, c.path, c.body, map[string]string{"User-Agent": "claude-cli/2.0.1 (external, cli)", "X-Claude-Code-Session-Id": "sess-42"})
		if c.name != "unknown" && resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", c.name, resp.StatusCode, body)
		}
		ids[c.name] = resp.Header.Get("X-Flowgate-Request-Id")
		if ids[c.name] == "" {
			t.Fatalf("%s: no X-Flowgate-Request-Id", c.name)
		}
	}
	recs := readLog(t, path, 5)
	coder := recs[ids["coder"]]
	if coder.Alias != "coder" || coder.Deployment != "coder-1" || coder.Attempts != 1 || coder.Fallbacks != 0 || coder.Status != 200 ||
		coder.Protocol != "chat" || coder.Client != "claude-code" || coder.SessionID != "sess-42" || coder.KeyName != "master_key" || coder.Stream {
		t.Errorf("coder: %+v", coder)
	}
	if coder.Tokens != (requestlog.Tokens{Input: 20, Output: 30, CacheRead: 100}) {
		t.Errorf("coder tokens: %+v", coder.Tokens)
	}
	if want := (20*2.0 + 30*10.0 + 100*0.5) / 1e6; coder.CostUSD < want*0.999 || coder.CostUSD > want*1.001 {
		t.Errorf("coder cost %v, want %v from model_info", coder.CostUSD, want)
	}
	if coder.LatencyMS <= 0 || coder.TTFBMS <= 0 || coder.TTFBMS > coder.LatencyMS || coder.OverheadMS > coder.LatencyMS {
		t.Errorf("coder timings: %+v", coder)
	}
	claude := recs[ids["claude"]]
	if !claude.Stream || claude.Protocol != "messages" || claude.Tokens != (requestlog.Tokens{Input: 8, Output: 42, CacheRead: 2000, CacheWrite: 300}) {
		t.Errorf("claude stream: %+v", claude)
	}
	if want := requestlog.DefaultPrices["claude-sonnet-4"].Cost(claude.Tokens); claude.CostUSD != want {
		t.Errorf("claude cost %v, want the default list price %v", claude.CostUSD, want)
	}
	flaky := recs[ids["flaky"]]
	if flaky.Attempts != 2 || flaky.Fallbacks != 0 || strings.Join(flaky.Tried, ",") != "flaky-1,flaky-1" || flaky.Status != 200 {
		t.Errorf("a retry must be recorded as one: %+v", flaky)
	}
	fb := recs[ids["primary"]]
	if fb.Alias != "primary" || fb.Group != "backup" || fb.Deployment != "backup-1" || fb.Fallbacks != 1 || fb.Attempts != 3 ||
		strings.Join(fb.Tried, ",") != "primary-1,primary-1,backup-1" {
		t.Errorf("a fallback must be recorded as one: %+v", fb)
	}
	unk := recs[ids["unknown"]]
	if unk.Status != 404 || unk.ErrorClass != "unknown_model" || unk.Attempts != 0 {
		t.Errorf("unknown model: %+v", unk)
	}
	_, metrics := get(t, g.URL+"/metrics")
	for _, want := range []string{
		`flowgate_tokens_total{deployment="coder-1",kind="cache_read",model_group="coder"} 100`,
		`flowgate_tokens_total{deployment="claude-1",kind="cache_write",model_group="claude"} 300`,
		`flowgate_request_log_lost_total 0`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

func get(t *testing.T, url string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Authorization", "Bearer "+gatewayKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b)
}

func TestABrokenRequestLogLosesRowsNeverRequestsAndHealthSaysSo(t *testing.T) {
	g, l, path := startLogged(t, false)
	if resp, _ := g.post(t, "/v1/chat/completions", `{"model":"coder","messages":[]}`, nil); resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	readLog(t, path, 1)
	// Replace the database with something that is not one.
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		os.Remove(p)
	}
	os.WriteFile(path, []byte(strings.Repeat("garbage ", 1024)), 0o600)
	for i := 0; i < 5; i++ {
		resp, body := g.post(t, "/v1/chat/completions", `{"model":"coder","messages":[]}`, nil)
		if resp.StatusCode != 200 || !strings.Contains(body, "PONG") {
			t.Fatalf("request %d failed with the log broken: %d %s", i, resp.StatusCode, body)
		}
	}
	waitFor(t, "the lost rows to be counted", func() bool { return l.Lost() == 5 })
	_, health := get(t, g.URL+"/health")
	if !strings.Contains(health, `"warnings":["request log `) || !strings.Contains(health, "5 rows lost") || !strings.Contains(health, `"status":"healthy"`) {
		t.Errorf("/health should warn and stay healthy: %s", health)
	}
	_, metrics := get(t, g.URL+"/metrics")
	if !strings.Contains(metrics, "flowgate_request_log_lost_total 5") {
		t.Errorf("/metrics should count the lost rows")
	}
	// Deleting it lets the log start again.
	os.Remove(path)
	g.post(t, "/v1/chat/completions", `{"model":"coder","messages":[]}`, nil)
	readLog(t, path, 1)
}

func TestCaptureKeepsRedactedBodies(t *testing.T) {
	g, _, path := startLogged(t, true)
	resp, _ := g.post(t, "/v1/chat/completions", `{"model":"coder","messages":[{"role":"user","content":"my keys: `+upstreamKey+` and `+gatewayKey+`"}]}`, nil)
	id := resp.Header.Get("X-Flowgate-Request-Id")
	recs := readLog(t, path, 1)
	if !recs[id].Captured {
		t.Fatalf("not marked captured: %+v", recs[id])
	}
	r, err := requestlog.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	c, err := r.Capture(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(c.Request, upstreamKey) || strings.Contains(c.Request, gatewayKey) || !strings.Contains(c.Request, `"model":"coder"`) {
		t.Errorf("captured request not redacted: %s", c.Request)
	}
	if requestlog.AnswerText([]byte(c.Response)) != "PONG" || c.Path != "/v1/chat/completions" {
		t.Errorf("captured answer: %+v", c)
	}
}

func TestAHugeModelNameIsCappedInTheRequestLog(t *testing.T) {
	g, _, path := startLogged(t, false)
	huge := strings.Repeat("m", 1<<20)
	resp, _ := g.post(t, "/v1/chat/completions", `{"model":"`+huge+`","messages":[]}`, nil)
	id := resp.Header.Get("X-Flowgate-Request-Id")
	rec := readLog(t, path, 1)[id]
	if len(rec.Alias) > 300 || !strings.Contains(rec.Alias, "1048576 bytes") || rec.Status != 404 {
		t.Fatalf("alias kept as %d bytes: %.80s, status %d", len(rec.Alias), rec.Alias, rec.Status)
	}
}
