package e2e

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/flowgate/flowgate/internal/translate"
)

// sessionDriver runs the two turns of a thinking session with one client:
// turn 1 in a new session, turn 2 continuing it (same HOME and work folder).
type sessionDriver struct {
	protocol string // the client's own protocol
	start    func(*testing.T, target) *clientSession
	turn1    func(*testing.T, *clientSession) string
	turn2    func(*testing.T, *clientSession) string
}

// claudeDriver: thinking on through MAX_THINKING_TOKENS (Claude Code
// 2.1.197 then sends thinking {"type":"adaptive"}; 0 turns it off), turn 2
// with `claude -p --continue`.
func claudeDriver(bin string) sessionDriver {
	return sessionDriver{
		protocol: "anthropic",
		start: func(t *testing.T, tg target) *clientSession {
			return newClaudeSession(t, bin, tg, "MAX_THINKING_TOKENS=4096")
		},
		turn1: func(t *testing.T, s *clientSession) string {
			return s.run(t, "-p", thinkPrompt1, "--allowedTools", "Bash")
		},
		turn2: func(t *testing.T, s *clientSession) string {
			return s.run(t, "-p", "--continue", thinkPrompt2, "--allowedTools", "Bash")
		},
	}
}

// codexDriver: a reasoning effort set (Codex always asks for
// reasoning.encrypted_content), turn 2 with `codex exec resume --last`.
func codexDriver(bin string) sessionDriver {
	effort := []string{"-c", `model_reasoning_effort="medium"`}
	return sessionDriver{
		protocol: "responses",
		start:    func(t *testing.T, tg target) *clientSession { return newCodexSession(t, bin, tg) },
		turn1: func(t *testing.T, s *clientSession) string {
			return s.run(t, s.execArgs(append(effort, thinkPrompt1)...)...)
		},
		turn2: func(t *testing.T, s *clientSession) string {
			return s.run(t, s.execArgs(append(effort, "resume", "--last", thinkPrompt2)...)...)
		},
	}
}

// thinkingSession: turn 1 gets reasoning plus a shell call, then reasoning
// plus text; turn 2 continues the session. While the session stays on one
// provider its reasoning state (thinking signature, encrypted_content)
// comes back to that provider unchanged, which the fake upstream verifies
// like the real ones (it answers 400 to state it did not issue).
func thinkingSession(t *testing.T, tg target, d sessionDriver) {
	s := d.start(t, tg)
	before := len(tg.up.requests())
	out := d.turn1(t, s)
	reqs := modelRequests(tg.up.requests()[before:])
	assertThinkingTurn1(t, reqs, tg, out)
	if tg.wantProtocol == d.protocol && !asksReasoning(reqs[0]) {
		t.Errorf("the %s request reached the %s upstream without asking for reasoning (body %.300s)", d.protocol, tg.wantProtocol, reqs[0].Body)
	}
	after := slices.IndexFunc(reqs, func(r recorded) bool { return bytes.Contains(r.Body, []byte(thinkMarker)) })
	assertOwnReasoningBack(t, tg.up, reqs[after], tg.wantProtocol, "turn 1 after the tool call")

	before = len(tg.up.requests())
	out = d.turn2(t, s)
	reqs = modelRequests(tg.up.requests()[before:])
	assertSeen(t, reqs, tg, 1)
	r := assertThinkingTurn2(t, reqs, out)
	assertOwnReasoningBack(t, tg.up, r, tg.wantProtocol, "turn 2")
}

