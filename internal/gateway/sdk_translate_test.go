package gateway_test

// Acceptance tests: the official SDKs as clients of the gateway
// against a scripted OpenAI-Chat upstream, so every answer goes through
// internal/translate (Messages <-> Chat, Responses <-> Chat).

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/anthropics/anthropic-sdk-go"
	aoption "github.com/anthropics/anthropic-sdk-go/option"
	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/responses"
)

// chatScript is an OpenAI-Chat upstream whose answers the test scripts.
// Every request body is recorded, decoded.
type chatScript struct {
	*httptest.Server
	mu     sync.Mutex
	bodies []map[string]any
	answer func(w http.ResponseWriter, body map[string]any)
}

func newChatScript(t *testing.T, answer func(w http.ResponseWriter, body map[string]any)) *chatScript {
	s := &chatScript{answer: answer}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		var body map[string]any
		if err := json.Unmarshal(raw, &body); err != nil {
			http.Error(w, "bad json", 400)
			return
		}
		if r.URL.Path != "/v1/chat/completions" {
			http.Error(w, "wrong path "+r.URL.Path, 404)
			return
		}
		s.mu.Lock()
		s.bodies = append(s.bodies, body)
		s.mu.Unlock()
		s.answer(w, body)
	}))
	t.Cleanup(func() { s.CloseClientConnections(); s.Close() })
	return s
}

func (s *chatScript) requests() []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]map[string]any(nil), s.bodies...)
}

func isStream(body map[string]any) bool { return body["stream"] == true }

// writeChunks writes each chunk as a data frame, flushing each.
func writeChunks(w http.ResponseWriter, chunks ...string) {
	w.Header().Set("Content-Type", "text/event-stream")
	f := w.(http.Flusher)
	for _, c := range chunks {
		io.WriteString(w, "data: "+c+"\n\n")
		f.Flush()
	}
}

func chunk(delta string, finish string) string {
	fr := "null"
	if finish != "" {
		fr = `"` + finish + `"`
	}
	return `{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"up-model","choices":[{"index":0,"delta":` + delta + `,"finish_reason":` + fr + `}]}`
}

const usageChunk = `{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"up-model","choices":[],"usage":{"prompt_tokens":11,"completion_tokens":7,"total_tokens":18,"completion_tokens_details":{"reasoning_tokens":3}}}`

func chatJSON(w http.ResponseWriter, message, finish string) {
	w.Header().Set("Content-Type", "application/json")
	io.WriteString(w, `{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"up-model","choices":[{"index":0,"message":`+message+`,"finish_reason":"`+finish+`"}],"usage":{"prompt_tokens":11,"completion_tokens":7,"total_tokens":18,"completion_tokens_details":{"reasoning_tokens":3}}}`)
}

// scripted answers -----------------------------------------------------------

func textAnswer(w http.ResponseWriter, body map[string]any) {
	if isStream(body) {
		writeChunks(w, chunk(`{"role":"assistant","content":""}`, ""), chunk(`{"content":"Hel"}`, ""), chunk(`{"content":"lo"}`, ""),
			chunk(`{}`, "stop"), usageChunk, "[DONE]")
		return
	}
	chatJSON(w, `{"role":"assistant","content":"Hello"}`, "stop")
}

// twoToolsAnswer asks for two parallel calls. In the stream the first call's
// last argument piece and the second call's start arrive in one chunk.
// (Interleaved orders are in parallel_tools_test.go.)
func twoToolsAnswer(w http.ResponseWriter, body map[string]any) {
	if isStream(body) {
		writeChunks(w,
			chunk(`{"role":"assistant","content":null,"tool_calls":[{"index":0,"id":"call_a","type":"function","function":{"name":"get_weather","arguments":""}}]}`, ""),
			chunk(`{"tool_calls":[{"index":0,"function":{"arguments":"{\"city\":"}}]}`, ""),
			chunk(`{"tool_calls":[{"index":0,"function":{"arguments":"\"Paris\"}"}},{"index":1,"id":"call_b","type":"function","function":{"name":"get_time","arguments":"{\"tz\":"}}]}`, ""),
			chunk(`{"tool_calls":[{"index":1,"function":{"arguments":"\"Europe/Paris\"}"}}]}`, ""),
			chunk(`{}`, "tool_calls"), usageChunk, "[DONE]")
		return
	}
	chatJSON(w, `{"role":"assistant","content":null,"tool_calls":[{"id":"call_a","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}},{"id":"call_b","type":"function","function":{"name":"get_time","arguments":"{\"tz\":\"Europe/Paris\"}"}}]}`, "tool_calls")
}

