package translate

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/flowgate/flowgate/internal/apierr"
)

func decodeChatReq(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("invalid chat body: %v\n%s", err, b)
	}
	return m
}

func TestAnthropicToChatClaudeCodeFirstTurn(t *testing.T) {
	res, err := AnthropicToChat(fixture(t, "anthropic_first_turn.json"), Options{Model: "gpt-up"})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Stream || res.ClientModel != "router-default" {
		t.Fatalf("stream=%v model=%q", res.Stream, res.ClientModel)
	}
	var req chatRequest
	if err := json.Unmarshal(res.Body, &req); err != nil {
		t.Fatal(err)
	}
	if req.Model != "gpt-up" || !req.Stream || req.StreamOptions == nil || !req.StreamOptions.IncludeUsage {
		t.Fatalf("model/stream/include_usage wrong: %s", res.Body)
	}
	roles := []string{}
	for _, m := range req.Messages {
		roles = append(roles, m.Role)
	}
	if strings.Join(roles, ",") != "system,user,system" {
		t.Fatalf("roles = %v", roles)
	}
	var sys string
	_ = json.Unmarshal(req.Messages[0].Content, &sys)
	if strings.Contains(sys, "billing-header") || !strings.HasPrefix(sys, "You are a Claude agent") || !strings.Contains(sys, "interactive agent") {
		t.Fatalf("system = %q", sys)
	}
	var user string
	_ = json.Unmarshal(req.Messages[1].Content, &user)
	if !strings.Contains(user, "system-reminder") || !strings.HasSuffix(user, "Reply with the word PONG") {
		t.Fatalf("user = %q", user)
	}
	if len(req.Tools) != 3 || req.Tools[0].Function.Name != "Agent" || req.Tools[1].Function.Name != "Bash" || req.Tools[2].Function.Name != "WebSearch" {
		t.Fatalf("tools = %+v", req.Tools)
	}
	if !strings.Contains(string(req.Tools[1].Function.Parameters), `"command"`) {
		t.Fatal("parameters lost")
	}
	if len(res.Notes) != 1 || !strings.Contains(res.Notes[0], "defer_loading") {
		t.Fatalf("notes = %q", res.Notes)
	}
	if req.ReasoningEffort != "high" || req.MaxTokens == nil || *req.MaxTokens != 32000 {
		t.Fatalf("effort=%q max=%v", req.ReasoningEffort, req.MaxTokens)
	}
	if req.User != "6f1c0c6f9e1d4c0b8a7e5d3c2b1a09f8e7d6c5b4a39281706f5e4d3c2b1a0f9e" {
		t.Fatalf("user = %q", req.User)
	}
	raw := decodeChatReq(t, res.Body)
	for _, k := range []string{"context_management", "output_config", "thinking", "metadata", "system"} {
		if _, ok := raw[k]; ok {
			t.Fatalf("%s forwarded", k)
		}
	}
	if strings.Contains(string(res.Body), "cache_control") || strings.Contains(string(res.Body), "defer_loading") {
		t.Fatal("cache_control / defer_loading forwarded")
	}
}

