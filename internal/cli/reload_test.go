package cli

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

var (
	buildOnce sync.Once
	builtBin  string
	buildErr  error
)

// flowgateBinary builds cmd/flowgate once per test run.
func flowgateBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "flowgate-bin-")
		if err != nil {
			buildErr = err
			return
		}
		builtBin = filepath.Join(dir, "flowgate")
		cmd := exec.Command("go", "build", "-o", builtBin, "../../cmd/flowgate")
		out, err := cmd.CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return builtBin
}

// slowUpstream is an OpenAI Chat upstream whose stream for model "slow-*"
// sends one chunk, then waits for release before finishing. It records the
// upstream model of every request.
type slowUpstream struct {
	*httptest.Server
	release chan struct{}
	mu      sync.Mutex
	models  []string
}

func newSlowUpstream(t *testing.T) *slowUpstream {
	u := &slowUpstream{release: make(chan struct{})}
	u.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Model  string `json:"model"`
			Stream bool   `json:"stream"`
		}
		json.NewDecoder(r.Body).Decode(&req)
		u.mu.Lock()
		u.models = append(u.models, req.Model)
		u.mu.Unlock()
		if !req.Stream {
			fmt.Fprintf(w, `{"id":"c1","object":"chat.completion","model":%q,"choices":[{"index":0,"message":{"role":"assistant","content":"from %s"},"finish_reason":"stop"}]}`, req.Model, req.Model)
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		fl := w.(http.Flusher)
		chunk := func(s string) {
			fmt.Fprintf(w, "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"model\":%q,\"choices\":[{\"index\":0,\"delta\":{\"content\":%q},\"finish_reason\":null}]}\n\n", req.Model, s)
			fl.Flush()
		}
		chunk("part1 ")
		if strings.HasPrefix(req.Model, "slow") {
			select {
			case <-u.release:
			case <-r.Context().Done():
				return
			}
		}
		chunk("part2")
		fmt.Fprintf(w, "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"model\":%q,\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n", req.Model)
		fl.Flush()
	}))
	t.Cleanup(u.Close)
	return u
}

func (u *slowUpstream) seen() []string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]string(nil), u.models...)
}

// TestProfileSetDuringALongStreamKeepsItAndSwitchesTheNext runs the real
// gateway binary under the supervisor: a stream started on profile one
// finishes intact after `profile set two`, which returns only once the
// gateway serves the new generation; the next request uses profile two.
func TestProfileSetDuringALongStreamKeepsItAndSwitchesTheNext(t *testing.T) {
	t.Setenv("FLOWGATE_SELF", flowgateBinary(t))
	up := newSlowUpstream(t)
	root := t.TempDir()
	port := freePort(t)
	cfg := filepath.Join(root, "config", "flowgate.yaml")
	os.MkdirAll(filepath.Dir(cfg), 0o755)
	os.WriteFile(filepath.Join(root, "key.txt"), []byte("sk-upstream-test\n"), 0o600)
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
      litellm_params: {model: openai/slow-one, api_base: %q, api_key_ref: up}
  general_settings: {master_key: sk-gateway-test}
profiles:
  one: {}
  two:
    model_list:
      - model_name: router-default
        litellm_params: {model: openai/fast-two, api_base: %q, api_key_ref: up}
default_profile: one
`, port, up.URL+"/v1", up.URL+"/v1")), 0o600)

	if r := runCLI(t, "--config", cfg, "profile", "set", "one"); r.code != 0 {
		t.Fatalf("profile set one: %+v", r)
	}
	if r := runCLI(t, "--config", cfg, "service", "start", "gateway"); r.code != 0 {
		t.Fatalf("start: %+v", r)
	}
	t.Cleanup(func() { runCLI(t, "--config", cfg, "service", "stop", "all") })

	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	req, _ := http.NewRequest("POST", base+"/v1/chat/completions", strings.NewReader(`{"model":"router-default","stream":true,"messages":[{"role":"user","content":"hi"}]}`))
	req.Header.Set("Authorization", "Bearer sk-gateway-test")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	rd := bufio.NewReader(resp.Body)
	first, err := rd.ReadString('\n')
	if err != nil || !strings.Contains(first, "part1") {
		t.Fatalf("first chunk: %q %v", first, err)
	}

	r := runCLI(t, "--config", cfg, "profile", "set", "two")
	if r.code != 0 || !strings.Contains(r.stdout, "gateway=reloaded") {
		t.Fatalf("profile set during a stream: %+v", r)
	}
	close(up.release)
	var rest strings.Builder
	for {
		line, err := rd.ReadString('\n')
		rest.WriteString(line)
		if err != nil {
			break
		}
	}
	if !strings.Contains(rest.String(), "part2") || !strings.Contains(rest.String(), "[DONE]") {
		t.Fatalf("the in-flight stream did not complete: %q", rest.String())
	}

	req2, _ := http.NewRequest("POST", base+"/v1/chat/completions", strings.NewReader(`{"model":"router-default","messages":[{"role":"user","content":"hi"}]}`))
	req2.Header.Set("Authorization", "Bearer sk-gateway-test")
	resp2, err := http.DefaultClient.Do(req2)
	if err != nil {
		t.Fatal(err)
	}
	resp2.Body.Close()
	seen := up.seen()
	if len(seen) != 2 || seen[0] != "slow-one" || seen[1] != "fast-two" {
		t.Fatalf("upstream models = %v, want [slow-one fast-two]", seen)
	}
}

func TestInvalidProfileLeavesStateAndActiveConfigUntouched(t *testing.T) {
	cfg := project(t)
	root := filepath.Dir(filepath.Dir(cfg))
	if r := runCLI(t, "--config", cfg, "profile", "set", "balanced"); r.code != 0 {
		t.Fatal(r)
	}
	active := filepath.Join(root, ".router", "runtime", "gateway.active.yaml")
	before, _ := os.ReadFile(active)
	// The profile's credential file disappears: the gateway could not load it.
	os.Remove(filepath.Join(root, ".router", "secrets", "upstream_cliproxyapi_api_key"))
	r := runCLI(t, "--config", cfg, "profile", "set", "cost")
	if r.code != ExitUsage || !strings.Contains(r.stderr, "running config is untouched") {
		t.Fatalf("want exit 2 naming the problem: %+v", r)
	}
	if after, _ := os.ReadFile(active); string(after) != string(before) {
		t.Fatal("an invalid profile rewrote the active config")
	}
	if r := runCLI(t, "--config", cfg, "profile", "list"); !strings.Contains(r.stdout, "balanced (active)") {
		t.Fatalf("state changed: %s", r.stdout)
	}
}
