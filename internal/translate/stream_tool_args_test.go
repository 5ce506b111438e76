package translate

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

// chatSSE renders chat stream chunks (the JSON of each data line) plus
// [DONE] as an upstream SSE body.
func chatSSE(chunks ...string) []byte {
	var b strings.Builder
	for _, c := range chunks {
		b.WriteString("data: " + c + "\n\n")
	}
	b.WriteString("data: [DONE]\n\n")
	return []byte(b.String())
}

// toolChunk is a chunk with one tool-call fragment; head adds members
// (`,"id":"x"`) beside index, name (if any) goes beside the arguments.
func toolChunk(index int, head, name, args string) string {
	fn := `{"arguments":` + string(appendString(nil, args))
	if name != "" {
		fn += `,"name":` + string(appendString(nil, name))
	}
	return `{"id":"c","choices":[{"index":0,"delta":{"tool_calls":[{"index":` + itoa(index) + head + `,"function":` + fn + `}}]}}]}`
}

const finishToolCalls = `{"id":"c","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}`

// TestChatToAnthropicStreamToolInputAlwaysParses: whatever arguments the
// upstream sends, the client's concatenated partial_json parses as a JSON
// object at content_block_stop (JSON that is not an object wrapped, so
// nothing is lost), or, when they are not JSON at all (a lost or garbled
// piece), the stream fails with ErrToolArguments before that block stops.
func TestChatToAnthropicStreamToolInputAlwaysParses(t *testing.T) {
	cases := []struct {
		name      string
		frags     []string // argument fragments of call 0 (the first carries id and name)
		wantInput string   // "" with wantErr
		wantErr   bool
	}{
		{"object streamed as is", []string{`{"pa`, `th":"a"}`}, `{"path":"a"}`, false},
		{"leading whitespace kept before an object", []string{"  ", "\n", `{"a":1}`}, "  \n{\"a\":1}", false},
		{"empty arguments mean an empty input", []string{""}, "", false},
		{"whitespace only means an empty input", []string{" ", " "}, "", false},
		{"null becomes {}", []string{"nu", "ll"}, `{}`, false},
		{"a JSON array is wrapped", []string{`[1,`, `2]`}, `{"_raw_arguments":"[1,2]"}`, false},
		{"a JSON string is wrapped", []string{`"ok`, `"`}, `{"_raw_arguments":"\"ok\""}`, false},
		{"a fragment without its start fails the stream", []string{`th":"b"}`}, "", true},
		{"plain text fails the stream", []string{"oo", "ps"}, "", true},
		{"a truncated object fails the stream", []string{`{"pa`}, "", true},
		{"an object with trailing garbage fails the stream", []string{`{"a":1}`, `x`}, "", true},
	}
	for _, tc := range cases {
		for _, late := range []bool{false, true} {
			name := tc.name
			if late {
				name += " (name after the arguments)"
			}
			t.Run(name, func(t *testing.T) {
				var chunks []string
				for i, f := range tc.frags {
					h, n := "", ""
					if i == 0 {
						h = `,"id":"call_1","type":"function"`
						if !late {
							n = "read"
						}
					}
					chunks = append(chunks, toolChunk(0, h, n, f))
				}
				if late { // arguments held until the name go the same way
					chunks = append(chunks, `{"id":"c","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"name":"read"}}]}}]}`)
				}
				// A second call after the first one closes it mid-stream.
				chunks = append(chunks, `{"id":"c","choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"call_2","type":"function","function":{"name":"ls","arguments":"{}"}}]}}]}`, finishToolCalls)
				frames := runStream(t, NewChatToAnthropicStream("a", StreamOptions{}), chatSSE(chunks...), nil)
				m := checkAnthropicStream(t, frames) // checks every stopped tool input parses
				if tc.wantErr {
					if m.ErrorType == "" || len(m.Blocks) != 1 || m.Stopped {
						t.Fatalf("want an error event while call_1 is open: %s", dump(m))
					}
					if !strings.Contains(m.ErrorMessage, "not valid JSON") {
						t.Fatalf("error %q", m.ErrorMessage)
					}
					return
				}
				if m.ErrorType != "" || len(m.Blocks) != 2 || m.Blocks[0].ID != "call_1" || m.Blocks[1].ID != "call_2" {
					t.Fatal(dump(m))
				}
				if m.Blocks[0].Input != tc.wantInput {
					t.Fatalf("input %q, want %q", m.Blocks[0].Input, tc.wantInput)
				}
			})
		}
	}
}

