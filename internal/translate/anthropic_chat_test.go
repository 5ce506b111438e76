package translate

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/flowgate/flowgate/internal/apierr"
	"github.com/flowgate/flowgate/internal/sse"
)

// ---- ChatToAnthropic ----

type anthOut struct {
	Model     string `json:"model"`
	MaxTokens int    `json:"max_tokens"`
	System    []struct {
		Type, Text string
	} `json:"system"`
	Messages []struct {
		Role    string      `json:"role"`
		Content []anthBlock `json:"content"`
	} `json:"messages"`
	Tools []struct {
		Name        string          `json:"name"`
		Description string          `json:"description"`
		InputSchema json.RawMessage `json:"input_schema"`
	} `json:"tools"`
	ToolChoice    map[string]any  `json:"tool_choice"`
	StopSequences []string        `json:"stop_sequences"`
	Temperature   *float64        `json:"temperature"`
	TopP          *float64        `json:"top_p"`
	Thinking      map[string]any  `json:"thinking"`
	OutputConfig  json.RawMessage `json:"output_config"`
	Metadata      map[string]any  `json:"metadata"`
	Stream        bool            `json:"stream"`
}

func decodeAnthOut(t *testing.T, b []byte) anthOut {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("invalid anthropic body: %v\n%s", err, b)
	}
	var out anthOut
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func turnShape(o anthOut) string {
	var parts []string
	for _, m := range o.Messages {
		var ts []string
		for _, c := range m.Content {
			s := c.Type
			if c.ID != "" {
				s += "(" + c.ID + ")"
			}
			if c.ToolUseID != "" {
				s += "(" + c.ToolUseID + ")"
			}
			ts = append(ts, s)
		}
		parts = append(parts, m.Role+":"+strings.Join(ts, "+"))
	}
	return strings.Join(parts, " ")
}

func TestChatToAnthropicCodex094ToolTurn(t *testing.T) {
	res, err := ChatToAnthropic(fixture(t, "chat_codex094_tool_turn.json"), Options{Model: "claude-sonnet-4-5"})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Stream || res.ClientModel != "router-default" || res.Tools != nil {
		t.Fatalf("stream=%v model=%q", res.Stream, res.ClientModel)
	}
	o := decodeAnthOut(t, res.Body)
	if o.Model != "claude-sonnet-4-5" || o.MaxTokens != 8192 || !o.Stream {
		t.Fatalf("model/max/stream: %s", res.Body)
	}
	if len(o.System) != 2 || !strings.HasPrefix(o.System[0].Text, "You are a coding agent") || !strings.Contains(o.System[0].Text, "<b>Be precise</b> & safe") ||
		!strings.Contains(o.System[1].Text, "permissions instructions") {
		t.Fatalf("system = %+v (developer must become system)", o.System)
	}
	if got, want := turnShape(o), "user:text+text+text assistant:tool_use(call_mock_01_23) user:tool_result(call_mock_01_23)"; got != want {
		t.Fatalf("turns = %s, want %s", got, want)
	}
	tu := o.Messages[1].Content[0]
	if tu.Name != "shell" || string(tu.Input) != `{"command":["bash","-lc","echo MARKER-$((6*7))"]}` {
		t.Fatalf("tool_use = %+v", tu)
	}
	var content string
	_ = json.Unmarshal(o.Messages[2].Content[0].Content, &content)
	if content != `{"output":"MARKER-42\n","metadata":{"exit_code":0,"duration_seconds":0.0}}` {
		t.Fatalf("tool_result content = %q", content)
	}
	var names []string
	for _, tl := range o.Tools {
		names = append(names, tl.Name)
	}
	if strings.Join(names, ",") != "shell,list_mcp_resources,update_plan,view_image" || !strings.Contains(string(o.Tools[0].InputSchema), `"required": ["command"]`) || o.Tools[0].Description == "" {
		t.Fatalf("tools = %s", res.Body)
	}
	if o.ToolChoice != nil || o.Thinking != nil || o.Temperature != nil || len(res.Notes) != 0 {
		t.Fatalf("unexpected: choice=%v thinking=%v notes=%q", o.ToolChoice, o.Thinking, res.Notes)
	}
}

