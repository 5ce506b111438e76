package translate

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestResponsesToChatCodexFirstTurn(t *testing.T) {
	res, err := ResponsesToChat(fixture(t, "responses_first_turn.json"), Options{Model: "up"})
	if err != nil {
		t.Fatal(err)
	}
	var req chatRequest
	if err := json.Unmarshal(res.Body, &req); err != nil {
		t.Fatal(err)
	}
	var roles []string
	for _, m := range req.Messages {
		roles = append(roles, m.Role)
	}
	if strings.Join(roles, ",") != "system,system,user,user" {
		t.Fatalf("roles = %v (developer must never become user)", roles)
	}
	if string(req.Messages[1].Content) != `"<skills_instructions>...\n<permissions instructions>..."` {
		t.Fatalf("developer content = %s", req.Messages[1].Content)
	}
	var names []string
	for _, tl := range req.Tools {
		names = append(names, tl.Function.Name)
	}
	if strings.Join(names, ",") != "exec_command,view_image,multi_agent_v1__spawn_agent,multi_agent_v1__close_agent" {
		t.Fatalf("tools = %v", names)
	}
	if len(res.Notes) != 2 || !strings.Contains(res.Notes[0], "apply_patch") || !strings.Contains(res.Notes[1], "web_search") {
		t.Fatalf("notes = %q", res.Notes)
	}
	if r := res.Tools.Client("multi_agent_v1__spawn_agent"); r != (ToolRef{"multi_agent_v1", "spawn_agent"}) {
		t.Fatalf("mapping = %+v", r)
	}
	if string(req.ToolChoice) != `"auto"` || req.ParallelToolCalls == nil || !*req.ParallelToolCalls || !req.Stream || !req.StreamOptions.IncludeUsage {
		t.Fatalf("body = %s", res.Body)
	}
	if req.PromptCacheKey != "3b1e2f7a-1c2d-4e5f-8a9b-0c1d2e3f4a5b" {
		t.Fatalf("prompt_cache_key = %q, want Codex's key forwarded", req.PromptCacheKey)
	}
	for _, k := range []string{"store", "include", "client_metadata", "input", "reasoning"} {
		if _, ok := decodeChatReq(t, res.Body)[k]; ok {
			t.Fatalf("%s forwarded", k)
		}
	}
}

func TestResponsesToChatToolTurn(t *testing.T) {
	res, err := ResponsesToChat(fixture(t, "responses_tool_turn.json"), Options{DeveloperRole: true, ReasoningInHistory: true})
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
	if strings.Join(got, ",") != "system:,developer:,user:,assistant:,tool:call_mock_10,tool:call_mock_12" {
		t.Fatalf("messages = %v", got)
	}
	a := req.Messages[3]
	if string(a.Content) != `"Running."` || a.ReasoningContent != "Need to run it." || len(a.ToolCalls) != 2 ||
		a.ToolCalls[0].ID != "call_mock_10" || a.ToolCalls[1].Function.Name != "multi_agent_v1__spawn_agent" ||
		a.ToolCalls[0].Function.Arguments != `{"cmd":"echo MARKER-$((6*7))"}` {
		t.Fatalf("assistant = %+v", a)
	}
	if !strings.Contains(string(req.Messages[4].Content), "MARKER-42") || string(req.Messages[5].Content) != `"agent spawned"` {
		t.Fatal("tool outputs")
	}
	if !strings.Contains(string(req.Messages[2].Content), "image_url") {
		t.Fatalf("image lost: %s", req.Messages[2].Content)
	}
	if string(req.ToolChoice) != `{"function":{"name":"multi_agent_v1__spawn_agent"},"type":"function"}` || *req.ParallelToolCalls {
		t.Fatalf("tool_choice = %s", req.ToolChoice)
	}
	if req.ReasoningEffort != "high" || *req.MaxTokens != 2048 || !strings.Contains(string(req.ResponseFormat), `"name":"answer"`) {
		t.Fatalf("body = %s", res.Body)
	}
}

func TestChatResponseToResponses(t *testing.T) {
	names := &ToolNames{}
	names.add("multi_agent_v1", "spawn_agent")
	body := `{"id":"chatcmpl-r","created":1700000000,"choices":[{"index":0,"message":{"content":"Sure.","reasoning_content":"think","tool_calls":[
		{"id":"call_1","type":"function","function":{"name":"exec_command","arguments":"{\"cmd\":\"ls\"}"}},
		{"id":"call_2","type":"function","function":{"name":"multi_agent_v1__spawn_agent","arguments":"{}"}}]},"finish_reason":"tool_calls"}],
		"usage":{"prompt_tokens":10,"completion_tokens":5,"prompt_tokens_details":{"cached_tokens":4},"completion_tokens_details":{"reasoning_tokens":3}}}`
	b, err := ChatResponseToResponses([]byte(body), "router-default", names)
	if err != nil {
		t.Fatal(err)
	}
	var r struct {
		ID, Object, Model, Status string
		Output                    []map[string]any
		Usage                     struct {
			InputTokens        int `json:"input_tokens"`
			OutputTokens       int `json:"output_tokens"`
			TotalTokens        int `json:"total_tokens"`
			InputTokensDetails struct {
				CachedTokens int `json:"cached_tokens"`
			} `json:"input_tokens_details"`
			OutputTokensDetails struct {
				ReasoningTokens int `json:"reasoning_tokens"`
			} `json:"output_tokens_details"`
		}
	}
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("%v %s", err, b)
	}
	if r.Model != "router-default" || r.Status != "completed" || r.Object != "response" || len(r.Output) != 4 {
		t.Fatalf("%s", b)
	}
	types := []string{}
	for _, o := range r.Output {
		types = append(types, o["type"].(string))
	}
	if strings.Join(types, ",") != "reasoning,message,function_call,function_call" {
		t.Fatal(types)
	}
	if r.Output[3]["name"] != "spawn_agent" || r.Output[3]["namespace"] != "multi_agent_v1" || r.Output[2]["call_id"] != "call_1" {
		t.Fatalf("%v", r.Output)
	}
	if r.Usage.InputTokens != 10 || r.Usage.InputTokensDetails.CachedTokens != 4 || r.Usage.OutputTokensDetails.ReasoningTokens != 3 || r.Usage.TotalTokens != 15 {
		t.Fatalf("usage %+v", r.Usage)
	}
	if _, err := ChatResponseToResponses([]byte(body[:40]), "a", nil); !errors.Is(err, ErrUpstreamBody) {
		t.Fatal("truncated body accepted")
	}
}

