package gateway_test

// Chat and Messages clients on a Responses-only deployment (OpenAI's codex
// models): the gateway translates through internal/translate
// (ChatToResponses / AnthropicToResponses and back).

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/anthropics/anthropic-sdk-go"

	"github.com/flowgate/flowgate/internal/gateway"
)

// respScript is a Responses-only upstream on 127.0.0.1:0: /v1/responses
// answers as scripted, every other path is 404.
type respScript struct {
	*httptest.Server
	mu     sync.Mutex
	bodies []map[string]any
	answer func(w http.ResponseWriter, body map[string]any)
}

func newRespScript(t *testing.T, answer func(w http.ResponseWriter, body map[string]any)) *respScript {
	s := &respScript{answer: answer}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		if r.URL.Path != "/v1/responses" {
			http.Error(w, `{"error":{"message":"only /v1/responses here"}}`, 404)
			return
		}
		var body map[string]any
		if err := json.Unmarshal(raw, &body); err != nil {
			http.Error(w, "bad json", 400)
			return
		}
		s.mu.Lock()
		s.bodies = append(s.bodies, body)
		s.mu.Unlock()
		s.answer(w, body)
	}))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.Listener = ln
	s.Start()
	t.Cleanup(func() { s.CloseClientConnections(); s.Close() })
	return s
}

func (s *respScript) requests() []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]map[string]any(nil), s.bodies...)
}

const respUsage = `{"input_tokens":11,"input_tokens_details":{"cached_tokens":0},"output_tokens":7,"output_tokens_details":{"reasoning_tokens":3},"total_tokens":18}`

func respObject(status, output string) string {
	return `{"id":"resp_1","object":"response","created_at":1,"status":"` + status + `","error":null,"incomplete_details":null,"model":"up-model","output":[` + output + `],"usage":` + respUsage + `}`
}

// writeRespEvents writes Responses SSE events (event: + data:), flushing each.
func writeRespEvents(w http.ResponseWriter, events ...string) {
	w.Header().Set("Content-Type", "text/event-stream")
	f := w.(http.Flusher)
	for i, e := range events {
		var typ struct{ Type string }
		_ = json.Unmarshal([]byte(e), &typ)
		e = strings.TrimSuffix(e, "}") + `,"sequence_number":` + fmt.Sprint(i) + `}`
		io.WriteString(w, "event: "+typ.Type+"\ndata: "+e+"\n\n")
		f.Flush()
	}
}

const (
	respMsgItem  = `{"id":"msg_1","type":"message","status":"completed","role":"assistant","content":[{"type":"output_text","text":"Hello","annotations":[]}]}`
	respCallA    = `{"id":"fc_a","type":"function_call","status":"completed","call_id":"call_a","name":"get_weather","arguments":"{\"city\":\"Paris\"}"}`
	respCallB    = `{"id":"fc_b","type":"function_call","status":"completed","call_id":"call_b","name":"get_time","arguments":"{\"tz\":\"Europe/Paris\"}"}`
	respCreated  = `{"type":"response.created","response":{"id":"resp_1","object":"response","created_at":1,"status":"in_progress","output":[]}}`
	respTextDone = `{"type":"response.output_item.done","output_index":0,"item":` + respMsgItem + `}`
)