func TestChatToAnthropicMapping(t *testing.T) {
	cases := []struct {
		name, body string
		opts       Options
		check      func(t *testing.T, o anthOut, res *Result)
	}{
		{"parallel tool results merged, ids kept, user text after results",
			`{"model":"m","messages":[{"role":"user","content":"go"},{"role":"assistant","content":"Both.","tool_calls":[{"id":"c1","type":"function","function":{"name":"a","arguments":"{\"x\":1}"}},{"id":"c2","type":"function","function":{"name":"b","arguments":"not json"}}]},{"role":"tool","tool_call_id":"c1","content":"r1"},{"role":"tool","tool_call_id":"c2","content":[{"type":"text","text":"r2"}]},{"role":"tool","tool_call_id":"c1","content":"r1b"},{"role":"user","content":"next"}]}`,
			Options{}, func(t *testing.T, o anthOut, res *Result) {
				if got := turnShape(o); got != "user:text assistant:text+tool_use(c1)+tool_use(c2) user:tool_result(c1)+tool_result(c2)+text" {
					t.Fatal(got)
				}
				if string(o.Messages[1].Content[2].Input) != `{"_raw_arguments":"not json"}` {
					t.Fatalf("raw args: %s", o.Messages[1].Content[2].Input)
				}
				if string(o.Messages[2].Content[0].Content) != `"r1\nr1b"` || string(o.Messages[2].Content[1].Content) != `"r2"` {
					t.Fatalf("results: %s %s", o.Messages[2].Content[0].Content, o.Messages[2].Content[1].Content)
				}
			}},
		{"images, stop, limits, sampling, user",
			`{"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"see"},{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBOR="}},{"type":"image_url","image_url":{"url":"https://x/y.png"}},{"type":"input_audio","input_audio":{}}]}],"stop":"END","max_completion_tokens":300,"max_tokens":100,"temperature":1.5,"user":"u-1","seed":3}`,
			Options{}, func(t *testing.T, o anthOut, res *Result) {
				c := o.Messages[0].Content
				if len(c) != 3 || c[1].Source == nil || c[1].Source.Type != "base64" || c[1].Source.MediaType != "image/png" || c[1].Source.Data != "iVBOR=" || c[2].Source.URL != "https://x/y.png" {
					t.Fatalf("content = %+v", c)
				}
				if strings.Join(o.StopSequences, ",") != "END" || o.MaxTokens != 300 || *o.Temperature != 1 || o.Metadata["user_id"] != "u-1" {
					t.Fatalf("%+v", o)
				}
				if len(res.Notes) != 3 { // input_audio, temperature clamp, seed
					t.Fatalf("notes = %q", res.Notes)
				}
			}},
		{"tool_choice function and parallel off",
			`{"model":"m","messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"a","parameters":{"type":"object"}}}],"tool_choice":{"type":"function","function":{"name":"a"}},"parallel_tool_calls":false,"reasoning_effort":"high"}`,
			Options{}, func(t *testing.T, o anthOut, res *Result) {
				if o.ToolChoice["type"] != "tool" || o.ToolChoice["name"] != "a" || o.ToolChoice["disable_parallel_tool_use"] != true {
					t.Fatalf("tool_choice = %v", o.ToolChoice)
				}
				if o.Thinking != nil || len(res.Notes) != 1 {
					t.Fatalf("thinking with forced tool: %v %q", o.Thinking, res.Notes)
				}
			}},
		{"required -> any; no tools -> no tool_choice",
			`{"model":"m","messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"a"}}],"tool_choice":"required"}`,
			Options{}, func(t *testing.T, o anthOut, res *Result) {
				if o.ToolChoice["type"] != "any" || string(o.Tools[0].InputSchema) != `{"type":"object","properties":{}}` {
					t.Fatalf("%v %s", o.ToolChoice, o.Tools[0].InputSchema)
				}
			}},
		{"reasoning_effort -> thinking, max raised above the budget, sampling dropped",
			`{"model":"m","messages":[{"role":"user","content":"x"}],"reasoning_effort":"high","top_p":0.5}`,
			Options{}, func(t *testing.T, o anthOut, res *Result) {
				if o.Thinking["type"] != "enabled" || o.Thinking["budget_tokens"] != float64(16384) || o.MaxTokens <= 16384 || o.TopP != nil {
					t.Fatalf("thinking=%v max=%d", o.Thinking, o.MaxTokens)
				}
			}},
		{"explicit small max shrinks the budget",
			`{"model":"m","messages":[{"role":"user","content":"x"}],"reasoning_effort":"medium","max_tokens":3000}`,
			Options{}, func(t *testing.T, o anthOut, res *Result) {
				if o.Thinking["budget_tokens"] != float64(2999) || o.MaxTokens != 3000 {
					t.Fatalf("thinking=%v max=%d", o.Thinking, o.MaxTokens)
				}
			}},
		{"thinking off in a tool loop without signature; signed reasoning replayed",
			`{"model":"m","messages":[{"role":"user","content":"x"},{"role":"assistant","content":"","reasoning_content":"hmm","reasoning_signature":"SIG","tool_calls":[{"id":"c1","function":{"name":"a","arguments":"{}"}}]},{"role":"tool","tool_call_id":"c1","content":"ok"},{"role":"assistant","reasoning_content":"unsigned","tool_calls":[{"id":"c2","function":{"name":"a","arguments":""}}]},{"role":"tool","tool_call_id":"c2","content":"ok"}],"reasoning_effort":"low"}`,
			Options{DefaultMaxTokens: 1000}, func(t *testing.T, o anthOut, res *Result) {
				if got := turnShape(o); got != "user:text assistant:thinking+tool_use(c1) user:tool_result(c1) assistant:tool_use(c2) user:tool_result(c2)" {
					t.Fatal(got)
				}
				if o.Messages[1].Content[0].Signature != "SIG" || o.Messages[1].Content[0].Thinking != "hmm" || string(o.Messages[3].Content[0].Input) != "{}" {
					t.Fatalf("%+v", o.Messages[1].Content[0])
				}
				if o.Thinking != nil || o.MaxTokens != 1000 || len(res.Notes) != 2 {
					t.Fatalf("thinking=%v max=%d notes=%q", o.Thinking, o.MaxTokens, res.Notes)
				}
			}},
		{"response_format json_schema -> output_config.format; json_object noted",
			`{"model":"m","messages":[{"role":"user","content":"x"}],"response_format":{"type":"json_schema","json_schema":{"name":"a","schema":{"type":"object"}}}}`,
			Options{}, func(t *testing.T, o anthOut, res *Result) {
				if string(o.OutputConfig) != `{"format":{"type":"json_schema","schema":{"type":"object"}}}` {
					t.Fatalf("%s", o.OutputConfig)
				}
			}},
		{"empty assistant dropped, same-role turns merged, id-less calls paired",
			`{"model":"m","messages":[{"role":"user","content":"a"},{"role":"assistant","content":""},{"role":"user","content":"b"},{"role":"assistant","tool_calls":[{"function":{"name":"f","arguments":"{}"}}]},{"role":"tool","content":"r"}],"response_format":{"type":"json_object"}}`,
			Options{}, func(t *testing.T, o anthOut, res *Result) {
				if len(o.Messages) != 3 || len(o.Messages[0].Content) != 2 || o.Messages[1].Content[0].ID == "" || o.Messages[1].Content[0].ID != o.Messages[2].Content[0].ToolUseID {
					t.Fatalf("%s", turnShape(o))
				}
				if len(res.Notes) != 1 || !strings.Contains(res.Notes[0], "json_object") {
					t.Fatalf("notes = %q", res.Notes)
				}
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, err := ChatToAnthropic([]byte(tc.body), tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, decodeAnthOut(t, res.Body), res)
		})
	}
}

