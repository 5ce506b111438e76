package translate

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/flowgate/flowgate/internal/apierr"
)

// ---- Chat / Messages -> Responses requests ----

type respOut struct {
	Model             string          `json:"model"`
	Instructions      string          `json:"instructions"`
	Input             []respItem      `json:"input"`
	Tools             []respTool      `json:"tools"`
	ToolChoice        json.RawMessage `json:"tool_choice"`
	ParallelToolCalls *bool           `json:"parallel_tool_calls"`
	MaxOutputTokens   *int            `json:"max_output_tokens"`
	Reasoning         *struct {
		Effort string `json:"effort"`
	} `json:"reasoning"`
	Text   *struct{ Format map[string]any } `json:"text"`
	Stream bool                             `json:"stream"`
	Store  *bool                            `json:"store"`
}

func decodeRespOut(t *testing.T, b []byte) respOut {
	t.Helper()
	var o respOut
	if err := json.Unmarshal(b, &o); err != nil {
		t.Fatalf("invalid responses body %s: %v", b, err)
	}
	if o.Store == nil || *o.Store {
		t.Fatalf("store must be false: %s", b)
	}
	return o
}

// itemShape summarises input items: "message:user", "function_call(id,name)", ...
func itemShape(o respOut) string {
	var s []string
	for _, it := range o.Input {
		switch it.Type {
		case "message":
			var parts []respPart
			_ = json.Unmarshal(it.Content, &parts)
			var ps []string
			for _, p := range parts {
				ps = append(ps, p.Type)
			}
			s = append(s, "message:"+it.Role+"["+strings.Join(ps, "+")+"]")
		case "function_call":
			s = append(s, "function_call("+it.CallID+","+it.Name+")")
		case "function_call_output":
			s = append(s, "output("+it.CallID+")")
		default:
			s = append(s, it.Type)
		}
	}
	return strings.Join(s, " ")
}

func TestChatToResponses(t *testing.T) {
	body := `{"model":"codex","stream":true,"stream_options":{"include_usage":true},"max_tokens":4,"reasoning_effort":"high","stop":["X"],
	"messages":[
	 {"role":"system","content":"You are terse."},
	 {"role":"developer","content":[{"type":"text","text":"Dev rules."}]},
	 {"role":"user","content":[{"type":"text","text":"weather?"},{"type":"image_url","image_url":{"url":"data:image/png;base64,AAA"}}]},
	 {"role":"assistant","content":"Checking.","reasoning_content":"hidden","tool_calls":[
	   {"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}},
	   {"id":"call_2","type":"function","function":{"name":"get_time","arguments":""}}]},
	 {"role":"tool","tool_call_id":"call_1","content":"sunny"},
	 {"role":"tool","tool_call_id":"call_2","content":[{"type":"text","text":"noon"}]},
	 {"role":"system","content":"Mid-conversation rule."},
	 {"role":"user","content":"thanks"}],
	"tools":[{"type":"function","function":{"name":"get_weather","description":"w","parameters":{"type":"object","properties":{"city":{"type":"string"}}},"strict":true}},
	         {"type":"function","name":"get_time","function":{"parameters":null}}],
	"tool_choice":{"type":"function","function":{"name":"get_weather"}},"parallel_tool_calls":true,
	"response_format":{"type":"json_schema","json_schema":{"name":"out","schema":{"type":"object"},"strict":true}}}`
	res, err := ChatToResponses([]byte(body), Options{Model: "gpt-5-codex"})
	if err != nil {
		t.Fatal(err)
	}
	o := decodeRespOut(t, res.Body)
	if o.Model != "gpt-5-codex" || res.ClientModel != "codex" || !res.Stream || !o.Stream {
		t.Fatalf("model/stream: %s", res.Body)
	}
	if o.Instructions != "You are terse.\n\nDev rules." {
		t.Fatalf("instructions %q", o.Instructions)
	}
	want := "message:user[input_text+input_image] message:assistant[output_text] function_call(call_1,get_weather) function_call(call_2,get_time) output(call_1) output(call_2) message:developer[input_text] message:user[input_text]"
	if got := itemShape(o); got != want {
		t.Fatalf("input = %s\nwant    %s", got, want)
	}
	if o.Input[3].Arguments != "{}" || o.Input[2].Arguments != `{"city":"Paris"}` || string(o.Input[5].Output) != `"noon"` {
		t.Fatalf("arguments/outputs: %s", res.Body)
	}
	if len(o.Tools) != 2 || o.Tools[0].Name != "get_weather" || o.Tools[0].Strict == nil || o.Tools[1].Name != "get_time" || string(o.Tools[1].Parameters) != `{"type":"object","properties":{}}` {
		t.Fatalf("tools: %s", res.Body)
	}
	if string(o.ToolChoice) != `{"name":"get_weather","type":"function"}` || o.ParallelToolCalls == nil || !*o.ParallelToolCalls {
		t.Fatalf("tool_choice %s", o.ToolChoice)
	}
	if o.MaxOutputTokens == nil || *o.MaxOutputTokens != 16 || o.Reasoning == nil || o.Reasoning.Effort != "high" {
		t.Fatalf("limits: %s", res.Body)
	}
	if o.Text == nil || o.Text.Format["type"] != "json_schema" || o.Text.Format["name"] != "out" || o.Text.Format["strict"] != true {
		t.Fatalf("text.format: %s", res.Body)
	}
	notes := strings.Join(res.Notes, "|")
	for _, n := range []string{"stop", "reasoning_content", "raised to 16"} {
		if !strings.Contains(notes, n) {
			t.Fatalf("notes %q lack %q", res.Notes, n)
		}
	}
	for _, bad := range []string{`{"messages":5}`, `{"messages":[{"role":"user","content":5}]}`, `not json`} {
		if _, err := ChatToResponses([]byte(bad), Options{}); err == nil {
			t.Fatalf("accepted %s", bad)
		}
	}
}

