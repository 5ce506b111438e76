package translate

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// ---- Responses <-> Anthropic ----

func TestResponsesToAnthropicToolTurn(t *testing.T) {
	res, err := ResponsesToAnthropic(fixture(t, "responses_tool_turn.json"), Options{Model: "claude-x", DeveloperRole: true})
	if err != nil {
		t.Fatal(err)
	}
	o := decodeAnthOut(t, res.Body)
	if o.Model != "claude-x" || res.ClientModel != "router-default" || res.Stream || o.MaxTokens != 2048 {
		t.Fatalf("model/max: %s", res.Body)
	}
	if len(o.System) != 2 || o.System[0].Text != "Top-level instructions." || o.System[1].Text != "dev prompt" {
		t.Fatalf("system = %+v (developer must be system, never user)", o.System)
	}
	if got, want := turnShape(o), "user:text+image assistant:text+tool_use(call_mock_10)+tool_use(call_mock_12) user:tool_result(call_mock_10)+tool_result(call_mock_12)"; got != want {
		t.Fatalf("turns = %s\nwant   %s", got, want)
	}
	if o.Messages[1].Content[2].Name != "multi_agent_v1__spawn_agent" || res.Tools.Client("multi_agent_v1__spawn_agent") != (ToolRef{"multi_agent_v1", "spawn_agent"}) {
		t.Fatalf("namespace flattening lost: %+v", o.Messages[1].Content[2])
	}
	if o.ToolChoice["type"] != "tool" || o.ToolChoice["name"] != "multi_agent_v1__spawn_agent" || o.ToolChoice["disable_parallel_tool_use"] != true {
		t.Fatalf("tool_choice = %v", o.ToolChoice)
	}
	// Forced tool_choice: thinking left off with a note; reasoning item noted.
	if o.Thinking != nil || len(res.Notes) < 2 || !strings.Contains(strings.Join(res.Notes, "|"), "reasoning items") {
		t.Fatalf("thinking=%v notes=%q", o.Thinking, res.Notes)
	}
	if string(o.OutputConfig) != `{"format":{"type":"json_schema","schema":{"type":"object"}}}` {
		t.Fatalf("output_config = %s", o.OutputConfig)
	}
}