// thinkingFallback: the same session on an alias whose first deployment
// answers turn 1 and fails turn 2 (500); the alias falls back to a
// deployment of another provider that rejects reasoning state it did not
// issue. Turn 2 must still succeed through the client, and the fallback
// must not have received the first provider's reasoning state.
func thinkingFallback(t *testing.T, tg target, d sessionDriver) {
	c := tg.cross
	onFirst := tg
	onFirst.model, onFirst.up = c.model, c.first
	onFallback := onFirst
	onFallback.up, onFallback.wantProtocol = c.fallback, c.fallbackProtocol

	s := d.start(t, onFirst)
	f0, b0 := len(c.first.requests()), len(c.fallback.requests())
	out := d.turn1(t, s)
	assertThinkingTurn1(t, modelRequests(c.first.requests()[f0:]), onFirst, out)
	if n := len(modelRequests(c.fallback.requests()[b0:])); n != 0 {
		t.Fatalf("turn 1 reached the fallback upstream %d times; the first deployment is healthy", n)
	}

	f0, b0 = len(c.first.requests()), len(c.fallback.requests())
	out = d.turn2(t, s)
	first := modelRequests(c.first.requests()[f0:])
	if !slices.ContainsFunc(first, func(r recorded) bool { return r.Answer == "failed" }) {
		t.Fatalf("the first deployment never got (and failed) turn 2 (answers: %v)", answers(first))
	}
	fb := modelRequests(c.fallback.requests()[b0:])
	for _, r := range fb {
		if r.Answer == "rejected" {
			t.Errorf("the fallback upstream got reasoning state it did not issue and answered 400: %s", r.Note)
		}
		for _, foreign := range []string{c.first.sigPrefix(), c.first.encPrefix(), translate.UnsignedThinkingSignature} {
			if bytes.Contains(r.Body, []byte(foreign)) {
				t.Errorf("the fallback upstream received the first provider's reasoning state %q (body %.1500s)", foreign, r.Body)
			}
		}
	}
	assertSeen(t, fb, onFallback, 1)
	assertThinkingTurn2(t, fb, out)
}

func assertThinkingTurn1(t *testing.T, reqs []recorded, tg target, out string) {
	t.Helper()
	assertSeen(t, reqs, tg, 2)
	asked := slices.IndexFunc(reqs, func(r recorded) bool { return r.Answer == "tool" })
	if asked < 0 {
		t.Fatalf("the fake upstream never asked for the tool (answers: %v)", answers(reqs))
	}
	if !slices.ContainsFunc(reqs[asked+1:], func(r recorded) bool { return bytes.Contains(r.Body, []byte(thinkMarker)) }) {
		t.Fatalf("no request after the tool call carries the command output %s (answers: %v)", thinkMarker, answers(reqs))
	}
	if !strings.Contains(out, thinkOneText) {
		t.Fatalf("turn 1: stdout lacks %q:\n%s", thinkOneText, out)
	}
}

// assertThinkingTurn2 checks that turn 2 reached the upstream with turn 1
// in its history (the session was continued) and that the client printed
// the answer; it returns that request.
func assertThinkingTurn2(t *testing.T, reqs []recorded, out string) recorded {
	t.Helper()
	i := slices.IndexFunc(reqs, func(r recorded) bool {
		return r.Answer == "text" && bytes.Contains(r.Body, []byte(thinkTurn2Tag))
	})
	if i < 0 {
		t.Fatalf("no turn-2 request was answered (answers: %v)", answers(reqs))
	}
	if !bytes.Contains(reqs[i].Body, []byte(thinkMarker)) {
		t.Errorf("the turn-2 request lacks turn 1's tool output %s: the session was not continued (body %.1500s)", thinkMarker, reqs[i].Body)
	}
	if !strings.Contains(out, thinkTwoText) {
		t.Fatalf("turn 2: stdout lacks %q:\n%s", thinkTwoText, out)
	}
	return reqs[i]
}

// assertOwnReasoningBack: a later request to the same provider carries the
// reasoning state that provider issued (Anthropic: the thinking block's
// signature; Responses: the reasoning item's encrypted_content). A Chat
// upstream issues none.
func assertOwnReasoningBack(t *testing.T, up *fakeUpstream, r recorded, protocol, when string) {
	t.Helper()
	var mine string
	switch protocol {
	case "anthropic":
		mine = up.sigPrefix()
	case "responses":
		mine = up.encPrefix()
	default:
		return
	}
	if !bytes.Contains(r.Body, []byte(mine)) {
		t.Errorf("%s: the request lacks the reasoning state the %s upstream issued (%s...): continuity lost (body %.1500s)", when, protocol, mine, r.Body)
	}
}

// asksReasoning: the request enables thinking (Anthropic) or reasoning
// (Responses).
func asksReasoning(r recorded) bool {
	var req struct {
		Thinking *struct {
			Type string `json:"type"`
		} `json:"thinking"`
		Reasoning json.RawMessage `json:"reasoning"`
	}
	_ = json.Unmarshal(r.Body, &req)
	switch r.Protocol {
	case "anthropic":
		return req.Thinking != nil && req.Thinking.Type != "" && req.Thinking.Type != "disabled"
	case "responses":
		return len(req.Reasoning) > 0 && string(req.Reasoning) != "null"
	}
	return false
}
