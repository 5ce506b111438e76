package gateway_test

// Issue 12 hole 7: parallel tool calls that a Chat upstream streams
// interleaved reach Messages, Responses and Chat clients of the real
// gateway as two whole calls, streaming and not.

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/anthropics/anthropic-sdk-go"
	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/responses"
)

// parallelWant are the two calls every interleaved answer carries.
var parallelWant = []struct{ id, name, args string }{
	{"call_a", "get_weather", `{"city":"Paris"}`},
	{"call_b", "get_time", `{"tz":"Europe/Paris"}`},
}

// interleavedAnswers are Chat streams of the two calls in the orders
// OpenAI-compatible servers use; the non-streaming answer is the same.
var interleavedAnswers = map[string][]string{
	"headers first then alternating pieces": {
		`{"role":"assistant","content":null,"tool_calls":[{"index":0,"id":"call_a","type":"function","function":{"name":"get_weather","arguments":""}}]}`,
		`{"tool_calls":[{"index":1,"id":"call_b","type":"function","function":{"name":"get_time","arguments":""}}]}`,
		`{"tool_calls":[{"index":0,"function":{"arguments":"{\"city\":"}}]}`,
		`{"tool_calls":[{"index":1,"function":{"arguments":"{\"tz\":"}}]}`,
		`{"tool_calls":[{"index":0,"function":{"arguments":"\"Paris\"}"}}]}`,
		`{"tool_calls":[{"index":1,"function":{"arguments":"\"Europe/Paris\"}"}}]}`,
	},
	"call 1's pieces before call 0's": {
		`{"role":"assistant","content":null,"tool_calls":[{"index":0,"id":"call_a","type":"function","function":{"name":"get_weather","arguments":""}},{"index":1,"id":"call_b","type":"function","function":{"name":"get_time","arguments":""}}]}`,
		`{"tool_calls":[{"index":1,"function":{"arguments":"{\"tz\":"}}]}`,
		`{"tool_calls":[{"index":1,"function":{"arguments":"\"Europe/Paris\"}"}}]}`,
		`{"tool_calls":[{"index":0,"function":{"arguments":"{\"city\":"}}]}`,
		`{"tool_calls":[{"index":0,"function":{"arguments":"\"Paris\"}"}}]}`,
	},
	"id and name after the first pieces": {
		`{"role":"assistant","content":null,"tool_calls":[{"index":0,"function":{"arguments":"{\"city\":"}}]}`,
		`{"tool_calls":[{"index":1,"function":{"arguments":"{\"tz\":"}}]}`,
		`{"tool_calls":[{"index":0,"id":"call_a","type":"function","function":{"name":"get_weather"}},{"index":1,"id":"call_b","type":"function","function":{"name":"get_time"}}]}`,
		`{"tool_calls":[{"index":0,"function":{"arguments":"\"Paris\"}"}}]}`,
		`{"tool_calls":[{"index":1,"function":{"arguments":"\"Europe/Paris\"}"}}]}`,
	},
}

func interleavedAnswer(deltas []string) func(w http.ResponseWriter, body map[string]any) {
	return func(w http.ResponseWriter, body map[string]any) {
		if isStream(body) {
			var chunks []string
			for _, d := range deltas {
				chunks = append(chunks, chunk(d, ""))
			}
			writeChunks(w, append(chunks, chunk(`{}`, "tool_calls"), usageChunk, "[DONE]")...)
			return
		}
		chatJSON(w, `{"role":"assistant","content":null,"tool_calls":[{"id":"call_a","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}},{"id":"call_b","type":"function","function":{"name":"get_time","arguments":"{\"tz\":\"Europe/Paris\"}"}}]}`, "tool_calls")
	}
}

func TestAnthropicSDKGetsInterleavedParallelCallsAsTwoWholeBlocks(t *testing.T) {
	for name, deltas := range interleavedAnswers {
		t.Run(name, func(t *testing.T) {
			up := newChatScript(t, interleavedAnswer(deltas))
			g := startGateway(t, doc([]any{dep("coder", "openai/up-model", up.URL+"/v1", nil)}, nil), nil)
			c := anthropicClient(g, gatewayKey)
			p := msgParams("coder")
			p.Tools = weatherTools()
			streamed, _ := accumulate(t, c.Messages.NewStreaming(context.Background(), p)) // one block open at a time
			whole, err := c.Messages.New(context.Background(), p)
			if err != nil {
				t.Fatal(err)
			}
			for kind, msg := range map[string]*anthropic.Message{"stream": &streamed, "non-stream": whole} {
				if msg.StopReason != anthropic.StopReasonToolUse || len(msg.Content) != len(parallelWant) {
					t.Fatalf("%s: %+v", kind, msg)
				}
				for i, w := range parallelWant {
					b := msg.Content[i]
					if b.Type != "tool_use" || b.ID != w.id || b.Name != w.name || string(b.Input) != w.args {
						t.Fatalf("%s block %d: %+v input %s", kind, i, b, b.Input)
					}
				}
			}
		})
	}
}

