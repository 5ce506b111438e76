package gateway_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// Prompt caching through the gateway, against a real upstream on
// 127.0.0.1: cache_control reaches an anthropic/ upstream as the client
// wrote it and never an OpenAI one, prompt_cache_key reaches OpenAI-
// compatible upstreams, and the upstream's cache usage reaches the client
// in the client's own fields.

// cacheUpstream serves all three protocols, records every body as it
// arrived and answers with usage of 1000 prompt tokens, 800 of them read
// from the cache and (where the protocol says so) 150 written to it.
type cacheUpstream struct {
	*httptest.Server
	mu     sync.Mutex
	bodies map[string][]string // path -> raw bodies
}

func newCacheUpstream(t *testing.T) *cacheUpstream {
	u := &cacheUpstream{bodies: map[string][]string{}}
	u.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		u.mu.Lock()
		u.bodies[r.URL.Path] = append(u.bodies[r.URL.Path], string(raw))
		u.mu.Unlock()
		var req struct{ Stream bool }
		_ = json.Unmarshal(raw, &req)
		if req.Stream {
			w.Header().Set("Content-Type", "text/event-stream")
		} else {
			w.Header().Set("Content-Type", "application/json")
		}
		const (
			anthUsage = `{"input_tokens":50,"output_tokens":2,"cache_read_input_tokens":800,"cache_creation_input_tokens":150}`
			chatUsage = `{"prompt_tokens":1000,"completion_tokens":2,"total_tokens":1002,"prompt_tokens_details":{"cached_tokens":800}}`
			respUsage = `{"input_tokens":1000,"input_tokens_details":{"cached_tokens":800},"output_tokens":2,"total_tokens":1002}`
			respOut   = `[{"type":"message","id":"m1","role":"assistant","content":[{"type":"output_text","text":"PONG"}]}]`
		)
		switch {
		case r.URL.Path == "/v1/messages" && req.Stream:
			io.WriteString(w, sseEvents(
				`{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"up-model","content":[],"usage":`+anthUsage+`}}`,
				`{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}`,
				`{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"PONG"}}`,
				`{"type":"content_block_stop","index":0}`,
				`{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":2}}`,
				`{"type":"message_stop"}`))
		case r.URL.Path == "/v1/messages":
			io.WriteString(w, `{"id":"msg_1","type":"message","role":"assistant","model":"up-model","content":[{"type":"text","text":"PONG"}],"stop_reason":"end_turn","stop_sequence":null,"usage":`+anthUsage+`}`)
		case r.URL.Path == "/v1/chat/completions" && req.Stream:
			io.WriteString(w, sseEvents(
				`{"id":"c1","object":"chat.completion.chunk","created":1,"model":"up-model","choices":[{"index":0,"delta":{"role":"assistant","content":"PONG"},"finish_reason":null}]}`,
				`{"id":"c1","object":"chat.completion.chunk","created":1,"model":"up-model","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}`,
				`{"id":"c1","object":"chat.completion.chunk","created":1,"model":"up-model","choices":[],"usage":`+chatUsage+`}`,
				`[DONE]`))
		case r.URL.Path == "/v1/chat/completions":
			io.WriteString(w, `{"id":"c1","object":"chat.completion","created":1,"model":"up-model","choices":[{"index":0,"message":{"role":"assistant","content":"PONG"},"finish_reason":"stop"}],"usage":`+chatUsage+`}`)
		case r.URL.Path == "/v1/responses" && req.Stream:
			io.WriteString(w, sseEvents(
				`{"type":"response.created","response":{"id":"resp_1","object":"response","status":"in_progress","model":"up-model","output":[]}}`,
				`{"type":"response.output_item.added","output_index":0,"item":{"id":"m1","type":"message","role":"assistant","content":[]}}`,
				`{"type":"response.output_text.delta","item_id":"m1","output_index":0,"content_index":0,"delta":"PONG"}`,
				`{"type":"response.output_item.done","output_index":0,"item":`+respOut[1:len(respOut)-1]+`}`,
				`{"type":"response.completed","response":{"id":"resp_1","object":"response","status":"completed","model":"up-model","output":`+respOut+`,"usage":`+respUsage+`}}`))
		case r.URL.Path == "/v1/responses":
			io.WriteString(w, `{"id":"resp_1","object":"response","created_at":1,"status":"completed","model":"up-model","output":`+respOut+`,"usage":`+respUsage+`}`)
		default:
			http.Error(w, `{"error":{"message":"no such path"}}`, 404)
		}
	}))
	t.Cleanup(u.Close)
	return u
}

