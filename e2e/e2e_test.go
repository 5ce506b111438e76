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
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
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

	// Sessions that move to another provider: the first deployment answers
	// turn 1 and fails turn 2 (500), the alias falls back to a deployment of
	// another provider that rejects reasoning state it did not issue.
	aliasChatFirst       = "router-chat-first"         // -> openai/mock at the "first" upstream
	aliasAnthFallback    = "router-anthropic-fallback" // -> anthropic/mock at the "fallback" upstream
	aliasAnthFirst       = "router-anthropic-first"    // -> anthropic/mock at the "first" upstream
	aliasRespFallback    = "router-responses-fallback" // -> openai_responses/mock at the "fallback" upstream
	firstUpstreamName    = "first"
	fallbackUpstreamName = "fallback"
)

// allAliases are the model names the generated gateway config serves.
var allAliases = []string{aliasChat, aliasAnthropic, aliasChatFirst, aliasAnthFallback, aliasAnthFirst, aliasRespFallback}

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
	// cross is the moving-session setup of a gateway target (nil: direct).
	cross *crossTarget
}

// crossTarget: model's first deployment (at first, same upstream kind as
// the target) fails turn 2 of a session; its fallback (at fallback, speaking
// fallbackProtocol) must get that turn without the first one's reasoning
// state.
type crossTarget struct {
	model            string
	first, fallback  *fakeUpstream
	fallbackProtocol string
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
			ups := gatewayUpstreams{
				main:     startFakeUpstream(t, upstreamKey),
				first:    startNamedUpstream(t, firstUpstreamName, thinkTurn2Tag, upstreamKey),
				fallback: startNamedUpstream(t, fallbackUpstreamName, "", upstreamKey),
			}
			gw := startGateway(t, ups)
			up := ups.main
			for _, tg := range []target{
				{name: "chat-upstream", url: gw, token: gatewayToken, model: aliasChat, wantProtocol: "chat", up: up,
					cross: &crossTarget{model: aliasChatFirst, first: ups.first, fallback: ups.fallback, fallbackProtocol: "anthropic"}},
				{name: "anthropic-upstream", url: gw, token: gatewayToken, model: aliasAnthropic, wantProtocol: "anthropic", up: up,
					cross: &crossTarget{model: aliasAnthFirst, first: ups.first, fallback: ups.fallback, fallbackProtocol: "responses"}},
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
			t.Run("image", func(t *testing.T) { claudeImageTurn(t, bin, tg) })
			t.Run("thinking-session", func(t *testing.T) { thinkingSession(t, tg, claudeDriver(bin)) })
			if tg.cross != nil {
				t.Run("thinking-fallback", func(t *testing.T) { thinkingFallback(t, tg, claudeDriver(bin)) })
			}
		}
	})
}

func runClaude(t *testing.T, bin string, tg target, prompt string, extra ...string) string {
	t.Helper()
	return newClaudeSession(t, bin, tg).run(t, append([]string{"-p", prompt}, extra...)...)
}

// clientSession is one client configured for a target, with its own HOME
// and work folder kept across runs, so a later run can continue the
// conversation of an earlier one (claude --continue, codex exec resume).
type clientSession struct {
	bin  string
	env  []string
	work string
}

func (s *clientSession) run(t *testing.T, args ...string) string {
	t.Helper()
	return runClient(t, s.bin, args, s.env, s.work)
}

// newClaudeSession configures Claude Code for tg through the integration
// output only; extraEnv is added to its environment.
func newClaudeSession(t *testing.T, bin string, tg target, extraEnv ...string) *clientSession {
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
	env = append(env, extraEnv...)
	// Configure the client only with the integration output.
	t.Setenv("HOME", home) // clients.DefaultClaudePath reads the home folder
	t.Setenv("CLAUDE_CONFIG_DIR", "")
	path, err := clients.DefaultClaudePath()
	if err != nil {
		t.Fatal(err)
	}
	spec := clients.Spec{GatewayURL: tg.url, DefaultModel: tg.model, Token: tg.token, Aliases: allAliases}
	if w := clients.CheckModels(spec); len(w) > 0 {
		t.Fatalf("model check: %v", w)
	}
	res, err := clients.ApplyClaude(path, spec, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("claude settings %s:\n%s", res.Path, res.Content)
	return &clientSession{bin: bin, env: env, work: t.TempDir()}
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
			t.Run("image", func(t *testing.T) { codexImageTurn(t, bin, tg) })
			t.Run("thinking-session", func(t *testing.T) { thinkingSession(t, tg, codexDriver(bin)) })
			if tg.cross != nil {
				t.Run("thinking-fallback", func(t *testing.T) { thinkingFallback(t, tg, codexDriver(bin)) })
			}
		}
	})
}

