// Package e2e runs the real Claude Code and Codex CLI clients against a
// scripted fake upstream, either directly (proves the fake upstream and the
// client setup) or through a real `flowgate gateway serve` (the product).
//
// Skipped unless FLOWGATE_E2E=1. Install the clients first with
// e2e/install-clients.sh (see its header); see README in this folder.
package e2e

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flowgate/flowgate/internal/clients"
)

const (
	claudeVersion = "2.1.197"
	codexVersion  = "0.169.0"

	directToken  = "sk-e2e-direct"
	gatewayToken = "sk-e2e-gateway-key"
	upstreamKey  = "sk-e2e-upstream-key"

	aliasChat      = "router-default"   // -> openai/mock (Chat) at the fake upstream
	aliasAnthropic = "router-anthropic" // -> anthropic/mock (Messages) at the fake upstream
)

func clientTimeout() time.Duration {
	if s := os.Getenv("FLOWGATE_E2E_TIMEOUT"); s != "" {
		if d, err := time.ParseDuration(s); err == nil {
			return d
		}
	}
	return 150 * time.Second
}

// requireE2E skips unless FLOWGATE_E2E=1 and returns the client binary.
func requireE2E(t *testing.T, envVar, dir, bin string) string {
	t.Helper()
	if os.Getenv("FLOWGATE_E2E") != "1" {
		t.Skip("real-client e2e: set FLOWGATE_E2E=1 (and run e2e/install-clients.sh)")
	}
	if p := os.Getenv(envVar); p != "" {
		return p
	}
	cache := os.Getenv("FLOWGATE_CACHE")
	if cache == "" {
		home, _ := os.UserHomeDir()
		cache = filepath.Join(home, ".cache", "flowgate")
	}
	p := filepath.Join(cache, "clients", dir, "node_modules", ".bin", bin)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("%s not installed at %s: run e2e/install-clients.sh (or set %s)", bin, p, envVar)
	}
	return p
}

func modeEnabled(mode string) bool {
	m := os.Getenv("FLOWGATE_E2E_MODES")
	if m == "" {
		m = "direct,gateway"
	}
	return slices.Contains(strings.Split(m, ","), mode)
}

// target is where a client is pointed: the fake upstream itself or a gateway.
type target struct {
	name  string
	url   string // gateway root (no /v1)
	token string
	model string
	// wantProtocol is what the fake upstream must see for this target.
	wantProtocol string
	up           *fakeUpstream
}

func directTarget(t *testing.T, protocol string) target {
	up := startFakeUpstream(t, directToken)
	return target{name: "direct", url: up.URL, token: directToken, model: aliasChat, wantProtocol: protocol, up: up}
}

// forEachTarget runs fn as subtests: direct/ (client -> fake upstream in
// the client's own protocol) and gateway/<alias>/ (client -> flowgate ->
// fake upstream over Chat or Anthropic). A gateway that fails to start fails
// only the gateway subtest.
func forEachTarget(t *testing.T, directProtocol string, fn func(*testing.T, target)) {
	if modeEnabled("direct") {
		t.Run("direct", func(t *testing.T) { fn(t, directTarget(t, directProtocol)) })
	}
	if modeEnabled("gateway") {
		t.Run("gateway", func(t *testing.T) {
			up := startFakeUpstream(t, upstreamKey)
			gw := startGateway(t, up)
			for _, tg := range []target{
				{name: "chat-upstream", url: gw, token: gatewayToken, model: aliasChat, wantProtocol: "chat", up: up},
				{name: "anthropic-upstream", url: gw, token: gatewayToken, model: aliasAnthropic, wantProtocol: "anthropic", up: up},
			} {
				t.Run(tg.name, func(t *testing.T) { fn(t, tg) })
			}
		})
	}
}

// ---- Claude Code ----

func TestClaudeCodeRealClient(t *testing.T) {
	bin := requireE2E(t, "FLOWGATE_CLAUDE_BIN", "claude-code-"+claudeVersion, "claude")
	forEachTarget(t, "anthropic", func(t *testing.T, tg target) {
		{
			t.Run("text", func(t *testing.T) {
				before := len(tg.up.requests())
				out := runClaude(t, bin, tg, textPrompt)
				if !strings.Contains(out, pongText) {
					t.Fatalf("claude stdout lacks %q:\n%s", pongText, out)
				}
				reqs := modelRequests(tg.up.requests()[before:])
				assertSeen(t, reqs, tg, 1)
				if !reqs[0].Stream && tg.wantProtocol == "anthropic" {
					t.Errorf("claude request reached the upstream without stream:true (body %.200s)", reqs[0].Body)
				}
			})
			t.Run("tool", func(t *testing.T) {
				before := len(tg.up.requests())
				out := runClaude(t, bin, tg, toolPrompt, "--allowedTools", "Bash")
				reqs := modelRequests(tg.up.requests()[before:])
				assertToolTurn(t, reqs, tg, out)
			})
			t.Run("parallel-tools", func(t *testing.T) {
				before := len(tg.up.requests())
				out := runClaude(t, bin, tg, parallelPrompt, "--allowedTools", "Bash")
				assertParallelTurn(t, modelRequests(tg.up.requests()[before:]), tg, out)
			})
		}
	})
}