func TestChatToResponsesGeneratedIDsAndChoices(t *testing.T) {
	body := `{"model":"m","messages":[{"role":"user","content":"hi"},
	 {"role":"assistant","content":null,"tool_calls":[{"type":"function","function":{"name":"a","arguments":"{}"}},{"type":"function","function":{"name":"b","arguments":"{}"}}]},
	 {"role":"tool","content":"ra"},{"role":"tool","content":"rb"}],
	 "tools":[{"type":"function","function":{"name":"a"}},{"type":"function","function":{"name":"b"}},{"type":"custom","custom":{"name":"c"}}],"tool_choice":"required","max_completion_tokens":100,"response_format":{"type":"json_object"}}`
	res, err := ChatToResponses([]byte(body), Options{})
	if err != nil {
		t.Fatal(err)
	}
	o := decodeRespOut(t, res.Body)
	if o.Input[1].CallID == "" || o.Input[1].CallID != o.Input[3].CallID || o.Input[2].CallID != o.Input[4].CallID || o.Input[1].CallID == o.Input[2].CallID {
		t.Fatalf("generated ids not paired: %s", itemShape(o))
	}
	if string(o.ToolChoice) != `"required"` || len(o.Tools) != 2 || *o.MaxOutputTokens != 100 || o.Text.Format["type"] != "json_object" || o.Stream || o.Model != "m" {
		t.Fatalf("%s", res.Body)
	}
}

