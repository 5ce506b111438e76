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

// countAnthIDs returns tool_use ids and tool_result ids in an Anthropic request.
func countAnthIDs(body []byte) (uses, results []string, ok bool) {
	var req anthRequest
	if json.Unmarshal(body, &req) != nil {
		return nil, nil, false
	}
	for _, m := range req.Messages {
		bs, err := blocks(m.Content)
		if err != nil {
			return nil, nil, false
		}
		for _, b := range bs {
			switch {
			case b.Type == "tool_use" && m.Role == "assistant":
				uses = append(uses, b.ID)
			case b.Type == "tool_result" && m.Role != "assistant" && m.Role != "system":
				results = append(results, b.ToolUseID)
			}
		}
	}
	return uses, results, true
}

func FuzzAnthropicToChatKeepsToolTurns(f *testing.F) {
	f.Add(fixture(f, "anthropic_tool_turn.json"))
	f.Add(fixture(f, "anthropic_first_turn.json"))
	f.Add([]byte(`{"messages":[{"role":"assistant","content":[{"type":"tool_use","id":"a","name":"n","input":null}]},{"role":"user","content":[{"type":"tool_result","tool_use_id":"a","content":[{"type":"text","text":"x"}]},{"type":"tool_result","tool_use_id":"a"}]}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		res, err := AnthropicToChat(body, Options{})
		if err != nil {
			return
		}
		uses, results, ok := countAnthIDs(body)
		if !ok {
			t.Fatalf("translated a body the checker cannot decode")
		}
		var req chatRequest
		if err := json.Unmarshal(res.Body, &req); err != nil {
			t.Fatalf("invalid chat body: %v", err)
		}
		var gotUses, gotResults []string
		var calls []chatToolCall
		for _, m := range req.Messages {
			for _, tc := range m.ToolCalls {
				gotUses = append(gotUses, tc.ID)
				if !json.Valid([]byte(tc.Function.Arguments)) {
					t.Fatalf("arguments not JSON: %q", tc.Function.Arguments)
				}
			}
			calls = append(calls, m.ToolCalls...)
			if m.Role == "tool" {
				gotResults = append(gotResults, m.ToolCallID)
			}
		}
		if strings.Join(uses, "\x00") != strings.Join(gotUses, "\x00") || strings.Join(results, "\x00") != strings.Join(gotResults, "\x00") {
			t.Fatalf("tool ids changed: uses %q -> %q, results %q -> %q", uses, gotUses, results, gotResults)
		}
		// Back: the upstream answers with those calls, JSON and stream.
		if len(calls) == 0 {
			return
		}
		for i := range calls {
			if calls[i].ID == "" {
				calls[i].ID = fmt.Sprintf("call_%d", i)
			}
		}
		msg := map[string]any{"role": "assistant", "content": nil, "tool_calls": calls}
		up := mustJSON(map[string]any{"id": "x", "choices": []any{map[string]any{"index": 0, "message": msg, "finish_reason": "tool_calls"}}})
		out, err := ChatResponseToAnthropic(up, "alias")
		if err != nil {
			t.Fatal(err)
		}
		var ar anthResponse
		if err := json.Unmarshal(out, &ar); err != nil || len(ar.Content) != len(calls) {
			t.Fatalf("lost tool calls: %d -> %s", len(calls), out)
		}
		stream := chatStreamFor(calls, "", 7)
		m := checkAnthropicStream(t, runStream(t, NewChatToAnthropicStream("a", StreamOptions{}), stream, nil))
		if len(m.Blocks) != len(calls) || m.ErrorType != "" {
			t.Fatalf("stream lost tool calls: %d -> %d (%s)", len(calls), len(m.Blocks), m.ErrorMessage)
		}
		for i, b := range m.Blocks {
			if b.ID != calls[i].ID || b.Input != calls[i].Function.Arguments {
				t.Fatalf("call %d: %q %q vs %q %q", i, b.ID, b.Input, calls[i].ID, calls[i].Function.Arguments)
			}
		}
	})
}

// FuzzResponsesToChatKeepsToolTurns (like the other targets seeded with
// whole client bodies) looks stalled under plain `go test -fuzz`: "execs"
// stays at a handful because the coordinator spends up to
// -fuzzminimizetime (default 60s) minimizing each new interesting multi-KB
// input, and those runs are not counted. Run the request targets with
// -fuzzminimizetime=0 (or a few seconds): ~10k execs/s on one core.
func FuzzResponsesToChatKeepsToolTurns(f *testing.F) {
	f.Add(fixture(f, "responses_tool_turn.json"))
	f.Add(fixture(f, "responses_first_turn.json"))
	f.Fuzz(func(t *testing.T, body []byte) {
		res, err := ResponsesToChat(body, Options{})
		if err != nil {
			return
		}
		var req respRequest
		var items []respItem
		if json.Unmarshal(body, &req) != nil {
			t.Fatal("checker cannot decode")
		}
		_ = json.Unmarshal(req.Input, &items)
		var calls, outs []string
		for _, it := range items {
			switch it.Type {
			case "function_call", "custom_tool_call":
				calls = append(calls, it.CallID)
			case "function_call_output", "custom_tool_call_output":
				outs = append(outs, it.CallID)
			}
		}
		var chat chatRequest
		if err := json.Unmarshal(res.Body, &chat); err != nil {
			t.Fatalf("invalid chat body: %v", err)
		}
		var gotCalls, gotOuts []string
		for _, m := range chat.Messages {
			for _, tc := range m.ToolCalls {
				gotCalls = append(gotCalls, tc.ID)
			}
			if m.Role == "tool" {
				gotOuts = append(gotOuts, m.ToolCallID)
			}
			if m.Role == "user" && bytes.Contains(body, []byte(`"developer"`)) && false {
				t.Fatal()
			}
		}
		if strings.Join(calls, "\x00") != strings.Join(gotCalls, "\x00") || strings.Join(outs, "\x00") != strings.Join(gotOuts, "\x00") {
			t.Fatalf("calls %q -> %q, outputs %q -> %q", calls, gotCalls, outs, gotOuts)
		}
	})
}

// chatStreamFor renders tool calls (and leading text) as a chat SSE stream
// with arguments cut into pieces of at most step bytes, never inside a
// UTF-8 sequence: a JSON string is Unicode text, so a real upstream cannot
// send half a character in one chunk. (Cutting one in two made json.Marshal
// send one U+FFFD per stray byte, and the machines rightly passed those
// on: "call 0 changed" for text "U\xac\x8a", step 1.)
func chatStreamFor(calls []chatToolCall, text string, step int) []byte {
	var b bytes.Buffer
	chunk := func(delta map[string]any, finish string) {
		ch := map[string]any{"index": 0, "delta": delta}
		if finish != "" {
			ch["finish_reason"] = finish
		}
		b.WriteString("data: ")
		b.Write(mustJSON(map[string]any{"id": "c", "choices": []any{ch}}))
		b.WriteString("\n\n")
	}
	if text != "" {
		chunk(map[string]any{"content": text}, "")
	}
	for i, c := range calls {
		args := c.Function.Arguments
		first := true
		for first || args != "" {
			n := min(step, len(args))
			for n < len(args) && !utf8.RuneStart(args[n]) {
				n++
			}
			tc := map[string]any{"index": i, "function": map[string]any{"arguments": args[:n]}}
			if first {
				tc["id"], tc["type"] = c.ID, "function"
				tc["function"].(map[string]any)["name"] = c.Function.Name
			}
			chunk(map[string]any{"tool_calls": []any{tc}}, "")
			args, first = args[n:], false
		}
	}
	chunk(map[string]any{}, "tool_calls")
	b.WriteString("data: [DONE]\n\n")
	return b.Bytes()
}

func FuzzStreamsNeverLoseToolCalls(f *testing.F) {
	f.Add(int64(1), uint8(3), uint8(5), "intro")
	f.Add(int64(2), uint8(1), uint8(1), "")
	f.Add(int64(3), uint8(8), uint8(200), "héllo\n\"quoted\"")
	f.Fuzz(func(t *testing.T, seed int64, n, step uint8, text string) {
		text = strings.ToValidUTF8(text, "\uFFFD") // the upstream's JSON carries valid UTF-8
		rng := rand.New(rand.NewSource(seed))
		calls := make([]chatToolCall, int(n%10)+1)
		for i := range calls {
			args := mustJSON(map[string]any{"k": strings.Repeat(string(rune('a'+rng.Intn(26))), rng.Intn(50)), "n": rng.Intn(1000), "t": text})
			calls[i] = chatToolCall{ID: fmt.Sprintf("call_%d_%d", seed, i), Function: chatFunction{Name: fmt.Sprintf("tool%d", i), Arguments: string(args)}}
		}
		stream := chatStreamFor(calls, text, int(step)+1)
		m := checkAnthropicStream(t, runStream(t, NewChatToAnthropicStream("a", StreamOptions{}), stream, nil))
		tools := m.Blocks
		if text != "" {
			if len(tools) == 0 || tools[0].Text != text {
				t.Fatalf("text lost")
			}
			tools = tools[1:]
		}
		if len(tools) != len(calls) || m.StopReason != "tool_use" {
			t.Fatalf("anthropic: %d calls -> %d blocks", len(calls), len(tools))
		}
		g := checkResponsesStream(t, runStream(t, NewChatToResponsesStream("a", StreamOptions{}), stream, nil))
		items := g.Items
		if text != "" {
			items = items[1:]
		}
		if len(items) != len(calls) {
			t.Fatalf("responses: %d calls -> %d items", len(calls), len(items))
		}
		for i := range calls {
			if tools[i].ID != calls[i].ID || tools[i].Input != calls[i].Function.Arguments ||
				items[i].CallID != calls[i].ID || items[i].Args != calls[i].Function.Arguments || items[i].Name != calls[i].Function.Name {
				t.Fatalf("call %d changed", i)
			}
		}
	})
}

// FuzzStreamMachinesOnArbitraryInput: any upstream bytes yield a
// protocol-valid client stream (or a clean error event), never a panic.
func FuzzStreamMachinesOnArbitraryInput(f *testing.F) {
	for _, name := range []string{"chat_stream_parallel3.sse", "chat_stream_reasoning.sse", "chat_stream_garbage.sse", "chat_stream_broken.sse"} {
		f.Add(fixture(f, name))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		checkAnthropicStream(t, runStream(t, NewChatToAnthropicStream("a", StreamOptions{}), in, nil))
		checkResponsesStream(t, runStream(t, NewChatToResponsesStream("a", StreamOptions{}), in, nil))
	})
}
