package compat_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// kind is an upstream kind: one column group of the matrix.
type kind int

const (
	kOpenAI    kind = iota // openai/: an OpenAI Chat Completions API
	kAnthropic             // anthropic/: the Anthropic Messages API
	kResponses             // openai_responses/: a Responses-only API
	kCPA                   // CLIProxyAPIPlus: an OpenAI-compatible Chat API in front of subscriptions
)

var kinds = []kind{kOpenAI, kAnthropic, kResponses, kCPA}

func (k kind) String() string {
	return [...]string{"openai/", "anthropic/", "openai_responses/", "CLIProxyAPIPlus"}[k]
}

// prefix is the litellm_params.model prefix a deployment of this kind uses.
func (k kind) prefix() string {
	return [...]string{"openai/", "anthropic/", "openai_responses/", "openai/"}[k]
}

// path is the one path the upstream serves inference on.
func (k kind) path() string {
	switch k {
	case kAnthropic:
		return "/v1/messages"
	case kResponses:
		return "/v1/responses"
	}
	return "/v1/chat/completions"
}

// anthropicSignature is the signature every fake Anthropic upstream gives
// its thinking and accepts back: Anthropic signatures verify on any
// Anthropic deployment, anything else is rejected as Anthropic does.
const anthropicSignature = "sig-anthropic-EqQBCkYIBxgCKkA"

// call is one tool call.
type call struct{ ID, Name, Args string }

var (
	weatherCall = call{"call_a", "get_weather", `{"city":"Paris"}`}
	timeCall    = call{"call_b", "get_time", `{"tz":"Europe/Paris"}`}
)

// answer is what an upstream says, rendered in its own protocol.
type answer struct {
	reasoning string
	text      string
	calls     []call
	// prompt tokens in all, of them read from / written to the cache
	in, out, cacheRead, cacheWrite int
}

// mode picks the upstream's behaviour.
type mode string

const (
	modeText      mode = "text"      // "Hello"
	modeTool      mode = "tool"      // one get_weather call
	modeParallel  mode = "parallel"  // two calls, argument pieces interleaved in streams
	modeCache     mode = "cache"     // "Hello" with 1000 prompt tokens, 800 read from the cache, 150 written
	modeReasoning mode = "reasoning" // reasoning, then one tool call
	mode400       mode = "400"
	mode429       mode = "429" // Retry-After: 7
	mode500       mode = "500"
	modeBreak     mode = "break" // the stream starts, then the connection drops
)

func (m mode) answer() answer {
	a := answer{text: "Hello", in: 11, out: 7}
	switch m {
	case modeTool:
		a.text, a.calls = "", []call{weatherCall}
	case modeParallel:
		a.text, a.calls = "", []call{weatherCall, timeCall}
	case modeCache:
		a.in, a.cacheRead, a.cacheWrite = 1000, 800, 150
	case modeReasoning:
		a.reasoning, a.text, a.calls = "Let me think.", "", []call{weatherCall}
	}
	return a
}

// fakeUpstream is one upstream of a kind on 127.0.0.1: it records every
// request and answers in its protocol, as the real service does.
type fakeUpstream struct {
	*httptest.Server
	kind   kind
	mu     sync.Mutex
	mode   mode
	bodies []string // inference bodies, as received
}

func newUpstream(t *testing.T, k kind, m mode) *fakeUpstream {
	u := &fakeUpstream{kind: k, mode: m}
	u.Server = httptest.NewServer(http.HandlerFunc(u.serve))
	t.Cleanup(func() { u.CloseClientConnections(); u.Close() })
	return u
}

func (u *fakeUpstream) setMode(m mode) { u.mu.Lock(); u.mode = m; u.mu.Unlock() }

// seen is every inference body received so far.
func (u *fakeUpstream) seen() []string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]string(nil), u.bodies...)
}

// last is the last inference body received ("" for none).
func (u *fakeUpstream) last() string {
	s := u.seen()
	if len(s) == 0 {
		return ""
	}
	return s[len(s)-1]
}

// encryptedPrefix marks this upstream's own Responses reasoning state.
func (u *fakeUpstream) encryptedPrefix() string { return "enc-" + u.Listener.Addr().String() + "-" }