func TestChatToResponsesStream(t *testing.T) {
	names := &ToolNames{}
	names.add("multi_agent_v1", "spawn_agent")
	cases := []struct {
		name, file string
		endErr     error
		check      func(t *testing.T, g gotResponse)
	}{
		{"text", "chat_stream_text.sse", nil, func(t *testing.T, g gotResponse) {
			if g.FinalType != "response.completed" || len(g.Items) != 1 || g.Items[0].Text != "PONG" || g.Final["model"] != "router-default" {
				t.Fatal(dump(g))
			}
			if g.Usage["input_tokens"].(float64) != 120 || g.Usage["input_tokens_details"].(map[string]any)["cached_tokens"].(float64) != 100 {
				t.Fatal(dump(g.Usage))
			}
		}},
		{"reasoning then text", "chat_stream_reasoning.sse", nil, func(t *testing.T, g gotResponse) {
			if len(g.Items) != 2 || g.Items[0].Type != "reasoning" || g.Items[0].Index != 0 || g.Items[1].Index != 1 || g.Items[1].Text != "Answer: 42" {
				t.Fatal(dump(g))
			}
			if g.Usage["output_tokens_details"].(map[string]any)["reasoning_tokens"].(float64) != 12 {
				t.Fatal(dump(g.Usage))
			}
		}},
		{"two parallel calls stay two", "chat_stream_parallel2.sse", nil, func(t *testing.T, g gotResponse) {
			if len(g.Items) != 3 || g.Items[1].CallID != "call_a" || g.Items[1].Args != `{"city":"Paris","unit":"celsius"}` ||
				g.Items[2].CallID != "call_b" || g.Items[2].Name != "get_time" || g.Items[2].Args != `{"timezone":"Europe/Paris"}` {
				t.Fatal(dump(g))
			}
		}},
		{"three calls interleaved with text", "chat_stream_parallel3.sse", nil, func(t *testing.T, g gotResponse) {
			var seq []string
			for _, it := range g.Items {
				seq = append(seq, it.Type+"|"+it.Text+it.CallID+it.Namespace+"."+it.Name+it.Args)
			}
			want := []string{"reasoning|Three calls needed..", "message|First text..", `function_call|call_1.read{"path":"a"}`,
				`function_call|call_2.read{"path":"b"}`, "message| Between calls..", `function_call|call_3multi_agent_v1.spawn_agent{"task":"c"}`}
			if strings.Join(seq, "\n") != strings.Join(want, "\n") {
				t.Fatalf("got\n%s", strings.Join(seq, "\n"))
			}
		}},
		{"finish without [DONE]", "chat_stream_no_done.sse", nil, func(t *testing.T, g gotResponse) {
			if g.FinalType != "response.completed" || len(g.Items) != 1 || g.Items[0].Args != `{"cmd":"ls"}` {
				t.Fatal(dump(g))
			}
		}},
		{"broken", "chat_stream_broken.sse", errReset, func(t *testing.T, g gotResponse) {
			e := g.Final["error"].(map[string]any)
			if g.FinalType != "response.failed" || !strings.Contains(e["message"].(string), "reset") || g.Final["status"] != "failed" {
				t.Fatal(dump(g))
			}
		}},
		{"garbage", "chat_stream_garbage.sse", nil, func(t *testing.T, g gotResponse) {
			if g.FinalType != "response.failed" {
				t.Fatal(dump(g))
			}
		}},
		{"in-stream error", "chat_stream_error.sse", nil, func(t *testing.T, g gotResponse) {
			if g.FinalType != "response.failed" || g.Final["error"].(map[string]any)["code"] != "overloaded" {
				t.Fatal(dump(g))
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := NewChatToResponsesStream("router-default", StreamOptions{Tools: names})
			g := checkResponsesStream(t, runStream(t, s, fixture(t, tc.file), tc.endErr))
			tc.check(t, g)
		})
	}
}

func TestChatToResponsesStreamLengthIsIncomplete(t *testing.T) {
	in := "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"cut\"},\"finish_reason\":\"length\"}]}\n\ndata: [DONE]\n\n"
	g := checkResponsesStream(t, runStream(t, NewChatToResponsesStream("a", StreamOptions{}), []byte(in), nil))
	if g.FinalType != "response.incomplete" || g.Final["incomplete_details"].(map[string]any)["reason"] != "max_output_tokens" {
		t.Fatal(dump(g))
	}
}
