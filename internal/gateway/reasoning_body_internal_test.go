package gateway

import (
	"strings"
	"testing"
)

// Bodies are written with odd spacing on purpose: what is kept must come
// out byte for byte as the client sent it.
func TestMessagesReasoningRemovesWhatTheTargetCannotVerify(t *testing.T) {
	const (
		user     = `{"role":"user","content":"hi"}`
		signed   = `{"type":"thinking","thinking":"plan","signature":"EqA+sig=="}`
		redacted = `{"type":"redacted_thinking","data":"EmwKAhgB"}`
		unsigned = `{"type":"thinking","thinking":"from gpt","signature":"flowgate-unsigned-thinking"}`
		tool     = `{"type":"tool_use","id":"toolu_1","name":"Bash","input":{"command":"ls"}}`
		result   = `{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","content":"a.go"}]}`
		head     = `{"model":"claude", "max_tokens":1024,  "messages":[`
	)
	asst := func(blocks ...string) string {
		return `{"role":"assistant","content":[` + strings.Join(blocks, ",") + `]}`
	}
	body := func(tail string, msgs ...string) string { return head + strings.Join(msgs, ",") + `]` + tail + `}` }
	thinkingOn := `, "thinking":{"type":"adaptive"}, "context_management":{"edits":[{"type":"clear_thinking_20251015","keep":"all"}]}`
	for _, c := range []struct {
		name     string
		in       string
		foreign  bool
		want     string
		dropped  int
		disabled bool
	}{
		{"nothing to remove is not touched", body("", user, asst(signed, tool), result), false, "", 0, false},
		{"a foreign origin without thinking is not touched", body(thinkingOn, user, asst(`{"type":"text","text":"x"}`), user), true, "", 0, false},
		{"unsigned thinking is always removed; Anthropic's own stays",
			body("", user, asst(unsigned, `{"type":"text","text":"x"}`), user, asst(signed, tool), result), false,
			body("", user, asst(`{"type":"text","text":"x"}`), user, asst(signed, tool), result), 1, false},
		{"a foreign origin loses every thinking block; a turn of only thinking goes whole",
			body("", user, asst(redacted), user, asst(signed, `{"type":"text","text":"y"}`), user), true,
			body("", user, user, asst(`{"type":"text","text":"y"}`), user), 2, false},
		{"a tool turn left without thinking turns thinking off, with its clear_thinking edits",
			body(thinkingOn, user, asst(unsigned, tool), result), false,
			head + user + `,` + asst(tool) + `,` + result + `]}`, 1, true},
		{"other context_management edits stay",
			body(`, "thinking":{"type":"enabled","budget_tokens":2048}, "context_management":{"edits":[{"type":"clear_thinking_20251015"},{"type":"clear_tool_uses_20250919"}]}`,
				user, asst(signed, tool), result), true,
			head + user + `,` + asst(tool) + `,` + result + `], "context_management":{"edits":[{"type":"clear_tool_uses_20250919"}]}}`, 1, true},
		{"thinking that still starts the tool turn stays on",
			body(thinkingOn, user, asst(unsigned, `{"type":"text","text":"x"}`), user, asst(signed, tool), result), false,
			body(thinkingOn, user, asst(`{"type":"text","text":"x"}`), user, asst(signed, tool), result), 1, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			in := []byte(c.in)
			out, ch := messagesReasoning(in, c.foreign)
			if c.want == "" {
				if &out[0] != &in[0] || ch != (reasoningChange{}) {
					t.Fatalf("changed %+v: %s", ch, out)
				}
				return
			}
			if string(out) != c.want || ch.Dropped != c.dropped || ch.ThinkingDisabled != c.disabled {
				t.Fatalf("got %+v\n%s\nwant dropped=%d disabled=%v\n%s", ch, out, c.dropped, c.disabled, c.want)
			}
			if string(in) != c.in {
				t.Fatal("the client's body was modified in place")
			}
		})
	}
}

func TestResponsesReasoningRemovesItemsTheTargetCannotDecrypt(t *testing.T) {
	const (
		msg    = `{"type":"message","role":"user","content":"hi"}`
		own    = `{"type":"reasoning","id":"rs_1","summary":[],"encrypted_content":"gAAAAB-own"}`
		tagged = `{"type":"reasoning","id":"rs_2","summary":[{"type":"summary_text","text":"t"}],"encrypted_content":"flowgate-anthropic-signature:EqA"}`
		plain  = `{"type":"reasoning","id":"rs_3","summary":[{"type":"summary_text","text":"s"}]}`
		call   = `{"type":"function_call","call_id":"c1","name":"shell","arguments":"{}"}`
	)
	body := func(items ...string) string {
		return `{"model":"gpt-5", "store":false, "input":[` + strings.Join(items, ", ") + `], "include":["reasoning.encrypted_content"]}`
	}
	for _, c := range []struct {
		name    string
		in      string
		foreign bool
		want    string
	}{
		{"its own encrypted reasoning reaches the same provider untouched", body(msg, own, call), false, ""},
		{"no reasoning state, foreign origin: untouched", body(msg, plain, call), true, ""},
		{"Anthropic signatures never reach a Responses upstream", body(msg, tagged, call, own), false, body(msg, call, own)},
		{"a foreign origin loses every encrypted item", body(msg, own, call, tagged, plain), true, body(msg, call, plain)},
	} {
		t.Run(c.name, func(t *testing.T) {
			in := []byte(c.in)
			out, ch := responsesReasoning(in, c.foreign)
			if c.want == "" {
				if &out[0] != &in[0] || ch.Dropped != 0 {
					t.Fatalf("changed %+v: %s", ch, out)
				}
				return
			}
			if string(out) != c.want || ch.Dropped != strings.Count(c.in, "encrypted_content\":")-strings.Count(c.want, "encrypted_content\":") {
				t.Fatalf("got %+v\n%s\nwant\n%s", ch, out, c.want)
			}
		})
	}
}
