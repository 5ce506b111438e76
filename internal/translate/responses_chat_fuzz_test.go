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

// FuzzChatToResponsesKeepsToolTurns: every tool call and tool result of a
// chat request reaches the Responses body, ids and order kept (id-less
// calls get ids their id-less results share), and a Responses answer with
// those calls comes back with every call, JSON and stream. Run with
// -fuzzminimizetime=0 (see FuzzResponsesToChatKeepsToolTurns).
func FuzzChatToResponsesKeepsToolTurns(f *testing.F) {
	f.Add(fixture(f, "chat_codex094_tool_turn.json"))
	f.Add([]byte(`{"model":"m","messages":[{"role":"assistant","tool_calls":[{"function":{"name":"a"}},{"id":"x","function":{"name":"b","arguments":"{\"q\":1}"}}]},{"role":"tool","content":"r"},{"role":"tool","tool_call_id":"x","content":[{"type":"text","text":"y"}]}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		res, err := ChatToResponses(body, Options{})
		if err != nil {
			return
		}
		var req chatRequest
		if json.Unmarshal(body, &req) != nil {
			t.Fatal("checker cannot decode a body the translator accepted")
		}
		var o struct {
			Input []respItem `json:"input"`
			Store *bool      `json:"store"`
		}
		if err := json.Unmarshal(res.Body, &o); err != nil || o.Store == nil || *o.Store {
			t.Fatalf("invalid responses body %s: %v", res.Body, err)
		}
		var gotCalls, gotOuts []string
		var calls []respItem
		for _, it := range o.Input {
			switch it.Type {
			case "function_call":
				gotCalls = append(gotCalls, it.CallID)
				calls = append(calls, it)
			case "function_call_output":
				gotOuts = append(gotOuts, it.CallID)
			}
		}
		// Expected: the request's calls in order (generated ids where it
		// had none) and its results, id-less ones taking generated ids in order.
		var wantCalls, wantOuts, gen []string
		for _, m := range req.Messages {
			if m.Role == "assistant" {
				for _, tc := range m.ToolCalls {
					wantCalls = append(wantCalls, tc.ID)
				}
			}
		}
		if len(wantCalls) != len(gotCalls) {
			t.Fatalf("calls %q -> %q", wantCalls, gotCalls)
		}
		for i, id := range wantCalls {
			if id == "" {
				gen = append(gen, gotCalls[i])
			} else if gotCalls[i] != id {
				t.Fatalf("call %d id %q -> %q", i, id, gotCalls[i])
			}
		}
		for _, m := range req.Messages {
			if m.Role == "tool" || m.Role == "function" {
				switch {
				case m.ToolCallID != "":
					wantOuts = append(wantOuts, m.ToolCallID)
				case len(gen) > 0:
					wantOuts, gen = append(wantOuts, gen[0]), gen[1:]
				}
			}
		}
		if strings.Join(wantOuts, "\x00") != strings.Join(gotOuts, "\x00") {
			t.Fatalf("outputs %q -> %q", wantOuts, gotOuts)
		}
		if len(calls) == 0 {
			return
		}
		// Back: the upstream answers with those calls.
		for i := range calls {
			calls[i].ID = fmt.Sprintf("fc_%d", i)
			if !json.Valid([]byte(calls[i].Arguments)) {
				// A model's broken arguments fail a stream loudly
				// (ErrToolArguments, tested elsewhere); here they stand
				// for any valid answer.
				calls[i].Arguments = string(mustJSON(map[string]string{"raw": calls[i].Arguments}))
			}
		}
		up := mustJSON(map[string]any{"id": "resp_x", "object": "response", "status": "completed", "output": calls})
		out, err := ResponsesResponseToChat(up, "a")
		if err != nil {
			t.Fatal(err)
		}
		var cr chatResponse
		if err := json.Unmarshal(out, &cr); err != nil || len(cr.Choices[0].Message.ToolCalls) != len(calls) {
			t.Fatalf("lost calls: %d -> %s", len(calls), out)
		}
		g := checkChatStream(t, runStream(t, NewResponsesToChatStream("a", StreamOptions{}), respStreamFor(calls, "", 5, true), nil), "a")
		if len(g.Calls) != len(calls) || !g.Done {
			t.Fatalf("stream: %d calls -> %d (%s)", len(calls), len(g.Calls), g.Error)
		}
		for i, c := range g.Calls {
			if c.ID != calls[i].CallID {
				t.Fatalf("stream call %d id %q -> %q", i, calls[i].CallID, c.ID)
			}
		}
	})
}

// respStreamFor renders text and function calls as a Responses SSE
// stream: every call announced, its arguments cut into pieces of at most
// step bytes (never inside a UTF-8 sequence); with interleave the calls
// are all announced first and their pieces sent round-robin, as an
// upstream streaming parallel calls at once could.
func respStreamFor(calls []respItem, text string, step int, interleave bool) []byte {
	var b bytes.Buffer
	seq := 0
	ev := func(m map[string]any) {
		m["sequence_number"] = seq
		seq++
		b.WriteString("event: " + m["type"].(string) + "\ndata: ")
		b.Write(mustJSON(m))
		b.WriteString("\n\n")
	}
	ev(map[string]any{"type": "response.created", "response": map[string]any{"id": "resp_f", "status": "in_progress", "output": []any{}}})
	var output []any
	base := 0
	if text != "" {
		msg := map[string]any{"id": "msg_f", "type": "message", "role": "assistant", "content": []any{}}
		ev(map[string]any{"type": "response.output_item.added", "output_index": 0, "item": msg})
		ev(map[string]any{"type": "response.output_text.delta", "output_index": 0, "item_id": "msg_f", "delta": text})
		done := map[string]any{"id": "msg_f", "type": "message", "role": "assistant", "content": []any{map[string]any{"type": "output_text", "text": text}}}
		ev(map[string]any{"type": "response.output_item.done", "output_index": 0, "item": done})
		output = append(output, done)
		base = 1
	}
	pieces := make([][]string, len(calls))
	for i, c := range calls {
		args := c.Arguments
		for args != "" {
			n := min(step, len(args))
			for n < len(args) && !utf8.RuneStart(args[n]) {
				n++
			}
			pieces[i] = append(pieces[i], args[:n])
			args = args[n:]
		}
	}
	item := func(i int, done bool) map[string]any {
		c := calls[i]
		args := ""
		if done {
			args = c.Arguments
		}
		return map[string]any{"id": c.ID, "type": "function_call", "call_id": c.CallID, "name": c.Name, "arguments": args}
	}
	added := func(i int) {
		ev(map[string]any{"type": "response.output_item.added", "output_index": base + i, "item": item(i, false)})
	}
	delta := func(i int, p string) {
		ev(map[string]any{"type": "response.function_call_arguments.delta", "output_index": base + i, "item_id": calls[i].ID, "delta": p})
	}
	done := func(i int) {
		ev(map[string]any{"type": "response.function_call_arguments.done", "output_index": base + i, "item_id": calls[i].ID, "arguments": calls[i].Arguments})
		ev(map[string]any{"type": "response.output_item.done", "output_index": base + i, "item": item(i, true)})
		output = append(output, item(i, true))
	}
	if interleave {
		for i := range calls {
			added(i)
		}
		for k := 0; ; k++ {
			more := false
			for i := range calls {
				if k < len(pieces[i]) {
					delta(i, pieces[i][k])
					more = true
				}
			}
			if !more {
				break
			}
		}
		for i := range calls {
			done(i)
		}
	} else {
		for i := range calls {
			added(i)
			for _, p := range pieces[i] {
				delta(i, p)
			}
			done(i)
		}
	}
	ev(map[string]any{"type": "response.completed", "response": map[string]any{"id": "resp_f", "status": "completed", "output": output,
		"usage": map[string]any{"input_tokens": 3, "output_tokens": 4, "total_tokens": 7}}})
	return b.Bytes()
}

func FuzzResponsesStreamsNeverLoseToolCalls(f *testing.F) {
	f.Add(int64(1), uint8(3), uint8(5), "intro", false)
	f.Add(int64(2), uint8(2), uint8(1), "", true)
	f.Add(int64(3), uint8(8), uint8(200), "héllo\n\"quoted\"", true)
	f.Fuzz(func(t *testing.T, seed int64, n, step uint8, text string, interleave bool) {
		text = strings.ToValidUTF8(text, "\uFFFD")
		rng := rand.New(rand.NewSource(seed))
		calls := make([]respItem, int(n%10)+1)
		for i := range calls {
			args := mustJSON(map[string]any{"k": strings.Repeat(string(rune('a'+rng.Intn(26))), rng.Intn(50)), "n": rng.Intn(1000), "t": text})
			if rng.Intn(5) == 0 {
				args = nil // no arguments at all: "{}"
			}
			calls[i] = respItem{ID: fmt.Sprintf("fc_%d", i), CallID: fmt.Sprintf("call_%d_%d", seed, i), Name: fmt.Sprintf("tool%d", i), Arguments: string(args)}
		}
		stream := respStreamFor(calls, text, int(step)+1, interleave)
		want := func(i int) string {
			if calls[i].Arguments == "" {
				return "{}"
			}
			return calls[i].Arguments
		}
		g := checkChatStream(t, runStream(t, NewResponsesToChatStream("a", StreamOptions{}), stream, nil), "a")
		if !g.Done || g.Content != text || g.Finish != "tool_calls" || len(g.Calls) != len(calls) || g.Usage == nil {
			t.Fatalf("chat: %d calls -> %s", len(calls), dump(g))
		}
		m := checkAnthropicStream(t, runStream(t, NewResponsesToAnthropicStream("a", StreamOptions{}), stream, nil))
		tools := m.Blocks
		if text != "" {
			if len(tools) == 0 || tools[0].Text != text {
				t.Fatalf("text lost: %s", dump(m))
			}
			tools = tools[1:]
		}
		if !m.Stopped || len(tools) != len(calls) || m.StopReason != "tool_use" {
			t.Fatalf("anthropic: %d calls -> %s", len(calls), dump(m))
		}
		for i := range calls {
			if g.Calls[i] != (gotCall{calls[i].CallID, calls[i].Name, want(i)}) {
				t.Fatalf("chat call %d changed: %+v", i, g.Calls[i])
			}
			in := tools[i].Input
			if in == "" {
				in = "{}"
			}
			if tools[i].ID != calls[i].CallID || tools[i].Name != calls[i].Name || in != want(i) {
				t.Fatalf("anthropic call %d changed: %+v", i, tools[i])
			}
		}
	})
}

// FuzzResponsesStreamMachinesOnArbitraryInput: any upstream bytes yield a
// protocol-valid chat or Messages stream (or a clean error), never a panic.
func FuzzResponsesStreamMachinesOnArbitraryInput(f *testing.F) {
	for _, name := range []string{"responses_stream_text.sse", "responses_stream_reasoning.sse", "responses_stream_tools2.sse",
		"responses_stream_failed.sse", "responses_stream_truncated.sse", "responses_stream_garbage.sse"} {
		f.Add(fixture(f, name))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		g := checkChatStream(t, runStream(t, NewResponsesToChatStream("a", StreamOptions{}), in, nil), "a")
		if !g.Done && g.Error == "" {
			t.Fatalf("chat stream neither completed nor failed")
		}
		m := checkAnthropicStream(t, runStream(t, NewResponsesToAnthropicStream("a", StreamOptions{}), in, nil))
		if !m.Stopped && m.ErrorType == "" {
			t.Fatalf("messages stream neither stopped nor failed")
		}
		if g.Done != m.Stopped {
			t.Fatalf("chat done=%v but messages stopped=%v", g.Done, m.Stopped)
		}
	})
}
