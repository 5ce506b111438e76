package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/flowgate/flowgate/internal/config"
	"github.com/flowgate/flowgate/internal/gateway"
)

// fakeCLIProxy stands in for CLIProxyAPIPlus: an OpenAI Chat upstream on its
// own port that records the key each request presents.
type fakeCLIProxy struct {
	*httptest.Server
	mu   sync.Mutex
	keys []string
}

func newFakeCLIProxy(t *testing.T) (*fakeCLIProxy, int) {
	f := &fakeCLIProxy{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.keys = append(f.keys, r.Header.Get("Authorization"))
		f.mu.Unlock()
		io.Copy(io.Discard, r.Body)
		fmt.Fprint(w, `{"id":"c1","object":"chat.completion","model":"gpt-5","choices":[{"index":0,"message":{"role":"assistant","content":"from the new port"},"finish_reason":"stop"}]}`)
	}))
	t.Cleanup(f.Close)
	return f, f.Listener.Addr().(*net.TCPAddr).Port
}

// editConfig applies old->new replacements to the config file, each exactly once.
func editConfig(t *testing.T, path string, pairs ...string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := string(data)
	for i := 0; i < len(pairs); i += 2 {
		if !strings.Contains(s, pairs[i]) {
			t.Fatalf("config has no %q", pairs[i])
		}
		s = strings.Replace(s, pairs[i], pairs[i+1], 1)
	}
	if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
}

func readSecret(t *testing.T, cfgPath, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(filepath.Dir(filepath.Dir(cfgPath)), ".router", "secrets", name))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(data))
}

// TestRunbookPortChangeReachesCLIProxyConfigAndGatewayRoutes follows the
// users' fix for a port conflict on a fresh `flowgate init` project: only
// services.cliproxyapi_plus.port changes in flowgate.yaml. Starting
// CLIProxyAPIPlus writes the new port into its own config, and the gateway
// built from the config sends requests to the new port.
func TestRunbookPortChangeReachesCLIProxyConfigAndGatewayRoutes(t *testing.T) {
	cfgPath := project(t)
	fake, port := newFakeCLIProxy(t)
	editConfig(t, cfgPath, "    port: 8317\n", fmt.Sprintf("    port: %d\n", port))
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	// An installed CLIProxyAPIPlus, so the start path goes all the way.
	bin := filepath.Join(cfg.Paths.RuntimeDir, "bin", "CLIProxyAPIPlus")
	os.MkdirAll(filepath.Dir(bin), 0o755)
	os.WriteFile(bin, []byte("#!/bin/sh\nexit 0\n"), 0o755)

	cpFile := cfg.Services[config.ServiceCLIProxy].ConfigFile
	before, _ := os.ReadFile(cpFile)
	if _, err := startSpec(cfg, config.ServiceCLIProxy); err != nil {
		t.Fatalf("start path: %v", err)
	}
	after, _ := os.ReadFile(cpFile)
	if want := strings.Replace(string(before), "port: 8317\n", fmt.Sprintf("port: %d\n", port), 1); string(after) != want {
		t.Fatalf("cliproxyapi.yaml after start:\n%s\nwant only the port changed:\n%s", after, want)
	}
	if r := runCLI(t, "--config", cfgPath, "doctor"); !strings.Contains(r.stdout, "doctor:drift_cliproxy_config=pass") || !strings.Contains(r.stdout, "doctor:cliproxy_config=pass") {
		t.Fatalf("doctor must agree after the sync:\n%s", r.stdout)
	}

	doc, err := cfg.ProfileDocument(cfg.DefaultProfile)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := gateway.New(gateway.Options{Addr: "127.0.0.1:0", Doc: doc, Profile: cfg.DefaultProfile, ResolveRef: cfg.ResolveCredential})
	if err != nil {
		t.Fatal(err)
	}
	gw := httptest.NewServer(srv.Handler())
	defer gw.Close()
	req, _ := http.NewRequest("POST", gw.URL+"/v1/chat/completions", strings.NewReader(`{"model":"router-default","messages":[{"role":"user","content":"hi"}]}`))
	req.Header.Set("Authorization", "Bearer "+readSecret(t, cfgPath, secretGatewayKey))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "from the new port") {
		t.Fatalf("request through the gateway: %d %s", resp.StatusCode, body)
	}
	fake.mu.Lock()
	defer fake.mu.Unlock()
	if len(fake.keys) != 1 || fake.keys[0] != "Bearer "+readSecret(t, cfgPath, secretUpstreamKey) {
		t.Fatalf("the upstream on the new port must get one request with CLIProxyAPIPlus's client key, got %d", len(fake.keys))
	}
}

