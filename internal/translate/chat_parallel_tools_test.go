package translate

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"
)

// splitArgs cuts s into n pieces of about equal length, never inside a
// UTF-8 sequence (the last piece takes the rest; pieces may be empty).
func splitArgs(s string, n int) []string {
	out := make([]string, n)
	for i := 0; i < n-1; i++ {
		k := min(len(s), (len(s)+n-1-i)/(n-i))
		for k < len(s) && !utf8.RuneStart(s[k]) {
			k++
		}
		out[i], s = s[:k], s[k:]
	}
	out[n-1] = s
	return out
}

// scriptedChatStream renders tool calls as a chat stream in the order a
// script gives. Tokens, separated by spaces; "+" joins tokens into one
// chunk (several tool_calls entries in one delta):
//
//	H<i>  call i's header: index, id, type and name, arguments ""
//	<i>   call i's next arguments piece (index only)
//	F<i>  call i's next piece carrying the header too
//	N<i>  call i's id and name alone, after some of its pieces
//	T:<s> text content s (no spaces)
//
// Each call's arguments are cut into as many pieces as the script has
// piece tokens for it. The stream ends with finish_reason tool_calls and
// [DONE].
func scriptedChatStream(calls []chatDeltaCall, script string) []byte {
	pieces := make([][]string, len(calls))
	count := make([]int, len(calls))
	for _, chunk := range strings.Fields(script) {
		for _, tok := range strings.Split(chunk, "+") {
			if i, ok := pieceToken(tok); ok {
				count[i]++
			}
		}
	}
	for i, c := range calls {
		pieces[i] = splitArgs(c.Function.Arguments, max(count[i], 1))
	}
	next := make([]int, len(calls))
	var chunks []string
	for _, chunk := range strings.Fields(script) {
		var entries []any
		delta := map[string]any{}
		for _, tok := range strings.Split(chunk, "+") {
			if text, ok := strings.CutPrefix(tok, "T:"); ok {
				delta["content"] = text
				continue
			}
			i := int(tok[len(tok)-1] - '0')
			c := calls[i]
			head := map[string]any{"index": i, "id": c.ID, "type": "function", "function": map[string]any{"name": c.Function.Name}}
			switch tok[0] {
			case 'H':
				head["function"].(map[string]any)["arguments"] = ""
				entries = append(entries, head)
			case 'N':
				entries = append(entries, head)
			case 'F':
				head["function"].(map[string]any)["arguments"] = pieces[i][next[i]]
				next[i]++
				entries = append(entries, head)
			default:
				entries = append(entries, map[string]any{"index": i, "function": map[string]any{"arguments": pieces[i][next[i]]}})
				next[i]++
			}
		}
		if len(entries) > 0 {
			delta["tool_calls"] = entries
		}
		chunks = append(chunks, string(mustJSON(map[string]any{"id": "c", "choices": []any{map[string]any{"index": 0, "delta": delta}}})))
	}
	return chatSSE(append(chunks, finishToolCalls)...)
}

func pieceToken(tok string) (int, bool) {
	switch {
	case len(tok) == 1 && tok[0] >= '0' && tok[0] <= '9':
		return int(tok[0] - '0'), true
	case len(tok) == 2 && tok[0] == 'F':
		return int(tok[1] - '0'), true
	}
	return 0, false
}

// bashCalls are parallel calls like the ones Claude Code and Codex get:
// each runs a command echoing its own marker.
func bashCalls(n int) []chatDeltaCall {
	calls := make([]chatDeltaCall, n)
	for i := range calls {
		args := fmt.Sprintf(`{"command":"echo MARKER_%d_é","description":"marker %d"}`, i, i)
		calls[i] = chatDeltaCall{ID: fmt.Sprintf("call_%d", i), Function: chatDeltaFunc{Name: fmt.Sprintf("Bash%d", i), Arguments: args}}
	}
	return calls
}