// sseEvents writes data payloads as SSE frames, with event: lines for the
// typed (Anthropic and Responses) ones.
func sseEvents(data ...string) string {
	var sb strings.Builder
	for _, d := range data {
		var typ struct{ Type string }
		if json.Unmarshal([]byte(d), &typ) == nil && typ.Type != "" {
			sb.WriteString("event: " + typ.Type + "\n")
		}
		sb.WriteString("data: " + d + "\n\n")
	}
	return sb.String()
}

// only returns the one body that reached path.
func (u *cacheUpstream) only(t *testing.T, path string) string {
	t.Helper()
	u.mu.Lock()
	defer u.mu.Unlock()
	if got := u.bodies[path]; len(got) != 1 {
		t.Fatalf("upstream saw %d requests on %s (all: %v)", len(got), path, u.bodies)
	}
	b := u.bodies[path][0]
	delete(u.bodies, path)
	return b
}

// cacheGateway serves one alias per upstream kind, all on u.
func cacheGateway(t *testing.T, u *cacheUpstream) *gw {
	return startGateway(t, doc([]any{
		dep("claude", "anthropic/up-model", u.URL, nil),
		dep("chat", "openai/up-model", u.URL+"/v1", nil),
		dep("resp", "openai_responses/up-model", u.URL+"/v1", nil),
	}, nil), nil)
}

// claudeCodeTurn is a Claude Code turn with its cache breakpoints (1h ttl
// on system and tool result, 5m on the prompt), spaced as written.
func claudeCodeTurn(alias string, stream bool) string {
	s := "false"
	if stream {
		s = "true"
	}
	return `{"model":"` + alias + `","max_tokens":64,"stream":` + s + `,
 "system":[{"type":"text","text":"You are Claude Code.","cache_control": {"type": "ephemeral", "ttl": "1h"}}],
 "tools":[{"name":"Read","description":"read a file","input_schema":{"type":"object"},"cache_control":{"type":"ephemeral"}}],
 "messages":[{"role":"user","content":[{"type":"text","text":"read a.txt"}]},
  {"role":"assistant","content":[{"type":"tool_use","id":"toolu_1","name":"Read","input":{"path":"a.txt"}}]},
  {"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","content":"hello","cache_control": {"type": "ephemeral", "ttl": "1h"}},
   {"type":"text","text":"Reply with the word PONG","cache_control":{"type":"ephemeral"}}]}]}`
}

func TestCacheControlReachesAnthropicUpstreamByteForByte(t *testing.T) {
	u := newCacheUpstream(t)
	g := cacheGateway(t, u)
	for _, stream := range []bool{false, true} {
		body := claudeCodeTurn("claude", stream)
		resp, answer := g.post(t, "/v1/messages", body, nil)
		if resp.StatusCode != 200 {
			t.Fatalf("stream=%v: %d %s", stream, resp.StatusCode, answer)
		}
		got := u.only(t, "/v1/messages")
		for _, marker := range []string{`"cache_control": {"type": "ephemeral", "ttl": "1h"}`, `"cache_control":{"type":"ephemeral"}`} {
			if strings.Count(got, marker) != strings.Count(body, marker) {
				t.Fatalf("stream=%v: marker %s: %d in the client's body, %d upstream:\n%s", stream, marker,
					strings.Count(body, marker), strings.Count(got, marker), got)
			}
		}
		if i := strings.Index(body, `"max_tokens"`); !strings.HasSuffix(got, body[i:]) {
			t.Fatalf("stream=%v: upstream body differs after the model field:\n got %s\nsent %s", stream, got, body)
		}
		for _, want := range []string{`"cache_read_input_tokens":800`, `"cache_creation_input_tokens":150`} {
			if !strings.Contains(answer, want) {
				t.Fatalf("stream=%v: answer lacks %s: %s", stream, want, answer)
			}
		}
	}
}