func runClaude(t *testing.T, bin string, tg target, prompt string, extra ...string) string {
	t.Helper()
	home := t.TempDir()
	env := baseEnv(home)
	env = append(env,
		"CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1",
		"DISABLE_TELEMETRY=1",
		"DISABLE_AUTOUPDATER=1",
		"DISABLE_ERROR_REPORTING=1",
		"DISABLE_BUG_COMMAND=1",
		"DISABLE_NON_ESSENTIAL_MODEL_CALLS=1",
		"CLAUDE_CODE_MAX_RETRIES=1",
		"CLAUDE_CODE_SKIP_AUTO_UPDATE=1",
	)
	// Configure the client only with the integration output.
	t.Setenv("HOME", home) // clients.DefaultClaudePath reads the home folder
	t.Setenv("CLAUDE_CONFIG_DIR", "")
	path, err := clients.DefaultClaudePath()
	if err != nil {
		t.Fatal(err)
	}
	spec := clients.Spec{GatewayURL: tg.url, DefaultModel: tg.model, Token: tg.token, Aliases: []string{aliasChat, aliasAnthropic}}
	if w := clients.CheckModels(spec); len(w) > 0 {
		t.Fatalf("model check: %v", w)
	}
	res, err := clients.ApplyClaude(path, spec, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("claude settings %s:\n%s", res.Path, res.Content)
	work := t.TempDir()
	args := append([]string{"-p", prompt}, extra...)
	return runClient(t, bin, args, env, work)
}

// ---- Codex CLI ----

func TestCodexRealClient(t *testing.T) {
	bin := requireE2E(t, "FLOWGATE_CODEX_BIN", "codex-"+codexVersion, "codex")
	forEachTarget(t, "responses", func(t *testing.T, tg target) {
		{
			t.Run("text", func(t *testing.T) {
				before := len(tg.up.requests())
				out := runCodex(t, bin, tg, textPrompt)
				if !strings.Contains(out, pongText) {
					t.Fatalf("codex stdout lacks %q:\n%s", pongText, out)
				}
				assertSeen(t, modelRequests(tg.up.requests()[before:]), tg, 1)
			})
			t.Run("tool", func(t *testing.T) {
				before := len(tg.up.requests())
				out := runCodex(t, bin, tg, toolPrompt)
				assertToolTurn(t, modelRequests(tg.up.requests()[before:]), tg, out)
			})
			t.Run("parallel-tools", func(t *testing.T) {
				before := len(tg.up.requests())
				out := runCodex(t, bin, tg, parallelPrompt)
				assertParallelTurn(t, modelRequests(tg.up.requests()[before:]), tg, out)
			})
		}
	})
}

func runCodex(t *testing.T, bin string, tg target, prompt string) string {
	t.Helper()
	home := t.TempDir()
	codexHome := filepath.Join(home, ".codex")
	env := baseEnv(home)
	spec := clients.Spec{GatewayURL: tg.url, DefaultModel: tg.model, Token: tg.token, Aliases: []string{aliasChat, aliasAnthropic}}
	spec, err := clients.Normalize(spec)
	if err != nil {
		t.Fatal(err)
	}
	env = append(env, "CODEX_HOME="+codexHome, spec.EnvKey+"="+tg.token)
	t.Setenv("CODEX_HOME", codexHome)
	path, err := clients.DefaultCodexPath()
	if err != nil {
		t.Fatal(err)
	}
	res, err := clients.ApplyCodex(path, spec, false)
	if err != nil {
		t.Fatal(err)
	}
	if string(res.Content) != clients.PrintCodex(spec) {
		t.Errorf("apply on a new file differs from print:\n%s\nvs\n%s", res.Content, clients.PrintCodex(spec))
	}
	t.Logf("codex config %s:\n%s", res.Path, res.Content)
	work := t.TempDir()
	args := []string{"exec", "--skip-git-repo-check", "--color", "never"}
	if s := os.Getenv("FLOWGATE_E2E_CODEX_SANDBOX"); s != "" {
		args = append(args, "--sandbox", s)
	}
	args = append(args, prompt)
	return runClient(t, bin, args, env, work)
}

// ---- shared ----

// baseEnv is a minimal environment: no proxy, no real keys, temporary HOME.
func baseEnv(home string) []string {
	env := []string{
		"HOME=" + home,
		"PATH=" + os.Getenv("PATH"),
		"TMPDIR=" + os.TempDir(),
		"LANG=C.UTF-8",
		"TERM=dumb",
		"NO_COLOR=1",
		"XDG_CONFIG_HOME=" + filepath.Join(home, ".config"),
		"XDG_CACHE_HOME=" + filepath.Join(home, ".cache"),
		"XDG_DATA_HOME=" + filepath.Join(home, ".local", "share"),
		"NO_PROXY=127.0.0.1,localhost",
	}
	if u := os.Getenv("USER"); u != "" {
		env = append(env, "USER="+u)
	}
	return env
}

func runClient(t *testing.T, bin string, args, env []string, dir string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), clientTimeout())
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = env
	cmd.Dir = dir
	cmd.Stdin = nil
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	t.Logf("%s %q: %v in %s\nstdout:\n%s\nstderr (tail):\n%s", filepath.Base(bin), args, err,
		time.Since(start).Round(time.Millisecond), stdout.String(), tail(stderr.String(), 3000))
	if ctx.Err() != nil {
		t.Fatalf("%s timed out after %s", filepath.Base(bin), clientTimeout())
	}
	if err != nil {
		t.Fatalf("%s failed: %v", filepath.Base(bin), err)
	}
	return stdout.String()
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}

