package cli

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestHealthShowsWhichDeploymentIsCoolingAndUntilWhen runs the real gateway
// with one alias on a port where nothing listens: after a failed request
// `flowgate health` lists that deployment as cooling with its deadline and
// last error, next to the healthy one.
func TestHealthShowsWhichDeploymentIsCoolingAndUntilWhen(t *testing.T) {
	t.Setenv("FLOWGATE_SELF", flowgateBinary(t))
	up := newSlowUpstream(t)
	root := t.TempDir()
	port, dead := freePort(t), freePort(t)
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
      litellm_params: {model: openai/fast, api_base: %q, api_key_ref: up}
    - model_name: router-down
      litellm_params: {model: openai/x, api_base: "http://127.0.0.1:%d/v1", api_key_ref: up}
  litellm_settings: {num_retries: 0, allowed_fails: 0, cooldown_time: 300}
  general_settings: {master_key: sk-gateway-test}
profiles:
  only: {}
`, port, up.URL+"/v1", dead)), 0o600)
	if r := runCLI(t, "--config", cfg, "service", "start", "gateway"); r.code != 0 {
		t.Fatalf("start: %+v", r)
	}
	t.Cleanup(func() { runCLI(t, "--config", cfg, "service", "stop", "all") })
	req, _ := http.NewRequest("POST", fmt.Sprintf("http://127.0.0.1:%d/v1/chat/completions", port), strings.NewReader(`{"model":"router-down","messages":[{"role":"user","content":"hi"}]}`))
	req.Header.Set("Authorization", "Bearer sk-gateway-test")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadGateway {
		t.Fatalf("request to a closed port: %d, want 502", resp.StatusCode)
	}
	r := runCLI(t, "--config", cfg, "health")
	if !strings.Contains(r.stdout, "deployment router-down -> openai/x state=cooling cooling_until=") || !strings.Contains(r.stdout, "connection refused") {
		t.Fatalf("health does not show the cooling deployment:\n%s", r.stdout)
	}
	if !strings.Contains(r.stdout, "deployment router-default -> openai/fast state=healthy") {
		t.Fatalf("health does not show the healthy deployment:\n%s", r.stdout)
	}
}
