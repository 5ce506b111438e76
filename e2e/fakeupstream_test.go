package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// Words the scripted upstream reacts to and answers with.
const (
	toolPrompt   = "E2E-TOOL-TURN: run the marker command with your shell tool, then say what it printed."
	textPrompt   = "E2E-TEXT-TURN: reply with the pong word."
	pongText     = "E2E-PONG from the fake upstream"
	toolDoneText = "E2E-TOOL-DONE the command ran"
	toolMarker   = "MARKER-42"
	toolCommand  = "echo MARKER-$((6*7))"

	// The parallel turn: the upstream asks for two shell calls at once (a
	// Chat upstream streams them interleaved), each printing its marker.
	parallelPrompt   = "E2E-PARALLEL-TURN: run both marker commands with your shell tool, then say what they printed."
	parallelDoneText = "E2E-PARALLEL-DONE both commands ran"
	parallelMissing  = "E2E-PARALLEL-MISSING a command did not run"
	parallelMarkerA  = "MARKER-A-42"
	parallelMarkerB  = "MARKER-B-42"
	parallelCommandA = "echo MARKER-A-$((6*7))"
	parallelCommandB = "echo MARKER-B-$((6*7))"
)

// recorded is one request the fake upstream saw.
type recorded struct {
	Method, Path string
	Protocol     string // anthropic, responses, chat, other
	Auth         string // bearer or x-api-key value
	Model        string
	Stream       bool
	Body         []byte
	Answer       string // text, tool, tools (parallel calls) or error
}

// fakeUpstream is a scripted model server speaking OpenAI Chat
// (/v1/chat/completions), Anthropic Messages (/v1/messages) and OpenAI
// Responses (/v1/responses), streaming or not. The script is stateless and
// decided by the request body: a body holding the tool's output (MARKER-42)
// gets the final text, a body holding the tool prompt gets a shell tool call
// (the first shell-like tool the request offers), a body holding the
// parallel prompt gets two shell calls at once (and, once tool results
// came back, the final text), anything else gets the pong text.
type fakeUpstream struct {
	t    *testing.T
	URL  string
	keys map[string]bool

	mu   sync.Mutex
	reqs []recorded
	seq  int
}

func startFakeUpstream(t *testing.T, keys ...string) *fakeUpstream {
	t.Helper()
	f := &fakeUpstream{t: t, keys: map[string]bool{}}
	for _, k := range keys {
		f.keys[k] = true
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: f, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	f.URL = "http://" + ln.Addr().String()
	return f
}

func (f *fakeUpstream) requests() []recorded {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]recorded(nil), f.reqs...)
}

func (f *fakeUpstream) nextID() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.seq++
	return f.seq
}

