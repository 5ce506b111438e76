package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowgate/flowgate/internal/litellm"
	"github.com/flowgate/flowgate/internal/litellm/contract"
)

// liteLLMVenv finds the venv CI prepares (internal/litellm/ci-setup.sh).
func liteLLMVenv(t *testing.T) string {
	if v := os.Getenv("FLOWGATE_LITELLM_VENV"); v != "" {
		return v
	}
	cache := os.Getenv("FLOWGATE_CACHE")
	if cache == "" {
		home, _ := os.UserHomeDir()
		cache = filepath.Join(home, ".cache", "flowgate")
	}
	v := filepath.Join(cache, "litellm-venv-"+litellm.DefaultVersion)
	if _, err := os.Stat(filepath.Join(v, "bin", "litellm")); err != nil {
		return ""
	}
	return v
}

// TestLiteLLMEngineThroughTheOperatorCommands runs the real LiteLLM proxy as
// the gateway service: bootstrap (reusing the prepared venv), service start,
// a chat completion to the fake upstream, status, health, profile set (a
// restart with readiness wait) and stop.
func TestLiteLLMEngineThroughTheOperatorCommands(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real LiteLLM (slow)")
	}
	venv := liteLLMVenv(t)
	if venv == "" {
		t.Skip("LiteLLM is not installed: run internal/litellm/ci-setup.sh (CI does)")
	}
	up := contract.NewUpstream(t)
	cfg := project(t)
	root := filepath.Dir(filepath.Dir(cfg))
	port := freePort(t)
	data, _ := os.ReadFile(cfg)
	body := string(data)
	body = strings.Replace(body, "    engine: builtin\n", "    engine: litellm\n", 1)
	body = strings.Replace(body, "    port: 4000\n", fmt.Sprintf("    port: %d\n", port), 1)
	body = strings.Replace(body, "model: openai/gpt-5\n", "model: openai/"+contract.UpstreamModelMain+"\n", 1)
	body = strings.Replace(body, "model: openai/gpt-5-mini\n", "model: openai/"+contract.UpstreamModelBackup+"\n", 1)
	body = strings.ReplaceAll(body, "api_base: cliproxy", "api_base: "+up.URL)
	os.WriteFile(cfg, []byte(body), 0o600)
	upstreamKeyFile := filepath.Join(root, ".router", "secrets", "upstream_cliproxyapi_api_key")
	os.WriteFile(upstreamKeyFile, []byte(contract.UpstreamKey+"\n"), 0o600)

	r := runCLI(t, "--config", cfg, "bootstrap", "litellm", "--venv", venv)
	if r.code != 0 {
		t.Fatalf("bootstrap litellm: %+v", r)
	}
	r = runCLI(t, "--config", cfg, "profile", "set", "balanced")
	if r.code != 0 {
		t.Fatalf("profile set: %+v", r)
	}
	r = runCLI(t, "--config", cfg, "service", "start", "gateway")
	t.Cleanup(func() { runCLI(t, "--config", cfg, "service", "stop", "all") })
	if r.code != 0 || !strings.Contains(r.stdout, "gateway: started") {
		logs := runCLI(t, "--config", cfg, "logs", "gateway", "-n", "40")
		t.Fatalf("start litellm: %+v\nlog:\n%s", r, logs.stdout)
	}

	gwKey := strings.TrimSpace(string(must(os.ReadFile(filepath.Join(root, ".router", "secrets", "gateway_key")))))
	chat := func() string {
		req, _ := http.NewRequest("POST", fmt.Sprintf("http://127.0.0.1:%d/v1/chat/completions", port),
			strings.NewReader(`{"model":"router-default","messages":[{"role":"user","content":"hi"}]}`))
		req.Header.Set("Authorization", "Bearer "+gwKey)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("chat through LiteLLM: %d %s", resp.StatusCode, b)
		}
		var c struct {
			Choices []struct {
				Message struct{ Content string } `json:"message"`
			} `json:"choices"`
		}
		json.Unmarshal(b, &c)
		if len(c.Choices) == 0 {
			t.Fatalf("no choices: %s", b)
		}
		return c.Choices[0].Message.Content
	}
	if got := chat(); got != contract.Text(contract.UpstreamModelMain) {
		t.Fatalf("LiteLLM answered %q", got)
	}

	active := filepath.Join(root, ".router", "runtime", "gateway.active.yaml")
	gen, err := os.ReadFile(active)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{gwKey, contract.UpstreamKey} {
		if strings.Contains(string(gen), secret) {
			t.Fatal("the generated LiteLLM config holds a secret")
		}
	}
	if fi, _ := os.Stat(active); fi.Mode().Perm() != 0o600 {
		t.Fatalf("generated LiteLLM config mode %o", fi.Mode().Perm())
	}

	r = runCLI(t, "--config", cfg, "status")
	if !strings.Contains(r.stdout, "gateway_engine=litellm") || !strings.Contains(r.stdout, "gateway: running") {
		t.Fatalf("status: %+v", r)
	}
	r = runCLI(t, "--config", cfg, "health")
	if !strings.Contains(r.stdout, "gateway: liveness=ok readiness=ok") {
		t.Fatalf("health: %+v", r)
	}
	r = runCLI(t, "--config", cfg, "profile", "set", "cost")
	if r.code != 0 || !strings.Contains(r.stdout, "gateway=restarted") {
		t.Fatalf("profile set with LiteLLM must restart it: %+v", r)
	}
	if got := chat(); got != contract.Text(contract.UpstreamModelMain) {
		t.Fatalf("after profile set LiteLLM answered %q", got)
	}
	r = runCLI(t, "--config", cfg, "service", "stop", "gateway")
	if r.code != 0 || !strings.Contains(r.stdout, "gateway: stopped") {
		t.Fatalf("stop: %+v", r)
	}
}