// parallelOrders are the ways Chat upstreams stream parallel calls.
var parallelOrders = []struct {
	name   string
	calls  int
	script string
}{
	{"headers first then alternating pieces", 2, "H0 H1 0 1 0 1 0 1"},
	{"call 0 whole then call 1", 2, "F0 0 0 F1 1 1"},
	{"call 0 whole then call 1 with separate headers", 2, "H0 0 0 0 H1 1 1 1"},
	{"pieces of call 1 before call 0's", 2, "H0 H1 1 1 1 0 0 0"},
	{"call 1 whole before call 0's pieces", 2, "F0 F1 1 1 0 0"},
	{"id and name after the first piece", 2, "0 1 N0 N1 0 1 0 1"},
	{"id and name of call 0 last", 2, "0 F1 0 1 0 1 N0"},
	{"both calls in every chunk", 2, "H0+H1 0+1 0+1 0+1"},
	{"three calls round robin", 3, "H0 H1 H2 0 1 2 0 1 2 0 1 2"},
	{"three calls, the last first", 3, "H0 H1 H2 2 2 1 0 1 0 2 1 0"},
	{"text, then interleaved calls", 2, "T:Running H0 H1 0 1 0 1"},
}

// TestChatToAnthropicStreamDeliversInterleavedParallelCallsWhole: however
// a Chat upstream interleaves parallel calls, the Messages client gets one
// complete tool_use block after another (never two open at once), each with
// its own id, name and the exact arguments.
func TestChatToAnthropicStreamDeliversInterleavedParallelCallsWhole(t *testing.T) {
	for _, o := range parallelOrders {
		t.Run(o.name, func(t *testing.T) {
			calls := bashCalls(o.calls)
			m := checkAnthropicStream(t, runStream(t, NewChatToAnthropicStream("a", StreamOptions{}), scriptedChatStream(calls, o.script), nil))
			blocks := m.Blocks
			if strings.HasPrefix(o.script, "T:") {
				if len(blocks) == 0 || blocks[0].Type != "text" || blocks[0].Text != "Running" {
					t.Fatal(dump(m))
				}
				blocks = blocks[1:]
			}
			if !m.Stopped || m.ErrorType != "" || m.StopReason != "tool_use" || len(blocks) != len(calls) {
				t.Fatal(dump(m))
			}
			for i, b := range blocks {
				c := calls[i]
				if b.Type != "tool_use" || b.ID != c.ID || b.Name != c.Function.Name || b.Input != c.Function.Arguments {
					t.Fatalf("block %d = %+v, want %s %s %s", i, b, c.ID, c.Function.Name, c.Function.Arguments)
				}
			}
		})
	}
}

// TestChatToResponsesStreamDeliversInterleavedParallelCallsWhole: the same
// orders reach a Responses client as one function_call item per call, each
// with its own output_index, its arguments deltas and done events.
func TestChatToResponsesStreamDeliversInterleavedParallelCallsWhole(t *testing.T) {
	for _, o := range parallelOrders {
		t.Run(o.name, func(t *testing.T) {
			calls := bashCalls(o.calls)
			g := checkResponsesStream(t, runStream(t, NewChatToResponsesStream("a", StreamOptions{}), scriptedChatStream(calls, o.script), nil))
			items := g.Items
			if strings.HasPrefix(o.script, "T:") {
				if len(items) == 0 || items[0].Type != "message" || items[0].Text != "Running" {
					t.Fatal(dump(g))
				}
				items = items[1:]
			}
			if g.FinalType != "response.completed" || len(items) != len(calls) {
				t.Fatal(dump(g))
			}
			for i, it := range items {
				c := calls[i]
				if it.Type != "function_call" || it.CallID != c.ID || it.Name != c.Function.Name || it.Args != c.Function.Arguments {
					t.Fatalf("item %d = %+v, want %s %s %s", i, it, c.ID, c.Function.Name, c.Function.Arguments)
				}
			}
			out := g.Final["output"].([]any)
			for i, o := range out[len(out)-len(calls):] {
				if a := o.(map[string]any)["arguments"]; a != calls[i].Function.Arguments {
					t.Fatalf("completed output[%d] arguments %v", i, a)
				}
			}
		})
	}
}

