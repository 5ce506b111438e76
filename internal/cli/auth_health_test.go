package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flowgate/flowgate/internal/cliproxy"
	"github.com/flowgate/flowgate/internal/config"
)

// rejectingCLIProxy stands in for CLIProxyAPIPlus whose Codex account the
// upstream refuses: inference for gpt-5 answers 401 as CLIProxyAPIPlus
// passes it on; any other model answers; the management API lists files.
func rejectingCLIProxy(t *testing.T, files string) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.URL.Path == cliproxy.PathAuthFiles:
			io.WriteString(w, `{"files":`+files+`}`)
		case strings.Contains(string(body), `"gpt-5"`):
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"error":{"message":"Provided authentication token is expired. Please try signing in again.","code":"token_expired"}}`)
		case strings.HasSuffix(r.URL.Path, "/messages"):
			io.WriteString(w, `{"id":"msg_1","type":"message","role":"assistant","model":"m","content":[{"type":"text","text":"PONG"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":1,"output_tokens":1}}`)
		default:
			io.WriteString(w, `{"id":"c1","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"PONG"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}`)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// loginProject writes a project whose aliases route through CLIProxyAPIPlus
// at cpPort: router-default only to gpt-5, router-mixed to gpt-5 and to a
// model that works. It returns the config path and its auths folder.
func loginProject(t *testing.T, gwPort, cpPort int) (string, string) {
	t.Helper()
	root := t.TempDir()
	cfg := filepath.Join(root, "config", "flowgate.yaml")
	os.MkdirAll(filepath.Dir(cfg), 0o755)
	os.MkdirAll(filepath.Join(root, "secrets"), 0o700)
	os.WriteFile(filepath.Join(root, "secrets", "cp_key"), []byte("sk-cliproxy-test\n"), 0o600)
	api := fmt.Sprintf("http://127.0.0.1:%d/v1", cpPort)
	os.WriteFile(cfg, []byte(fmt.Sprintf(`
config_version: 2
services:
  gateway: {port: %d}
  cliproxyapi_plus: {port: %d}
credentials:
  upstream:
    cliproxy_default: {file: ../secrets/cp_key}
litellm_base:
  model_list:
    - model_name: router-default
      litellm_params: {model: openai/gpt-5, api_base: %q, api_key_ref: cliproxy_default}
    - model_name: router-mixed
      litellm_params: {model: openai/gpt-5, api_base: %q, api_key_ref: cliproxy_default, order: 1}
    - model_name: router-mixed
      litellm_params: {model: openai/gpt-5.1-mini-ok, api_base: %q, api_key_ref: cliproxy_default, order: 2}
  litellm_settings: {num_retries: 0, allowed_fails: 0, cooldown_time: 300}
  general_settings: {master_key: sk-gateway-test}
profiles:
  only: {}
`, gwPort, cpPort, api, api, api)), 0o600)
	c, err := config.Load(cfg)
	if err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(c.Paths.AuthDir, 0o700)
	return cfg, c.Paths.AuthDir
}

// writeCodexLogin writes a Codex credential as CLIProxyAPIPlus saves it.
func writeCodexLogin(t *testing.T, dir string, expires time.Time) {
	t.Helper()
	b, _ := json.Marshal(map[string]any{
		"type": "codex", "email": "dev@example.com", "account_id": "acct-1",
		"id_token":     jwt(map[string]any{"email": "dev@example.com", "https://api.openai.com/auth": map[string]any{"chatgpt_plan_type": "plus"}}),
		"access_token": "at-secret", "refresh_token": "rt-secret",
		"expired": expires.UTC().Format(time.RFC3339),
	})
	if err := os.WriteFile(filepath.Join(dir, "codex-dev@example.com-plus.json"), b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestRejectedCodexLoginFailsHealthAndDoctorAndReachesClientsAsAuthErrors is
// the acceptance path through the real gateway process: CLIProxyAPIPlus
// answers 401 for the Codex account. Clients get authentication errors in
// their protocol naming the deployment, alias and `flowgate auth login
// codex`, never 429; an alias with a second, working deployment still
// answers; `health` shows auth_failed (not cooling) and exits 1 with the
// login command; `doctor` fails with the same fix.
func TestRejectedCodexLoginFailsHealthAndDoctorAndReachesClientsAsAuthErrors(t *testing.T) {
	t.Setenv("FLOWGATE_SELF", flowgateBinary(t))
	cp := rejectingCLIProxy(t, `[]`)
	cpPort := cp.Listener.Addr().(*net.TCPAddr).Port
	gwPort := freePort(t)
	cfg, auths := loginProject(t, gwPort, cpPort)
	// The file looks fine: only the upstream knows the login is dead.
	writeCodexLogin(t, auths, time.Now().Add(72*time.Hour))
	if r := runCLI(t, "--config", cfg, "service", "start", "gateway"); r.code != 0 {
		t.Fatalf("start: %+v", r)
	}
	t.Cleanup(func() { runCLI(t, "--config", cfg, "service", "stop", "all") })

	post := func(path, body string, hdr map[string]string) (int, http.Header, string) {
		t.Helper()
		req, _ := http.NewRequest("POST", fmt.Sprintf("http://127.0.0.1:%d%s", gwPort, path), strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer sk-gateway-test")
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header, string(b)
	}
	for round := 0; round < 2; round++ { // the second round would have been a 429
		code, hdr, body := post("/v1/chat/completions", `{"model":"router-default","messages":[{"role":"user","content":"hi"}]}`, nil)
		var oe struct {
			Error struct{ Type, Message, Code string }
		}
		json.Unmarshal([]byte(body), &oe)
		if code != 401 || oe.Error.Type != "authentication_error" || hdr.Get("Retry-After") != "" ||
			!strings.Contains(oe.Error.Message, "deployment openai/gpt-5 (alias router-default) with 401") ||
			!strings.Contains(oe.Error.Message, "run: flowgate auth login codex") {
			t.Fatalf("round %d chat: %d %v %s", round, code, hdr, body)
		}
		code, hdr, body = post("/v1/messages", `{"model":"router-default","max_tokens":8,"messages":[{"role":"user","content":"hi"}]}`, map[string]string{"Anthropic-Version": "2023-06-01"})
		var ae struct {
			Type  string
			Error struct{ Type, Message string }
		}
		json.Unmarshal([]byte(body), &ae)
		if code != 401 || ae.Type != "error" || ae.Error.Type != "authentication_error" || hdr.Get("Retry-After") != "" ||
			!strings.Contains(ae.Error.Message, "flowgate auth login codex") {
			t.Fatalf("round %d messages: %d %s", round, code, body)
		}
	}
	if code, _, body := post("/v1/chat/completions", `{"model":"router-mixed","messages":[{"role":"user","content":"hi"}]}`, nil); code != 200 || !strings.Contains(body, "PONG") {
		t.Fatalf("alias with a working second deployment: %d %s", code, body)
	}

	r := runCLI(t, "--config", cfg, "health")
	if r.code != ExitFailed {
		t.Fatalf("health exit %d, want 1:\n%s", r.code, r.stdout)
	}
	for _, want := range []string{
		"deployment router-default -> openai/gpt-5 state=auth_failed since=",
		`fix="run: flowgate auth login codex"`,
		"auth: codex login rejected by the upstream since ",
		"(run: flowgate auth login codex)",
		"routes: router-default, router-mixed",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("health lacks %q:\n%s", want, r.stdout)
		}
	}
	if strings.Contains(r.stdout, "state=cooling") {
		t.Errorf("an auth failure shows as a cooldown:\n%s", r.stdout)
	}
	if strings.Contains(r.stdout, "rt-secret") || strings.Contains(r.stdout, "sk-cliproxy-test") {
		t.Fatal("health printed a secret")
	}
	r = runCLI(t, "--config", cfg, "--json", "health")
	var hj struct {
		OK   bool `json:"ok"`
		Auth []struct {
			Provider, State, Fix string
		} `json:"auth"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &hj); err != nil || hj.OK || len(hj.Auth) != 1 || hj.Auth[0].Provider != "codex" ||
		hj.Auth[0].State != "rejected" || hj.Auth[0].Fix != "flowgate auth login codex" {
		t.Fatalf("health --json: %v %s", err, r.stdout)
	}

	r = runCLI(t, "--config", cfg, "doctor")
	if r.code != ExitFailed || !strings.Contains(r.stdout, "doctor:login_codex=fail codex login rejected by the upstream") ||
		!strings.Contains(r.stdout, "fix: run `flowgate auth login codex`") {
		t.Fatalf("doctor exit %d:\n%s", r.code, r.stdout)
	}
}

// TestExpiredOrMissingLoginFailsHealthAndDoctorWithTheLoginCommand: with
// CLIProxyAPIPlus down, the files in the auths folder decide: none is
// "no codex login", an expired one "codex login expired at <expiry>", a
// valid one passes.
func TestExpiredOrMissingLoginFailsHealthAndDoctorWithTheLoginCommand(t *testing.T) {
	cfg, auths := loginProject(t, freePort(t), freePort(t))
	r := runCLI(t, "--config", cfg, "health")
	if r.code != ExitFailed || !strings.Contains(r.stdout, "auth: no codex login") || !strings.Contains(r.stdout, "(run: flowgate auth login codex)") {
		t.Fatalf("missing login: %d\n%s", r.code, r.stdout)
	}
	expired := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	writeCodexLogin(t, auths, expired)
	r = runCLI(t, "--config", cfg, "health")
	if r.code != ExitFailed || !strings.Contains(r.stdout, "auth: codex login expired at 2026-01-01T00:00:00Z (dev@example.com) (run: flowgate auth login codex)") {
		t.Fatalf("expired login: %d\n%s", r.code, r.stdout)
	}
	r = runCLI(t, "--config", cfg, "auth", "status")
	if r.code != 0 || !strings.Contains(r.stdout, "provider=codex file=codex-dev@example.com-plus.json account=dev@example.com plan=plus expires=2026-01-01T00:00:00Z expired=true disabled=false") ||
		!strings.Contains(r.stdout, `login=codex state=expired aliases=router-default,router-mixed problem="codex login expired at 2026-01-01T00:00:00Z`) {
		t.Fatalf("auth status with an expired login: %d\n%s", r.code, r.stdout)
	}
	r = runCLI(t, "--config", cfg, "doctor")
	if r.code != ExitFailed || !strings.Contains(r.stdout, "doctor:login_codex=fail codex login expired at 2026-01-01T00:00:00Z") ||
		!strings.Contains(r.stdout, "aliases router-default, router-mixed route to it") || !strings.Contains(r.stdout, "fix: run `flowgate auth login codex`") {
		t.Fatalf("doctor with an expired login: %d\n%s", r.code, r.stdout)
	}
	writeCodexLogin(t, auths, time.Now().Add(240*time.Hour))
	r = runCLI(t, "--config", cfg, "doctor")
	if !strings.Contains(r.stdout, "doctor:login_codex=pass account=dev@example.com") {
		t.Fatalf("doctor with a valid login:\n%s", r.stdout)
	}
	if r = runCLI(t, "--config", cfg, "health"); strings.Contains(r.stdout, "auth:") {
		t.Fatalf("health with a valid login:\n%s", r.stdout)
	}
}

// TestLoginsFromTheManagementAPI: when CLIProxyAPIPlus runs, its account list
// decides: an account it marks unauthorized is rejected, a disabled one is
// not a login, an active one is.
func TestLoginsFromTheManagementAPI(t *testing.T) {
	cases := []struct{ files, state, problem string }{
		{`[{"name":"codex-a.json","provider":"codex","email":"a@example.com","status":"error","status_message":"unauthorized","unavailable":true}]`, "rejected", "codex login rejected by the upstream (a@example.com): unauthorized (run: flowgate auth login codex)"},
		{`[{"name":"codex-a.json","provider":"codex","email":"a@example.com","status":"disabled","disabled":true}]`, "disabled", "codex login disabled in CLIProxyAPIPlus (a@example.com) (run: flowgate auth login codex)"},
		{`[]`, "missing", "no codex login: CLIProxyAPIPlus lists no codex account (run: flowgate auth login codex)"},
		{`[{"name":"codex-a.json","provider":"codex","email":"a@example.com","status":"active"},{"name":"codex-b.json","provider":"codex","status":"error","status_message":"unauthorized"}]`, "ok", ""},
	}
	for _, c := range cases {
		cp := rejectingCLIProxy(t, c.files)
		cfg, _ := loginProject(t, freePort(t), cp.Listener.Addr().(*net.TCPAddr).Port)
		conf, err := config.Load(cfg)
		if err != nil {
			t.Fatal(err)
		}
		client := &cliproxy.Client{BaseURL: cp.URL, Password: "pw"}
		got := checkLogins(context.Background(), conf, client, nil)
		if len(got) != 1 || got[0].Provider != "codex" || got[0].State != c.state || got[0].Problem != c.problem {
			t.Errorf("files %s: %+v", c.files, got)
		}
	}
}

// TestHealthNamesTheProgramHoldingTheGatewayPort: when another program holds
// a stopped service's port, health names it and the fix instead of saying
// to start the service (which would fail).
func TestHealthNamesTheProgramHoldingTheGatewayPort(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() { // accept and drop: holds the port but is no gateway
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	cfg, _ := loginProject(t, ln.Addr().(*net.TCPAddr).Port, freePort(t))
	r := runCLI(t, "--config", cfg, "health")
	want := fmt.Sprintf("hint: port %d is held by pid %d", ln.Addr().(*net.TCPAddr).Port, os.Getpid())
	if r.code != ExitFailed || !strings.Contains(r.stdout, want) || !strings.Contains(r.stdout, "or change services.gateway.port") {
		t.Fatalf("health exit %d, want the holder named (%q):\n%s", r.code, want, r.stdout)
	}
	gwPart := r.stdout[strings.Index(r.stdout, "gateway: "):]
	if strings.Contains(gwPart[:strings.Index(gwPart, "auth:")], "start it with") {
		t.Fatalf("health says to start a service whose port is taken:\n%s", r.stdout)
	}
}