func runCodex(t *testing.T, bin string, tg target, prompt string) string {
	t.Helper()
	s := newCodexSession(t, bin, tg)
	return s.run(t, s.execArgs(prompt)...)
}

// newCodexSession configures Codex for tg through the integration output
// only (ApplyCodex, checked equal to PrintCodex).
func newCodexSession(t *testing.T, bin string, tg target) *clientSession {
	t.Helper()
	home := t.TempDir()
	codexHome := filepath.Join(home, ".codex")
	env := baseEnv(home)
	spec := clients.Spec{GatewayURL: tg.url, DefaultModel: tg.model, Token: tg.token, Aliases: allAliases}
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
	return &clientSession{bin: bin, env: env, work: t.TempDir()}
}

// execArgs is `codex exec` with the harness's flags, then rest (options
// and the prompt, or a subcommand such as resume).
func (s *clientSession) execArgs(rest ...string) []string {
	args := []string{"exec", "--skip-git-repo-check", "--color", "never"}
	if m := os.Getenv("FLOWGATE_E2E_CODEX_SANDBOX"); m != "" {
		args = append(args, "--sandbox", m)
	}
	return append(args, rest...)
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
// Chat upstream streamed them interleaved), the client ran both (the very
// next request carries two tool results holding both markers) and printed
// the final answer.
func assertParallelTurn(t *testing.T, reqs []recorded, tg target, out string) {
	t.Helper()
	assertSeen(t, reqs, tg, 2)
	asked := slices.IndexFunc(reqs, func(r recorded) bool { return r.Answer == "tools" })
	if asked < 0 {
		t.Fatalf("the fake upstream never asked for the two tools (answers: %v)", answers(reqs))
	}
	if asked+1 >= len(reqs) {
		t.Fatalf("no request followed the two tool calls (answers: %v)", answers(reqs))
	}
	next := reqs[asked+1].Body
	if !bytes.Contains(next, []byte(parallelMarkerA)) || !bytes.Contains(next, []byte(parallelMarkerB)) {
		t.Fatalf("the request after the two tool calls lacks the outputs %s and %s: not both ran (answers: %v; body %.2000s)",
			parallelMarkerA, parallelMarkerB, answers(reqs), next)
	}
	if n := toolResults(tg.wantProtocol, next); n != 2 {
		t.Fatalf("the request after the two tool calls carries %d tool results, want 2 (body %.2000s)", n, next)
	}
	if !strings.Contains(out, parallelDoneText) {
		t.Fatalf("stdout lacks the final answer %q:\n%s", parallelDoneText, out)
	}
}

// toolResults counts the tool results in a request of the protocol:
// Anthropic tool_result blocks, Chat tool messages, Responses
// function_call_output items.
func toolResults(protocol string, body []byte) int {
	var req struct {
		Messages []struct {
			Role    string          `json:"role"`
			Content json.RawMessage `json:"content"`
		} `json:"messages"`
		Input json.RawMessage `json:"input"`
	}
	_ = json.Unmarshal(body, &req)
	n := 0
	switch protocol {
	case "anthropic":
		for _, m := range req.Messages {
			for _, b := range parts(m.Content) {
				if b.Type == "tool_result" {
					n++
				}
			}
		}
	case "chat":
		for _, m := range req.Messages {
			if m.Role == "tool" {
				n++
			}
		}
	case "responses":
		for _, it := range parts(req.Input) {
			if it.Type == "function_call_output" || it.Type == "custom_tool_call_output" {
				n++
			}
		}
	}
	return n
}

func answers(rs []recorded) []string {
	var s []string
	for _, r := range rs {
		s = append(s, r.Path+"="+r.Answer)
	}
	return s
}