func (u *fakeUpstream) serve(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	if u.kind == kAnthropic && r.URL.Path == "/v1/messages/count_tokens" {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"input_tokens":42}`)
		return
	}
	if r.URL.Path != u.kind.path() {
		u.fail(w, 404, "invalid_request_error", "no route "+r.URL.Path)
		return
	}
	u.mu.Lock()
	u.bodies = append(u.bodies, string(raw))
	m := u.mode
	u.mu.Unlock()
	var req struct {
		Stream        bool
		StreamOptions struct {
			IncludeUsage bool `json:"include_usage"`
		} `json:"stream_options"`
	}
	if err := json.Unmarshal(raw, &req); err != nil {
		u.fail(w, 400, "invalid_request_error", "body is not JSON")
		return
	}
	if msg := u.reject(raw); msg != "" {
		u.fail(w, 400, "invalid_request_error", msg)
		return
	}
	switch m {
	case mode400:
		u.fail(w, 400, "invalid_request_error", "bad field x")
		return
	case mode429:
		w.Header().Set("Retry-After", "7")
		u.fail(w, 429, "rate_limit_error", "slow down")
		return
	case mode500:
		u.fail(w, 500, "server_error", "boom")
		return
	}
	a := m.answer()
	if !req.Stream {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, u.json(a))
		return
	}
	events := u.stream(a, m == modeParallel, req.StreamOptions.IncludeUsage)
	w.Header().Set("Content-Type", "text/event-stream")
	f := w.(http.Flusher)
	for i, e := range events {
		if m == modeBreak && i == 3 {
			if u.kind == kCPA {
				// CLIProxyAPIPlus reports its own upstream's failure as an
				// error frame and ends the stream without [DONE].
				io.WriteString(w, `data: {"error":{"message":"unexpected EOF","type":"server_error","code":"internal_server_error"}}`+"\n\n")
				f.Flush()
				return
			}
			conn, _, _ := w.(http.Hijacker).Hijack()
			conn.Close()
			return
		}
		io.WriteString(w, e)
		f.Flush()
	}
}

// reject is the 400 a real upstream answers to reasoning state it cannot
// verify, "" when it takes the request.
func (u *fakeUpstream) reject(raw []byte) string {
	switch u.kind {
	case kAnthropic:
		var req struct {
			Thinking *struct{ Type string }
			Messages []struct {
				Role    string
				Content json.RawMessage
			}
		}
		json.Unmarshal(raw, &req)
		var lastAssistant []struct{ Type, Signature string }
		for i, m := range req.Messages {
			var blocks []struct{ Type, Signature string }
			json.Unmarshal(m.Content, &blocks)
			for j, b := range blocks {
				if (b.Type == "thinking" || b.Type == "redacted_thinking") && b.Signature != anthropicSignature {
					return fmt.Sprintf("messages.%d.content.%d: Invalid `signature` in `thinking` block", i, j)
				}
			}
			if m.Role == "assistant" {
				lastAssistant = blocks
			}
		}
		if req.Thinking != nil && req.Thinking.Type == "enabled" && len(lastAssistant) > 0 && lastAssistant[0].Type != "thinking" {
			for _, b := range lastAssistant {
				if b.Type == "tool_use" {
					return "Expected `thinking` or `redacted_thinking`, but found `tool_use`. When `thinking` is enabled, a final `assistant` message must start with a thinking block"
				}
			}
		}
	case kResponses:
		var req struct {
			Input json.RawMessage
		}
		json.Unmarshal(raw, &req)
		var items []struct {
			Type             string
			EncryptedContent string `json:"encrypted_content"`
		}
		json.Unmarshal(req.Input, &items)
		for i, it := range items {
			if it.Type == "reasoning" && it.EncryptedContent != "" && !strings.HasPrefix(it.EncryptedContent, u.encryptedPrefix()) {
				return fmt.Sprintf("The encrypted content for item input[%d] could not be verified.", i)
			}
		}
	}
	return ""
}

// fail writes an error as the upstream kind writes it.
func (u *fakeUpstream) fail(w http.ResponseWriter, status int, typ, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	switch u.kind {
	case kAnthropic:
		if typ == "server_error" {
			typ = "api_error"
		}
		fmt.Fprintf(w, `{"type":"error","error":{"type":%q,"message":%q}}`, typ, msg)
	case kCPA:
		// CLIProxyAPIPlus's errors are OpenAI-shaped with its own codes.
		code := map[int]string{400: "invalid_request", 429: "model_cooldown", 500: "internal_server_error"}[status]
		fmt.Fprintf(w, `{"error":{"message":%q,"type":%q,"code":%q}}`, msg, typ, code)
	default:
		fmt.Fprintf(w, `{"error":{"message":%q,"type":%q,"param":null,"code":null}}`, msg, typ)
	}
}

// model is the model name the upstream answers with: CLIProxyAPIPlus
// answers with its own upstream's name, not the one asked for.
func (u *fakeUpstream) model() string {
	if u.kind == kCPA {
		return "gpt-5-codex"
	}
	return "up-model"
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// json renders a non-streaming answer.
func (u *fakeUpstream) json(a answer) string {
	switch u.kind {
	case kAnthropic:
		var content []any
		if a.reasoning != "" {
			content = append(content, map[string]any{"type": "thinking", "thinking": a.reasoning, "signature": anthropicSignature})
		}
		if a.text != "" {
			content = append(content, map[string]any{"type": "text", "text": a.text})
		}
		for _, c := range a.calls {
			content = append(content, map[string]any{"type": "tool_use", "id": c.ID, "name": c.Name, "input": json.RawMessage(c.Args)})
		}
		return mustJSON(map[string]any{"id": "msg_1", "type": "message", "role": "assistant", "model": u.model(), "content": content,
			"stop_reason": stopReason(a, "tool_use", "end_turn"), "stop_sequence": nil, "usage": anthropicUsage(a)})
	case kResponses:
		return mustJSON(u.responsesObject(a, "completed"))
	}
	msg := map[string]any{"role": "assistant", "content": nil}
	if a.text != "" {
		msg["content"] = a.text
	}
	if a.reasoning != "" {
		msg["reasoning_content"] = a.reasoning
	}
	if len(a.calls) > 0 {
		var tcs []any
		for _, c := range a.calls {
			tcs = append(tcs, map[string]any{"id": c.ID, "type": "function", "function": map[string]any{"name": c.Name, "arguments": c.Args}})
		}
		msg["tool_calls"] = tcs
	}
	return mustJSON(map[string]any{"id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": u.model(),
		"choices": []any{map[string]any{"index": 0, "message": msg, "finish_reason": stopReason(a, "tool_calls", "stop")}}, "usage": chatUsage(a)})
}

func stopReason(a answer, tools, stop string) string {
	if len(a.calls) > 0 {
		return tools
	}
	return stop
}

func anthropicUsage(a answer) map[string]any {
	return map[string]any{"input_tokens": a.in - a.cacheRead - a.cacheWrite, "output_tokens": a.out,
		"cache_read_input_tokens": a.cacheRead, "cache_creation_input_tokens": a.cacheWrite}
}

func chatUsage(a answer) map[string]any {
	return map[string]any{"prompt_tokens": a.in, "completion_tokens": a.out, "total_tokens": a.in + a.out,
		"prompt_tokens_details": map[string]any{"cached_tokens": a.cacheRead}}
}

func (u *fakeUpstream) responsesItems(a answer) []any {
	var out []any
	if a.reasoning != "" {
		out = append(out, map[string]any{"id": "rs_1", "type": "reasoning", "summary": []any{map[string]any{"type": "summary_text", "text": a.reasoning}},
			"encrypted_content": u.encryptedPrefix() + "1"})
	}
	if a.text != "" {
		out = append(out, map[string]any{"id": "msg_1", "type": "message", "status": "completed", "role": "assistant",
			"content": []any{map[string]any{"type": "output_text", "text": a.text, "annotations": []any{}}}})
	}
	for i, c := range a.calls {
		out = append(out, map[string]any{"id": fmt.Sprintf("fc_%d", i), "type": "function_call", "status": "completed", "call_id": c.ID, "name": c.Name, "arguments": c.Args})
	}
	return out
}

func (u *fakeUpstream) responsesObject(a answer, status string) map[string]any {
	return map[string]any{"id": "resp_1", "object": "response", "created_at": 1, "status": status, "error": nil, "incomplete_details": nil,
		"model": u.model(), "output": u.responsesItems(a),
		"usage": map[string]any{"input_tokens": a.in, "input_tokens_details": map[string]any{"cached_tokens": a.cacheRead},
			"output_tokens": a.out, "output_tokens_details": map[string]any{"reasoning_tokens": 0}, "total_tokens": a.in + a.out}}
}

// sse renders payloads as frames, with event: lines for typed payloads.
func sse(payloads ...any) []string {
	var out []string
	for _, p := range payloads {
		s, ok := p.(string)
		if !ok {
			s = mustJSON(p)
		}
		var typ struct{ Type string }
		if json.Unmarshal([]byte(s), &typ) == nil && typ.Type != "" {
			out = append(out, "event: "+typ.Type+"\ndata: "+s+"\n\n")
		} else {
			out = append(out, "data: "+s+"\n\n")
		}
	}
	return out
}

// halves splits tool arguments into two pieces (for interleaving).
func halves(s string) [2]string { return [2]string{s[:len(s)/2], s[len(s)/2:]} }

// stream renders a streaming answer as SSE frames. interleave sends the
// pieces of parallel calls' arguments alternately (Anthropic streams one
// block at a time, so its calls stay sequential); usage is sent on Chat
// streams only when the request asked for it, as OpenAI does.
func (u *fakeUpstream) stream(a answer, interleave, usage bool) []string {
	switch u.kind {
	case kAnthropic:
		start := map[string]any{"id": "msg_1", "type": "message", "role": "assistant", "model": u.model(), "content": []any{},
			"stop_reason": nil, "stop_sequence": nil, "usage": anthropicUsage(answer{in: a.in, cacheRead: a.cacheRead, cacheWrite: a.cacheWrite})}
		ev := []any{map[string]any{"type": "message_start", "message": start}}
		idx := 0
		block := func(b map[string]any, deltas ...map[string]any) {
			ev = append(ev, map[string]any{"type": "content_block_start", "index": idx, "content_block": b})
			for _, d := range deltas {
				ev = append(ev, map[string]any{"type": "content_block_delta", "index": idx, "delta": d})
			}
			ev = append(ev, map[string]any{"type": "content_block_stop", "index": idx})
			idx++
		}
		if a.reasoning != "" {
			block(map[string]any{"type": "thinking", "thinking": "", "signature": ""},
				map[string]any{"type": "thinking_delta", "thinking": a.reasoning},
				map[string]any{"type": "signature_delta", "signature": anthropicSignature})
		}
		if a.text != "" {
			block(map[string]any{"type": "text", "text": ""}, map[string]any{"type": "text_delta", "text": a.text[:2]},
				map[string]any{"type": "text_delta", "text": a.text[2:]})
		}
		for _, c := range a.calls {
			h := halves(c.Args)
			block(map[string]any{"type": "tool_use", "id": c.ID, "name": c.Name, "input": map[string]any{}},
				map[string]any{"type": "input_json_delta", "partial_json": h[0]}, map[string]any{"type": "input_json_delta", "partial_json": h[1]})
		}
		ev = append(ev, map[string]any{"type": "message_delta", "delta": map[string]any{"stop_reason": stopReason(a, "tool_use", "end_turn"), "stop_sequence": nil},
			"usage": map[string]any{"output_tokens": a.out}}, map[string]any{"type": "message_stop"})
		return sse(ev...)
	case kResponses:
		seq := 0
		var ev []any
		add := func(m map[string]any) { m["sequence_number"] = seq; seq++; ev = append(ev, m) }
		add(map[string]any{"type": "response.created", "response": map[string]any{"id": "resp_1", "object": "response", "created_at": 1, "status": "in_progress", "model": u.model(), "output": []any{}}})
		items := u.responsesItems(a)
		var args []func()
		for i, it := range items {
			item := it.(map[string]any)
			switch item["type"] {
			case "reasoning":
				add(map[string]any{"type": "response.output_item.added", "output_index": i, "item": map[string]any{"id": "rs_1", "type": "reasoning", "summary": []any{}}})
				add(map[string]any{"type": "response.reasoning_summary_text.delta", "item_id": "rs_1", "output_index": i, "summary_index": 0, "delta": a.reasoning})
				add(map[string]any{"type": "response.output_item.done", "output_index": i, "item": item})
			case "message":
				add(map[string]any{"type": "response.output_item.added", "output_index": i, "item": map[string]any{"id": "msg_1", "type": "message", "status": "in_progress", "role": "assistant", "content": []any{}}})
				add(map[string]any{"type": "response.output_text.delta", "item_id": "msg_1", "output_index": i, "content_index": 0, "delta": a.text[:2]})
				add(map[string]any{"type": "response.output_text.delta", "item_id": "msg_1", "output_index": i, "content_index": 0, "delta": a.text[2:]})
				add(map[string]any{"type": "response.output_item.done", "output_index": i, "item": item})
			case "function_call":
				i, item := i, item
				h := halves(item["arguments"].(string))
				added := map[string]any{}
				for k, v := range item {
					added[k] = v
				}
				added["status"], added["arguments"] = "in_progress", ""
				add(map[string]any{"type": "response.output_item.added", "output_index": i, "item": added})
				add(map[string]any{"type": "response.function_call_arguments.delta", "item_id": item["id"], "output_index": i, "delta": h[0]})
				args = append(args, func() {
					add(map[string]any{"type": "response.function_call_arguments.delta", "item_id": item["id"], "output_index": i, "delta": h[1]})
					add(map[string]any{"type": "response.output_item.done", "output_index": i, "item": item})
				})
				if !interleave {
					args[len(args)-1]()
					args = args[:len(args)-1]
				}
			}
		}
		for _, f := range args {
			f()
		}
		add(map[string]any{"type": "response.completed", "response": u.responsesObject(a, "completed")})
		return sse(ev...)
	}
	chunk := func(delta map[string]any, finish any) map[string]any {
		return map[string]any{"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": u.model(),
			"choices": []any{map[string]any{"index": 0, "delta": delta, "finish_reason": finish}}}
	}
	ev := []any{chunk(map[string]any{"role": "assistant", "content": ""}, nil)}
	if a.reasoning != "" {
		ev = append(ev, chunk(map[string]any{"reasoning_content": a.reasoning}, nil))
	}
	if a.text != "" {
		ev = append(ev, chunk(map[string]any{"content": a.text[:2]}, nil), chunk(map[string]any{"content": a.text[2:]}, nil))
	}
	for i, c := range a.calls {
		ev = append(ev, chunk(map[string]any{"tool_calls": []any{map[string]any{"index": i, "id": c.ID, "type": "function",
			"function": map[string]any{"name": c.Name, "arguments": ""}}}}, nil))
		if !interleave {
			for _, h := range halves(c.Args) {
				ev = append(ev, chunk(map[string]any{"tool_calls": []any{map[string]any{"index": i, "function": map[string]any{"arguments": h}}}}, nil))
			}
		}
	}
	if interleave {
		for piece := 0; piece < 2; piece++ {
			for i, c := range a.calls {
				ev = append(ev, chunk(map[string]any{"tool_calls": []any{map[string]any{"index": i, "function": map[string]any{"arguments": halves(c.Args)[piece]}}}}, nil))
			}
		}
	}
	final := chunk(map[string]any{}, stopReason(a, "tool_calls", "stop"))
	switch {
	case u.kind == kCPA && usage:
		// CLIProxyAPIPlus reports usage on the finishing chunk itself.
		final["usage"] = chatUsage(a)
		ev = append(ev, final)
	case usage:
		ev = append(ev, final, map[string]any{"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": u.model(), "choices": []any{}, "usage": chatUsage(a)})
	default:
		ev = append(ev, final)
	}
	return append(sse(ev...), "data: [DONE]\n\n")
}
