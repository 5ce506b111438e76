package translate

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand"
	"strings"
	"testing"
	"unicode/utf8"
)

func FuzzChatToAnthropicKeepsToolTurns(f *testing.F) {
	f.Add(fixture(f, "chat_codex094_tool_turn.json"))
	f.Add([]byte(`{"messages":[{"role":"assistant","tool_calls":[{"id":"a","function":{"name":"n","arguments":"{\"x\":[1,2]}"}},{"id":"b","function":{"name":"m","arguments":"oops"}}]},{"role":"tool","tool_call_id":"b","content":"1"},{"role":"user","content":"u"},{"role":"tool","tool_call_id":"a","content":[{"type":"text","text":"2"}]},{"role":"tool","tool_call_id":"a","content":"3"}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		res, err := ChatToAnthropic(body, Options{})
		if err != nil {
			return
		}
		var in chatRequest
		if json.Unmarshal(body, &in) != nil {
			t.Fatal("translated a body the checker cannot decode")
		}
		var calls []chatDeltaCall
		results := map[string]bool{}
		for _, m := range in.Messages {
			if m.Role == "assistant" {
				calls = append(calls, m.ToolCalls...)
			}
			if (m.Role == "tool" || m.Role == "function") && m.ToolCallID != "" {
				results[m.ToolCallID] = true
			}
		}
		var out struct {
			Messages []struct {
				Role    string      `json:"role"`
				Content []anthBlock `json:"content"`
			} `json:"messages"`
		}
		if err := json.Unmarshal(res.Body, &out); err != nil {
			t.Fatalf("invalid anthropic body: %v\n%s", err, res.Body)
		}
		var uses []anthBlock
		gotResults := map[string]bool{}
		for i, m := range out.Messages {
			if len(m.Content) == 0 || i > 0 && out.Messages[i-1].Role == m.Role {
				t.Fatalf("empty or non-alternating turn %d", i)
			}
			seen := map[string]bool{}
			lead := true
			for _, b := range m.Content {
				switch b.Type {
				case "tool_use":
					uses = append(uses, b)
					if !validObject(b.Input) {
						t.Fatalf("tool_use input not an object: %s", b.Input)
					}
				case "tool_result":
					if seen[b.ToolUseID] || !lead {
						t.Fatalf("tool_result %q duplicated or after other blocks in one turn", b.ToolUseID)
					}
					seen[b.ToolUseID] = true
					gotResults[b.ToolUseID] = true
				case "text":
					lead = false
					if b.Text == "" {
						t.Fatal("empty text block")
					}
				default:
					lead = false
				}
			}
		}
		if len(uses) != len(calls) {
			t.Fatalf("tool calls lost: %d -> %d", len(calls), len(uses))
		}
		for i, c := range calls {
			if c.ID != "" && uses[i].ID != c.ID || uses[i].Name != c.Function.Name {
				t.Fatalf("call %d changed: %+v -> %+v", i, c, uses[i])
			}
		}
		for id := range results {
			if !gotResults[id] {
				t.Fatalf("tool result %q lost", id)
			}
		}
		// Back: the upstream streams those calls; the chat client must get
		// them all, in order, with complete arguments.
		if len(uses) == 0 {
			return
		}
		stream := anthStreamFor(uses, "", 5)
		g := checkChatStream(t, runStream(t, NewAnthropicToChatStream("a", StreamOptions{}), stream, nil), "a")
		if len(g.Calls) != len(uses) || g.Error != "" || g.Finish != "tool_calls" {
			t.Fatalf("stream lost tool calls: %d -> %d (%s)", len(uses), len(g.Calls), g.Error)
		}
		for i, u := range uses {
			if g.Calls[i].ID != u.ID || g.Calls[i].Args != compactInput(u.Input) {
				t.Fatalf("call %d: %+v vs %s %s", i, g.Calls[i], u.ID, u.Input)
			}
		}
	})
}

// anthStreamFor renders tool_use blocks (and leading text) as an Anthropic
// SSE stream with input_json pieces of at most step bytes.
func anthStreamFor(uses []anthBlock, text string, step int) []byte {
	var b bytes.Buffer
	ev := func(v map[string]any) {
		b.WriteString("event: " + v["type"].(string) + "\ndata: ")
		b.Write(mustJSON(v))
		b.WriteString("\n\n")
	}
	ev(map[string]any{"type": "message_start", "message": map[string]any{"id": "msg_f", "type": "message", "role": "assistant", "content": []any{}, "usage": map[string]any{"input_tokens": 3, "output_tokens": 1}}})
	idx := 0
	if text != "" {
		ev(map[string]any{"type": "content_block_start", "index": 0, "content_block": map[string]any{"type": "text", "text": ""}})
		ev(map[string]any{"type": "content_block_delta", "index": 0, "delta": map[string]any{"type": "text_delta", "text": text}})
		ev(map[string]any{"type": "content_block_stop", "index": 0})
		idx++
	}
	for _, u := range uses {
		ev(map[string]any{"type": "content_block_start", "index": idx, "content_block": map[string]any{"type": "tool_use", "id": u.ID, "name": u.Name, "input": map[string]any{}}})
		args := compactInput(u.Input)
		for args != "" {
			n := min(step, len(args))
			for n < len(args) && n > 1 && !utf8.RuneStart(args[n]) {
				n-- // JSON text carries whole UTF-8 sequences
			}
			for n < len(args) && !utf8.RuneStart(args[n]) {
				n++
			}
			ev(map[string]any{"type": "content_block_delta", "index": idx, "delta": map[string]any{"type": "input_json_delta", "partial_json": args[:n]}})
			args = args[n:]
		}
		ev(map[string]any{"type": "content_block_stop", "index": idx})
		idx++
	}
	ev(map[string]any{"type": "message_delta", "delta": map[string]any{"stop_reason": "tool_use", "stop_sequence": nil}, "usage": map[string]any{"output_tokens": 9}})
	ev(map[string]any{"type": "message_stop"})
	return b.Bytes()
}

func FuzzAnthropicStreamsNeverLoseToolCalls(f *testing.F) {
	f.Add(int64(1), uint8(3), uint8(5), "intro")
	f.Add(int64(2), uint8(1), uint8(1), "")
	f.Add(int64(3), uint8(8), uint8(200), "héllo\n\"quoted\"")
	f.Fuzz(func(t *testing.T, seed int64, n, step uint8, text string) {
		text = strings.ToValidUTF8(text, "\uFFFD")
		rng := rand.New(rand.NewSource(seed))
		uses := make([]anthBlock, int(n%10)+1)
		for i := range uses {
			in := mustJSON(map[string]any{"k": strings.Repeat(string(rune('a'+rng.Intn(26))), rng.Intn(50)), "n": rng.Intn(1000), "t": text})
			uses[i] = anthBlock{Type: "tool_use", ID: fmt.Sprintf("toolu_%d_%d", seed, i), Name: fmt.Sprintf("tool%d", i), Input: in}
		}
		stream := anthStreamFor(uses, text, int(step)+1)
		g := checkChatStream(t, runStream(t, NewAnthropicToChatStream("a", StreamOptions{}), stream, nil), "a")
		if g.Content != text || len(g.Calls) != len(uses) || !g.Done {
			t.Fatalf("chat: %d calls -> %d, text %q -> %q", len(uses), len(g.Calls), text, g.Content)
		}
		r := checkResponsesStream(t, runStream(t, NewAnthropicToResponsesStream("a", StreamOptions{}), stream, nil))
		items := r.Items
		if text != "" {
			if len(items) == 0 || items[0].Text != text {
				t.Fatal("responses: text lost")
			}
			items = items[1:]
		}
		if len(items) != len(uses) || r.FinalType != "response.completed" {
			t.Fatalf("responses: %d calls -> %d items", len(uses), len(items))
		}
		for i, u := range uses {
			args := compactInput(u.Input)
			if g.Calls[i].ID != u.ID || g.Calls[i].Args != args || g.Calls[i].Name != u.Name ||
				items[i].CallID != u.ID || items[i].Args != args || items[i].Name != u.Name {
				t.Fatalf("call %d changed", i)
			}
		}
	})
}

// FuzzAnthropicStreamMachinesOnArbitraryInput: any upstream bytes yield a
// protocol-valid client stream (or a clean error), never a panic.
func FuzzAnthropicStreamMachinesOnArbitraryInput(f *testing.F) {
	for _, name := range []string{"anthropic_stream_text.sse", "anthropic_stream_thinking.sse", "anthropic_stream_tools2.sse", "anthropic_stream_error.sse", "anthropic_stream_truncated.sse", "anthropic_stream_garbage.sse"} {
		f.Add(fixture(f, name))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		checkChatStream(t, runStream(t, NewAnthropicToChatStream("a", StreamOptions{}), in, nil), "a")
		checkResponsesStream(t, runStream(t, NewAnthropicToResponsesStream("a", StreamOptions{}), in, nil))
	})
}

func FuzzAnthropicResponseToChatNeverPanics(f *testing.F) {
	f.Add([]byte(`{"id":"msg_1","type":"message","content":[{"type":"thinking","thinking":"a","signature":"s"},{"type":"text","text":"b"},{"type":"tool_use","id":"t","name":"n","input":{"a":1}}],"stop_reason":"tool_use","usage":{"input_tokens":1}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		out, err := AnthropicResponseToChat(body, "a")
		if err != nil {
			return
		}
		var c chatOut
		if err := json.Unmarshal(out, &c); err != nil {
			t.Fatalf("invalid chat body %v: %s", err, out)
		}
		r, _ := decodeAnthResponse(body)
		n := 0
		for _, b := range r.Content {
			if b.Type == "tool_use" {
				n++
			}
		}
		if len(c.Choices[0].Message.ToolCalls) != n {
			t.Fatalf("tool calls lost: %d -> %d", n, len(c.Choices[0].Message.ToolCalls))
		}
		if _, err := AnthropicResponseToResponses(body, "a", nil); err != nil {
			t.Fatalf("responses: %v", err)
		}
	})
}

// FuzzJSONLibraryMatchesEncodingJSON: the JSON library the package uses
// (see json.go) decodes every wire type exactly like encoding/json:
// strings, escapes, invalid UTF-8, case-folded and duplicate keys, kinds.
func FuzzJSONLibraryMatchesEncodingJSON(f *testing.F) {
	for _, s := range []string{`"plain"`, `"a\nb\t\"q\"\\ \/ \u00e9 \ud83d\ude00 \ud800 x \udc00\u0041"`, "\"bad \xff utf8\"",
		`[{"type":"text","TEXT":"x","is_error":true,"source":{"type":"url","url":"u"}},null,{"t\u0079pe":"tool_use","input":{"a":[1,"]"]}}]`,
		`{"MESSAGES":[null,{"Role":"user","content":"x"}],"messages":[{"role":"assistant","content":[{"type":"text","text":"a"}]}],"max_tokens":5}`,
		`{"id":"c","choices":[{"index":0,"delta":{"content":"hi","tool_calls":[{"index":1,"function":{"arguments":"{\"a\":"}}]},"finish_reason":null}],"usage":{"prompt_tokens":3}}`,
		`{"type":"response.output_text.delta","output_index":0,"item_id":"m","delta":"x","sequence_number":3}`,
		`{"type":"response.output_text.delta","Delta":"x","delta":"y","obfuscation":"abc","logprobs":[]}`} {
		f.Add([]byte(s))
	}
	f.Add(fixture(f, "anthropic_tool_turn.json"))
	f.Add(fixture(f, "responses_tool_turn.json"))
	f.Fuzz(func(t *testing.T, in []byte) {
		if validJSON(in) != json.Valid(in) {
			t.Fatalf("validity differs on %q", in)
		}
		same := func(want, got any) {
			werr, gerr := json.Unmarshal(in, want), unmarshal(in, got)
			if (werr == nil) != (gerr == nil) {
				t.Fatalf("%T: errors differ: %v vs %v", want, werr, gerr)
			}
			if werr == nil && dump(want) != dump(got) {
				t.Fatalf("%T differs:\n%s\n%s", want, dump(want), dump(got))
			}
		}
		same(new([]anthBlock), new([]anthBlock))
		same(new(anthRequest), new(anthRequest))
		same(new(chatResponse), new(chatResponse))
		same(new(chatRequest), new(chatRequest))
		same(new(respEvent), new(respEvent))
		same(new(respRequest), new(respRequest))
	})
}