func reasoningAnswer(w http.ResponseWriter, body map[string]any) {
	if isStream(body) {
		writeChunks(w, chunk(`{"role":"assistant","reasoning_content":"Let me "}`, ""), chunk(`{"reasoning_content":"think."}`, ""),
			chunk(`{"content":"Answer"}`, ""), chunk(`{}`, "stop"), usageChunk, "[DONE]")
		return
	}
	chatJSON(w, `{"role":"assistant","reasoning_content":"Let me think.","content":"Answer"}`, "stop")
}

// Anthropic SDK ----------------------------------------------------------------

func weatherTools() []anthropic.ToolUnionParam {
	schema := anthropic.ToolInputSchemaParam{Properties: map[string]any{"city": map[string]any{"type": "string"}}}
	return []anthropic.ToolUnionParam{
		anthropic.ToolUnionParamOfTool(schema, "get_weather"),
		anthropic.ToolUnionParamOfTool(anthropic.ToolInputSchemaParam{Properties: map[string]any{"tz": map[string]any{"type": "string"}}}, "get_time"),
	}
}

// accumulate reads an SDK stream into a Message with the SDK's own
// accumulator (which rejects out-of-order blocks) and checks that at most one
// content block is open at a time. It returns the message and event types.
func accumulate(t *testing.T, st interface {
	Next() bool
	Current() anthropic.MessageStreamEventUnion
	Err() error
}) (anthropic.Message, []string) {
	t.Helper()
	var msg anthropic.Message
	var types []string
	open := -1
	for st.Next() {
		ev := st.Current()
		types = append(types, ev.Type)
		if err := msg.Accumulate(ev); err != nil {
			t.Fatalf("SDK accumulator rejected the stream at %s: %v (events so far %v)", ev.Type, err, types)
		}
		switch ev.Type {
		case "content_block_start":
			if open != -1 {
				t.Fatalf("block %d started while block %d is open (blocks must not interleave)", ev.Index, open)
			}
			open = int(ev.Index)
		case "content_block_delta":
			if int(ev.Index) != open {
				t.Fatalf("delta for block %d while block %d is open", ev.Index, open)
			}
		case "content_block_stop":
			if int(ev.Index) != open {
				t.Fatalf("stop for block %d while block %d is open", ev.Index, open)
			}
			open = -1
		}
	}
	if err := st.Err(); err != nil {
		t.Fatalf("stream error: %v (events %v)", err, types)
	}
	if open != -1 {
		t.Fatalf("block %d never closed", open)
	}
	if len(types) == 0 || types[0] != "message_start" || types[len(types)-1] != "message_stop" {
		t.Fatalf("event sequence %v", types)
	}
	return msg, types
}