func TestCacheControlRemovedForOpenAIUpstreamsAndCacheReadsReported(t *testing.T) {
	u := newCacheUpstream(t)
	g := cacheGateway(t, u)
	for _, c := range []struct{ alias, path string }{{"chat", "/v1/chat/completions"}, {"resp", "/v1/responses"}} {
		for _, stream := range []bool{false, true} {
			resp, answer := g.post(t, "/v1/messages", claudeCodeTurn(c.alias, stream), nil)
			if resp.StatusCode != 200 {
				t.Fatalf("%s stream=%v: %d %s", c.alias, stream, resp.StatusCode, answer)
			}
			got := u.only(t, c.path)
			if strings.Contains(got, "cache_control") || strings.Contains(got, "ttl") {
				t.Fatalf("%s stream=%v: the cache marker reached an OpenAI upstream: %s", c.alias, stream, got)
			}
			if !strings.Contains(got, "Reply with the word PONG") || !strings.Contains(got, "You are Claude Code.") {
				t.Fatalf("%s stream=%v: marked text lost: %s", c.alias, stream, got)
			}
			// 1000 prompt tokens, 800 cached: Anthropic counts the 200 apart.
			for _, want := range []string{`"cache_read_input_tokens":800`, `"input_tokens":200`} {
				if !strings.Contains(answer, want) {
					t.Fatalf("%s stream=%v: answer lacks %s: %s", c.alias, stream, want, answer)
				}
			}
		}
	}
}

func TestChatClientCacheControlReachesAnthropicUpstream(t *testing.T) {
	u := newCacheUpstream(t)
	g := cacheGateway(t, u)
	body := `{"model":"claude","messages":[{"role":"system","content":[{"type":"text","text":"long system prompt","cache_control":{"type":"ephemeral","ttl":"1h"}}]},
		{"role":"user","content":"hi"}]}`
	resp, answer := g.post(t, "/v1/chat/completions", body, nil)
	if resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, answer)
	}
	got := u.only(t, "/v1/messages")
	if !strings.Contains(got, `{"type":"text","text":"long system prompt","cache_control":{"type":"ephemeral","ttl":"1h"}}`) {
		t.Fatalf("anthropic upstream got no marked system block: %s", got)
	}
	var out struct {
		Usage struct {
			PromptTokens        int `json:"prompt_tokens"`
			PromptTokensDetails struct {
				CachedTokens int `json:"cached_tokens"`
			} `json:"prompt_tokens_details"`
			CacheCreationInputTokens int `json:"cache_creation_input_tokens"`
		} `json:"usage"`
	}
	if err := json.Unmarshal([]byte(answer), &out); err != nil {
		t.Fatalf("%v: %s", err, answer)
	}
	if u := out.Usage; u.PromptTokens != 1000 || u.PromptTokensDetails.CachedTokens != 800 || u.CacheCreationInputTokens != 150 {
		t.Fatalf("chat usage %+v, want 1000 prompt tokens, 800 cached, 150 written: %s", u, answer)
	}
}

func TestPromptCacheKeyReachesOpenAICompatibleUpstreams(t *testing.T) {
	u := newCacheUpstream(t)
	g := cacheGateway(t, u)
	for _, c := range []struct{ alias, path string }{{"chat", "/v1/chat/completions"}, {"resp", "/v1/responses"}} {
		for _, stream := range []bool{false, true} {
			body := `{"model":"` + c.alias + `","stream":` + map[bool]string{false: "false", true: "true"}[stream] +
				`,"store":false,"input":[{"type":"message","role":"user","content":[{"type":"input_text","text":"hi"}]}],"prompt_cache_key":"019a-session-key"}`
			resp, answer := g.post(t, "/v1/responses", body, nil)
			if resp.StatusCode != 200 {
				t.Fatalf("%s stream=%v: %d %s", c.alias, stream, resp.StatusCode, answer)
			}
			var got struct {
				PromptCacheKey string `json:"prompt_cache_key"`
			}
			raw := u.only(t, c.path)
			if err := json.Unmarshal([]byte(raw), &got); err != nil || got.PromptCacheKey != "019a-session-key" {
				t.Fatalf("%s stream=%v: upstream prompt_cache_key %q (%v): %s", c.alias, stream, got.PromptCacheKey, err, raw)
			}
			if !strings.Contains(answer, `"input_tokens_details":{"cached_tokens":800}`) {
				t.Fatalf("%s stream=%v: answer lacks the cache reads: %s", c.alias, stream, answer)
			}
		}
	}
}