func TestChatToAnthropicRejectsGarbage(t *testing.T) {
	for _, b := range []string{``, `{`, `[]`, `{"messages":[{"role":"user","content":7}]}`, `{"messages":[],"stop":5}`} {
		if _, err := ChatToAnthropic([]byte(b), Options{}); err == nil {
			t.Errorf("%q: no error", b)
		}
	}
}

// ---- AnthropicResponseToChat ----

type chatOut struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Model   string `json:"model"`
	Choices []struct {
		Message struct {
			Role               string          `json:"role"`
			Content            *string         `json:"content"`
			ReasoningContent   string          `json:"reasoning_content"`
			ReasoningSignature string          `json:"reasoning_signature"`
			ToolCalls          []chatDeltaCall `json:"tool_calls"`
		} `json:"message"`
		FinishReason string `json:"finish_reason"`
	} `json:"choices"`
	Usage chatUsage `json:"usage"`
}

func TestAnthropicResponseToChat(t *testing.T) {
	cases := []struct {
		name, body, finish string
		check              func(t *testing.T, c chatOut)
	}{
		{"thinking, text, usage with cache", `{"id":"msg_1","type":"message","role":"assistant","model":"claude","content":[{"type":"thinking","thinking":"why","signature":"S1"},{"type":"text","text":"Hi "},{"type":"text","text":"there"}],"stop_reason":"end_turn","usage":{"input_tokens":10,"cache_read_input_tokens":100,"cache_creation_input_tokens":5,"output_tokens":7}}`,
			"stop", func(t *testing.T, c chatOut) {
				m := c.Choices[0].Message
				if *m.Content != "Hi there" || m.ReasoningContent != "why" || m.ReasoningSignature != "S1" || c.ID != "chatcmpl-1" {
					t.Fatalf("%+v", c)
				}
				if c.Usage.PromptTokens != 115 || c.Usage.CompletionTokens != 7 || c.Usage.TotalTokens != 122 || c.Usage.cached() != 100 {
					t.Fatalf("usage %+v", c.Usage)
				}
			}},
		{"two tool calls", `{"id":"msg_2","type":"message","content":[{"type":"tool_use","id":"toolu_a","name":"a","input":{"x": 1}},{"type":"tool_use","id":"toolu_b","name":"b","input":{}}],"stop_reason":"tool_use","usage":{}}`,
			"tool_calls", func(t *testing.T, c chatOut) {
				m := c.Choices[0].Message
				if m.Content != nil || len(m.ToolCalls) != 2 || m.ToolCalls[0].ID != "toolu_a" || m.ToolCalls[0].Function.Arguments != `{"x":1}` || m.ToolCalls[1].Function.Arguments != `{}` {
					t.Fatalf("%+v", m)
				}
			}},
		{"max_tokens", `{"type":"message","content":[{"type":"text","text":"cut"}],"stop_reason":"max_tokens","usage":{}}`, "length", nil},
		{"stop_sequence", `{"type":"message","content":[],"stop_reason":"stop_sequence","stop_sequence":"END","usage":{}}`, "stop", func(t *testing.T, c chatOut) {
			if c.Choices[0].Message.Content == nil || *c.Choices[0].Message.Content != "" {
				t.Fatal("content")
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b, err := AnthropicResponseToChat([]byte(tc.body), "router-default")
			if err != nil {
				t.Fatal(err)
			}
			var c chatOut
			if err := json.Unmarshal(b, &c); err != nil {
				t.Fatalf("%v: %s", err, b)
			}
			if c.Model != "router-default" || c.Object != "chat.completion" || c.Choices[0].Message.Role != "assistant" || c.Choices[0].FinishReason != tc.finish {
				t.Fatalf("got %s", b)
			}
			if tc.check != nil {
				tc.check(t, c)
			}
		})
	}
}

func TestAnthropicResponseToChatRejectsBadBodies(t *testing.T) {
	full := `{"id":"msg_1","type":"message","content":[{"type":"tool_use","id":"toolu_a","name":"a","input":{}}],"stop_reason":"tool_use","usage":{}}`
	for _, b := range []string{full[:len(full)/2], "<html>bad gateway</html>", `{}`, `{"type":"message"}`, `[]`} {
		if _, err := AnthropicResponseToChat([]byte(b), "a"); !errors.Is(err, ErrUpstreamBody) {
			t.Errorf("%q: err = %v", b, err)
		}
	}
	_, err := AnthropicResponseToChat([]byte(`{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`), "a")
	var ue *apierr.UpstreamError
	if !errors.As(err, &ue) || ue.Message != "Overloaded" || ue.Type != "overloaded_error" {
		t.Fatalf("err = %v", err)
	}
}

// ---- AnthropicToChatStream ----

type gotCall struct{ ID, Name, Args string }

type gotChat struct {
	ID, Content, Reasoning, Signature string
	Calls                             []gotCall
	Finish                            string
	Usage                             *chatUsage
	Done                              bool
	Error                             string
}

// checkChatStream validates a chat chunk stream strictly: data-only
// frames; every chunk a chat.completion.chunk with one id and model alias;
// the first delta carries role assistant; tool_calls indexes appear in
// order 0,1,2.. with id, type and name on their first fragment and the id
// never changing; nothing but the usage chunk after finish_reason; [DONE]
// last and only after a finish_reason; an error frame last, without
// [DONE]; complete JSON arguments at the end.
func checkChatStream(t testing.TB, frames []sse.Frame, alias string) gotChat {
	t.Helper()
	var g gotChat
	ended, finished, first := false, false, true
	for i, f := range frames {
		if ended {
			t.Fatalf("frame %d after the end of the stream: %s", i, f.Data)
		}
		if f.Event != "" {
			t.Fatalf("frame %d has event %q (chat streams are data-only)", i, f.Event)
		}
		if sse.IsDone(f.Data) {
			if !finished {
				t.Fatalf("[DONE] without finish_reason")
			}
			g.Done, ended = true, true
			continue
		}
		var c struct {
			ID      string `json:"id"`
			Object  string `json:"object"`
			Model   string `json:"model"`
			Choices []struct {
				Index int `json:"index"`
				Delta *struct {
					Role               string  `json:"role"`
					Content            *string `json:"content"`
					ReasoningContent   string  `json:"reasoning_content"`
					ReasoningSignature string  `json:"reasoning_signature"`
					ToolCalls          []struct {
						Index    *int   `json:"index"`
						ID       string `json:"id"`
						Type     string `json:"type"`
						Function *struct {
							Name      *string `json:"name"`
							Arguments *string `json:"arguments"`
						} `json:"function"`
					} `json:"tool_calls"`
				} `json:"delta"`
				FinishReason *string `json:"finish_reason"`
			} `json:"choices"`
			Usage *chatUsage       `json:"usage"`
			Error *json.RawMessage `json:"error"`
		}
		if err := json.Unmarshal(f.Data, &c); err != nil {
			t.Fatalf("frame %d invalid JSON %q: %v", i, f.Data, err)
		}
		if c.Error != nil {
			var we apierr.Wire
			if json.Unmarshal(*c.Error, &we) != nil || we.Message == "" {
				t.Fatalf("bad error frame %s", f.Data)
			}
			g.Error, ended = we.Message, true
			continue
		}
		if c.Object != "chat.completion.chunk" || c.Model != alias || c.ID == "" || (g.ID != "" && c.ID != g.ID) {
			t.Fatalf("frame %d: bad envelope %s", i, f.Data)
		}
		g.ID = c.ID
		if len(c.Choices) == 0 {
			if !finished || c.Usage == nil {
				t.Fatalf("frame %d: empty choices outside the final usage chunk", i)
			}
			g.Usage = c.Usage
			continue
		}
		if finished {
			t.Fatalf("frame %d: choice chunk after finish_reason", i)
		}
		ch := c.Choices[0]
		if len(c.Choices) != 1 || ch.Index != 0 || ch.Delta == nil {
			t.Fatalf("frame %d: choices %s", i, f.Data)
		}
		d := ch.Delta
		if first && d.Role != "assistant" {
			t.Fatalf("first chunk without role assistant")
		}
		first = false
		if d.Content != nil {
			g.Content += *d.Content
		}
		g.Reasoning += d.ReasoningContent
		g.Signature += d.ReasoningSignature
		for _, tc := range d.ToolCalls {
			if tc.Index == nil || tc.Function == nil {
				t.Fatalf("frame %d: tool call without index/function", i)
			}
			k := *tc.Index
			switch {
			case k == len(g.Calls):
				if tc.ID == "" || tc.Type != "function" || tc.Function.Name == nil || *tc.Function.Name == "" {
					t.Fatalf("frame %d: new tool call %d without id/type/name", i, k)
				}
				g.Calls = append(g.Calls, gotCall{ID: tc.ID, Name: *tc.Function.Name})
			case k < len(g.Calls):
				if tc.ID != "" && tc.ID != g.Calls[k].ID || tc.Function.Name != nil && *tc.Function.Name != "" {
					t.Fatalf("frame %d: tool call %d header repeated or changed", i, k)
				}
			default:
				t.Fatalf("frame %d: tool call index %d skips %d", i, k, len(g.Calls))
			}
			if tc.Function.Arguments != nil {
				g.Calls[k].Args += *tc.Function.Arguments
			}
		}
		if ch.FinishReason != nil {
			g.Finish, finished = *ch.FinishReason, true
		}
	}
	if g.Done {
		for _, c := range g.Calls {
			if !json.Valid([]byte(c.Args)) {
				t.Fatalf("call %s arguments not complete JSON: %q", c.ID, c.Args)
			}
		}
	}
	return g
}

func TestAnthropicToChatStream(t *testing.T) {
	cases := []struct {
		name, file string
		endErr     error
		check      func(t *testing.T, g gotChat)
	}{
		{"text with cache usage", "anthropic_stream_text.sse", nil, func(t *testing.T, g gotChat) {
			if g.Content != "PONG \"héllo\"\n" || g.Finish != "stop" || !g.Done || g.ID != "chatcmpl-01TextABC" {
				t.Fatalf("%+v", g)
			}
			if g.Usage.PromptTokens != 135 || g.Usage.CompletionTokens != 7 || g.Usage.cached() != 100 || g.Usage.TotalTokens != 142 {
				t.Fatalf("usage %+v", g.Usage)
			}
		}},
		{"thinking, signature, text, max_tokens", "anthropic_stream_thinking.sse", nil, func(t *testing.T, g gotChat) {
			if g.Reasoning != "Let me think." || g.Signature != "EqQBCkYIBxgCKkA+sig/==" || g.Content != "Answer: 42" || g.Finish != "length" {
				t.Fatalf("%+v", g)
			}
		}},
		{"text then three tool_use blocks", "anthropic_stream_tools2.sse", nil, func(t *testing.T, g gotChat) {
			want := []gotCall{{"toolu_01A", "get_weather", `{"city": "Paris", "unit": "celsius"}`}, {"toolu_01B", "get_time", `{"timezone":"Europe/Paris"}`}, {"toolu_01C", "list_files", `{}`}}
			if g.Content != "Checking both." || g.Finish != "tool_calls" || dump(g.Calls) != dump(want) || g.Usage.CompletionTokens != 89 {
				t.Fatalf("%+v", g)
			}
		}},
		{"error event mid-stream", "anthropic_stream_error.sse", nil, func(t *testing.T, g gotChat) {
			if g.Error != "Overloaded" || g.Done || g.Content != "Partial" {
				t.Fatalf("%+v", g)
			}
		}},
		{"truncated", "anthropic_stream_truncated.sse", nil, func(t *testing.T, g gotChat) {
			if g.Error == "" || g.Done || len(g.Calls) != 1 {
				t.Fatalf("%+v", g)
			}
		}},
		{"connection reset", "anthropic_stream_text.sse", errReset, func(t *testing.T, g gotChat) {
			// message_stop already completed the stream: the reset changes nothing.
			if !g.Done || g.Error != "" {
				t.Fatalf("%+v", g)
			}
		}},
		{"garbage", "anthropic_stream_garbage.sse", nil, func(t *testing.T, g gotChat) {
			if g.Error == "" || g.Done {
				t.Fatalf("%+v", g)
			}
		}},
		{"message_delta then EOF without message_stop", "anthropic_stream_nostop.sse", nil, func(t *testing.T, g gotChat) {
			if !g.Done || g.Finish != "stop" || g.Content != "done" {
				t.Fatalf("%+v", g)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			frames := runStream(t, NewAnthropicToChatStream("router-default", StreamOptions{CreatedAt: 1}), fixture(t, tc.file), tc.endErr)
			tc.check(t, checkChatStream(t, frames, "router-default"))
		})
	}
}

func TestAnthropicToChatStreamRejectsOutOfOrderBlocks(t *testing.T) {
	for name, evs := range map[string][]string{
		"delta before start":    {`{"type":"message_start","message":{"id":"msg_1","usage":{}}}`, `{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"x"}}`},
		"index skipped":         {`{"type":"content_block_start","index":1,"content_block":{"type":"text","text":""}}`},
		"index restarted":       {`{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}`, `{"type":"content_block_stop","index":0}`, `{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}`},
		"stop_reason with open": {`{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}`, `{"type":"message_delta","delta":{"stop_reason":"end_turn"}}`},
		"no type":               {`{"index":0}`},
	} {
		t.Run(name, func(t *testing.T) {
			s := NewAnthropicToChatStream("a", StreamOptions{})
			var frames []sse.Frame
			var err error
			for _, ev := range evs {
				var fs []sse.Frame
				fs, err = s.Feed([]byte(ev))
				frames = append(frames, fs...)
				if err != nil {
					break
				}
			}
			if !errors.Is(err, ErrUpstreamBody) {
				t.Fatalf("err = %v", err)
			}
			frames = append(frames, s.Finish(err)...)
			if g := checkChatStream(t, frames, "a"); g.Error == "" {
				t.Fatal("no error frame")
			}
		})
	}
}