func TestAnthropicSDKTextOverChatUpstream(t *testing.T) {
	up := newChatScript(t, textAnswer)
	g := startGateway(t, doc([]any{dep("coder", "openai/up-model", up.URL+"/v1", nil)}, nil), nil)
	c := anthropicClient(g, gatewayKey)

	msg, err := c.Messages.New(context.Background(), msgParams("coder"))
	if err != nil {
		t.Fatal(err)
	}
	if len(msg.Content) != 1 || msg.Content[0].Type != "text" || msg.Content[0].Text != "Hello" || msg.Model != "coder" ||
		msg.StopReason != anthropic.StopReasonEndTurn || msg.Usage.InputTokens != 11 || msg.Usage.OutputTokens != 7 {
		t.Fatalf("message %+v", msg)
	}

	smsg, _ := accumulate(t, c.Messages.NewStreaming(context.Background(), msgParams("coder")))
	if len(smsg.Content) != 1 || smsg.Content[0].Text != "Hello" || smsg.Model != "coder" || smsg.StopReason != anthropic.StopReasonEndTurn {
		t.Fatalf("streamed message %+v", smsg)
	}
	if smsg.Usage.OutputTokens != 7 {
		t.Fatalf("stream usage %+v (the gateway must ask the upstream for usage)", smsg.Usage)
	}
	reqs := up.requests()
	if so, _ := reqs[1]["stream_options"].(map[string]any); so["include_usage"] != true {
		t.Fatalf("streaming request did not ask for usage: %v", reqs[1])
	}
	if reqs[0]["model"] != "up-model" {
		t.Fatalf("upstream model %v", reqs[0]["model"])
	}
}