func TestResponsesToAnthropicCodexFirstTurn(t *testing.T) {
	res, err := ResponsesToAnthropic(fixture(t, "responses_first_turn.json"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	o := decodeAnthOut(t, res.Body)
	if len(o.System) != 2 || o.Messages[0].Role != "user" || !res.Stream || !o.Stream || o.MaxTokens != 8192 {
		t.Fatalf("%s", turnShape(o))
	}
	notes := strings.Join(res.Notes, "|")
	if !strings.Contains(notes, "web_search") || !strings.Contains(notes, "apply_patch") {
		t.Fatalf("notes = %q", res.Notes)
	}
	if _, err := ResponsesToAnthropic([]byte(`{"input":[{"type":"message","content":5}]}`), Options{}); err == nil {
		t.Fatal("garbage accepted")
	}
}

func TestAnthropicResponseToResponses(t *testing.T) {
	body := `{"id":"msg_9","type":"message","content":[{"type":"thinking","thinking":"hm","signature":"S"},{"type":"text","text":"ok"},{"type":"tool_use","id":"toolu_1","name":"multi_agent_v1__spawn_agent","input":{"task":"x"}},{"type":"tool_use","id":"toolu_2","name":"exec_command","input":{}}],"stop_reason":"tool_use","usage":{"input_tokens":3,"cache_read_input_tokens":4,"output_tokens":5}}`
	names := &ToolNames{}
	names.add("multi_agent_v1", "spawn_agent")
	b, err := AnthropicResponseToResponses([]byte(body), "router-default", names)
	if err != nil {
		t.Fatal(err)
	}
	var r struct {
		ID, Model, Status string
		Output            []map[string]any
		Usage             map[string]any
	}
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, o := range r.Output {
		types = append(types, o["type"].(string))
	}
	if r.Model != "router-default" || r.Status != "completed" || strings.Join(types, ",") != "reasoning,message,function_call,function_call" {
		t.Fatalf("%s", b)
	}
	if r.Output[0]["encrypted_content"] != AnthropicSignaturePrefix+"S" || r.Output[2]["namespace"] != "multi_agent_v1" || r.Output[2]["name"] != "spawn_agent" || r.Output[2]["call_id"] != "toolu_1" || r.Output[3]["arguments"] != "{}" {
		t.Fatalf("%s", b)
	}
	if r.Usage["input_tokens"] != float64(7) || r.Usage["output_tokens"] != float64(5) {
		t.Fatalf("usage %v", r.Usage)
	}
	if _, err := AnthropicResponseToResponses([]byte(`{"type":"mess`), "a", nil); !errors.Is(err, ErrUpstreamBody) {
		t.Fatalf("err = %v", err)
	}
}

func TestAnthropicToResponsesStream(t *testing.T) {
	cases := []struct {
		name, file string
		endErr     error
		check      func(t *testing.T, g gotResponse)
	}{
		{"text", "anthropic_stream_text.sse", nil, func(t *testing.T, g gotResponse) {
			if g.FinalType != "response.completed" || len(g.Items) != 1 || g.Items[0].Text != "PONG \"héllo\"\n" || g.Usage["input_tokens"] != float64(135) {
				t.Fatalf("%s", dump(g))
			}
		}},
		{"thinking then text, max_tokens", "anthropic_stream_thinking.sse", nil, func(t *testing.T, g gotResponse) {
			out := g.Final["output"].([]any)
			if g.FinalType != "response.incomplete" || len(g.Items) != 2 || g.Items[0].Type != "reasoning" || g.Items[0].Text != "Let me think." ||
				out[0].(map[string]any)["encrypted_content"] != AnthropicSignaturePrefix+"EqQBCkYIBxgCKkA+sig/==" || g.Items[1].Text != "Answer: 42" {
				t.Fatalf("%s", dump(g))
			}
		}},
		{"three calls, distinct items", "anthropic_stream_tools2.sse", nil, func(t *testing.T, g gotResponse) {
			if g.FinalType != "response.completed" || len(g.Items) != 4 || g.Items[1].CallID != "toolu_01A" || g.Items[1].Args != `{"city": "Paris", "unit": "celsius"}` ||
				g.Items[2].Name != "get_time" || g.Items[3].Args != "{}" {
				t.Fatalf("%s", dump(g))
			}
		}},
		{"error event", "anthropic_stream_error.sse", nil, func(t *testing.T, g gotResponse) {
			if g.FinalType != "response.failed" || !strings.Contains(dump(g.Final["error"]), "Overloaded") {
				t.Fatalf("%s", dump(g))
			}
		}},
		{"truncated", "anthropic_stream_truncated.sse", nil, func(t *testing.T, g gotResponse) {
			if g.FinalType != "response.failed" {
				t.Fatalf("%s", dump(g))
			}
		}},
		{"garbage", "anthropic_stream_garbage.sse", nil, func(t *testing.T, g gotResponse) {
			if g.FinalType != "response.failed" {
				t.Fatalf("%s", dump(g))
			}
		}},
		{"message_delta then EOF", "anthropic_stream_nostop.sse", nil, func(t *testing.T, g gotResponse) {
			if g.FinalType != "response.completed" || g.Items[0].Text != "done" {
				t.Fatalf("%s", dump(g))
			}
		}},
		{"reset after a complete stream", "anthropic_stream_tools2.sse", errReset, func(t *testing.T, g gotResponse) {
			if g.FinalType != "response.completed" {
				t.Fatalf("%s", dump(g))
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			frames := runStream(t, NewAnthropicToResponsesStream("router-default", StreamOptions{CreatedAt: 1}), fixture(t, tc.file), tc.endErr)
			g := checkResponsesStream(t, frames)
			if g.Final["model"] != "router-default" {
				t.Fatalf("model = %v", g.Final["model"])
			}
			tc.check(t, g)
		})
	}
}

func TestAnthropicToResponsesStreamRestoresNamespaces(t *testing.T) {
	names := &ToolNames{}
	up := names.add("multi_agent_v1", "spawn_agent")
	in := "data: " + `{"type":"message_start","message":{"id":"msg_n","usage":{"input_tokens":1}}}` + "\n\n" +
		"data: " + `{"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"toolu_n","name":"` + up + `","input":{}}}` + "\n\n" +
		"data: " + `{"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"{\"task\":1}"}}` + "\n\n" +
		"data: " + `{"type":"content_block_stop","index":0}` + "\n\n" +
		"data: " + `{"type":"message_delta","delta":{"stop_reason":"tool_use"},"usage":{"output_tokens":2}}` + "\n\n" +
		"data: " + `{"type":"message_stop"}` + "\n\n"
	g := checkResponsesStream(t, runStream(t, NewAnthropicToResponsesStream("a", StreamOptions{ID: "resp_x", Tools: names}), []byte(in), nil))
	if len(g.Items) != 1 || g.Items[0].Name != "spawn_agent" || g.Items[0].Namespace != "multi_agent_v1" || g.Items[0].Args != `{"task":1}` || g.Final["id"] != "resp_x" {
		t.Fatalf("%s", dump(g))
	}
}