// TestDoctorReportsEachDriftWithItsFix breaks one copy of an address or key
// at a time on a fresh project and checks doctor names it and the fix.
func TestDoctorReportsEachDriftWithItsFix(t *testing.T) {
	type drift struct {
		name  string
		apply bool // apply both clients before breaking
		brk   func(t *testing.T, cfgPath string)
		id    string
		want  []string // in detail or fix
	}
	cases := []drift{
		{name: "cliproxyapi.yaml port", brk: func(t *testing.T, p string) {
			editConfig(t, p, "    port: 8317\n", fmt.Sprintf("    port: %d\n", freePort(t)))
		}, id: "drift_cliproxy_config", want: []string{"port 8317 ->", "service restart cliproxyapi_plus"}},
		{name: "api_base at the old CLIProxyAPIPlus port", brk: func(t *testing.T, p string) {
			editConfig(t, p, "    port: 8317\n", fmt.Sprintf("    port: %d\n", freePort(t)), "api_base: cliproxy\n", "api_base: http://127.0.0.1:8317/v1\n")
		}, id: "drift_api_base", want: []string{"litellm_base.model_list[0].litellm_params.api_base is http://127.0.0.1:8317/v1, an old CLIProxyAPIPlus address", "api_base: cliproxy in", "(line "}},
		{name: "api_base at a port nothing serves", brk: func(t *testing.T, p string) {
			dead := freePort(t)
			editConfig(t, p, "api_base: cliproxy\n        api_key_ref: cliproxy_default", fmt.Sprintf("api_base: http://127.0.0.1:%d/v1\n        api_key_ref: gateway_key", dead))
		}, id: "drift_api_base", want: []string{"nothing serves port"}},
		{name: "claude code at an old gateway address", apply: true, brk: func(t *testing.T, p string) {
			editConfig(t, p, "    port: 4000\n", fmt.Sprintf("    port: %d\n", freePort(t)))
		}, id: "drift_claude_code", want: []string{"ANTHROPIC_BASE_URL", "http://127.0.0.1:4000", "integration apply claude-code"}},
		{name: "claude code with an old key", apply: true, brk: func(t *testing.T, p string) {
			os.WriteFile(filepath.Join(filepath.Dir(filepath.Dir(p)), ".router", "secrets", secretGatewayKey), []byte("sk-fg-rotated\n"), 0o600)
		}, id: "drift_claude_code", want: []string{"not the current gateway key", "integration apply claude-code"}},
		{name: "codex at an old gateway address", apply: true, brk: func(t *testing.T, p string) {
			editConfig(t, p, "    port: 4000\n", fmt.Sprintf("    port: %d\n", freePort(t)))
		}, id: "drift_codex", want: []string{"base_url", "http://127.0.0.1:4000/v1", "integration apply codex"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("CLAUDE_CONFIG_DIR", t.TempDir())
			t.Setenv("CODEX_HOME", t.TempDir())
			cfgPath := project(t)
			if tc.apply {
				for _, c := range []string{"claude-code", "codex"} {
					if r := runCLI(t, "--config", cfgPath, "integration", "apply", c); r.code != 0 {
						t.Fatalf("apply %s: %+v", c, r)
					}
				}
			}
			if bad := driftFailures(t, cfgPath); len(bad) != 0 {
				t.Fatalf("a fresh project must have no drift, got %+v", bad)
			}
			tc.brk(t, cfgPath)
			bad := driftFailures(t, cfgPath)
			var hit *Check
			for i := range bad {
				if bad[i].ID == tc.id {
					hit = &bad[i]
				}
			}
			if hit == nil {
				t.Fatalf("doctor did not report %s; drift found: %+v", tc.id, bad)
			}
			for _, w := range tc.want {
				if !strings.Contains(hit.Detail+" | "+hit.Fix, w) {
					t.Errorf("%s lacks %q: %+v", tc.id, w, *hit)
				}
			}
			if strings.Contains(hit.Detail+hit.Fix, "sk-fg-") {
				t.Errorf("doctor must not print a key: %+v", *hit)
			}
		})
	}
}

// driftFailures runs `flowgate doctor --json` and returns the drift checks
// that did not pass.
func driftFailures(t *testing.T, cfgPath string) []Check {
	t.Helper()
	r := runCLI(t, "--config", cfgPath, "--json", "doctor")
	var out struct {
		Checks []Check `json:"checks"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatalf("doctor --json: %v\n%s\n%s", err, r.stdout, r.stderr)
	}
	var bad []Check
	seen := 0
	for _, c := range out.Checks {
		if strings.HasPrefix(c.ID, "drift_") {
			seen++
			if c.Status != checkPass {
				bad = append(bad, c)
			}
		}
	}
	if seen < 4 {
		t.Fatalf("doctor ran %d drift checks, want one per kind at least:\n%s", seen, r.stdout)
	}
	return bad
}

func TestIntegrationApplySaysItNarrowedSettingsAndHowToSetCodexKey(t *testing.T) {
	claudeDir, codexHome := t.TempDir(), t.TempDir()
	t.Setenv("CLAUDE_CONFIG_DIR", claudeDir)
	t.Setenv("CODEX_HOME", codexHome)
	t.Setenv("OPENAI_API_KEY", "")
	cfgPath := project(t)
	settings := filepath.Join(claudeDir, "settings.json")
	os.WriteFile(settings, []byte(`{"model": "opus"}`), 0o644)
	os.Chmod(settings, 0o644)

	r := runCLI(t, "--config", cfgPath, "integration", "apply", "claude-code")
	if r.code != 0 || !strings.Contains(r.stdout, "mode=0600 (was 0644: the file holds the gateway key") {
		t.Fatalf("apply claude-code must say it narrowed the file: %+v", r)
	}
	if fi, _ := os.Stat(settings); fi.Mode().Perm() != 0o600 {
		t.Fatalf("settings.json mode %v", fi.Mode().Perm())
	}

	r = runCLI(t, "--config", cfgPath, "integration", "apply", "codex")
	keyFile := filepath.Join(filepath.Dir(filepath.Dir(cfgPath)), ".router", "secrets", secretGatewayKey)
	if want := `export OPENAI_API_KEY="$(cat ` + keyFile + `)"`; r.code != 0 || !strings.Contains(r.stdout, want) {
		t.Fatalf("apply codex must remind to set the key variable (%s): %+v", want, r)
	}
	key := readSecret(t, cfgPath, secretGatewayKey)
	if strings.Contains(r.stdout+r.stderr, key) {
		t.Fatal("apply codex must not print the gateway key")
	}
	t.Setenv("OPENAI_API_KEY", key)
	if r = runCLI(t, "--config", cfgPath, "integration", "apply", "codex"); !strings.Contains(r.stdout, "already sets") || strings.Contains(r.stdout+r.stderr, key) {
		t.Fatalf("with the key already exported: %+v", r)
	}
}