func TestAnthropicSDKToolUseRoundTripOverChatUpstream(t *testing.T) {
	up := newChatScript(t, func(w http.ResponseWriter, body map[string]any) {
		msgs, _ := body["messages"].([]any)
		if last, _ := msgs[len(msgs)-1].(map[string]any); last["role"] == "tool" {
			chatJSON(w, `{"role":"assistant","content":"It is sunny."}`, "stop")
			return
		}
		chatJSON(w, `{"role":"assistant","content":"Checking.","tool_calls":[{"id":"call_w1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]}`, "tool_calls")
	})
	g := startGateway(t, doc([]any{dep("coder", "openai/up-model", up.URL+"/v1", nil)}, nil), nil)
	c := anthropicClient(g, gatewayKey)

	p := msgParams("coder")
	p.Tools = weatherTools()
	msg, err := c.Messages.New(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	if msg.StopReason != anthropic.StopReasonToolUse || len(msg.Content) != 2 || msg.Content[0].Text != "Checking." {
		t.Fatalf("message %+v", msg)
	}
	tu := msg.Content[1]
	if tu.Type != "tool_use" || tu.ID != "call_w1" || tu.Name != "get_weather" || string(tu.Input) != `{"city":"Paris"}` {
		t.Fatalf("tool_use block %+v input %s", tu, tu.Input)
	}
	if tools, _ := up.requests()[0]["tools"].([]any); len(tools) != 2 {
		t.Fatalf("upstream tools %v", up.requests()[0]["tools"])
	}

	// The next turn carries the tool_use back and the tool_result.
	p.Messages = append(p.Messages, msg.ToParam(),
		anthropic.NewUserMessage(anthropic.NewToolResultBlock(tu.ID, "sunny, 21C", false)))
	final, err := c.Messages.New(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	if final.Content[0].Text != "It is sunny." || final.StopReason != anthropic.StopReasonEndTurn {
		t.Fatalf("final %+v", final)
	}
	msgs, _ := up.requests()[1]["messages"].([]any)
	var asst, tool map[string]any
	for _, m := range msgs {
		mm := m.(map[string]any)
		switch mm["role"] {
		case "assistant":
			asst = mm
		case "tool":
			tool = mm
		}
	}
	calls, _ := asst["tool_calls"].([]any)
	if len(calls) != 1 || calls[0].(map[string]any)["id"] != "call_w1" {
		t.Fatalf("assistant turn upstream: %v", asst)
	}
	if tool == nil || tool["tool_call_id"] != "call_w1" || !strings.Contains(fmt.Sprint(tool["content"]), "sunny, 21C") {
		t.Fatalf("tool message upstream: %v (all %v)", tool, msgs)
	}
	if last := msgs[len(msgs)-1].(map[string]any); last["role"] != "tool" {
		t.Fatalf("tool result is not the last upstream message: %v", msgs)
	}
}

func TestAnthropicSDKStreamsParallelToolCallsAsSequentialBlocks(t *testing.T) {
	up := newChatScript(t, twoToolsAnswer)
	g := startGateway(t, doc([]any{dep("coder", "openai/up-model", up.URL+"/v1", nil)}, nil), nil)
	c := anthropicClient(g, gatewayKey)
	p := msgParams("coder")
	p.Tools = weatherTools()
	for run := 0; run < 3; run++ { // deterministic order: same answer every time
		msg, _ := accumulate(t, c.Messages.NewStreaming(context.Background(), p))
		if msg.StopReason != anthropic.StopReasonToolUse || len(msg.Content) != 2 {
			t.Fatalf("run %d: message %+v", run, msg)
		}
		want := []struct{ id, name, input string }{{"call_a", "get_weather", `{"city":"Paris"}`}, {"call_b", "get_time", `{"tz":"Europe/Paris"}`}}
		for i, w := range want {
			b := msg.Content[i]
			if b.Type != "tool_use" || b.ID != w.id || b.Name != w.name || string(b.Input) != w.input {
				t.Fatalf("run %d block %d: %+v input %s", run, i, b, b.Input)
			}
		}
	}
}

func TestAnthropicSDKThinkingFromReasoningContent(t *testing.T) {
	up := newChatScript(t, reasoningAnswer)
	g := startGateway(t, doc([]any{dep("coder", "openai/up-model", up.URL+"/v1", nil)}, nil), nil)
	c := anthropicClient(g, gatewayKey)
	p := msgParams("coder")
	p.MaxTokens = 4096
	p.Thinking = anthropic.ThinkingConfigParamOfEnabled(1024)

	msg, err := c.Messages.New(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	if len(msg.Content) != 2 || msg.Content[0].Type != "thinking" || msg.Content[0].Thinking != "Let me think." || msg.Content[1].Text != "Answer" {
		t.Fatalf("non-stream content (thinking must come first) %+v", msg.Content)
	}

	st := c.Messages.NewStreaming(context.Background(), p)
	var seq []string
	var smsg anthropic.Message
	for st.Next() {
		ev := st.Current()
		if err := smsg.Accumulate(ev); err != nil {
			t.Fatal(err)
		}
		if ev.Type == "content_block_delta" {
			seq = append(seq, fmt.Sprintf("delta%d:%s", ev.Index, ev.Delta.Type))
		} else if strings.HasPrefix(ev.Type, "content_block") {
			seq = append(seq, fmt.Sprintf("%s%d", ev.Type, ev.Index))
		}
	}
	if err := st.Err(); err != nil {
		t.Fatal(err)
	}
	if len(smsg.Content) != 2 || smsg.Content[0].Type != "thinking" || smsg.Content[0].Thinking != "Let me think." ||
		smsg.Content[1].Type != "text" || smsg.Content[1].Text != "Answer" {
		t.Fatalf("streamed content %+v", smsg.Content)
	}
	if smsg.Content[0].Signature == "" {
		t.Fatalf("thinking block has no signature: %v", seq)
	}
	sig, stop := -1, -1
	for i, s := range seq {
		if s == "delta0:signature_delta" {
			sig = i
		}
		if s == "content_block_stop0" {
			stop = i
		}
	}
	if sig < 0 || stop < 0 || sig > stop {
		t.Fatalf("signature_delta must come before the thinking block's stop: %v", seq)
	}
}

// OpenAI Responses SDK ---------------------------------------------------------

func respParams(model string) responses.ResponseNewParams {
	return responses.ResponseNewParams{Model: model, Input: responses.ResponseNewParamsInputUnion{OfString: openai.String("hi")}}
}

func respTools() []responses.ToolUnionParam {
	return []responses.ToolUnionParam{
		responses.ToolParamOfFunction("get_weather", map[string]any{"type": "object", "properties": map[string]any{"city": map[string]any{"type": "string"}}}, false),
		responses.ToolParamOfFunction("get_time", map[string]any{"type": "object", "properties": map[string]any{"tz": map[string]any{"type": "string"}}}, false),
	}
}

// respStream collects a Responses stream and checks its item lifecycle:
// every output_item.added has a distinct output_index and a matching
// output_item.done, deltas only target open items, argument deltas add up
// to the done arguments, and the stream ends with one terminal event.
type respStreamResult struct {
	types    []string
	done     map[int64]responses.ResponseOutputItemUnion
	terminal responses.ResponseStreamEventUnion
}

func collectResponses(t *testing.T, st interface {
	Next() bool
	Current() responses.ResponseStreamEventUnion
	Err() error
}) respStreamResult {
	t.Helper()
	res := respStreamResult{done: map[int64]responses.ResponseOutputItemUnion{}}
	added := map[int64]string{}
	args := map[int64]*strings.Builder{}
	var lastSeq int64 = -1
	for st.Next() {
		ev := st.Current()
		res.types = append(res.types, ev.Type)
		if ev.SequenceNumber <= lastSeq {
			t.Fatalf("sequence_number %d after %d", ev.SequenceNumber, lastSeq)
		}
		lastSeq = ev.SequenceNumber
		switch ev.Type {
		case "response.output_item.added":
			if _, dup := added[ev.OutputIndex]; dup {
				t.Fatalf("output_index %d reused (each output item needs its own): %v", ev.OutputIndex, res.types)
			}
			added[ev.OutputIndex] = ev.Item.Type
			args[ev.OutputIndex] = &strings.Builder{}
		case "response.function_call_arguments.delta":
			b, ok := args[ev.OutputIndex]
			if !ok {
				t.Fatalf("arguments delta for unknown output_index %d", ev.OutputIndex)
			}
			b.WriteString(ev.Delta)
		case "response.function_call_arguments.done":
			if got := args[ev.OutputIndex].String(); got != ev.Arguments {
				t.Fatalf("deltas %q != done %q", got, ev.Arguments)
			}
		case "response.output_item.done":
			if added[ev.OutputIndex] != ev.Item.Type {
				t.Fatalf("done item %d type %s, added as %q", ev.OutputIndex, ev.Item.Type, added[ev.OutputIndex])
			}
			res.done[ev.OutputIndex] = ev.Item
		case "response.completed", "response.failed", "response.incomplete":
			if res.terminal.Type != "" {
				t.Fatalf("two terminal events: %v", res.types)
			}
			res.terminal = ev
		}
	}
	if err := st.Err(); err != nil {
		t.Fatalf("stream error: %v (events %v)", err, res.types)
	}
	if res.terminal.Type == "" || res.types[len(res.types)-1] != res.terminal.Type {
		t.Fatalf("stream does not end with a terminal event: %v", res.types)
	}
	if res.terminal.Type == "response.completed" && len(res.done) != len(added) {
		t.Fatalf("%d items added, %d done", len(added), len(res.done))
	}
	return res
}

func TestResponsesSDKTextOverChatUpstream(t *testing.T) {
	up := newChatScript(t, textAnswer)
	g := startGateway(t, doc([]any{dep("coder", "openai/up-model", up.URL+"/v1", nil)}, nil), nil)
	c := openaiClient(g, gatewayKey)

	r, err := c.Responses.New(context.Background(), respParams("coder"))
	if err != nil {
		t.Fatal(err)
	}
	if r.OutputText() != "Hello" || r.Model != "coder" || r.Status != "completed" || r.Usage.InputTokens != 11 || r.Usage.OutputTokens != 7 {
		t.Fatalf("response %+v", r)
	}

	res := collectResponses(t, c.Responses.NewStreaming(context.Background(), respParams("coder")))
	if res.types[0] != "response.created" || res.terminal.Type != "response.completed" {
		t.Fatalf("events %v", res.types)
	}
	comp := res.terminal.Response
	if comp.OutputText() != "Hello" || comp.Model != "coder" || comp.Usage.TotalTokens != 18 || comp.Usage.OutputTokensDetails.ReasoningTokens != 3 {
		t.Fatalf("response.completed %+v usage %+v", comp, comp.Usage)
	}
	if len(res.done) != 1 || res.done[0].Type != "message" {
		t.Fatalf("items %+v", res.done)
	}
}

func TestResponsesSDKParallelFunctionCallsOverChatUpstream(t *testing.T) {
	up := newChatScript(t, twoToolsAnswer)
	g := startGateway(t, doc([]any{dep("coder", "openai/up-model", up.URL+"/v1", nil)}, nil), nil)
	c := openaiClient(g, gatewayKey)
	p := respParams("coder")
	p.Tools = respTools()
	want := []struct{ id, name, args string }{{"call_a", "get_weather", `{"city":"Paris"}`}, {"call_b", "get_time", `{"tz":"Europe/Paris"}`}}

	r, err := c.Responses.New(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	var calls []responses.ResponseOutputItemUnion
	for _, it := range r.Output {
		if it.Type == "function_call" {
			calls = append(calls, it)
		}
	}
	if len(calls) != 2 {
		t.Fatalf("non-stream output %+v", r.Output)
	}
	for i, w := range want {
		if calls[i].CallID != w.id || calls[i].Name != w.name || calls[i].Arguments.OfString != w.args {
			t.Fatalf("call %d: %+v", i, calls[i])
		}
	}

	res := collectResponses(t, c.Responses.NewStreaming(context.Background(), p))
	if res.terminal.Type != "response.completed" {
		t.Fatalf("events %v", res.types)
	}
	var idx []int64
	for i := int64(0); i < int64(len(res.done)); i++ {
		if it, ok := res.done[i]; ok && it.Type == "function_call" {
			idx = append(idx, i)
		}
	}
	if len(idx) != 2 || idx[0] == idx[1] {
		t.Fatalf("function_call items at %v (done %+v)", idx, res.done)
	}
	for i, w := range want {
		it := res.done[idx[i]]
		if it.CallID != w.id || it.Name != w.name || it.Arguments.OfString != w.args || !json.Valid([]byte(it.Arguments.OfString)) {
			t.Fatalf("streamed call %d: %+v", i, it)
		}
	}
	var fin []responses.ResponseOutputItemUnion
	for _, it := range res.terminal.Response.Output {
		if it.Type == "function_call" {
			fin = append(fin, it)
		}
	}
	if len(fin) != 2 || fin[0].CallID != "call_a" || fin[1].Arguments.OfString != want[1].args {
		t.Fatalf("response.completed output %+v", res.terminal.Response.Output)
	}
}

func TestResponsesSDKFunctionCallOutputRoundTrip(t *testing.T) {
	up := newChatScript(t, textAnswer)
	g := startGateway(t, doc([]any{dep("coder", "openai/up-model", up.URL+"/v1", nil)}, nil), nil)
	c := openaiClient(g, gatewayKey)
	p := respParams("coder")
	p.Tools = respTools()
	p.Input = responses.ResponseNewParamsInputUnion{OfInputItemList: responses.ResponseInputParam{
		responses.ResponseInputItemParamOfMessage("weather in Paris?", responses.EasyInputMessageRoleUser),
		responses.ResponseInputItemParamOfFunctionCall(`{"city":"Paris"}`, "call_w1", "get_weather"),
		responses.ResponseInputItemParamOfFunctionCallOutput[string]("sunny, 21C"),
	}}
	p.Input.OfInputItemList[2].OfFunctionCallOutput.CallID = openai.String("call_w1")
	res := collectResponses(t, c.Responses.NewStreaming(context.Background(), p))
	if res.terminal.Response.OutputText() != "Hello" {
		t.Fatalf("answer %v", res.types)
	}
	msgs, _ := up.requests()[0]["messages"].([]any)
	if len(msgs) != 3 {
		t.Fatalf("upstream messages %v", msgs)
	}
	asst, tool := msgs[1].(map[string]any), msgs[2].(map[string]any)
	calls, _ := asst["tool_calls"].([]any)
	if asst["role"] != "assistant" || len(calls) != 1 || calls[0].(map[string]any)["id"] != "call_w1" {
		t.Fatalf("assistant upstream %v", asst)
	}
	if tool["role"] != "tool" || tool["tool_call_id"] != "call_w1" || tool["content"] != "sunny, 21C" {
		t.Fatalf("tool upstream %v", tool)
	}
}

func TestResponsesSDKReasoningOverChatUpstream(t *testing.T) {
	up := newChatScript(t, reasoningAnswer)
	g := startGateway(t, doc([]any{dep("coder", "openai/up-model", up.URL+"/v1", nil)}, nil), nil)
	c := openaiClient(g, gatewayKey)
	p := respParams("coder")
	p.Reasoning.Summary = "auto"

	r, err := c.Responses.New(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Output) != 2 || r.Output[0].Type != "reasoning" || r.Output[1].Type != "message" || r.OutputText() != "Answer" {
		t.Fatalf("output %+v", r.Output)
	}
	if len(r.Output[0].Summary) == 0 || r.Output[0].Summary[0].Text != "Let me think." {
		t.Fatalf("reasoning summary %+v", r.Output[0].Summary)
	}

	res := collectResponses(t, c.Responses.NewStreaming(context.Background(), p))
	if res.done[0].Type != "reasoning" || res.done[1].Type != "message" {
		t.Fatalf("items %+v (each output item needs a distinct output_index)", res.done)
	}
	if !contains(res.types, "response.reasoning_summary_text.delta") {
		t.Fatalf("no reasoning deltas: %v", res.types)
	}
	if u := res.terminal.Response.Usage; u.OutputTokensDetails.ReasoningTokens != 3 {
		t.Fatalf("usage %+v", u)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Failures on translated requests ----------------------------------------------

func TestTranslatedStreamBreakEndsWithProtocolErrorEventWithoutRetry(t *testing.T) {
	broken := newChatScript(t, func(w http.ResponseWriter, body map[string]any) {
		writeChunks(w, chunk(`{"role":"assistant","content":"Hel"}`, ""), chunk(`{"content":"lo"}`, ""))
		conn, _, _ := w.(http.Hijacker).Hijack()
		conn.Close()
	})
	spare := newChatScript(t, textAnswer)
	g := startGateway(t, doc([]any{
		dep("coder", "openai/up-model", broken.URL+"/v1", map[string]any{"order": 1}),
		dep("coder", "openai/up-model", spare.URL+"/v1", map[string]any{"order": 2}),
	}, map[string]any{"num_retries": 2}), newClock())

	// Anthropic: event: error, then a clean end.
	resp, body := g.post(t, "/v1/messages", `{"model":"coder","max_tokens":5,"stream":true,"messages":[{"role":"user","content":"hi"}]}`, nil)
	if resp.StatusCode != 200 || !strings.Contains(body, "text_delta") || !strings.HasSuffix(body, "\n\n") {
		t.Fatalf("%d %q", resp.StatusCode, body)
	}
	frames := strings.Split(strings.TrimSpace(body), "\n\n")
	if last := frames[len(frames)-1]; !strings.HasPrefix(last, "event: error\ndata: {\"type\":\"error\",\"error\":{") {
		t.Fatalf("last frame %q", last)
	}
	a := anthropicClient(g, gatewayKey)
	st := a.Messages.NewStreaming(context.Background(), msgParams("coder"))
	for st.Next() {
	}
	if st.Err() == nil {
		t.Fatal("the Anthropic SDK saw a broken stream as a success")
	}

	// Responses: response.failed is the last event, and the SDK sees it.
	o := openaiClient(g, gatewayKey)
	ost := o.Responses.NewStreaming(context.Background(), respParams("coder"))
	var types []string
	for ost.Next() {
		types = append(types, ost.Current().Type)
	}
	if len(types) == 0 || types[len(types)-1] != "response.failed" || !contains(types, "response.output_text.delta") {
		t.Fatalf("responses events %v err %v", types, ost.Err())
	}
	resp, body = g.post(t, "/v1/responses", `{"model":"coder","stream":true,"input":"hi"}`, nil)
	if resp.StatusCode != 200 || !strings.HasSuffix(body, "\n\n") || !strings.Contains(body, "event: response.failed\n") {
		t.Fatalf("%d %q", resp.StatusCode, body)
	}
	if n := len(spare.requests()); n != 0 {
		t.Fatalf("retried after the first byte: spare saw %d requests", n)
	}
	if n := len(broken.requests()); n != 4 {
		t.Fatalf("broken upstream saw %d requests, want 4 (one per client request)", n)
	}
}

func TestTranslatedUpstreamErrorsComeBackInCallersShape(t *testing.T) {
	up := newChatScript(t, func(w http.ResponseWriter, body map[string]any) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Retry-After", "7")
		w.WriteHeader(429)
		io.WriteString(w, `{"error":{"message":"slow down","type":"rate_limit_error","code":"rate_limited"}}`)
	})
	g := startGateway(t, doc([]any{dep("coder", "openai/up-model", up.URL+"/v1", nil)}, map[string]any{"num_retries": 0}), newClock())

	a := anthropicClient(g, gatewayKey)
	var resp *http.Response
	_, err := a.Messages.New(context.Background(), msgParams("coder"), aoption.WithResponseInto(&resp))
	var ae *anthropic.Error
	if !errors.As(err, &ae) || ae.StatusCode != 429 {
		t.Fatalf("anthropic: %v", err)
	}
	raw := ae.RawJSON()
	if !strings.Contains(raw, `"type":"error"`) || !strings.Contains(raw, `"rate_limit_error"`) || !strings.Contains(raw, "slow down") {
		t.Fatalf("anthropic error body %s", raw)
	}
	if ae.Response.Header.Get("Retry-After") != "7" {
		t.Fatalf("retry-after not forwarded: %v", ae.Response.Header)
	}

	o := openaiClient(g, gatewayKey)
	_, err = o.Responses.New(context.Background(), respParams("coder"))
	var oe *openai.Error
	if !errors.As(err, &oe) || oe.StatusCode != 429 || !strings.Contains(oe.Message, "slow down") || oe.Response.Header.Get("Retry-After") != "7" {
		t.Fatalf("responses: %v", err)
	}

	// A streaming request fails before its first byte: a status, not a stream.
	st := a.Messages.NewStreaming(context.Background(), msgParams("coder"))
	for st.Next() {
	}
	if !errors.As(st.Err(), &ae) || ae.StatusCode != 429 {
		t.Fatalf("anthropic stream: %v", st.Err())
	}
}

func TestCountTokensForChatAliasIsAnEstimate(t *testing.T) {
	up := newChatScript(t, textAnswer)
	g := startGateway(t, doc([]any{dep("coder", "openai/up-model", up.URL+"/v1", nil)}, nil), nil)
	a := anthropicClient(g, gatewayKey)
	var resp *http.Response
	n, err := a.Messages.CountTokens(context.Background(), anthropic.MessageCountTokensParams{
		Model:    "coder",
		Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock(strings.Repeat("hello world ", 100)))},
	}, aoption.WithResponseInto(&resp))
	if err != nil {
		t.Fatal(err)
	}
	if n.InputTokens < 200 || resp.Header.Get("X-Flowgate-Token-Count") != "estimate" {
		t.Fatalf("count %d header %q", n.InputTokens, resp.Header.Get("X-Flowgate-Token-Count"))
	}
	if len(up.requests()) != 0 {
		t.Fatal("a chat upstream was asked to count tokens")
	}
}