// TestChatStreamsFailWhenAnInterleavedCallArrivesIncomplete: a call whose
// pieces did not all arrive, or a piece for a call that had already
// completed, ends the Messages and Responses streams with an error event;
// the broken call is never completed, with {} or anything else.
func TestChatStreamsFailWhenAnInterleavedCallArrivesIncomplete(t *testing.T) {
	h0, h1 := `,"id":"call_0","type":"function"`, `,"id":"call_1","type":"function"`
	lost := chatSSE(toolChunk(0, h0, "Bash0", ""), toolChunk(1, h1, "Bash1", ""), toolChunk(0, "", "", `{"command":`),
		toolChunk(1, "", "", `{"command":`), toolChunk(0, "", "", `"echo A"}`), finishToolCalls) // call 1's `"echo B"}` lost
	late := chatSSE(toolChunk(0, h0, "Bash0", `{"a":1}`), toolChunk(1, h1, "Bash1", `{"b":`),
		toolChunk(0, "", "", `,"c":2}`), toolChunk(1, "", "", `2}`), finishToolCalls)
	for name, in := range map[string][]byte{"a lost piece of the held call": lost, "a piece after the call completed": late} {
		t.Run(name, func(t *testing.T) {
			m := checkAnthropicStream(t, runStream(t, NewChatToAnthropicStream("a", StreamOptions{}), in, nil))
			if m.ErrorType == "" || m.Stopped || !strings.Contains(m.ErrorMessage, "not valid JSON") {
				t.Fatal(dump(m))
			}
			stopped := 0
			for _, e := range m.EventsInOrder {
				if e == "content_block_stop" {
					stopped++
				}
			}
			if stopped > 1 {
				t.Fatalf("%d tool blocks completed: %s", stopped, dump(m))
			}
			g := checkResponsesStream(t, runStream(t, NewChatToResponsesStream("a", StreamOptions{}), in, nil))
			if g.FinalType != "response.failed" || g.OutputLen > 1 {
				t.Fatal(dump(g))
			}
			if msg := g.Final["error"].(map[string]any)["message"]; !strings.Contains(fmt.Sprint(msg), "not valid JSON") {
				t.Fatalf("error %v", msg)
			}
		})
	}
}

// TestChatToResponsesStreamArgumentsAreWhatTheUpstreamSent: a call without
// arguments gets "{}", JSON that is not an object is passed on as it came,
// and arguments that are not JSON fail the stream instead of reaching the
// client.
func TestChatToResponsesStreamArgumentsAreWhatTheUpstreamSent(t *testing.T) {
	for _, tc := range []struct {
		name  string
		frags []string
		want  string // "" = response.failed
	}{
		{"none", []string{""}, "{}"},
		{"whitespace", []string{" ", "\n"}, "{}"},
		{"object", []string{` {"a"`, `:1}`}, ` {"a":1}`},
		{"array", []string{`[1,`, `2]`}, `[1,2]`},
		{"truncated object", []string{`{"a"`}, ""},
		{"text", []string{"oo", "ps"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var chunks []string
			for i, f := range tc.frags {
				h, n := "", ""
				if i == 0 {
					h, n = `,"id":"call_1","type":"function"`, "read"
				}
				chunks = append(chunks, toolChunk(0, h, n, f))
			}
			g := checkResponsesStream(t, runStream(t, NewChatToResponsesStream("a", StreamOptions{}), chatSSE(append(chunks, finishToolCalls)...), nil))
			if tc.want == "" {
				if g.FinalType != "response.failed" || g.OutputLen != 0 {
					t.Fatal(dump(g))
				}
				return
			}
			if g.FinalType != "response.completed" || len(g.Items) != 1 || g.Items[0].Args != tc.want {
				t.Fatal(dump(g))
			}
		})
	}
}

