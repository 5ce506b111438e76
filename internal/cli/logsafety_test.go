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
)

// TestRealGatewayCapsHugeModelsAndNeverShowsAnEchoedUpstreamKey runs the
// real gateway process under the supervisor. An 8 MiB model name gets a
// small 404 and adds a few hundred bytes to the process log; an upstream
// key of a shape no pattern knows, which the upstream quotes in its 503,
// appears nowhere a client or operator reads: the answer, /health,
// `flowgate health`, the process log and events.log.
func TestRealGatewayCapsHugeModelsAndNeverShowsAnEchoedUpstreamKey(t *testing.T) {
	t.Setenv("FLOWGATE_SELF", flowgateBinary(t))
	const upKey = "zz9-plural-z-alpha-0123456789"
	const gwKey = "gateway.key.of.another.shape"
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		msg, _ := json.Marshal("invalid api key " + strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ") + " for this project")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintf(w, `{"error":{"message":%s,"type":"server_error"}}`, msg)
	}))
	t.Cleanup(echo.Close)
	root := t.TempDir()
	port := freePort(t)
	cfg := filepath.Join(root, "config", "flowgate.yaml")
	os.MkdirAll(filepath.Dir(cfg), 0o755)
	os.WriteFile(filepath.Join(root, "key.txt"), []byte(upKey+"\n"), 0o600)
	os.WriteFile(cfg, []byte(fmt.Sprintf(`
config_version: 2
services:
  gateway: {port: %d}
credentials:
  upstream:
    up: {file: ../key.txt}
litellm_base:
  model_list:
    - model_name: router-default
      litellm_params: {model: openai/fast, api_base: %q, api_key_ref: up}
  litellm_settings: {num_retries: 0, allowed_fails: 0, cooldown_time: 300}
  general_settings: {master_key: %s}
profiles:
  only: {}
`, port, echo.URL+"/v1", gwKey)), 0o600)
	if r := runCLI(t, "--config", cfg, "service", "start", "gateway"); r.code != 0 {
		t.Fatalf("start: %+v", r)
	}
	t.Cleanup(func() { runCLI(t, "--config", cfg, "service", "stop", "all") })
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	post := func(body string) (int, string) {
		req, _ := http.NewRequest("POST", base+"/v1/chat/completions", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+gwKey)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	logPath := filepath.Join(root, ".router", "runtime", "process-logs", "gateway.log")
	size := func() int64 {
		fi, err := os.Stat(logPath)
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}

	before := size()
	status, answer := post(`{"model":"` + strings.Repeat("m", 8<<20) + `","messages":[{"role":"user","content":"hi"}]}`)
	if status != http.StatusNotFound || len(answer) > 1024 || !strings.Contains(answer, "(8388608 bytes)") {
		t.Fatalf("8 MiB model: %d, %d-byte answer %.300s", status, len(answer), answer)
	}
	// The failure is logged just after the answer is sent: wait for it.
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(string(must(os.ReadFile(logPath))), "status=404") {
		if time.Now().After(deadline) {
			t.Fatalf("the 404 was not logged:\n%s", must(os.ReadFile(logPath)))
		}
		time.Sleep(20 * time.Millisecond)
	}
	if grown := size() - before; grown > 4096 {
		t.Fatalf("an 8 MiB model name added %d bytes to the process log", grown)
	}

	status, answer = post(`{"model":"router-default","messages":[{"role":"user","content":"hi"}]}`)
	if status != http.StatusServiceUnavailable || !strings.Contains(answer, "invalid api key [redacted] for this project") {
		t.Fatalf("echoed key: %d %s", status, answer)
	}
	req, _ := http.NewRequest("GET", base+"/health", nil)
	req.Header.Set("Authorization", "Bearer "+gwKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	healthJSON, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(healthJSON), "[redacted]") {
		t.Fatalf("/health has no redacted last_error: %s", healthJSON)
	}
	health := runCLI(t, "--config", cfg, "health")
	logs := string(must(os.ReadFile(logPath)))
	events, _ := os.ReadFile(filepath.Join(root, ".router", "runtime", "events.log"))
	for what, text := range map[string]string{
		"answer": answer, "/health": string(healthJSON), "flowgate health": health.stdout + health.stderr,
		"gateway.log": logs, "events.log": string(events),
	} {
		for _, s := range []string{upKey, gwKey} {
			if strings.Contains(text, s) {
				t.Errorf("%s shows %q:\n%.2000s", what, s, text)
			}
		}
	}
	if !strings.Contains(logs, "request failed") {
		t.Fatalf("the failure was not logged:\n%s", logs)
	}
}