// modelRequests drops probes (HEAD /, GET /v1/models).
func modelRequests(rs []recorded) []recorded {
	var out []recorded
	for _, r := range rs {
		if r.Protocol != "other" {
			out = append(out, r)
		}
	}
	return out
}

func assertSeen(t *testing.T, reqs []recorded, tg target, min int) {
	t.Helper()
	if len(reqs) < min {
		t.Fatalf("fake upstream saw %d model requests, want >= %d", len(reqs), min)
	}
	for _, r := range reqs {
		if r.Protocol != tg.wantProtocol {
			t.Errorf("upstream saw %s %s (%s), want the %s protocol", r.Method, r.Path, r.Protocol, tg.wantProtocol)
		}
		if r.Answer == "error" {
			t.Errorf("upstream rejected the key %q on %s", r.Auth, r.Path)
		}
		if tg.name != "direct" && r.Model != "mock" {
			t.Errorf("upstream got model %q, want the deployment's %q", r.Model, "mock")
		}
	}
}

func assertToolTurn(t *testing.T, reqs []recorded, tg target, out string) {
	t.Helper()
	assertSeen(t, reqs, tg, 2)
	asked := slices.IndexFunc(reqs, func(r recorded) bool { return r.Answer == "tool" })
	if asked < 0 {
		t.Fatalf("the fake upstream never asked for the tool (answers: %v)", answers(reqs))
	}
	got := slices.IndexFunc(reqs[asked+1:], func(r recorded) bool { return bytes.Contains(r.Body, []byte(toolMarker)) })
	if got < 0 {
		t.Fatalf("no request after the tool call carries the command output %s (answers: %v)", toolMarker, answers(reqs))
	}
	if !strings.Contains(out, toolDoneText) {
		t.Fatalf("stdout lacks the final answer %q:\n%s", toolDoneText, out)
	}
}

// assertParallelTurn: the upstream asked for two shell calls at once (a
// Chat upstream streamed them interleaved), the client ran both (a later
// request carries both markers) and printed the final answer.
func assertParallelTurn(t *testing.T, reqs []recorded, tg target, out string) {
	t.Helper()
	assertSeen(t, reqs, tg, 2)
	asked := slices.IndexFunc(reqs, func(r recorded) bool { return r.Answer == "tools" })
	if asked < 0 {
		t.Fatalf("the fake upstream never asked for the two tools (answers: %v)", answers(reqs))
	}
	got := slices.IndexFunc(reqs[asked+1:], func(r recorded) bool {
		return bytes.Contains(r.Body, []byte(parallelMarkerA)) && bytes.Contains(r.Body, []byte(parallelMarkerB))
	})
	if got < 0 {
		var last []byte
		if asked+1 < len(reqs) {
			last = reqs[len(reqs)-1].Body
		}
		t.Fatalf("no request after the two tool calls carries both outputs %s and %s (answers: %v; last body %.2000s)",
			parallelMarkerA, parallelMarkerB, answers(reqs), last)
	}
	if !strings.Contains(out, parallelDoneText) {
		t.Fatalf("stdout lacks the final answer %q:\n%s", parallelDoneText, out)
	}
}