// TestChatToAnthropicStreamFailsOnBrokenStreamedArgumentsAtEnd: the same
// check runs when the call is closed by finish_reason, by [DONE] alone and
// by a clean EOF after finish_reason; Feed/Finish report ErrToolArguments.
func TestChatToAnthropicStreamFailsOnBrokenStreamedArgumentsAtEnd(t *testing.T) {
	start := `{"id":"c","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"read","arguments":"{\"pa"}}]}}]}`
	for name, in := range map[string][]byte{
		"finish_reason": chatSSE(start, finishToolCalls),
		"[DONE]":        chatSSE(start),
		"EOF":           []byte("data: " + start + "\n\ndata: " + finishToolCalls + "\n\n"),
	} {
		t.Run(name, func(t *testing.T) {
			m := checkAnthropicStream(t, runStream(t, NewChatToAnthropicStream("a", StreamOptions{}), in, nil))
			if m.ErrorType == "" || m.Stopped || len(m.Blocks) != 1 {
				t.Fatal(dump(m))
			}
		})
	}
	s := NewChatToAnthropicStream("a", StreamOptions{})
	if _, err := s.Feed([]byte(start)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Feed([]byte(finishToolCalls)); !errors.Is(err, ErrToolArguments) || !errors.Is(err, ErrUpstreamBody) {
		t.Fatalf("err = %v", err)
	}
}

// TestChatStreamsReplaceInvalidUTF8ConsistentlyInTextAndArguments: raw
// invalid UTF-8 inside an upstream chunk's JSON strings is decoded the way
// encoding/json decodes it (each bad byte -> U+FFFD), chunk by chunk, and
// both machines send the same replaced text and arguments in valid UTF-8
// JSON. A character split across two chunks cannot be rebuilt: each chunk
// is a complete JSON document, so its halves are replaced separately.
func TestChatStreamsReplaceInvalidUTF8ConsistentlyInTextAndArguments(t *testing.T) {
	const r = "\uFFFD"
	in := chatSSE(
		"{\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"U\xac\x8a\"}}]}",
		"{\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"call_1\",\"type\":\"function\",\"function\":{\"name\":\"n\",\"arguments\":\"{\\\"t\\\":\\\"\xef\"}}]}}]}",
		"{\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"\xbf\xbd\xff\\\"}\"}}]}}]}",
		finishToolCalls,
	)
	wantText, wantArgs := "U"+r+r, `{"t":"`+r+r+r+r+`"}`
	for _, sm := range []streamMachine{NewChatToAnthropicStream("a", StreamOptions{}), NewChatToResponsesStream("a", StreamOptions{})} {
		for _, f := range runStream(t, sm, in, nil) {
			if !utf8.Valid(f.Data) {
				t.Fatalf("invalid UTF-8 sent: %q", f.Data)
			}
		}
	}
	m := checkAnthropicStream(t, runStream(t, NewChatToAnthropicStream("a", StreamOptions{}), in, nil))
	if len(m.Blocks) != 2 || m.Blocks[0].Text != wantText || m.Blocks[1].Input != wantArgs {
		t.Fatalf("anthropic: %s", dump(m))
	}
	g := checkResponsesStream(t, runStream(t, NewChatToResponsesStream("a", StreamOptions{}), in, nil))
	if len(g.Items) != 2 || g.Items[0].Text != wantText || g.Items[1].Args != wantArgs {
		t.Fatalf("responses: %s", dump(g))
	}
}

// TestAnthropicToChatGivesIDlessNamelessToolUseAnIDAndPlaceholderName: a
// tool_use block without id and name (an upstream replaying a chat history
// call that had neither) still reaches the chat client as a call in its
// place, with a generated "call_" id, the name UnnamedToolName and its
// arguments, streaming and not.
func TestAnthropicToChatGivesIDlessNamelessToolUseAnIDAndPlaceholderName(t *testing.T) {
	uses := []anthBlock{
		{Type: "tool_use", ID: "toolu_a", Name: "n", Input: []byte(`{"x":[1,2]}`)},
		{Type: "tool_use", Input: []byte(`{"_raw_arguments":"oops"}`)},
		{Type: "tool_use", ID: "toolu_c", Input: []byte(`{}`)},
	}
	wantName := []string{"n", UnnamedToolName, UnnamedToolName}
	check := func(t *testing.T, i int, id, name, args string) {
		t.Helper()
		if uses[i].ID != "" && id != uses[i].ID || uses[i].ID == "" && !strings.HasPrefix(id, "call_") ||
			name != wantName[i] || args != compactInput(uses[i].Input) {
			t.Fatalf("call %d: %q %q %q", i, id, name, args)
		}
	}
	t.Run("stream", func(t *testing.T) {
		g := checkChatStream(t, runStream(t, NewAnthropicToChatStream("a", StreamOptions{}), anthStreamFor(uses, "", 4), nil), "a")
		if len(g.Calls) != len(uses) || g.Finish != "tool_calls" {
			t.Fatal(dump(g))
		}
		for i, c := range g.Calls {
			check(t, i, c.ID, c.Name, c.Args)
		}
	})
	t.Run("response", func(t *testing.T) {
		body := mustJSON(map[string]any{"id": "msg_1", "type": "message", "role": "assistant", "content": uses, "stop_reason": "tool_use", "usage": map[string]any{"input_tokens": 1}})
		out, err := AnthropicResponseToChat(body, "a")
		if err != nil {
			t.Fatal(err)
		}
		var c chatOut
		if err := json.Unmarshal(out, &c); err != nil || len(c.Choices) != 1 || len(c.Choices[0].Message.ToolCalls) != len(uses) {
			t.Fatalf("%v %s", err, out)
		}
		for i, tc := range c.Choices[0].Message.ToolCalls {
			check(t, i, tc.ID, tc.Function.Name, tc.Function.Arguments)
		}
	})
}

// TestAnthropicToChatStreamFailsWhenStreamedArgumentsEndBroken: a tool
// block whose input_json_delta text is not valid JSON at content_block_stop
// (here a delta with a garbled "type" key was ignored, losing the start of
// the object) ends the chat and Responses streams with an error instead
// of a completed call with unparseable arguments; whole objects pass.
func TestAnthropicToChatStreamFailsWhenStreamedArgumentsEndBroken(t *testing.T) {
	ev := func(typ, data string) string { return "event: " + typ + "\ndata: " + data + "\n\n" }
	stream := func(deltas ...string) []byte {
		s := ev("message_start", `{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","content":[],"usage":{"input_tokens":1}}}`) +
			ev("content_block_start", `{"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"toolu_1","name":"w","input":{}}}`)
		for _, d := range deltas {
			s += ev("content_block_delta", d)
		}
		return []byte(s + ev("content_block_stop", `{"type":"content_block_stop","index":0}`) +
			ev("message_delta", `{"type":"message_delta","delta":{"stop_reason":"tool_use"},"usage":{"output_tokens":3}}`) +
			ev("message_stop", `{"type":"message_stop"}`))
	}
	part := func(typ, js string) string {
		return `{"type":"content_block_delta","index":0,"delta":{"` + typ + `":"input_json_delta","partial_json":` + string(appendString(nil, js)) + `}}`
	}
	cases := []struct {
		name    string
		in      []byte
		wantErr bool
	}{
		{"whole object completes", stream(part("type", `{"city": "Par`), part("type", `is"}`)), false},
		{"lost start fails", stream(part("typ\x9a", `{"city": "Par`), part("type", `is"}`)), true},
		{"truncated object fails", stream(part("type", `{"city": "Par`)), true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := checkChatStream(t, runStream(t, NewAnthropicToChatStream("a", StreamOptions{}), tc.in, nil), "a")
			r := checkResponsesStream(t, runStream(t, NewAnthropicToResponsesStream("a", StreamOptions{}), tc.in, nil))
			if tc.wantErr != (g.Error != "") || tc.wantErr == g.Done || tc.wantErr != (r.FinalType == "response.failed") {
				t.Fatalf("chat %s\nresponses %s", dump(g), r.FinalType)
			}
			if !tc.wantErr && (len(g.Calls) != 1 || g.Calls[0].Args != `{"city": "Paris"}`) {
				t.Fatal(dump(g))
			}
		})
	}
}

// TestAnthropicToChatStreamErrorEventWithoutMessageStillSaysSomething: an
// upstream error event with an empty or missing message becomes a chat
// error frame whose message names the error type, never "".
func TestAnthropicToChatStreamErrorEventWithoutMessageStillSaysSomething(t *testing.T) {
	for in, want := range map[string]string{
		`{"type":"error","error":{"type":"overloaded_error","message":""}}`: "upstream stream error (overloaded_error)",
		`{"type":"error","error":{"type":"overloaded_error"}}`:              "upstream stream error (overloaded_error)",
		`{"type":"error"}`: "upstream stream error",
	} {
		g := checkChatStream(t, runStream(t, NewAnthropicToChatStream("a", StreamOptions{}), []byte("event: error\ndata: "+in+"\n\n"), nil), "a")
		if g.Error != want {
			t.Errorf("%s: error %q, want %q", in, g.Error, want)
		}
	}
}