func respTextAnswer(w http.ResponseWriter, body map[string]any) {
	if body["stream"] == true {
		writeRespEvents(w, respCreated,
			`{"type":"response.output_item.added","output_index":0,"item":{"id":"msg_1","type":"message","status":"in_progress","role":"assistant","content":[]}}`,
			`{"type":"response.output_text.delta","item_id":"msg_1","output_index":0,"content_index":0,"delta":"Hel"}`,
			`{"type":"response.output_text.delta","item_id":"msg_1","output_index":0,"content_index":0,"delta":"lo"}`,
			respTextDone,
			`{"type":"response.completed","response":`+respObject("completed", respMsgItem)+`}`)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	io.WriteString(w, respObject("completed", respMsgItem))
}

// respToolsAnswer asks for two parallel calls whose argument deltas
// interleave; after a function_call_output it answers with text.
func respToolsAnswer(w http.ResponseWriter, body map[string]any) {
	input, _ := body["input"].([]any)
	if last, _ := input[len(input)-1].(map[string]any); last["type"] == "function_call_output" || body["tools"] == nil {
		respTextAnswer(w, body)
		return
	}
	if body["stream"] == true {
		writeRespEvents(w, respCreated,
			`{"type":"response.output_item.added","output_index":0,"item":{"id":"fc_a","type":"function_call","status":"in_progress","call_id":"call_a","name":"get_weather","arguments":""}}`,
			`{"type":"response.function_call_arguments.delta","item_id":"fc_a","output_index":0,"delta":"{\"city\":"}`,
			`{"type":"response.output_item.added","output_index":1,"item":{"id":"fc_b","type":"function_call","status":"in_progress","call_id":"call_b","name":"get_time","arguments":""}}`,
			`{"type":"response.function_call_arguments.delta","item_id":"fc_b","output_index":1,"delta":"{\"tz\":"}`,
			`{"type":"response.function_call_arguments.delta","item_id":"fc_a","output_index":0,"delta":"\"Paris\"}"}`,
			`{"type":"response.output_item.done","output_index":0,"item":`+respCallA+`}`,
			`{"type":"response.function_call_arguments.delta","item_id":"fc_b","output_index":1,"delta":"\"Europe/Paris\"}"}`,
			`{"type":"response.output_item.done","output_index":1,"item":`+respCallB+`}`,
			`{"type":"response.completed","response":`+respObject("completed", respCallA+","+respCallB)+`}`)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	io.WriteString(w, respObject("completed", respCallA+","+respCallB))
}

// responsesOnly is a Responses-only deployment: the openai_responses/
// prefix. (model_info.supported_endpoints only adds native protocols to a
// deployment's default one, so openai/ + ["/v1/responses"] still serves
// Chat natively and is not Responses-only.)
func responsesOnly(base string) map[string]map[string]any {
	return map[string]map[string]any{"prefix openai_responses/": dep("codex", "openai_responses/up-model", base+"/v1", nil)}
}

func TestAnthropicSDKOverResponsesOnlyUpstream(t *testing.T) {
	up := newRespScript(t, respToolsAnswer)
	for name, d := range responsesOnly(up.URL) {
		t.Run(name, func(t *testing.T) {
			g := startGateway(t, doc([]any{d}, nil), nil)
			c := anthropicClient(g, gatewayKey)
			n0 := len(up.requests())

			// Tool use, non-streaming.
			p := msgParams("codex")
			p.System = []anthropic.TextBlockParam{{Text: "Be brief."}}
			p.Tools = weatherTools()
			msg, err := c.Messages.New(context.Background(), p)
			if err != nil {
				t.Fatal(err)
			}
			if msg.Model != "codex" || msg.StopReason != anthropic.StopReasonToolUse || len(msg.Content) != 2 ||
				msg.Content[0].ID != "call_a" || string(msg.Content[0].Input) != `{"city":"Paris"}` ||
				msg.Content[1].ID != "call_b" || msg.Content[1].Name != "get_time" || msg.Usage.OutputTokens != 7 {
				t.Fatalf("message %+v", msg)
			}
			req := up.requests()[n0]
			if req["model"] != "up-model" || req["store"] != false || req["instructions"] != "Be brief." || req["stream"] != false {
				t.Fatalf("upstream request %v", req)
			}
			if tools, _ := req["tools"].([]any); len(tools) != 2 || tools[0].(map[string]any)["name"] != "get_weather" {
				t.Fatalf("upstream tools %v", req["tools"])
			}

			// Tool results go back as function_call_output, text comes back.
			p.Messages = append(p.Messages, msg.ToParam(), anthropic.NewUserMessage(
				anthropic.NewToolResultBlock("call_a", "sunny", false), anthropic.NewToolResultBlock("call_b", "noon", false)))
			final, err := c.Messages.New(context.Background(), p)
			if err != nil {
				t.Fatal(err)
			}
			if len(final.Content) != 1 || final.Content[0].Text != "Hello" || final.StopReason != anthropic.StopReasonEndTurn {
				t.Fatalf("final %+v", final)
			}
			var shape []string
			for _, it := range up.requests()[n0+1]["input"].([]any) {
				m := it.(map[string]any)
				shape = append(shape, fmt.Sprint(m["type"], ":", m["call_id"]))
			}
			if got := strings.Join(shape, " "); got != "message:<nil> function_call:call_a function_call:call_b function_call_output:call_a function_call_output:call_b" {
				t.Fatalf("upstream input %s", got)
			}

			// Streaming: text, then the parallel calls as sequential blocks.
			sp := msgParams("codex")
			smsg, _ := accumulate(t, c.Messages.NewStreaming(context.Background(), sp))
			if len(smsg.Content) != 1 || smsg.Content[0].Text != "Hello" || smsg.Model != "codex" || smsg.StopReason != anthropic.StopReasonEndTurn || smsg.Usage.OutputTokens != 7 {
				t.Fatalf("streamed text %+v", smsg)
			}
			sp.Tools = weatherTools()
			smsg, _ = accumulate(t, c.Messages.NewStreaming(context.Background(), sp))
			if len(smsg.Content) != 2 || smsg.StopReason != anthropic.StopReasonToolUse ||
				smsg.Content[0].ID != "call_a" || string(smsg.Content[0].Input) != `{"city":"Paris"}` ||
				smsg.Content[1].ID != "call_b" || string(smsg.Content[1].Input) != `{"tz":"Europe/Paris"}` {
				t.Fatalf("streamed tools %+v", smsg)
			}
			if reqs := up.requests(); reqs[len(reqs)-1]["stream"] != true {
				t.Fatalf("streaming request not streamed upstream: %v", reqs[len(reqs)-1])
			}
		})
	}
}

// chatStreamResult is what a raw chat client rebuilds from a stream.
type chatStreamResult struct {
	content, finish string
	calls           [][3]string // id, name, arguments by index
	usage           bool
	done            bool
}

func readChatStream(t *testing.T, body io.Reader) chatStreamResult {
	t.Helper()
	var r chatStreamResult
	sc := bufio.NewScanner(body)
	for sc.Scan() {
		line, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok {
			continue
		}
		if r.done {
			t.Fatalf("data after [DONE]: %s", line)
		}
		if line == "[DONE]" {
			r.done = true
			continue
		}
		var c struct {
			Object, Model string
			Choices       []struct {
				Delta struct {
					Content   string
					ToolCalls []struct {
						Index    int
						ID       string
						Function struct{ Name, Arguments string }
					} `json:"tool_calls"`
				}
				FinishReason *string `json:"finish_reason"`
			}
			Usage *struct{ PromptTokens int } `json:"usage"`
			Error any
		}
		if err := json.Unmarshal([]byte(line), &c); err != nil || c.Error != nil || c.Object != "chat.completion.chunk" || c.Model != "codex" {
			t.Fatalf("bad chunk %s (%v)", line, err)
		}
		if c.Usage != nil {
			r.usage = true
		}
		for _, ch := range c.Choices {
			r.content += ch.Delta.Content
			for _, tc := range ch.Delta.ToolCalls {
				switch {
				case tc.Index == len(r.calls):
					r.calls = append(r.calls, [3]string{tc.ID, tc.Function.Name, ""})
				case tc.Index > len(r.calls):
					t.Fatalf("tool index %d skips %d", tc.Index, len(r.calls))
				}
				r.calls[tc.Index][2] += tc.Function.Arguments
			}
			if ch.FinishReason != nil {
				r.finish = *ch.FinishReason
			}
		}
	}
	return r
}

func TestRawChatClientOverResponsesOnlyUpstream(t *testing.T) {
	up := newRespScript(t, respToolsAnswer)
	g := startGateway(t, doc([]any{dep("codex", "openai_responses/up-model", up.URL+"/v1", nil)}, nil), nil)
	tools := `"tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object"}}},{"type":"function","function":{"name":"get_time"}}]`

	resp, body := g.post(t, "/v1/chat/completions", `{"model":"codex","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"hi"}],`+tools+`}`, nil)
	var cc struct {
		Model   string
		Choices []struct {
			Message struct {
				Content   *string
				ToolCalls []struct {
					ID       string
					Function struct{ Name, Arguments string }
				} `json:"tool_calls"`
			}
			FinishReason string `json:"finish_reason"`
		}
		Usage struct {
			PromptTokens int `json:"prompt_tokens"`
		} `json:"usage"`
	}
	if resp.StatusCode != 200 || json.Unmarshal([]byte(body), &cc) != nil || cc.Model != "codex" || cc.Choices[0].FinishReason != "tool_calls" ||
		len(cc.Choices[0].Message.ToolCalls) != 2 || cc.Choices[0].Message.ToolCalls[1].ID != "call_b" ||
		cc.Choices[0].Message.ToolCalls[0].Function.Arguments != `{"city":"Paris"}` || cc.Usage.PromptTokens != 11 {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	if req := up.requests()[0]; req["instructions"] != "Be brief." || req["store"] != false || req["model"] != "up-model" {
		t.Fatalf("upstream request %v", req)
	}

	// Tool results round trip (non-stream), then streams.
	resp, body = g.post(t, "/v1/chat/completions", `{"model":"codex","messages":[{"role":"user","content":"hi"},
		{"role":"assistant","content":null,"tool_calls":[{"id":"call_a","type":"function","function":{"name":"get_weather","arguments":"{}"}}]},
		{"role":"tool","tool_call_id":"call_a","content":"sunny"}],`+tools+`}`, nil)
	if resp.StatusCode != 200 || !strings.Contains(body, `"content":"Hello"`) || !strings.Contains(body, `"finish_reason":"stop"`) {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}

	for _, tc := range []struct {
		name, body string
		check      func(r chatStreamResult) bool
	}{
		{"text", `{"model":"codex","stream":true,"messages":[{"role":"user","content":"hi"}]}`,
			func(r chatStreamResult) bool { return r.content == "Hello" && r.finish == "stop" && len(r.calls) == 0 }},
		{"parallel calls", `{"model":"codex","stream":true,"messages":[{"role":"user","content":"hi"}],` + tools + `}`,
			func(r chatStreamResult) bool {
				return r.finish == "tool_calls" && len(r.calls) == 2 && r.calls[0] == [3]string{"call_a", "get_weather", `{"city":"Paris"}`} &&
					r.calls[1] == [3]string{"call_b", "get_time", `{"tz":"Europe/Paris"}`}
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest("POST", g.URL+"/v1/chat/completions", strings.NewReader(tc.body))
			req.Header.Set("Authorization", "Bearer "+gatewayKey)
			req.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
				b, _ := io.ReadAll(resp.Body)
				t.Fatalf("%d %s", resp.StatusCode, b)
			}
			r := readChatStream(t, resp.Body)
			if !r.done || !r.usage || !tc.check(r) {
				t.Fatalf("%+v", r)
			}
		})
	}
}

// A Responses stream that fails after it started ends with the caller's
// error event (Messages: event error; Chat: an error frame, no [DONE]).
func TestResponsesUpstreamFailureMidStream(t *testing.T) {
	up := newRespScript(t, func(w http.ResponseWriter, body map[string]any) {
		writeRespEvents(w, respCreated,
			`{"type":"response.output_text.delta","item_id":"msg_1","output_index":0,"content_index":0,"delta":"Hel"}`,
			`{"type":"response.failed","response":{"id":"resp_1","status":"failed","error":{"code":"server_error","message":"model crashed"}}}`)
	})
	g := startGateway(t, doc([]any{dep("codex", "openai_responses/up-model", up.URL+"/v1", nil)}, nil), nil)
	c := anthropicClient(g, gatewayKey)
	st := c.Messages.NewStreaming(context.Background(), msgParams("codex"))
	for st.Next() {
	}
	if err := st.Err(); err == nil || !strings.Contains(err.Error(), "model crashed") {
		t.Fatalf("messages stream err = %v", err)
	}
	resp, body := g.post(t, "/v1/chat/completions", `{"model":"codex","stream":true,"messages":[{"role":"user","content":"hi"}]}`, nil)
	if resp.StatusCode != 200 || !strings.Contains(body, `"content":"Hel"`) || !strings.Contains(body, "model crashed") || strings.Contains(body, "[DONE]") {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
}

// BenchmarkMessagesAndChatOverResponsesUpstream: a Messages stream and a
// Chat JSON request translated to a Responses-only upstream on loopback
// (20 text deltas per stream).
func BenchmarkMessagesAndChatOverResponsesUpstream(b *testing.B) {
	var events []string
	events = append(events, respCreated, `{"type":"response.output_item.added","output_index":0,"item":{"id":"msg_1","type":"message","status":"in_progress","role":"assistant","content":[]}}`)
	for i := 0; i < 20; i++ {
		events = append(events, `{"type":"response.output_text.delta","item_id":"msg_1","output_index":0,"content_index":0,"delta":"PONG"}`)
	}
	events = append(events, respTextDone, `{"type":"response.completed","response":`+respObject("completed", respMsgItem)+`}`)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		if strings.Contains(string(raw), `"stream":true`) {
			writeRespEvents(w, events...)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, respObject("completed", respMsgItem))
	}))
	b.Cleanup(up.Close)
	s, err := gateway.New(gateway.Options{Doc: doc([]any{dep("codex", "openai_responses/up-model", up.URL+"/v1", nil)}, nil),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	b.Run("messages-stream", func(b *testing.B) {
		runBench(b, s, "/v1/messages", []byte(`{"model":"codex","max_tokens":64,"stream":true,"messages":[{"role":"user","content":"hi"}]}`))
	})
	b.Run("chat-json", func(b *testing.B) {
		runBench(b, s, "/v1/chat/completions", []byte(`{"model":"codex","messages":[{"role":"user","content":"hi"}]}`))
	})
}
