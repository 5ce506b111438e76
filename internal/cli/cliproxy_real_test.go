package cli

import (
	"archive/tar"
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// realCLIProxyTarball is the real CLIProxyAPIPlus release asset that the
// project's shared folder holds beside the repository (CI has it there).
func realCLIProxyTarball(t *testing.T) string {
	t.Helper()
	p := os.Getenv("FLOWGATE_CLIPROXY_TARBALL")
	if p == "" {
		p = filepath.Join("..", "..", "..", "shared", "cliproxyapiplus", "CLIProxyAPIPlus_6.8.16-0_linux_amd64.tar.gz")
	}
	if _, err := os.Stat(p); err != nil {
		t.Skipf("real CLIProxyAPIPlus not found at %s (set FLOWGATE_CLIPROXY_TARBALL): %v", p, err)
	}
	return p
}

// installRealCLIProxy extracts cli-proxy-api-plus from the tarball to dst.
func installRealCLIProxy(t *testing.T, tarball, dst string) {
	t.Helper()
	f, err := os.Open(tarball)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if err != nil {
			t.Fatalf("no cli-proxy-api-plus in %s: %v", tarball, err)
		}
		if filepath.Base(h.Name) != "cli-proxy-api-plus" {
			continue
		}
		os.MkdirAll(filepath.Dir(dst), 0o755)
		out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(out, tr); err != nil {
			t.Fatal(err)
		}
		out.Close()
		return
	}
}

// TestRunbookPortChangeWithTheRealCLIProxyAPIPlus follows the users' fix for
// a port conflict with the real CLIProxyAPIPlus: everything runs, the user changes
// services.cliproxyapi_plus.port in flowgate.yaml only and runs `service
// restart all`; everything is ready again and a request through the gateway
// reaches the upstream behind CLIProxyAPIPlus on its new port.
func TestRunbookPortChangeWithTheRealCLIProxyAPIPlus(t *testing.T) {
	tarball := realCLIProxyTarball(t)
	var hits atomic.Int32
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"id":"c1","object":"chat.completion","created":1,"model":"upstream-model","choices":[{"index":0,"message":{"role":"assistant","content":"through CLIProxyAPIPlus"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}}`)
	}))
	defer upstream.Close()

	cfgPath := project(t)
	root := filepath.Dir(filepath.Dir(cfgPath))
	installRealCLIProxy(t, tarball, filepath.Join(root, ".router", "runtime", "bin", "CLIProxyAPIPlus"))
	gwPort, oldPort, newPort := freePort(t), freePort(t), freePort(t)
	editConfig(t, cfgPath, "    port: 8317\n", fmt.Sprintf("    port: %d\n", oldPort), "    port: 4000\n", fmt.Sprintf("    port: %d\n", gwPort))
	// CLIProxyAPIPlus serves gpt-5 from an OpenAI-compatible upstream.
	cpYAML := filepath.Join(root, "config", "cliproxyapi.yaml")
	data, _ := os.ReadFile(cpYAML)
	os.WriteFile(cpYAML, append(data, []byte(fmt.Sprintf(`
openai-compatibility:
  - name: fake
    base-url: %s/v1
    api-key-entries:
      - api-key: sk-fake-upstream
    models:
      - name: upstream-model
        alias: gpt-5
`, upstream.URL))...), 0o600)
	gwKey := readSecret(t, cfgPath, "gateway_key")

	if r := runCLI(t, "--config", cfgPath, "profile", "set", "balanced"); r.code != 0 {
		t.Fatalf("profile set: %+v", r)
	}
	if r := runCLI(t, "--config", cfgPath, "service", "start", "all"); r.code != 0 {
		t.Fatalf("start all: %+v", r)
	}
	t.Cleanup(func() { runCLI(t, "--config", cfgPath, "down") })

	chat := func() (int, string) {
		req, _ := http.NewRequest("POST", fmt.Sprintf("http://127.0.0.1:%d/v1/chat/completions", gwPort),
			strings.NewReader(`{"model":"router-default","messages":[{"role":"user","content":"hi"}]}`))
		req.Header.Set("Authorization", "Bearer "+gwKey)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	// service start waits until CLIProxyAPIPlus has loaded its models: the
	// first request through the gateway must not meet a 502 that cools the
	// deployment down.
	cpKey := readSecret(t, cfgPath, "upstream_cliproxyapi_api_key")
	modelsReady := func(port int) {
		t.Helper()
		req, _ := http.NewRequest("GET", fmt.Sprintf("http://127.0.0.1:%d/v1/models", port), nil)
		req.Header.Set("Authorization", "Bearer "+cpKey)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 || !strings.Contains(string(b), `"gpt-5"`) {
			t.Fatalf("CLIProxyAPIPlus on port %d was reported started before it listed its models: %d %s", port, resp.StatusCode, b)
		}
	}
	modelsReady(oldPort)
	var code int
	var body string
	if code, body = chat(); code != 200 {
		logs, _ := os.ReadFile(filepath.Join(root, ".router", "runtime", "process-logs", "cliproxyapi_plus.log"))
		t.Fatalf("no request through CLIProxyAPIPlus succeeded: %d %s\ncliproxyapi_plus.log:\n%s", code, body, logs)
	}
	if !strings.Contains(body, "through CLIProxyAPIPlus") || hits.Load() == 0 {
		t.Fatalf("first request: %d %s (upstream hits %d)", code, body, hits.Load())
	}

	// The users' fix for a port conflict: change the port in flowgate.yaml, restart all.
	editConfig(t, cfgPath, fmt.Sprintf("    port: %d\n", oldPort), fmt.Sprintf("    port: %d\n", newPort))
	r := runCLI(t, "--config", cfgPath, "service", "restart", "all")
	if r.code != 0 || strings.Count(r.stdout, "restarted") != 2 {
		t.Fatalf("restart all after the port change: %+v", r)
	}
	if r := runCLI(t, "--config", cfgPath, "health"); !strings.Contains(r.stdout, fmt.Sprintf("%d", newPort)) {
		t.Fatalf("health does not show the new port: %+v", r)
	}
	cp, _ := os.ReadFile(cpYAML)
	if !strings.Contains(string(cp), fmt.Sprintf("port: %d", newPort)) {
		t.Fatalf("cliproxyapi.yaml was not moved to the new port:\n%s", cp)
	}
	before := hits.Load()
	modelsReady(newPort)
	code, body = chat()
	if code != 200 || hits.Load() <= before || serves(oldPort) {
		t.Fatalf("after the port change: %d %s, upstream hits %d -> %d, old port still serving: %v", code, body, before, hits.Load(), serves(oldPort))
	}
	r = runCLI(t, "--config", cfgPath, "doctor")
	if strings.Contains(r.stdout, "drift_") && strings.Contains(r.stdout, "=fail") {
		for _, l := range strings.Split(r.stdout, "\n") {
			if strings.Contains(l, "drift_") && strings.Contains(l, "=fail") {
				t.Errorf("doctor reports drift after the port change and restart: %s", l)
			}
		}
	}
}