func TestAnthropicToResponsesKeepsToolTurns(t *testing.T) {
	res, err := AnthropicToResponses(fixture(t, "anthropic_tool_turn.json"), Options{Model: "gpt-5-codex"})
	if err != nil {
		t.Fatal(err)
	}
	o := decodeRespOut(t, res.Body)
	if o.Model != "gpt-5-codex" || res.ClientModel != "router-default" || res.Stream || o.Instructions == "" {
		t.Fatalf("%s", res.Body)
	}
	shape := itemShape(o)
	for _, w := range []string{"function_call(toolu_mock_01_6,", "function_call(toolu_mock_01_7,", "output(toolu_mock_01_6) output(toolu_mock_01_7)"} {
		if !strings.Contains(shape, w) {
			t.Fatalf("input %s lacks %s", shape, w)
		}
	}
	if strings.Index(shape, "function_call(toolu_mock_01_7") > strings.Index(shape, "output(toolu_mock_01_6)") {
		t.Fatalf("calls must precede their outputs: %s", shape)
	}
	if o.Reasoning == nil || o.Reasoning.Effort == "" || o.MaxOutputTokens == nil || *o.MaxOutputTokens != 1024 {
		t.Fatalf("%s", res.Body)
	}
	if _, err := AnthropicToResponses([]byte(`{"messages":[{"role":"user","content":7}]}`), Options{}); err == nil {
		t.Fatal("garbage accepted")
	}
}

// ---- Responses answers -> Chat / Messages ----

const respToolAnswer = `{"id":"resp_9","object":"response","created_at":5,"status":"completed","error":null,"incomplete_details":null,"model":"gpt-5-codex",
 "output":[{"id":"rs_1","type":"reasoning","summary":[{"type":"summary_text","text":"hm"}],"encrypted_content":"E"},
  {"id":"msg_1","type":"message","role":"assistant","content":[{"type":"output_text","text":"ok","annotations":[]}]},
  {"id":"fc_1","type":"function_call","call_id":"call_1","name":"get_weather","arguments":"{\"city\":\"Paris\"}"},
  {"id":"fc_2","type":"function_call","call_id":"call_2","name":"get_time","arguments":""}],
 "usage":{"input_tokens":7,"input_tokens_details":{"cached_tokens":4},"output_tokens":5,"output_tokens_details":{"reasoning_tokens":2},"total_tokens":12}}`

func TestResponsesResponseToChat(t *testing.T) {
	b, err := ResponsesResponseToChat([]byte(respToolAnswer), "codex")
	if err != nil {
		t.Fatal(err)
	}
	var r chatResponse
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	m := r.Choices[0].Message
	if r.Model != "codex" || r.ID != "chatcmpl-9" || r.Created != 5 || *m.Content != "ok" || *m.ReasoningContent != "hm" || r.Choices[0].FinishReason != "tool_calls" {
		t.Fatalf("%s", b)
	}
	if len(m.ToolCalls) != 2 || m.ToolCalls[0].ID != "call_1" || m.ToolCalls[0].Function.Arguments != `{"city":"Paris"}` || m.ToolCalls[1].Function.Name != "get_time" || m.ToolCalls[1].Function.Arguments != "{}" {
		t.Fatalf("%s", b)
	}
	if r.Usage.PromptTokens != 7 || r.Usage.CompletionTokens != 5 || r.Usage.cached() != 4 || r.Usage.reasoningTokens() != 2 || r.Usage.TotalTokens != 12 {
		t.Fatalf("usage %s", b)
	}
	inc := `{"id":"resp_2","object":"response","status":"incomplete","incomplete_details":{"reason":"max_output_tokens"},"output":[{"type":"message","content":[{"type":"output_text","text":"cut"}]}]}`
	b, err = ResponsesResponseToChat([]byte(inc), "codex")
	if err != nil || !strings.Contains(string(b), `"finish_reason":"length"`) || !strings.Contains(string(b), `"content":"cut"`) {
		t.Fatalf("%s %v", b, err)
	}
	for _, bad := range []string{`{"id":"resp_1","object":"resp`, `<html>`, `{"foo":1}`, ``} {
		if _, err := ResponsesResponseToChat([]byte(bad), "a"); !errors.Is(err, ErrUpstreamBody) {
			t.Fatalf("%q: err = %v", bad, err)
		}
	}
	var ue *apierr.UpstreamError
	_, err = ResponsesResponseToChat([]byte(`{"object":"response","status":"failed","error":{"code":"server_error","message":"boom"},"output":[]}`), "a")
	if !errors.As(err, &ue) || ue.Message != "boom" || ue.Code != "server_error" {
		t.Fatalf("err = %v", err)
	}
	_, err = ResponsesResponseToChat([]byte(`{"error":{"message":"bad key","type":"invalid_request_error"}}`), "a")
	if !errors.As(err, &ue) || ue.Message != "bad key" {
		t.Fatalf("err = %v", err)
	}
}