func (f *fakeUpstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rec := recorded{Method: r.Method, Path: r.URL.Path, Body: body}
	switch {
	case strings.HasSuffix(r.URL.Path, "/messages"):
		rec.Protocol = "anthropic"
	case strings.HasSuffix(r.URL.Path, "/responses"):
		rec.Protocol = "responses"
	case strings.HasSuffix(r.URL.Path, "/chat/completions"):
		rec.Protocol = "chat"
	default:
		rec.Protocol = "other"
	}
	if a := r.Header.Get("Authorization"); strings.HasPrefix(a, "Bearer ") {
		rec.Auth = strings.TrimPrefix(a, "Bearer ")
	} else {
		rec.Auth = r.Header.Get("x-api-key")
	}
	var head struct {
		Model  string `json:"model"`
		Stream bool   `json:"stream"`
	}
	_ = json.Unmarshal(body, &head)
	rec.Model, rec.Stream = head.Model, head.Stream

	// Recorded before answering, so a client that has exited has been seen.
	record := func() {
		f.mu.Lock()
		f.reqs = append(f.reqs, rec)
		f.mu.Unlock()
	}

	if r.Method != http.MethodPost || rec.Protocol == "other" {
		record()
		if strings.HasSuffix(r.URL.Path, "/models") {
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"object":"list","data":[{"id":"mock","object":"model","owned_by":"e2e"}]}`)
			return
		}
		w.WriteHeader(http.StatusOK) // HEAD / probes and the like
		return
	}
	if len(f.keys) > 0 && !f.keys[rec.Auth] {
		rec.Answer = "error"
		record()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		if rec.Protocol == "anthropic" {
			io.WriteString(w, `{"type":"error","error":{"type":"authentication_error","message":"fake upstream: unknown key"}}`)
		} else {
			io.WriteString(w, `{"error":{"message":"fake upstream: unknown key","type":"invalid_request_error","code":"invalid_api_key"}}`)
		}
		return
	}
	ans := decide(body)
	switch {
	case len(ans.calls) > 1:
		rec.Answer = "tools"
	case len(ans.calls) == 1:
		rec.Answer = "tool"
	default:
		rec.Answer = "text"
	}
	record()
	id := f.nextID()
	model := rec.Model
	if model == "" {
		model = "mock"
	}
	switch rec.Protocol {
	case "anthropic":
		writeAnthropic(w, ans, id, model, rec.Stream)
	case "responses":
		writeResponses(w, ans, id, model, rec.Stream)
	case "chat":
		writeChat(w, ans, id, model, rec.Stream)
	}
}

type answer struct {
	preamble string // text before tool calls (Anthropic and Chat only)
	text     string
	calls    []toolCall
}

type toolCall struct {
	name string
	args string // JSON
}

// toolResultKeys mark a request that carries tool results, in the three
// protocols.
var toolResultKeys = [][]byte{[]byte(`"tool_result"`), []byte(`"function_call_output"`), []byte(`"role":"tool"`)}

func decide(body []byte) answer {
	switch {
	case bytes.Contains(body, []byte("E2E-PARALLEL-TURN")):
		if slices.ContainsFunc(toolResultKeys, func(k []byte) bool { return bytes.Contains(body, k) }) {
			// Results came back: end the turn either way (no second round).
			if bytes.Contains(body, []byte(parallelMarkerA)) && bytes.Contains(body, []byte(parallelMarkerB)) {
				return answer{text: parallelDoneText}
			}
			return answer{text: parallelMissing}
		}
		a, aok := pickShellTool(body, parallelCommandA)
		b, bok := pickShellTool(body, parallelCommandB)
		if !aok || !bok {
			return answer{text: "E2E-NO-SHELL-TOOL offered"}
		}
		return answer{preamble: "Running both.", calls: []toolCall{a, b}}
	case bytes.Contains(body, []byte(toolMarker)):
		return answer{text: toolDoneText}
	case bytes.Contains(body, []byte("E2E-TOOL-TURN")):
		c, ok := pickShellTool(body, toolCommand)
		if !ok {
			return answer{text: "E2E-NO-SHELL-TOOL offered"}
		}
		return answer{preamble: "Running the tool.", calls: []toolCall{c}}
	default:
		return answer{text: pongText}
	}
}

// pickShellTool makes a call of the client's shell tool, chosen among the
// request's tools (Anthropic and Responses: tools[].name; Chat:
// tools[].function.name), running command.
func pickShellTool(body []byte, command string) (toolCall, bool) {
	var req struct {
		Tools []struct {
			Name     string `json:"name"`
			Function struct {
				Name string `json:"name"`
			} `json:"function"`
		} `json:"tools"`
	}
	_ = json.Unmarshal(body, &req)
	have := map[string]bool{}
	for _, t := range req.Tools {
		have[t.Name], have[t.Function.Name] = true, true
	}
	mustJSON := func(v any) string { b, _ := json.Marshal(v); return string(b) }
	switch {
	case have["Bash"]:
		return toolCall{"Bash", mustJSON(map[string]string{"command": command, "description": "Print a tool marker"})}, true
	case have["exec_command"]:
		return toolCall{"exec_command", mustJSON(map[string]string{"cmd": command})}, true
	case have["shell_command"]:
		return toolCall{"shell_command", mustJSON(map[string]string{"command": command})}, true
	case have["shell"]:
		return toolCall{"shell", mustJSON(map[string][]string{"command": {"bash", "-lc", command}})}, true
	}
	return toolCall{}, false
}

// chunks splits s into pieces of about n bytes, so that deltas really stream.
func chunks(s string, n int) []string {
	var out []string
	for len(s) > n {
		out = append(out, s[:n])
		s = s[n:]
	}
	return append(out, s)
}

type sseWriter struct {
	w http.ResponseWriter
	f http.Flusher
}

func newSSE(w http.ResponseWriter) *sseWriter {
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	f, _ := w.(http.Flusher)
	return &sseWriter{w: w, f: f}
}

func (s *sseWriter) event(name string, data any) {
	b, _ := json.Marshal(data)
	if name != "" {
		fmt.Fprintf(s.w, "event: %s\n", name)
	}
	fmt.Fprintf(s.w, "data: %s\n\n", b)
	if s.f != nil {
		s.f.Flush()
	}
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

type obj = map[string]any

// ---- Anthropic Messages ----

func writeAnthropic(w http.ResponseWriter, a answer, id int, model string, stream bool) {
	msgID := fmt.Sprintf("msg_fake_%d", id)
	toolID := func(i int) string { return fmt.Sprintf("toolu_fake_%d_%d", id, i) }
	usage := obj{"input_tokens": 12, "output_tokens": 7, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}
	var content []any
	stop := "end_turn"
	if len(a.calls) > 0 {
		content = append(content, obj{"type": "text", "text": a.preamble})
		for i, c := range a.calls {
			var input any
			json.Unmarshal([]byte(c.args), &input)
			content = append(content, obj{"type": "tool_use", "id": toolID(i), "name": c.name, "input": input})
		}
		stop = "tool_use"
	} else {
		content = append(content, obj{"type": "text", "text": a.text})
	}
	if !stream {
		writeJSON(w, obj{"id": msgID, "type": "message", "role": "assistant", "model": model, "content": content,
			"stop_reason": stop, "stop_sequence": nil, "usage": usage})
		return
	}
	s := newSSE(w)
	s.event("message_start", obj{"type": "message_start", "message": obj{"id": msgID, "type": "message", "role": "assistant",
		"model": model, "content": []any{}, "stop_reason": nil, "stop_sequence": nil,
		"usage": obj{"input_tokens": 12, "output_tokens": 1, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}}})
	text := a.text
	if len(a.calls) > 0 {
		text = a.preamble
	}
	s.event("content_block_start", obj{"type": "content_block_start", "index": 0, "content_block": obj{"type": "text", "text": ""}})
	s.event("ping", obj{"type": "ping"})
	for _, piece := range chunks(text, 6) {
		s.event("content_block_delta", obj{"type": "content_block_delta", "index": 0, "delta": obj{"type": "text_delta", "text": piece}})
	}
	s.event("content_block_stop", obj{"type": "content_block_stop", "index": 0})
	for i, c := range a.calls {
		s.event("content_block_start", obj{"type": "content_block_start", "index": 1 + i,
			"content_block": obj{"type": "tool_use", "id": toolID(i), "name": c.name, "input": obj{}}})
		for _, piece := range chunks(c.args, 10) {
			s.event("content_block_delta", obj{"type": "content_block_delta", "index": 1 + i, "delta": obj{"type": "input_json_delta", "partial_json": piece}})
		}
		s.event("content_block_stop", obj{"type": "content_block_stop", "index": 1 + i})
	}
	s.event("message_delta", obj{"type": "message_delta", "delta": obj{"stop_reason": stop, "stop_sequence": nil}, "usage": obj{"output_tokens": 7}})
	s.event("message_stop", obj{"type": "message_stop"})
}

// ---- OpenAI Responses ----

func writeResponses(w http.ResponseWriter, a answer, id int, model string, stream bool) {
	respID := fmt.Sprintf("resp_fake_%d", id)
	usage := obj{"input_tokens": 12, "input_tokens_details": obj{"cached_tokens": 0}, "output_tokens": 7,
		"output_tokens_details": obj{"reasoning_tokens": 0}, "total_tokens": 19}
	var items []obj
	for i, c := range a.calls {
		items = append(items, obj{"type": "function_call", "id": fmt.Sprintf("fc_fake_%d_%d", id, i), "call_id": fmt.Sprintf("call_fake_%d_%d", id, i),
			"name": c.name, "arguments": c.args, "status": "completed"})
	}
	if len(a.calls) == 0 {
		items = append(items, obj{"type": "message", "id": fmt.Sprintf("msg_fake_%d", id), "status": "completed", "role": "assistant",
			"content": []any{obj{"type": "output_text", "text": a.text, "annotations": []any{}}}})
	}
	var output []any
	for _, it := range items {
		output = append(output, it)
	}
	final := obj{"id": respID, "object": "response", "created_at": time.Now().Unix(), "status": "completed", "model": model,
		"output": output, "usage": usage}
	if !stream {
		writeJSON(w, final)
		return
	}
	s := newSSE(w)
	seq := 0
	ev := func(typ string, data obj) {
		data["type"] = typ
		data["sequence_number"] = seq
		seq++
		s.event(typ, data)
	}
	pending := obj{"id": respID, "object": "response", "created_at": time.Now().Unix(), "status": "in_progress", "model": model, "output": []any{}}
	ev("response.created", obj{"response": pending})
	ev("response.in_progress", obj{"response": pending})
	for oi, item := range items {
		itemID := item["id"]
		if item["type"] == "function_call" {
			added := obj{}
			for k, v := range item {
				added[k] = v
			}
			added["arguments"], added["status"] = "", "in_progress"
			args := item["arguments"].(string)
			ev("response.output_item.added", obj{"output_index": oi, "item": added})
			for _, piece := range chunks(args, 10) {
				ev("response.function_call_arguments.delta", obj{"item_id": itemID, "output_index": oi, "delta": piece})
			}
			ev("response.function_call_arguments.done", obj{"item_id": itemID, "output_index": oi, "arguments": args})
		} else {
			ev("response.output_item.added", obj{"output_index": oi, "item": obj{"type": "message", "id": itemID, "status": "in_progress", "role": "assistant", "content": []any{}}})
			ev("response.content_part.added", obj{"item_id": itemID, "output_index": oi, "content_index": 0, "part": obj{"type": "output_text", "text": "", "annotations": []any{}}})
			for _, piece := range chunks(a.text, 6) {
				ev("response.output_text.delta", obj{"item_id": itemID, "output_index": oi, "content_index": 0, "delta": piece})
			}
			ev("response.output_text.done", obj{"item_id": itemID, "output_index": oi, "content_index": 0, "text": a.text})
			ev("response.content_part.done", obj{"item_id": itemID, "output_index": oi, "content_index": 0, "part": obj{"type": "output_text", "text": a.text, "annotations": []any{}}})
		}
		ev("response.output_item.done", obj{"output_index": oi, "item": item})
	}
	ev("response.completed", obj{"response": final})
}

// ---- OpenAI Chat Completions ----

// writeChat answers in Chat Completions. Several tool calls are streamed
// the way several OpenAI-compatible servers stream parallel calls: every
// call's header (index, id, name) first, then the calls' argument pieces
// alternating.
func writeChat(w http.ResponseWriter, a answer, id int, model string, stream bool) {
	chatID := fmt.Sprintf("chatcmpl-fake-%d", id)
	callID := func(i int) string { return fmt.Sprintf("call_fake_%d_%d", id, i) }
	created := time.Now().Unix()
	usage := obj{"prompt_tokens": 12, "completion_tokens": 7, "total_tokens": 19}
	finish := "stop"
	if len(a.calls) > 0 {
		finish = "tool_calls"
	}
	if !stream {
		msg := obj{"role": "assistant", "content": a.text}
		if len(a.calls) > 0 {
			var calls []any
			for i, c := range a.calls {
				calls = append(calls, obj{"id": callID(i), "type": "function", "function": obj{"name": c.name, "arguments": c.args}})
			}
			msg["content"], msg["tool_calls"] = a.preamble, calls
		}
		writeJSON(w, obj{"id": chatID, "object": "chat.completion", "created": created, "model": model,
			"choices": []any{obj{"index": 0, "message": msg, "finish_reason": finish}}, "usage": usage})
		return
	}
	s := newSSE(w)
	chunk := func(delta obj, finish any, u any) {
		c := obj{"id": chatID, "object": "chat.completion.chunk", "created": created, "model": model,
			"choices": []any{obj{"index": 0, "delta": delta, "finish_reason": finish}}}
		if u != nil {
			c["usage"] = u
		}
		s.event("", c)
	}
	chunk(obj{"role": "assistant", "content": ""}, nil, nil)
	text := a.text
	if len(a.calls) > 0 {
		text = a.preamble
	}
	for _, piece := range chunks(text, 6) {
		chunk(obj{"content": piece}, nil, nil)
	}
	switch len(a.calls) {
	case 0:
	case 1:
		pieces := chunks(a.calls[0].args, 10)
		chunk(obj{"tool_calls": []any{obj{"index": 0, "id": callID(0), "type": "function", "function": obj{"name": a.calls[0].name, "arguments": pieces[0]}}}}, nil, nil)
		for _, p := range pieces[1:] {
			chunk(obj{"tool_calls": []any{obj{"index": 0, "function": obj{"arguments": p}}}}, nil, nil)
		}
	default:
		pieces := make([][]string, len(a.calls))
		for i, c := range a.calls {
			chunk(obj{"tool_calls": []any{obj{"index": i, "id": callID(i), "type": "function", "function": obj{"name": c.name, "arguments": ""}}}}, nil, nil)
			pieces[i] = chunks(c.args, 10)
		}
		for k := 0; ; k++ {
			more := false
			for i := range a.calls {
				if k < len(pieces[i]) {
					chunk(obj{"tool_calls": []any{obj{"index": i, "function": obj{"arguments": pieces[i][k]}}}}, nil, nil)
					more = true
				}
			}
			if !more {
				break
			}
		}
	}
	chunk(obj{}, finish, usage)
	fmt.Fprint(w, "data: [DONE]\n\n")
	if s.f != nil {
		s.f.Flush()
	}
}