func TestAnthropicToChatToolTurn(t *testing.T) {
	res, err := AnthropicToChat(fixture(t, "anthropic_tool_turn.json"), Options{MaxCompletionTokens: true, ReasoningInHistory: true})
	if err != nil {
		t.Fatal(err)
	}
	var req chatRequest
	if err := json.Unmarshal(res.Body, &req); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range req.Messages {
		got = append(got, m.Role+":"+m.ToolCallID)
	}
	want := "system:,user:,system:,assistant:,tool:toolu_mock_01_6,tool:toolu_mock_01_7,user:"
	if strings.Join(got, ",") != want {
		t.Fatalf("messages = %v", got)
	}
	a := req.Messages[3]
	if len(a.ToolCalls) != 2 || a.ToolCalls[0].ID != "toolu_mock_01_6" || a.ToolCalls[1].Function.Name != "Read" ||
		a.ToolCalls[0].Function.Arguments != `{"command": "echo MARKER-$((6*7))", "description": "Print the tool marker"}` {
		t.Fatalf("assistant tool calls = %+v", a.ToolCalls)
	}
	if string(a.Content) != `"Running the tool."` || a.ReasoningContent != "I should run it." {
		t.Fatalf("assistant content=%s reasoning=%q", a.Content, a.ReasoningContent)
	}
	if string(req.Messages[4].Content) != `"MARKER-42"` || string(req.Messages[5].Content) != `"Error: no such file"` {
		t.Fatalf("tool results = %s / %s", req.Messages[4].Content, req.Messages[5].Content)
	}
	last := string(req.Messages[6].Content)
	if !strings.Contains(last, `"image_url"`) || !strings.Contains(last, "data:image/png;base64,iVBORw0KGgo=") || !strings.Contains(last, "continue") {
		t.Fatalf("final user message = %s", last)
	}
	if string(req.ToolChoice) != `"required"` || req.ParallelToolCalls == nil || *req.ParallelToolCalls {
		t.Fatalf("tool_choice=%s parallel=%v", req.ToolChoice, req.ParallelToolCalls)
	}
	if string(req.Stop) != `["\n\nHuman:","END"]` || *req.Temperature != 0.2 || *req.TopP != 0.9 {
		t.Fatalf("stop=%s", req.Stop)
	}
	if req.MaxCompletionTokens == nil || *req.MaxCompletionTokens != 1024 || req.MaxTokens != nil {
		t.Fatal("max_completion_tokens")
	}
	if req.ReasoningEffort != "medium" || req.Stream || req.StreamOptions != nil {
		t.Fatalf("effort=%q stream=%v", req.ReasoningEffort, req.Stream)
	}
	if !strings.Contains(string(req.ResponseFormat), `"json_schema"`) || !strings.Contains(string(req.ResponseFormat), `"answer"`) {
		t.Fatalf("response_format = %s", req.ResponseFormat)
	}
	if len(res.Notes) != 1 || !strings.Contains(res.Notes[0], "top_k") {
		t.Fatalf("notes = %q", res.Notes)
	}
}

func TestAnthropicToChatToolChoiceVariants(t *testing.T) {
	for choice, want := range map[string]string{
		`{"type":"auto"}`:               `"auto"`,
		`{"type":"none"}`:               `"none"`,
		`{"type":"tool","name":"Bash"}`: `{"function":{"name":"Bash"},"type":"function"}`,
	} {
		body := `{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"hi"}],"tools":[{"name":"Bash","input_schema":{"type":"object"}}],"tool_choice":` + choice + `}`
		res, err := AnthropicToChat([]byte(body), Options{})
		if err != nil {
			t.Fatal(err)
		}
		var req chatRequest
		_ = json.Unmarshal(res.Body, &req)
		if string(req.ToolChoice) != want {
			t.Errorf("%s -> %s, want %s", choice, req.ToolChoice, want)
		}
	}
}

func TestAnthropicToChatRejectsGarbage(t *testing.T) {
	for _, b := range []string{``, `{`, `[]`, `{"messages":[{"role":"user","content":7}]}`} {
		if _, err := AnthropicToChat([]byte(b), Options{}); err == nil {
			t.Errorf("%q: no error", b)
		}
	}
}