// TestGatewayLogRotatesWhileItRunsAtTheConfiguredSize: with
// services.gateway.log_max_bytes at its minimum, a stream of failed
// requests makes the supervisor rotate gateway.log while the same gateway
// process keeps serving and logging into the emptied file.
func TestGatewayLogRotatesWhileItRunsAtTheConfiguredSize(t *testing.T) {
	t.Setenv("FLOWGATE_SELF", flowgateBinary(t))
	root := t.TempDir()
	port := freePort(t)
	cfg := filepath.Join(root, "config", "flowgate.yaml")
	os.MkdirAll(filepath.Dir(cfg), 0o755)
	os.WriteFile(cfg, []byte(fmt.Sprintf(`
config_version: 2
services:
  gateway: {port: %d, log_max_bytes: 65536, log_keep: 2}
litellm_base:
  model_list:
    - model_name: router-default
      litellm_params: {model: openai/fast, api_base: "http://127.0.0.1:9/v1", api_key: sk-unused-123456}
  general_settings: {master_key: sk-gateway-test}
profiles:
  only: {}
`, port)), 0o600)
	if r := runCLI(t, "--config", cfg, "service", "start", "gateway"); r.code != 0 {
		t.Fatalf("start: %+v", r)
	}
	t.Cleanup(func() { runCLI(t, "--config", cfg, "service", "stop", "all") })
	pidBefore := string(must(os.ReadFile(filepath.Join(root, ".router", "runtime", "pids", "gateway.pid"))))
	logPath := filepath.Join(root, ".router", "runtime", "process-logs", "gateway.log")
	model := strings.Repeat("x", 180)
	deadline := time.Now().Add(60 * time.Second)
	for i := 0; ; i++ {
		if _, err := os.Stat(logPath + ".1"); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("gateway.log was not rotated after %d failed requests", i)
		}
		req, _ := http.NewRequest("POST", fmt.Sprintf("http://127.0.0.1:%d/v1/chat/completions", port),
			strings.NewReader(`{"model":"`+model+fmt.Sprint(i)+`","messages":[]}`))
		req.Header.Set("Authorization", "Bearer sk-gateway-test")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	// The same process logs on into the emptied file.
	marker := "after-rotation-" + strings.Repeat("y", 20)
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		d := time.Now().Add(30 * time.Second)
		for !cond() {
			if time.Now().After(d) {
				t.Fatalf("timed out waiting for %s", what)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitFor("the marker in the current log", func() bool {
		req, _ := http.NewRequest("POST", fmt.Sprintf("http://127.0.0.1:%d/v1/chat/completions", port), strings.NewReader(`{"model":"`+marker+`","messages":[]}`))
		req.Header.Set("Authorization", "Bearer sk-gateway-test")
		if resp, err := http.DefaultClient.Do(req); err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		return strings.Contains(string(must(os.ReadFile(logPath))), marker)
	})
	if fi, err := os.Stat(logPath); err != nil || fi.Size() > 65536+32<<10 {
		t.Fatalf("gateway.log after rotation: %v %v", fi, err)
	}
	if data := must(os.ReadFile(logPath)); strings.ContainsRune(string(data), 0) {
		t.Fatal("gateway.log has NUL bytes: the gateway did not continue at the new end")
	}
	if pidAfter := string(must(os.ReadFile(filepath.Join(root, ".router", "runtime", "pids", "gateway.pid")))); pidAfter != pidBefore {
		t.Fatalf("the gateway was restarted: %s -> %s", pidBefore, pidAfter)
	}
}
