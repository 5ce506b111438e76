package translate

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/flowgate/flowgate/internal/tokens"
)

// bigAnthropicRequest builds a ~200 KB Claude Code style request: system
// blocks, 24 tools, and a long tool-using conversation.
func bigAnthropicRequest(tb testing.TB, size int) []byte {
	var req map[string]any
	if err := json.Unmarshal(fixture(tb, "anthropic_first_turn.json"), &req); err != nil {
		tb.Fatal(err)
	}
	tools := req["tools"].([]any)
	for i := 0; i < 22; i++ {
		tools = append(tools, map[string]any{"name": fmt.Sprintf("Tool%d", i), "description": strings.Repeat("Does a useful thing. ", 40),
			"input_schema": map[string]any{"type": "object", "properties": map[string]any{"path": map[string]any{"type": "string", "description": "a path"}}}})
	}
	req["tools"] = tools
	msgs := req["messages"].([]any)
	for i := 0; len(mustJSON(req)) < size; i++ {
		id := fmt.Sprintf("toolu_%04d", i)
		msgs = append(msgs,
			map[string]any{"role": "assistant", "content": []any{
				map[string]any{"type": "text", "text": "Let me look at the file <b>now</b>."},
				map[string]any{"type": "tool_use", "id": id, "name": "Bash", "input": map[string]any{"command": "cat src/file.go", "description": "read"}}}},
			map[string]any{"role": "user", "content": []any{
				map[string]any{"type": "tool_result", "tool_use_id": id, "content": strings.Repeat("package main\n\nfunc main() { println(\"hi\") }\n", 30)}}})
		req["messages"] = msgs
	}
	return mustJSON(req)
}

func BenchmarkAnthropicToChat200KB(b *testing.B) {
	body := bigAnthropicRequest(b, 200_000)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := AnthropicToChat(body, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEstimateTokens200KB(b *testing.B) {
	body := bigAnthropicRequest(b, 200_000)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := tokens.EstimateTokens(body); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkResponsesToChat(b *testing.B) {
	body := fixture(b, "responses_tool_turn.json")
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ResponsesToChat(body, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

var benchChatResponse = []byte(`{"id":"chatcmpl-r","created":1700000000,"choices":[{"index":0,"message":{"content":"Sure, running it now.","reasoning_content":"think about it","tool_calls":[{"id":"call_1","type":"function","function":{"name":"exec_command","arguments":"{\"cmd\":\"ls -la\"}"}}]},"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":10,"completion_tokens":5}}`)

func BenchmarkChatResponseToAnthropic(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ChatResponseToAnthropic(benchChatResponse, "a"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkChatResponseToResponses(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ChatResponseToResponses(benchChatResponse, "a", nil); err != nil {
			b.Fatal(err)
		}
	}
}

// streamPayloads returns the data payloads of a long chat stream: 500 text
// deltas then 3 tool calls.
func streamPayloads(tb testing.TB) [][]byte {
	var out [][]byte
	for i := 0; i < 500; i++ {
		out = append(out, []byte(`{"id":"chatcmpl-1","object":"chat.completion.chunk","model":"up","choices":[{"index":0,"delta":{"content":"word "}}]}`))
	}
	for _, p := range strings.Split(string(fixture(tb, "chat_stream_parallel3.sse")), "\n\n") {
		if p = strings.TrimPrefix(strings.TrimSpace(p), "data: "); p != "" {
			out = append(out, []byte(p))
		}
	}
	return out
}

func benchStream(b *testing.B, mk func() streamMachine) {
	payloads := streamPayloads(b)
	n := 0
	for _, p := range payloads {
		n += len(p)
	}
	b.SetBytes(int64(n))
	b.ReportAllocs()
	for b.Loop() {
		s := mk()
		for _, p := range payloads {
			if _, err := s.Feed(p); err != nil {
				b.Fatal(err)
			}
		}
		s.Finish(nil)
	}
}

func BenchmarkChatToAnthropicStream(b *testing.B) {
	benchStream(b, func() streamMachine { return NewChatToAnthropicStream("a", StreamOptions{ID: "msg_1"}) })
}

func BenchmarkChatToResponsesStream(b *testing.B) {
	benchStream(b, func() streamMachine { return NewChatToResponsesStream("a", StreamOptions{ID: "resp_1", CreatedAt: 1}) })
}

// bigChatRequest is the 200 KB Claude Code conversation in chat form.
func bigChatRequest(tb testing.TB) []byte {
	res, err := AnthropicToChat(bigAnthropicRequest(tb, 200_000), Options{})
	if err != nil {
		tb.Fatal(err)
	}
	return res.Body
}

func BenchmarkChatToAnthropic200KB(b *testing.B) {
	body := bigChatRequest(b)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ChatToAnthropic(body, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkChatToAnthropicCodex094(b *testing.B) {
	body := fixture(b, "chat_codex094_tool_turn.json")
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ChatToAnthropic(body, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkResponsesToAnthropic(b *testing.B) {
	body := fixture(b, "responses_tool_turn.json")
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ResponsesToAnthropic(body, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

var benchAnthResponse = []byte(`{"id":"msg_01","type":"message","role":"assistant","model":"claude","content":[{"type":"thinking","thinking":"think about it","signature":"EqQBsig=="},{"type":"text","text":"Sure, running it now."},{"type":"tool_use","id":"toolu_1","name":"exec_command","input":{"cmd":"ls -la"}}],"stop_reason":"tool_use","stop_sequence":null,"usage":{"input_tokens":10,"cache_read_input_tokens":100,"output_tokens":5}}`)

func BenchmarkAnthropicResponseToChat(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := AnthropicResponseToChat(benchAnthResponse, "a"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAnthropicResponseToResponses(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := AnthropicResponseToResponses(benchAnthResponse, "a", nil); err != nil {
			b.Fatal(err)
		}
	}
}

// anthStreamPayloads returns the data payloads of a long Anthropic stream:
// 500 text deltas, then the three tool_use blocks of the fixture.
func anthStreamPayloads(tb testing.TB) [][]byte {
	var out [][]byte
	var tools [][]byte
	for _, p := range strings.Split(string(fixture(tb, "anthropic_stream_tools2.sse")), "\n\n") {
		for _, line := range strings.Split(p, "\n") {
			if d, ok := strings.CutPrefix(line, "data: "); ok {
				tools = append(tools, []byte(d))
			}
		}
	}
	// message_start, text block start, 500 deltas, then the rest.
	out = append(out, tools[0], tools[1])
	for i := 0; i < 500; i++ {
		out = append(out, []byte(`{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"word "}}`))
	}
	return append(out, tools[2:]...)
}

func benchAnthStream(b *testing.B, mk func() streamMachine) {
	payloads := anthStreamPayloads(b)
	n := 0
	for _, p := range payloads {
		n += len(p)
	}
	b.SetBytes(int64(n))
	b.ReportAllocs()
	for b.Loop() {
		s := mk()
		for _, p := range payloads {
			if _, err := s.Feed(p); err != nil {
				b.Fatal(err)
			}
		}
		s.Finish(nil)
	}
}

func BenchmarkAnthropicToChatStream(b *testing.B) {
	benchAnthStream(b, func() streamMachine {
		return NewAnthropicToChatStream("a", StreamOptions{ID: "chatcmpl-1", CreatedAt: 1})
	})
}

func BenchmarkAnthropicToResponsesStream(b *testing.B) {
	benchAnthStream(b, func() streamMachine {
		return NewAnthropicToResponsesStream("a", StreamOptions{ID: "resp_1", CreatedAt: 1})
	})
}