func TestChatResponseToAnthropic(t *testing.T) {
	cases := []struct {
		name, body, wantStop string
		wantTypes            string
		check                func(t *testing.T, m anthResponse)
	}{
		{"thinking before text, signature kept", `{"id":"chatcmpl-9","model":"up","choices":[{"index":0,"message":{"role":"assistant","content":"Answer","reasoning_content":"why","reasoning_signature":"sig+/=="},"finish_reason":"stop"}],"usage":{"prompt_tokens":100,"completion_tokens":7,"prompt_tokens_details":{"cached_tokens":60}}}`,
			"end_turn", "thinking,text", func(t *testing.T, m anthResponse) {
				if m.Content[0].Signature != "sig+/==" || m.Usage.InputTokens != 40 || m.Usage.CacheReadInputTokens != 60 || m.Usage.OutputTokens != 7 {
					t.Fatalf("%+v", m)
				}
			}},
		{"tool calls", `{"id":"x","choices":[{"index":0,"message":{"content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"a","arguments":"{\"x\":1}"}},{"id":"call_2","type":"function","function":{"name":"b","arguments":""}}]},"finish_reason":"tool_calls"}]}`,
			"tool_use", "tool_use,tool_use", func(t *testing.T, m anthResponse) {
				if m.Content[0].ID != "call_1" || string(m.Content[0].Input) != `{"x":1}` || string(m.Content[1].Input) != `{}` {
					t.Fatalf("%+v", m.Content)
				}
			}},
		{"length", `{"choices":[{"index":0,"message":{"content":"cut"},"finish_reason":"length"}]}`, "max_tokens", "text", nil},
		{"stop sequence (vLLM)", `{"choices":[{"index":0,"message":{"content":"a"},"finish_reason":"stop","stop_reason":"END"}]}`, "stop_sequence", "text", func(t *testing.T, m anthResponse) {
			if m.StopSequence == nil || *m.StopSequence != "END" {
				t.Fatal("stop_sequence")
			}
		}},
		{"unsigned thinking", `{"choices":[{"index":0,"message":{"content":"x","reasoning":"r"},"finish_reason":"stop"}]}`, "end_turn", "thinking,text", func(t *testing.T, m anthResponse) {
			if m.Content[0].Signature != UnsignedThinkingSignature {
				t.Fatal("signature")
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b, err := ChatResponseToAnthropic([]byte(tc.body), "router-default")
			if err != nil {
				t.Fatal(err)
			}
			var m anthResponse
			if err := json.Unmarshal(b, &m); err != nil {
				t.Fatal(err)
			}
			var types []string
			for _, c := range m.Content {
				types = append(types, c.Type)
			}
			if m.Model != "router-default" || m.Type != "message" || *m.StopReason != tc.wantStop || strings.Join(types, ",") != tc.wantTypes || !strings.HasPrefix(m.ID, "msg_") {
				t.Fatalf("got %s", b)
			}
			if tc.check != nil {
				tc.check(t, m)
			}
		})
	}
}

func TestChatResponseToAnthropicRejectsBadBodies(t *testing.T) {
	full := `{"id":"x","choices":[{"index":0,"message":{"tool_calls":[{"id":"call_1","function":{"name":"a","arguments":"{}"}}]},"finish_reason":"tool_calls"}]}`
	for _, b := range []string{full[:len(full)/2], "<html>bad gateway</html>", `{}`, `{"choices":[]}`} {
		if _, err := ChatResponseToAnthropic([]byte(b), "a"); !errors.Is(err, ErrUpstreamBody) {
			t.Errorf("%q: err = %v", b, err)
		}
	}
	_, err := ChatResponseToAnthropic([]byte(`{"error":{"message":"nope","type":"server_error"}}`), "a")
	var ue *apierr.UpstreamError
	if !errors.As(err, &ue) || ue.Message != "nope" {
		t.Fatalf("err = %v", err)
	}
}

func TestChatToAnthropicStream(t *testing.T) {
	cases := []struct {
		name, file string
		endErr     error
		check      func(t *testing.T, m gotMessage)
	}{
		{"text", "chat_stream_text.sse", nil, func(t *testing.T, m gotMessage) {
			if len(m.Blocks) != 1 || m.Blocks[0].Text != "PONG" || m.StopReason != "end_turn" || !m.Stopped {
				t.Fatal(dump(m))
			}
			if m.Usage["input_tokens"] != 20 || m.Usage["cache_read_input_tokens"] != 100 || m.Usage["output_tokens"] != 2 {
				t.Fatalf("usage %v", m.Usage)
			}
			if m.StartUsage["input_tokens"] != 777 || m.Model != "router-default" || m.ID != "msg_1" {
				t.Fatalf("start %v %s %s", m.StartUsage, m.Model, m.ID)
			}
		}},
		{"reasoning then text", "chat_stream_reasoning.sse", nil, func(t *testing.T, m gotMessage) {
			if len(m.Blocks) != 2 || m.Blocks[0].Type != "thinking" || m.Blocks[0].Thinking != "Let me think." ||
				m.Blocks[0].Signature != "c2lnbmF0dXJlLWJ5dGVz+/==" || m.Blocks[1].Text != "Answer: 42" {
				t.Fatal(dump(m))
			}
		}},
		{"two parallel tool calls", "chat_stream_parallel2.sse", nil, func(t *testing.T, m gotMessage) {
			if len(m.Blocks) != 3 || m.Blocks[0].Text != "Checking both." ||
				m.Blocks[1].ID != "call_a" || m.Blocks[1].Name != "get_weather" || m.Blocks[1].Input != `{"city":"Paris","unit":"celsius"}` ||
				m.Blocks[2].ID != "call_b" || m.Blocks[2].Name != "get_time" || m.Blocks[2].Input != `{"timezone":"Europe/Paris"}` ||
				m.StopReason != "tool_use" {
				t.Fatal(dump(m))
			}
		}},
		{"three calls interleaved with text", "chat_stream_parallel3.sse", nil, func(t *testing.T, m gotMessage) {
			var seq []string
			for _, b := range m.Blocks {
				seq = append(seq, b.Type+"|"+b.Text+b.Thinking+b.ID+b.Input)
			}
			want := []string{"thinking|Three calls needed.", "text|First text.", `tool_use|call_1{"path":"a"}`, `tool_use|call_2{"path":"b"}`,
				"text| Between calls.", `tool_use|call_3{"task":"c"}`}
			if strings.Join(seq, "\n") != strings.Join(want, "\n") || m.StopReason != "tool_use" || m.Usage["cache_read_input_tokens"] != 64 {
				t.Fatalf("got\n%s", strings.Join(seq, "\n"))
			}
		}},
		{"finish without [DONE]", "chat_stream_no_done.sse", nil, func(t *testing.T, m gotMessage) {
			if !m.Stopped || m.StopReason != "tool_use" || len(m.Blocks) != 1 || m.Blocks[0].Input != `{"cmd":"ls"}` {
				t.Fatal(dump(m))
			}
		}},
		{"broken mid-stream", "chat_stream_broken.sse", errReset, func(t *testing.T, m gotMessage) {
			if m.Stopped || m.ErrorType != "api_error" || !strings.Contains(m.ErrorMessage, "reset") {
				t.Fatal(dump(m))
			}
		}},
		{"clean EOF without finish is truncation", "chat_stream_broken.sse", nil, func(t *testing.T, m gotMessage) {
			if m.Stopped || m.ErrorType != "api_error" {
				t.Fatal(dump(m))
			}
		}},
		{"garbage", "chat_stream_garbage.sse", nil, func(t *testing.T, m gotMessage) {
			if m.Stopped || m.ErrorType == "" {
				t.Fatal(dump(m))
			}
		}},
		{"in-stream error object", "chat_stream_error.sse", nil, func(t *testing.T, m gotMessage) {
			if m.ErrorMessage != "model overloaded" {
				t.Fatal(dump(m))
			}
		}},
		{"stop sequence", "chat_stream_stopseq.sse", nil, func(t *testing.T, m gotMessage) {
			if m.StopReason != "stop_sequence" || m.StopSequence == nil || *m.StopSequence != "END" {
				t.Fatal(dump(m))
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := NewChatToAnthropicStream("router-default", StreamOptions{InputTokens: 777})
			frames := runStream(t, s, fixture(t, tc.file), tc.endErr)
			m := checkAnthropicStream(t, frames)
			tc.check(t, m)
			if again := s.Finish(nil); again != nil {
				t.Fatal("Finish after end produced frames")
			}
		})
	}
}

func TestChatToAnthropicStreamIsDeterministic(t *testing.T) {
	in := fixture(t, "chat_stream_parallel3.sse")
	first := runStream(t, NewChatToAnthropicStream("a", StreamOptions{ID: "msg_x"}), in, nil)
	for i := 0; i < 20; i++ {
		again := runStream(t, NewChatToAnthropicStream("a", StreamOptions{ID: "msg_x"}), in, nil)
		if dump(again) != dump(first) {
			t.Fatal("output differs between runs")
		}
	}
}

// TestChatToAnthropicStreamEarlierCallsFragmentAfterALaterCallStarted:
// a piece of call 0 that arrives after call 1 started is joined to call 0,
// which the client gets whole before call 1 (blocks are never reopened).
func TestChatToAnthropicStreamEarlierCallsFragmentAfterALaterCallStarted(t *testing.T) {
	s := NewChatToAnthropicStream("a", StreamOptions{})
	in := "data: " + `{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"c0","function":{"name":"a","arguments":"{"}}]}}]}` + "\n\n" +
		"data: " + `{"choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"c1","function":{"name":"b","arguments":"{}"}}]}}]}` + "\n\n" +
		"data: " + `{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"}"}}]}}]}` + "\n\n" +
		"data: " + finishToolCalls + "\n\n"
	m := checkAnthropicStream(t, runStream(t, s, []byte(in), nil))
	if m.ErrorType != "" || !m.Stopped || len(m.Blocks) != 2 || m.Blocks[0].ID != "c0" || m.Blocks[0].Input != "{}" || m.Blocks[1].ID != "c1" || m.Blocks[1].Input != "{}" {
		t.Fatal(dump(m))
	}
}
