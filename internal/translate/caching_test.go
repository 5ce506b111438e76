package translate

import (
	"encoding/json"
	"strings"
	"testing"
)

// Prompt caching across the translators: cache_control reaches an
// anthropic upstream where it was put and is never sent to an OpenAI one,
// prompt_cache_key reaches OpenAI-compatible upstreams, and cache usage
// (reads and writes) survives every direction, streamed or not.

const ttl1h = `{"type":"ephemeral","ttl":"1h"}`

func TestChatToAnthropicKeepsCacheControlWhereTheClientPutIt(t *testing.T) {
	cases := []struct {
		name, body string
		path       []any // where the marker must be in the Anthropic request
		want       string
	}{
		{"system part ends its own block", `{"model":"m","messages":[{"role":"system","content":[{"type":"text","text":"stable"},
			{"type":"text","text":"prefix","cache_control":` + ttl1h + `},{"type":"text","text":"volatile"}]},{"role":"user","content":"hi"}]}`,
			[]any{"system", 0}, `{"type":"text","text":"stable\nprefix","cache_control":` + ttl1h + `}`},
		{"system text after the marker stays uncached", `{"model":"m","messages":[{"role":"system","content":[{"type":"text","text":"prefix","cache_control":{"type":"ephemeral"}},
			{"type":"text","text":"volatile"}]},{"role":"user","content":"hi"}]}`,
			[]any{"system", 1}, `{"type":"text","text":"volatile"}`},
		{"message-level marker on a string system message", `{"model":"m","messages":[{"role":"system","content":"sys","cache_control":` + ttl1h + `},{"role":"user","content":"hi"}]}`,
			[]any{"system", 0}, `{"type":"text","text":"sys","cache_control":` + ttl1h + `}`},
		{"user text part", `{"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"a"},{"type":"text","text":"b","cache_control":` + ttl1h + `}]}]}`,
			[]any{"messages", 0, "content", 1}, `{"type":"text","text":"b","cache_control":` + ttl1h + `}`},
		{"user image part", `{"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"https://x/y.png"},"cache_control":{"type":"ephemeral"}}]}]}`,
			[]any{"messages", 0, "content", 0}, `{"type":"image","source":{"type":"url","url":"https://x/y.png"},"cache_control":{"type":"ephemeral"}}`},
		{"assistant text", `{"model":"m","messages":[{"role":"user","content":"q"},{"role":"assistant","content":[{"type":"text","text":"a","cache_control":{"type":"ephemeral"}}]},{"role":"user","content":"q2"}]}`,
			[]any{"messages", 1, "content", 0}, `{"type":"text","text":"a","cache_control":{"type":"ephemeral"}}`},
		{"tool result", `{"model":"m","messages":[{"role":"user","content":"q"},{"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{}"}}]},
			{"role":"tool","tool_call_id":"c1","content":"out","cache_control":` + ttl1h + `}]}`,
			[]any{"messages", 2, "content", 0}, `{"type":"tool_result","tool_use_id":"c1","content":"out","cache_control":` + ttl1h + `}`},
		{"tool definition", `{"model":"m","messages":[{"role":"user","content":"q"}],"tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object"}},"cache_control":` + ttl1h + `}]}`,
			[]any{"tools", 0}, `{"name":"f","input_schema":{"type":"object"},"cache_control":` + ttl1h + `}`},
		{"null marker is absent", `{"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"a","cache_control":null}]}]}`,
			[]any{"messages", 0, "content", 0}, `{"type":"text","text":"a"}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, err := ChatToAnthropic([]byte(c.body), Options{})
			if err != nil {
				t.Fatal(err)
			}
			var got any = decodeAny(t, res.Body)
			for _, k := range c.path {
				switch k := k.(type) {
				case string:
					got = got.(map[string]any)[k]
				case int:
					arr, _ := got.([]any)
					if k >= len(arr) {
						t.Fatalf("%v: no element %d in %s", c.path, k, res.Body)
					}
					got = arr[k]
				}
			}
			if g, w := mustJSON(got), mustJSON(decodeAny(t, []byte(c.want))); string(g) != string(w) {
				t.Fatalf("%v = %s, want %s\nbody: %s", c.path, g, w, res.Body)
			}
		})
	}
}

func TestCacheControlNeverReachesOpenAIUpstreams(t *testing.T) {
	claude := `{"model":"m","max_tokens":100,"system":[{"type":"text","text":"s","cache_control":` + ttl1h + `}],
		"messages":[{"role":"user","content":[{"type":"text","text":"q","cache_control":{"type":"ephemeral"}}]},
		{"role":"assistant","content":[{"type":"tool_use","id":"t1","name":"f","input":{}}]},
		{"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":"r","cache_control":` + ttl1h + `}]}],
		"tools":[{"name":"f","input_schema":{"type":"object"},"cache_control":{"type":"ephemeral"}}]}`
	chat := `{"model":"m","messages":[{"role":"system","content":"s","cache_control":` + ttl1h + `},
		{"role":"user","content":[{"type":"text","text":"q","cache_control":{"type":"ephemeral"}}]}],
		"tools":[{"type":"function","function":{"name":"f"},"cache_control":{"type":"ephemeral"}}]}`
	for _, c := range []struct {
		name string
		fn   requestFunc
		body string
	}{
		{"AnthropicToChat", AnthropicToChat, claude},
		{"AnthropicToResponses", AnthropicToResponses, claude},
		{"ChatToResponses", ChatToResponses, chat},
	} {
		res, err := c.fn([]byte(c.body), Options{})
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if strings.Contains(string(res.Body), "cache_control") || strings.Contains(string(res.Body), "ttl") {
			t.Errorf("%s sent the cache marker on: %s", c.name, res.Body)
		}
		if !strings.Contains(string(res.Body), `"q"`) {
			t.Errorf("%s lost the marked text: %s", c.name, res.Body)
		}
	}
}

func TestPromptCacheKeyReachesOpenAIUpstreams(t *testing.T) {
	for _, c := range []struct {
		name string
		fn   requestFunc
		body string
		want string // the upstream's prompt_cache_key ("" = absent)
	}{
		{"ResponsesToChat", ResponsesToChat, `{"model":"m","input":"hi","prompt_cache_key":"sess-1"}`, "sess-1"},
		{"ChatToResponses", ChatToResponses, `{"model":"m","messages":[{"role":"user","content":"hi"}],"prompt_cache_key":"sess-2"}`, "sess-2"},
		{"ResponsesToChat without a key", ResponsesToChat, `{"model":"m","input":"hi"}`, ""},
		{"ResponsesToAnthropic drops it", ResponsesToAnthropic, `{"model":"m","input":"hi","prompt_cache_key":"sess-3"}`, ""},
	} {
		res, err := c.fn([]byte(c.body), Options{})
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		got, ok := decodeAny(t, res.Body).(map[string]any)["prompt_cache_key"]
		if c.want == "" && ok || c.want != "" && got != c.want {
			t.Errorf("%s: prompt_cache_key = %v (present %v), want %q: %s", c.name, got, ok, c.want, res.Body)
		}
	}
}

// Cache usage as each upstream kind reports it: 1000 prompt tokens of
// which 800 read from the cache and (Anthropic, LiteLLM-style chat) 150
// written to it.
const (
	chatCacheUsage = `{"prompt_tokens":1000,"completion_tokens":5,"total_tokens":1005,"prompt_tokens_details":{"cached_tokens":800},"cache_creation_input_tokens":150}`
	anthCacheUsage = `{"input_tokens":50,"output_tokens":5,"cache_read_input_tokens":800,"cache_creation_input_tokens":150}`
	respCacheUsage = `{"input_tokens":1000,"input_tokens_details":{"cached_tokens":800},"output_tokens":5,"total_tokens":1005}`
)

// What a client of each protocol must see for those usages.
var (
	wantChatUsage = map[string]float64{"prompt_tokens": 1000, "prompt_tokens_details.cached_tokens": 800}
	wantAnthUsage = map[string]float64{"input_tokens": 50, "cache_read_input_tokens": 800, "cache_creation_input_tokens": 150}
	wantRespUsage = map[string]float64{"input_tokens": 1000, "input_tokens_details.cached_tokens": 800}
)

func TestCacheUsageMappedInEveryDirection(t *testing.T) {
	chatBody := `{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}],"usage":` + chatCacheUsage + `}`
	anthBody := `{"id":"msg_1","type":"message","role":"assistant","model":"m","content":[{"type":"text","text":"hi"}],"stop_reason":"end_turn","usage":` + anthCacheUsage + `}`
	respBody := `{"id":"resp_1","object":"response","status":"completed","model":"m","output":[{"type":"message","id":"m1","role":"assistant","content":[{"type":"output_text","text":"hi"}]}],"usage":` + respCacheUsage + `}`
	fns := wireResponses()
	for _, c := range []struct {
		fn, body string
		want     map[string]float64
	}{
		{"chat_response_to_anthropic", chatBody, wantAnthUsage},
		{"chat_response_to_responses", chatBody, wantRespUsage},
		{"anthropic_response_to_chat", anthBody, map[string]float64{"prompt_tokens": 1000, "prompt_tokens_details.cached_tokens": 800, "cache_creation_input_tokens": 150}},
		{"anthropic_response_to_responses", anthBody, wantRespUsage},
		{"responses_response_to_chat", respBody, wantChatUsage},
		{"responses_response_to_anthropic", respBody, map[string]float64{"input_tokens": 200, "cache_read_input_tokens": 800}},
	} {
		out, err := fns[c.fn]([]byte(c.body))
		if err != nil {
			t.Fatalf("%s: %v", c.fn, err)
		}
		checkUsage(t, c.fn, lastUsage(decodeAny(t, out)), c.want, out)
	}
}

func TestCacheUsageMappedInEveryStream(t *testing.T) {
	chatStream := []string{`{"id":"c1","model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":"hi"}}]}`,
		`{"id":"c1","model":"m","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}`,
		`{"id":"c1","model":"m","choices":[],"usage":` + chatCacheUsage + `}`, `[DONE]`}
	anthStream := []string{`{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"m","content":[],"usage":` + anthCacheUsage + `}}`,
		`{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}`,
		`{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"hi"}}`,
		`{"type":"content_block_stop","index":0}`,
		`{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":5}}`,
		`{"type":"message_stop"}`}
	respStream := []string{`{"type":"response.created","response":{"id":"resp_1","status":"in_progress","model":"m","output":[]}}`,
		`{"type":"response.output_item.added","output_index":0,"item":{"id":"m1","type":"message","role":"assistant","content":[]}}`,
		`{"type":"response.output_text.delta","item_id":"m1","output_index":0,"content_index":0,"delta":"hi"}`,
		`{"type":"response.output_item.done","output_index":0,"item":{"id":"m1","type":"message","role":"assistant","content":[{"type":"output_text","text":"hi"}]}}`,
		`{"type":"response.completed","response":{"id":"resp_1","status":"completed","model":"m","output":[{"id":"m1","type":"message","role":"assistant","content":[{"type":"output_text","text":"hi"}]}],"usage":` + respCacheUsage + `}}`}
	machines := wireStreams()
	for _, c := range []struct {
		machine string
		in      []string
		want    map[string]float64
	}{
		{"chat_stream_to_anthropic", chatStream, wantAnthUsage},
		{"chat_stream_to_responses", chatStream, wantRespUsage},
		{"anthropic_stream_to_chat", anthStream, map[string]float64{"prompt_tokens": 1000, "prompt_tokens_details.cached_tokens": 800, "cache_creation_input_tokens": 150}},
		{"anthropic_stream_to_responses", anthStream, wantRespUsage},
		{"responses_stream_to_chat", respStream, wantChatUsage},
		{"responses_stream_to_anthropic", respStream, map[string]float64{"input_tokens": 200, "cache_read_input_tokens": 800}},
	} {
		m := machines[c.machine]()
		var usage map[string]any
		var all []string
		feed := func(data []byte) {
			all = append(all, string(data))
			if d := trimSpace(data); len(d) > 0 && d[0] == '{' {
				if u := lastUsage(decodeAny(t, d)); u != nil {
					usage = u
				}
			}
		}
		for _, d := range c.in {
			fs, err := m.Feed([]byte(d))
			if err != nil {
				t.Fatalf("%s: feeding %s: %v", c.machine, d, err)
			}
			for _, f := range fs {
				feed(f.Data)
			}
		}
		for _, f := range m.Finish(nil) {
			feed(f.Data)
		}
		checkUsage(t, c.machine, usage, c.want, []byte(strings.Join(all, "\n")))
	}
}