// TestNonStreamingParallelToolCallsMapBothWays: an answer with several
// tool calls reaches Messages and Responses clients of a Chat upstream as
// that many calls, in order, with their arguments; and answers from
// Messages and Responses upstreams reach Chat clients as that many
// tool_calls.
func TestNonStreamingParallelToolCallsMapBothWays(t *testing.T) {
	calls := bashCalls(3)
	body := mustJSON(map[string]any{"id": "chatcmpl-1", "choices": []any{map[string]any{"index": 0, "finish_reason": "tool_calls",
		"message": map[string]any{"role": "assistant", "content": nil, "tool_calls": calls}}}})
	t.Run("chat to messages", func(t *testing.T) {
		out, err := ChatResponseToAnthropic(body, "a")
		if err != nil {
			t.Fatal(err)
		}
		var r anthResponse
		if err := json.Unmarshal(out, &r); err != nil || len(r.Content) != len(calls) || *r.StopReason != "tool_use" {
			t.Fatalf("%v %s", err, out)
		}
		for i, b := range r.Content {
			if b.Type != "tool_use" || b.ID != calls[i].ID || b.Name != calls[i].Function.Name || string(b.Input) != calls[i].Function.Arguments {
				t.Fatalf("block %d: %s", i, out)
			}
		}
	})
	t.Run("chat to responses", func(t *testing.T) {
		out, err := ChatResponseToResponses(body, "a", nil)
		if err != nil {
			t.Fatal(err)
		}
		var r respResponse
		if err := json.Unmarshal(out, &r); err != nil || len(r.Output) != len(calls) {
			t.Fatalf("%v %s", err, out)
		}
		for i, o := range r.Output {
			if o.Type != "function_call" || o.CallID != calls[i].ID || o.Name != calls[i].Function.Name || o.Arguments != calls[i].Function.Arguments {
				t.Fatalf("item %d: %s", i, out)
			}
		}
	})
	checkChat := func(t *testing.T, out []byte) {
		t.Helper()
		var c chatOut
		if err := json.Unmarshal(out, &c); err != nil || len(c.Choices) != 1 || len(c.Choices[0].Message.ToolCalls) != len(calls) {
			t.Fatalf("%v %s", err, out)
		}
		for i, tc := range c.Choices[0].Message.ToolCalls {
			if tc.ID != calls[i].ID || tc.Function.Name != calls[i].Function.Name || tc.Function.Arguments != calls[i].Function.Arguments {
				t.Fatalf("call %d: %s", i, out)
			}
		}
	}
	t.Run("messages to chat", func(t *testing.T) {
		var content []any
		for _, c := range calls {
			content = append(content, map[string]any{"type": "tool_use", "id": c.ID, "name": c.Function.Name, "input": json.RawMessage(c.Function.Arguments)})
		}
		out, err := AnthropicResponseToChat(mustJSON(map[string]any{"id": "msg_1", "type": "message", "role": "assistant", "content": content,
			"stop_reason": "tool_use", "usage": map[string]any{"input_tokens": 1}}), "a")
		if err != nil {
			t.Fatal(err)
		}
		checkChat(t, out)
	})
	t.Run("responses to chat", func(t *testing.T) {
		var output []any
		for i, c := range calls {
			output = append(output, map[string]any{"type": "function_call", "id": fmt.Sprintf("fc_%d", i), "call_id": c.ID, "name": c.Function.Name, "arguments": c.Function.Arguments})
		}
		out, err := ResponsesResponseToChat(mustJSON(map[string]any{"id": "resp_1", "object": "response", "status": "completed", "output": output}), "a")
		if err != nil {
			t.Fatal(err)
		}
		checkChat(t, out)
	})
}
