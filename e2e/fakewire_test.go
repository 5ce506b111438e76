package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// The fake upstream's answers on the wire: Anthropic Messages, OpenAI
// Responses and Chat Completions, streamed (SSE) or not.

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

// writeAnthropic answers in Messages; an answer with thinking starts with a
// thinking block signed sig.
func writeAnthropic(w http.ResponseWriter, a answer, id int, model string, stream bool, sig string) {
	msgID := fmt.Sprintf("msg_fake_%d", id)
	toolID := func(i int) string { return fmt.Sprintf("toolu_fake_%d_%d", id, i) }
	usage := obj{"input_tokens": 12, "output_tokens": 7, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}
	var content []any
	if a.thinking != "" {
		content = append(content, obj{"type": "thinking", "thinking": a.thinking, "signature": sig})
	}
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
	s.event("ping", obj{"type": "ping"})
	idx := 0
	if a.thinking != "" {
		s.event("content_block_start", obj{"type": "content_block_start", "index": idx, "content_block": obj{"type": "thinking", "thinking": "", "signature": ""}})
		for _, piece := range chunks(a.thinking, 8) {
			s.event("content_block_delta", obj{"type": "content_block_delta", "index": idx, "delta": obj{"type": "thinking_delta", "thinking": piece}})
		}
		s.event("content_block_delta", obj{"type": "content_block_delta", "index": idx, "delta": obj{"type": "signature_delta", "signature": sig}})
		s.event("content_block_stop", obj{"type": "content_block_stop", "index": idx})
		idx++
	}
	s.event("content_block_start", obj{"type": "content_block_start", "index": idx, "content_block": obj{"type": "text", "text": ""}})
	for _, piece := range chunks(text, 6) {
		s.event("content_block_delta", obj{"type": "content_block_delta", "index": idx, "delta": obj{"type": "text_delta", "text": piece}})
	}
	s.event("content_block_stop", obj{"type": "content_block_stop", "index": idx})
	for i, c := range a.calls {
		idx++
		s.event("content_block_start", obj{"type": "content_block_start", "index": idx,
			"content_block": obj{"type": "tool_use", "id": toolID(i), "name": c.name, "input": obj{}}})
		for _, piece := range chunks(c.args, 10) {
			s.event("content_block_delta", obj{"type": "content_block_delta", "index": idx, "delta": obj{"type": "input_json_delta", "partial_json": piece}})
		}
		s.event("content_block_stop", obj{"type": "content_block_stop", "index": idx})
	}
	s.event("message_delta", obj{"type": "message_delta", "delta": obj{"stop_reason": stop, "stop_sequence": nil}, "usage": obj{"output_tokens": 7}})
	s.event("message_stop", obj{"type": "message_stop"})
}

// ---- OpenAI Responses ----

// writeResponses answers in Responses; an answer with thinking starts with
// a reasoning item (summary text, encrypted_content enc).
func writeResponses(w http.ResponseWriter, a answer, id int, model string, stream bool, enc string) {
	respID := fmt.Sprintf("resp_fake_%d", id)
	usage := obj{"input_tokens": 12, "input_tokens_details": obj{"cached_tokens": 0}, "output_tokens": 7,
		"output_tokens_details": obj{"reasoning_tokens": 0}, "total_tokens": 19}
	var items []obj
	if a.thinking != "" {
		items = append(items, obj{"type": "reasoning", "id": fmt.Sprintf("rs_fake_%d", id), "encrypted_content": enc,
			"summary": []any{obj{"type": "summary_text", "text": a.thinking}}})
	}
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
		switch item["type"] {
		case "reasoning":
			ev("response.output_item.added", obj{"output_index": oi, "item": obj{"type": "reasoning", "id": itemID, "summary": []any{}}})
			part := obj{"type": "summary_text", "text": a.thinking}
			ev("response.reasoning_summary_part.added", obj{"item_id": itemID, "output_index": oi, "summary_index": 0, "part": obj{"type": "summary_text", "text": ""}})
			for _, piece := range chunks(a.thinking, 8) {
				ev("response.reasoning_summary_text.delta", obj{"item_id": itemID, "output_index": oi, "summary_index": 0, "delta": piece})
			}
			ev("response.reasoning_summary_text.done", obj{"item_id": itemID, "output_index": oi, "summary_index": 0, "text": a.thinking})
			ev("response.reasoning_summary_part.done", obj{"item_id": itemID, "output_index": oi, "summary_index": 0, "part": part})
		case "function_call":
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
		default:
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
		if a.thinking != "" {
			msg["reasoning_content"] = a.thinking
		}
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
	for _, piece := range chunks(a.thinking, 8) {
		if piece != "" {
			chunk(obj{"reasoning_content": piece}, nil, nil)
		}
	}
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