func answers(rs []recorded) []string {
	var s []string
	for _, r := range rs {
		s = append(s, r.Path+"="+r.Answer)
	}
	return s
}

// ---- the gateway ----

var (
	buildOnce sync.Once
	builtBin  string
	buildErr  error
)

func flowgateBinary(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("FLOWGATE_BIN"); p != "" {
		return p
	}
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "flowgate-e2e-bin-")
		if err != nil {
			buildErr = err
			return
		}
		_, file, _, _ := runtime.Caller(0)
		root := filepath.Dir(filepath.Dir(file))
		builtBin = filepath.Join(dir, "flowgate")
		cmd := exec.Command("go", "build", "-o", builtBin, "./cmd/flowgate")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build ./cmd/flowgate: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return builtBin
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// writeGatewayConfig lays out <root>/config/flowgate.yaml (config_version 2)
// with the two aliases pointing at the fake upstream, keys in 0600 files.
func writeGatewayConfig(t *testing.T, root string, port int, up *fakeUpstream) string {
	t.Helper()
	cfgDir := filepath.Join(root, "config")
	secrets := filepath.Join(root, ".router", "secrets")
	for _, d := range []string{cfgDir, secrets} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	for name, val := range map[string]string{"gateway_key": gatewayToken, "upstream_mock_key": upstreamKey} {
		if err := os.WriteFile(filepath.Join(secrets, name), []byte(val+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cfg := fmt.Sprintf(`# generated by the FlowGate real-client e2e test
config_version: 2
paths:
  runtime_dir: ../.router/runtime
  active_config: ../.router/runtime/gateway.active.yaml
  state_file: ../.router/runtime/state.json
  log_file: ../.router/runtime/events.log
services:
  gateway:
    engine: builtin
    host: 127.0.0.1
    port: %d
    readiness_path: /health/readiness
credentials:
  upstream:
    gateway_key:
      file: ../.router/secrets/gateway_key
    mock_upstream:
      file: ../.router/secrets/upstream_mock_key
litellm_base:
  model_list:
    - model_name: %s
      litellm_params:
        model: openai/mock
        api_base: %s/v1
        api_key_ref: mock_upstream
    - model_name: %s
      litellm_params:
        model: anthropic/mock
        api_base: %s
        api_key_ref: mock_upstream
  router_settings:
    routing_strategy: simple-shuffle
  litellm_settings:
    num_retries: 0
    request_timeout: 120
  general_settings:
    master_key_ref: gateway_key
profiles:
  e2e: {}
default_profile: e2e
secret_files: []
integration:
  default_model: %s
  fast_model: %s
`, port, aliasChat, up.URL, aliasAnthropic, up.URL, aliasChat, aliasChat)
	path := filepath.Join(cfgDir, "flowgate.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// startGateway runs `flowgate gateway serve --config <generated>` and waits
// (polling, with a deadline) until it answers HTTP. Returns the gateway root.
func startGateway(t *testing.T, up *fakeUpstream) string {
	t.Helper()
	bin := flowgateBinary(t)
	root := t.TempDir()
	port := freePort(t)
	cfg := writeGatewayConfig(t, root, port, up)
	logPath := filepath.Join(root, "gateway.log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "gateway", "serve", "--config", cfg)
	cmd.Dir = root
	cmd.Env = append(baseEnv(root), "FLOWGATE_LOG_LEVEL=debug")
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	exited := make(chan struct{})
	var waitErr error
	go func() { waitErr = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			cancel()
			<-exited
		}
		cancel()
		logf.Close()
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			t.Logf("gateway log:\n%s", tail(string(b), 8000))
		}
	})
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	deadline := time.Now().Add(30 * time.Second)
	client := &http.Client{Timeout: 2 * time.Second}
	for {
		select {
		case <-exited:
			b, _ := os.ReadFile(logPath)
			t.Fatalf("flowgate gateway serve exited before it was ready: %v\n%s", waitErr, tail(string(b), 4000))
		default:
		}
		if resp, err := client.Get(base + "/health/readiness"); err == nil {
			resp.Body.Close()
			if resp.StatusCode < 500 {
				return base
			}
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(logPath)
			t.Fatalf("gateway not ready on %s after 30s\n%s", base, tail(string(b), 4000))
		}
		time.Sleep(100 * time.Millisecond)
	}
}