func TestResponsesSDKGetsInterleavedParallelCallsAsTwoWholeItems(t *testing.T) {
	for name, deltas := range interleavedAnswers {
		t.Run(name, func(t *testing.T) {
			up := newChatScript(t, interleavedAnswer(deltas))
			g := startGateway(t, doc([]any{dep("coder", "openai/up-model", up.URL+"/v1", nil)}, nil), nil)
			c := openaiClient(g, gatewayKey)
			p := respParams("coder")
			p.Tools = respTools()
			res := collectResponses(t, c.Responses.NewStreaming(context.Background(), p)) // distinct output_index, deltas add up
			if res.terminal.Type != "response.completed" || len(res.done) != len(parallelWant) {
				t.Fatalf("events %v, items %+v", res.types, res.done)
			}
			whole, err := c.Responses.New(context.Background(), p)
			if err != nil {
				t.Fatal(err)
			}
			for kind, items := range map[string][]responses.ResponseOutputItemUnion{
				"stream": {res.done[0], res.done[1]}, "completed": res.terminal.Response.Output, "non-stream": whole.Output,
			} {
				if len(items) != len(parallelWant) {
					t.Fatalf("%s: %+v", kind, items)
				}
				for i, w := range parallelWant {
					it := items[i]
					if it.Type != "function_call" || it.CallID != w.id || it.Name != w.name || it.Arguments.OfString != w.args {
						t.Fatalf("%s item %d: %+v", kind, i, it)
					}
				}
			}
		})
	}
}

// TestChatClientGetsInterleavedParallelCallsAsReceived: a Chat client of a
// Chat upstream is passed the stream through: the same tool_calls
// fragments in the same chunks, which its own accumulator (the OpenAI
// SDK's) joins into two whole calls; and the non-streaming answer keeps
// both calls.
func TestChatClientGetsInterleavedParallelCallsAsReceived(t *testing.T) {
	for name, deltas := range interleavedAnswers {
		t.Run(name, func(t *testing.T) {
			up := newChatScript(t, interleavedAnswer(deltas))
			g := startGateway(t, doc([]any{dep("coder", "openai/up-model", up.URL+"/v1", nil)}, nil), nil)

			resp, body := g.post(t, "/v1/chat/completions", `{"model":"coder","stream":true,"messages":[{"role":"user","content":"hi"}]}`, nil)
			if resp.StatusCode != 200 {
				t.Fatalf("%d %s", resp.StatusCode, body)
			}
			var got []string
			sc := bufio.NewScanner(strings.NewReader(body))
			for sc.Scan() {
				data, ok := strings.CutPrefix(sc.Text(), "data: ")
				if !ok || data == "[DONE]" {
					continue
				}
				var ch struct {
					Choices []struct {
						Delta map[string]json.RawMessage `json:"delta"`
					} `json:"choices"`
				}
				if err := json.Unmarshal([]byte(data), &ch); err != nil {
					t.Fatalf("frame %q: %v", data, err)
				}
				if len(ch.Choices) > 0 && ch.Choices[0].Delta["tool_calls"] != nil {
					got = append(got, compactJSON(t, ch.Choices[0].Delta["tool_calls"]))
				}
			}
			var want []string
			for _, d := range deltas {
				var m map[string]json.RawMessage
				if err := json.Unmarshal([]byte(d), &m); err != nil {
					t.Fatal(err)
				}
				want = append(want, compactJSON(t, m["tool_calls"]))
			}
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Fatalf("tool_calls fragments changed:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}

			c := openaiClient(g, gatewayKey)
			st := c.Chat.Completions.NewStreaming(context.Background(), chatParams("coder"))
			var acc openai.ChatCompletionAccumulator
			for st.Next() {
				acc.AddChunk(st.Current())
			}
			if err := st.Err(); err != nil {
				t.Fatal(err)
			}
			whole, err := c.Chat.Completions.New(context.Background(), chatParams("coder"))
			if err != nil {
				t.Fatal(err)
			}
			for kind, cc := range map[string]*openai.ChatCompletion{"stream": &acc.ChatCompletion, "non-stream": whole} {
				if len(cc.Choices) != 1 || len(cc.Choices[0].Message.ToolCalls) != len(parallelWant) {
					t.Fatalf("%s: %+v", kind, cc.Choices)
				}
				for i, w := range parallelWant {
					tc := cc.Choices[0].Message.ToolCalls[i]
					if tc.ID != w.id || tc.Function.Name != w.name || tc.Function.Arguments != w.args {
						t.Fatalf("%s call %d: %+v", kind, i, tc)
					}
				}
			}
		})
	}
}

func compactJSON(t *testing.T, raw json.RawMessage) string {
	t.Helper()
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(v)
	return string(b)
}