// TestChatUpstreamCacheWritesReachClaudeCodeAtMessageStart: a chat
// upstream that reports usage before the first content (LiteLLM, vLLM with
// continuous usage) gives message_start the real cache counts.
func TestChatUpstreamCacheWritesReachClaudeCodeAtMessageStart(t *testing.T) {
	m := NewChatToAnthropicStream("alias", StreamOptions{InputTokens: 7})
	fs, err := m.Feed([]byte(`{"id":"c1","choices":[],"usage":` + chatCacheUsage + `}`))
	if err != nil {
		t.Fatal(err)
	}
	more, err := m.Feed([]byte(`{"id":"c1","choices":[{"index":0,"delta":{"content":"hi"}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	fs = append(fs, more...)
	if len(fs) == 0 {
		t.Fatal("no message_start")
	}
	start := decodeAny(t, fs[0].Data).(map[string]any)
	if start["type"] != "message_start" {
		t.Fatalf("first frame %s", fs[0].Data)
	}
	u := start["message"].(map[string]any)["usage"].(map[string]any)
	checkUsage(t, "message_start", u, wantAnthUsage, fs[0].Data)
	if _, ok := u["cache_creation"]; !ok {
		t.Fatalf("message_start usage without cache_creation (Claude Code reads it): %s", fs[0].Data)
	}
}

func decodeAny(t testing.TB, b []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("decoding %s: %v", b, err)
	}
	return v
}

// lastUsage returns the "usage" object of a body or event: top level,
// or inside "message" (message_start) or "response" (Responses events).
func lastUsage(v any) map[string]any {
	obj, _ := v.(map[string]any)
	if u, ok := obj["usage"].(map[string]any); ok {
		return u
	}
	for _, k := range []string{"message", "response"} {
		if inner, ok := obj[k].(map[string]any); ok {
			if u, ok := inner["usage"].(map[string]any); ok {
				return u
			}
		}
	}
	return nil
}

// checkUsage compares dotted paths of a usage object with want.
func checkUsage(t testing.TB, what string, usage map[string]any, want map[string]float64, out []byte) {
	t.Helper()
	if usage == nil {
		t.Errorf("%s: no usage in %s", what, out)
		return
	}
	for path, w := range want {
		var v any = usage
		for _, k := range strings.Split(path, ".") {
			m, _ := v.(map[string]any)
			v = m[k]
		}
		if v != w {
			t.Errorf("%s: usage %s = %v, want %v\nusage: %s", what, path, v, w, mustJSON(usage))
		}
	}
}