func TestResponsesResponseToAnthropic(t *testing.T) {
	b, err := ResponsesResponseToAnthropic([]byte(respToolAnswer), "claude-alias")
	if err != nil {
		t.Fatal(err)
	}
	var r anthResponse
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, c := range r.Content {
		types = append(types, c.Type)
	}
	if r.Model != "claude-alias" || strings.Join(types, ",") != "thinking,text,tool_use,tool_use" || *r.StopReason != "tool_use" {
		t.Fatalf("%s", b)
	}
	if r.Content[2].ID != "call_1" || string(r.Content[2].Input) != `{"city":"Paris"}` || string(r.Content[3].Input) != `{}` || r.Usage.InputTokens != 3 || r.Usage.CacheReadInputTokens != 4 {
		t.Fatalf("%s", b)
	}
	if _, err := ResponsesResponseToAnthropic([]byte(`{"object":"response","output":[`), "a"); !errors.Is(err, ErrUpstreamBody) {
		t.Fatalf("err = %v", err)
	}
}

// ---- Responses streams -> Chat / Messages ----

func TestResponsesToChatStream(t *testing.T) {
	cases := []struct {
		name, file string
		endErr     error
		check      func(t *testing.T, g gotChat)
	}{
		{"text", "responses_stream_text.sse", nil, func(t *testing.T, g gotChat) {
			if g.Content != "PONG \"héllo\"\n" || g.Finish != "stop" || !g.Done || g.ID != "chatcmpl-01abc" || len(g.Calls) != 0 {
				t.Fatalf("%s", dump(g))
			}
			if g.Usage.PromptTokens != 120 || g.Usage.CompletionTokens != 30 || g.Usage.cached() != 100 || g.Usage.reasoningTokens() != 12 || g.Usage.TotalTokens != 150 {
				t.Fatalf("usage %+v", g.Usage)
			}
		}},
		{"reasoning then text, incomplete", "responses_stream_reasoning.sse", nil, func(t *testing.T, g gotChat) {
			if g.Reasoning != "Let me think.\n\nDone." || g.Content != "Answer: 42" || g.Finish != "length" || !g.Done {
				t.Fatalf("%s", dump(g))
			}
		}},
		{"two parallel calls, interleaved", "responses_stream_tools2.sse", nil, func(t *testing.T, g gotChat) {
			if g.Content != "Checking." || g.Finish != "tool_calls" || !g.Done || len(g.Calls) != 2 ||
				g.Calls[0] != (gotCall{"call_A", "get_weather", `{"city":"Paris","unit":"celsius"}`}) ||
				g.Calls[1] != (gotCall{"call_B", "get_time", `{"timezone":"Europe/Paris"}`}) {
				t.Fatalf("%s", dump(g))
			}
		}},
		{"response.failed mid-stream", "responses_stream_failed.sse", nil, func(t *testing.T, g gotChat) {
			if g.Done || g.Content != "Par" || g.Error != "The model failed to generate a response." {
				t.Fatalf("%s", dump(g))
			}
		}},
		{"truncated", "responses_stream_truncated.sse", nil, func(t *testing.T, g gotChat) {
			if g.Done || !strings.Contains(g.Error, "response.completed") || len(g.Calls) != 1 {
				t.Fatalf("%s", dump(g))
			}
		}},
		{"garbage", "responses_stream_garbage.sse", nil, func(t *testing.T, g gotChat) {
			if g.Done || !strings.Contains(g.Error, "invalid upstream response") {
				t.Fatalf("%s", dump(g))
			}
		}},
		{"reset after completed", "responses_stream_tools2.sse", errReset, func(t *testing.T, g gotChat) {
			if !g.Done || g.Error != "" || len(g.Calls) != 2 {
				t.Fatalf("%s", dump(g))
			}
		}},
		{"reset mid-stream", "responses_stream_truncated.sse", errReset, func(t *testing.T, g gotChat) {
			if g.Done || !strings.Contains(g.Error, "connection reset") {
				t.Fatalf("%s", dump(g))
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			frames := runStream(t, NewResponsesToChatStream("codex", StreamOptions{CreatedAt: 1}), fixture(t, tc.file), tc.endErr)
			tc.check(t, checkChatStream(t, frames, "codex"))
		})
	}
}

func TestResponsesToAnthropicStream(t *testing.T) {
	cases := []struct {
		name, file string
		endErr     error
		check      func(t *testing.T, m gotMessage)
	}{
		{"text", "responses_stream_text.sse", nil, func(t *testing.T, m gotMessage) {
			if !m.Stopped || len(m.Blocks) != 1 || m.Blocks[0].Text != "PONG \"héllo\"\n" || m.StopReason != "end_turn" || m.Usage["input_tokens"] != 20 || m.Usage["cache_read_input_tokens"] != 100 || m.Usage["output_tokens"] != 30 {
				t.Fatalf("%s", dump(m))
			}
		}},
		{"reasoning then text", "responses_stream_reasoning.sse", nil, func(t *testing.T, m gotMessage) {
			if !m.Stopped || len(m.Blocks) != 2 || m.Blocks[0].Type != "thinking" || m.Blocks[0].Thinking != "Let me think.\n\nDone." || m.Blocks[1].Text != "Answer: 42" || m.StopReason != "max_tokens" {
				t.Fatalf("%s", dump(m))
			}
		}},
		{"two parallel calls as sequential blocks", "responses_stream_tools2.sse", nil, func(t *testing.T, m gotMessage) {
			if !m.Stopped || len(m.Blocks) != 3 || m.StopReason != "tool_use" || m.Blocks[1].ID != "call_A" || m.Blocks[1].Input != `{"city":"Paris","unit":"celsius"}` ||
				m.Blocks[2].Name != "get_time" || m.Blocks[2].Input != `{"timezone":"Europe/Paris"}` {
				t.Fatalf("%s", dump(m))
			}
		}},
		{"response.failed", "responses_stream_failed.sse", nil, func(t *testing.T, m gotMessage) {
			if m.Stopped || m.ErrorType == "" || m.ErrorMessage != "The model failed to generate a response." {
				t.Fatalf("%s", dump(m))
			}
		}},
		{"truncated", "responses_stream_truncated.sse", nil, func(t *testing.T, m gotMessage) {
			if m.Stopped || m.ErrorType == "" {
				t.Fatalf("%s", dump(m))
			}
		}},
		{"garbage", "responses_stream_garbage.sse", nil, func(t *testing.T, m gotMessage) {
			if m.Stopped || m.ErrorType == "" {
				t.Fatalf("%s", dump(m))
			}
		}},
		{"reset after completed", "responses_stream_text.sse", errReset, func(t *testing.T, m gotMessage) {
			if !m.Stopped || m.ErrorType != "" {
				t.Fatalf("%s", dump(m))
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			frames := runStream(t, NewResponsesToAnthropicStream("claude-alias", StreamOptions{InputTokens: 9}), fixture(t, tc.file), tc.endErr)
			m := checkAnthropicStream(t, frames)
			if m.Model != "claude-alias" || m.StartUsage["input_tokens"] != 9 {
				t.Fatalf("message_start %s", dump(m))
			}
			tc.check(t, m)
		})
	}
}

func respSSE(events ...string) []byte {
	var b strings.Builder
	for _, e := range events {
		e = strings.NewReplacer("\n", "", "\t", "").Replace(e) // one data line
		b.WriteString("data: " + e + "\n\n")
	}
	return []byte(b.String())
}

// Calls that skip the usual announcements are still delivered, each once.
func TestResponsesToChatStreamNeverLosesACall(t *testing.T) {
	in := respSSE(
		`{"type":"response.created","response":{"id":"resp_x"}}`,
		// only output_item.done, no added / deltas
		`{"type":"response.output_item.done","output_index":0,"item":{"id":"fc_1","type":"function_call","call_id":"c1","name":"a","arguments":"{\"x\":1}"}}`,
		// added with no arguments at all, never done
		`{"type":"response.output_item.added","output_index":1,"item":{"id":"fc_2","type":"function_call","call_id":"c2","name":"b","arguments":""}}`,
		// deltas, then a done event whose arguments carry a missing tail
		`{"type":"response.output_item.added","output_index":2,"item":{"id":"fc_3","type":"function_call","call_id":"c3","name":"c"}}`,
		`{"type":"response.function_call_arguments.delta","item_id":"fc_3","output_index":2,"delta":"{\"y\":"}`,
		`{"type":"response.function_call_arguments.done","item_id":"fc_3","output_index":2,"arguments":"{\"y\":2}"}`,
		// one only in the final output; message text only in the final output
		`{"type":"response.completed","response":{"id":"resp_x","status":"completed","output":[
			{"id":"msg","type":"message","content":[{"type":"output_text","text":"late"}]},
			{"id":"fc_1","type":"function_call","call_id":"c1","name":"a","arguments":"{\"x\":1}"},
			{"id":"fc_4","type":"function_call","call_id":"c4","name":"d","arguments":"{\"z\":3}"}]}}`)
	g := checkChatStream(t, runStream(t, NewResponsesToChatStream("m", StreamOptions{}), in, nil), "m")
	want := []gotCall{{"c1", "a", `{"x":1}`}, {"c2", "b", "{}"}, {"c3", "c", `{"y":2}`}, {"c4", "d", `{"z":3}`}}
	if !g.Done || g.Finish != "tool_calls" || g.Content != "late" || dump(g.Calls) != dump(want) {
		t.Fatalf("%s", dump(g))
	}
	m := checkAnthropicStream(t, runStream(t, NewResponsesToAnthropicStream("m", StreamOptions{}), in, nil))
	if !m.Stopped || len(m.Blocks) != 5 || m.Blocks[3].ID != "c4" || m.Blocks[4].Text != "late" || m.StopReason != "tool_use" {
		t.Fatalf("%s", dump(m))
	}
}

func TestResponsesToChatStreamRejectsBrokenStreams(t *testing.T) {
	for name, in := range map[string][]byte{
		"delta for unknown item": respSSE(`{"type":"response.function_call_arguments.delta","output_index":3,"delta":"{}"}`),
		"arguments not JSON": respSSE(`{"type":"response.output_item.added","output_index":0,"item":{"type":"function_call","call_id":"c","name":"n"}}`,
			`{"type":"response.function_call_arguments.delta","output_index":0,"delta":"{\"a\":"}`,
			`{"type":"response.output_item.done","output_index":0,"item":{"type":"function_call","call_id":"c","name":"n","arguments":"{\"a\":"}}`),
		"event without type": respSSE(`{"delta":"x"}`),
		"error event":        respSSE(`{"type":"error","code":"rate_limit_exceeded","message":"slow down"}`),
		"error without text": respSSE(`{"type":"response.failed","response":{"status":"failed"}}`),
	} {
		t.Run(name, func(t *testing.T) {
			g := checkChatStream(t, runStream(t, NewResponsesToChatStream("m", StreamOptions{}), in, nil), "m")
			if g.Done || g.Error == "" {
				t.Fatalf("%s", dump(g))
			}
			m := checkAnthropicStream(t, runStream(t, NewResponsesToAnthropicStream("m", StreamOptions{}), in, nil))
			if m.Stopped || m.ErrorMessage == "" {
				t.Fatalf("%s", dump(m))
			}
		})
	}
}
