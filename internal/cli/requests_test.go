package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flowgate/flowgate/internal/requestlog"
)

// cacheUpstream answers Chat requests with "from MODEL" and usage that
// includes cached tokens.
func cacheUpstream(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Model string `json:"model"`
		}
		json.NewDecoder(r.Body).Decode(&req)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"id":"c1","object":"chat.completion","model":%q,"choices":[{"index":0,"message":{"role":"assistant","content":"from %s"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1000,"completion_tokens":50,"prompt_tokens_details":{"cached_tokens":800}}}`, req.Model, req.Model)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func requestsProject(t *testing.T, up string) (cfg string, port int) {
	t.Helper()
	t.Setenv("FLOWGATE_SELF", flowgateBinary(t))
	root := t.TempDir()
	port = freePort(t)
	cfg = filepath.Join(root, "config", "flowgate.yaml")
	os.MkdirAll(filepath.Dir(cfg), 0o755)
	os.WriteFile(cfg, []byte(fmt.Sprintf(`
config_version: 2
services:
  gateway: {port: %d, capture: true}
litellm_base:
  model_list:
    - model_name: coder
      litellm_params: {model: openai/big-model, api_base: %q, api_key: sk-upstream-test-123456}
      model_info: {id: coder-1, input_cost_per_million: 3, output_cost_per_million: 15, cache_read_cost_per_million: 0.3}
    - model_name: other
      litellm_params: {model: openai/small-model, api_base: %q, api_key: sk-upstream-test-123456}
      model_info: {id: other-1, input_cost_per_million: 1, output_cost_per_million: 2}
  general_settings: {master_key: sk-gateway-test-123456}
profiles:
  only: {}
integration: {default_model: coder}
`, port, up+"/v1", up+"/v1")), 0o600)
	if r := runCLI(t, "--config", cfg, "service", "start", "gateway"); r.code != 0 {
		t.Fatalf("start: %+v", r)
	}
	t.Cleanup(func() { runCLI(t, "--config", cfg, "service", "stop", "all") })
	return cfg, port
}

func sendChat(t *testing.T, port int, model, text string) string {
	t.Helper()
	req, _ := http.NewRequest("POST", fmt.Sprintf("http://127.0.0.1:%d/v1/chat/completions", port),
		strings.NewReader(fmt.Sprintf(`{"model":%q,"messages":[{"role":"user","content":%q}]}`, model, text)))
	req.Header.Set("Authorization", "Bearer sk-gateway-test-123456")
	req.Header.Set("User-Agent", "codex_cli_rs/0.50.0")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("request to %s: %d", model, resp.StatusCode)
	}
	return resp.Header.Get("X-Flowgate-Request-Id")
}

func TestRequestsAndUsageShowWhatTheRunningGatewayDid(t *testing.T) {
	cfg, port := requestsProject(t, cacheUpstream(t).URL)
	ids := []string{sendChat(t, port, "coder", "one"), sendChat(t, port, "coder", "two"), sendChat(t, port, "other", "three")}

	var recs []requestlog.Record
	deadline := time.Now().Add(10 * time.Second)
	for {
		r := runCLI(t, "--config", cfg, "requests", "--json")
		recs = nil
		json.Unmarshal([]byte(r.stdout), &recs)
		if len(recs) == 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("requests --json never listed 3 requests: %+v", r)
		}
		time.Sleep(50 * time.Millisecond)
	}
	var sum requestlog.Tokens
	var cost float64
	for i, rec := range recs {
		if rec.ID != ids[i] || rec.Status != 200 || rec.Attempts != 1 || rec.Client != "codex" || rec.KeyName != "master_key" {
			t.Errorf("request %d: %+v", i, rec)
		}
		if rec.Tokens != (requestlog.Tokens{Input: 200, Output: 50, CacheRead: 800}) {
			t.Errorf("request %d tokens: %+v", i, rec.Tokens)
		}
		sum = sum.Add(rec.Tokens)
		cost += rec.CostUSD
	}
	if recs[0].Alias != "coder" || recs[0].Deployment != "coder-1" || recs[2].Deployment != "other-1" {
		t.Errorf("aliases and deployments: %+v", recs)
	}
	if want := (200*3 + 50*15 + 800*0.3) / 1e6; recs[0].CostUSD < want*0.999 || recs[0].CostUSD > want*1.001 {
		t.Errorf("coder cost %v, want %v from model_info", recs[0].CostUSD, want)
	}

	r := runCLI(t, "--config", cfg, "usage", "--json", "--by", "deployment")
	var rep usageReport
	if err := json.Unmarshal([]byte(r.stdout), &rep); r.code != 0 || err != nil {
		t.Fatalf("usage --json: %v %+v", err, r)
	}
	if rep.Total.Requests != 3 || rep.Total.Tokens != sum || rep.Total.CostUSD < cost*0.999 || rep.Total.CostUSD > cost*1.001 || !rep.CostIsEstimate {
		t.Errorf("usage totals %+v, want the sum of the rows: %+v, cost %v", rep.Total, sum, cost)
	}
	if len(rep.Rows) != 2 || rep.Rows[0].Key != "coder-1" || rep.Rows[0].Requests != 2 || rep.Total.CacheHitRatio != 0.8 {
		t.Errorf("usage rows: %+v", rep.Rows)
	}
	r = runCLI(t, "--config", cfg, "usage", "--since", "7d")
	if r.code != 0 || !strings.Contains(r.stdout, "estimate") || !strings.Contains(r.stdout, "80.0%") {
		t.Errorf("usage table: %+v", r)
	}
	r = runCLI(t, "--config", cfg, "requests", "-n", "1")
	if r.code != 0 || !strings.Contains(r.stdout, ids[2]) || strings.Contains(r.stdout, ids[0]) || !strings.Contains(r.stdout, "200/50/800/0") {
		t.Errorf("requests -n 1: %+v", r)
	}

	// show and replay a captured request.
	r = runCLI(t, "--config", cfg, "requests", "show", ids[0])
	if r.code != 0 || !strings.Contains(r.stdout, `"content":"one"`) || !strings.Contains(r.stdout, "from big-model") {
		t.Errorf("requests show: %+v", r)
	}
	r = runCLI(t, "--config", cfg, "requests", "replay", ids[0], "--model", "other")
	if r.code != 0 || !strings.Contains(r.stdout, "from big-model") || !strings.Contains(r.stdout, "from small-model") || !strings.Contains(r.stdout, " | ") {
		t.Errorf("requests replay side by side: %+v", r)
	}

	// Bad input.
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"usage", "--by", "colour"}, 2, "alias, deployment, key, day"},
		{[]string{"usage", "--since", "yesterday"}, 2, "90m, 24h or 7d"},
		{[]string{"requests", "show", "no-such-id"}, 2, "flowgate requests"},
		{[]string{"requests", "replay", ids[0]}, 2, "--model"},
		{[]string{"requests", "-n", "0"}, 2, "-n 0"},
	} {
		r := runCLI(t, append([]string{"--config", cfg}, c.args...)...)
		if r.code != c.code || !strings.Contains(r.stderr, c.want) {
			t.Errorf("%v: exit %d, want %d with %q: %s", c.args, r.code, c.code, c.want, r.stderr)
		}
	}

	// Deleting the database while the gateway runs: requests go on,
	// health warns, and the log starts again.
	db := filepath.Join(filepath.Dir(filepath.Dir(cfg)), ".router", "runtime", requestlog.FileName)
	for _, p := range []string{db, db + "-wal", db + "-shm"} {
		if err := os.Remove(p); err != nil && p == db {
			t.Fatal(err)
		}
	}
	after := sendChat(t, port, "coder", "after")
	deadline = time.Now().Add(10 * time.Second)
	for {
		r = runCLI(t, "--config", cfg, "health")
		if strings.Contains(r.stdout, "warning: "+db+" was deleted or replaced") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("health does not warn about the deleted log: %+v", r)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.Contains(r.stdout, "gateway: liveness=ok readiness=ok") {
		t.Errorf("a request-log warning must not make the gateway unready: %+v", r)
	}
	for {
		r = runCLI(t, "--config", cfg, "requests", "--json")
		if strings.Contains(r.stdout, after) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the new log should hold the request made after the deletion: %+v", r)
		}
		time.Sleep(50 * time.Millisecond)
	}

	// Replay of a request without capture, with capture now off.
	l, err := requestlog.New(requestlog.Options{Path: db})
	if err != nil {
		t.Fatal(err)
	}
	nocap := l.NewID(time.Now())
	l.Add(requestlog.Record{ID: nocap, Time: time.Now(), Alias: "coder", Status: 200}, nil)
	l.Close()
	data, _ := os.ReadFile(cfg)
	os.WriteFile(cfg, []byte(strings.Replace(string(data), "capture: true", "capture: false", 1)), 0o600)
	r = runCLI(t, "--config", cfg, "requests", "replay", nocap, "--model", "other")
	if r.code != 2 || !strings.Contains(r.stderr, "services.gateway.capture is off") {
		t.Errorf("replay with capture off: %+v", r)
	}
}

func TestRequestsWithoutALogSaysWhatToCheck(t *testing.T) {
	cfg := project(t)
	r := runCLI(t, "--config", cfg, "requests")
	if r.code != 1 || !strings.Contains(r.stderr, "requests.db") || !strings.Contains(r.stderr, "flowgate status") {
		t.Fatalf("%+v", r)
	}
}

func TestRequestsShowWhatTheGatewayRemovedFromReasoning(t *testing.T) {
	cfg := project(t)
	dir := filepath.Join(filepath.Dir(filepath.Dir(cfg)), ".router", "runtime")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	l, err := requestlog.New(requestlog.Options{Path: requestlog.Path(dir)})
	if err != nil {
		t.Fatal(err)
	}
	const note = "dropped=2 from=claude-a to=gpt-c; thinking=disabled"
	plain, moved := l.NewID(time.Now()), l.NewID(time.Now().Add(time.Millisecond))
	l.Add(requestlog.Record{ID: plain, Time: time.Now(), Alias: "coder", Protocol: "messages", Status: 200}, nil)
	l.Add(requestlog.Record{ID: moved, Time: time.Now(), Alias: "coder", Protocol: "messages", Status: 200, Reasoning: note}, nil)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	r := runCLI(t, "--config", cfg, "requests", "--json")
	var recs []map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &recs); err != nil || len(recs) != 2 {
		t.Fatalf("requests --json: %v %+v", err, r)
	}
	if _, ok := recs[0]["reasoning"]; ok || recs[1]["reasoning"] != note {
		t.Errorf("reasoning: %v and %v, want omitted and %q", recs[0]["reasoning"], recs[1]["reasoning"], note)
	}
	r = runCLI(t, "--config", cfg, "requests")
	if lines := strings.Split(strings.TrimSpace(r.stdout), "\n"); r.code != 0 || len(lines) != 3 || !strings.HasSuffix(lines[0], "REASONING") ||
		!strings.HasSuffix(lines[1], " -") || !strings.HasSuffix(lines[2], note) {
		t.Errorf("requests table: %+v", r)
	}
}
