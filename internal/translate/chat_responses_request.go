package translate

import (
	"cmp"
	"fmt"
	"strings"

	"github.com/flowgate/flowgate/internal/apierr"
)

// minOutputTokens is the smallest max_output_tokens the OpenAI Responses
// API accepts.
const minOutputTokens = 16

// ChatToResponses translates a Chat Completions request (an OpenAI SDK, or
// the chat form of a Messages request) into a Responses request for a
// Responses-only upstream. Leading system/developer messages become
// "instructions", later ones "developer" input messages (never user);
// tool_calls and tool messages become function_call and
// function_call_output items, call ids and order kept. store is always
// false (the gateway is stateless). Earlier reasoning_content cannot be
// replayed (a Responses upstream needs its own reasoning items) and is
// dropped with a note, as are stop, n and other chat-only fields.
func ChatToResponses(body []byte, opts Options) (*Result, error) {
	var req chatRequest
	if err := unmarshal(body, &req); err != nil {
		return nil, fmt.Errorf("decoding chat request: %w", err)
	}
	res := &Result{Stream: req.Stream, ClientModel: req.Model}
	out := respRequest{Model: opts.model(req.Model), Stream: req.Stream}
	items := make([]respItem, 0, len(req.Messages))
	var instructions []string
	var ids callIDs
	leading := true
	droppedReasoning := false
	for i := range req.Messages {
		m := &req.Messages[i]
		id := ""
		if m.Role == "tool" || m.Role == "function" {
			if id = ids.result(m.ToolCallID); id == "" {
				res.note("dropped a " + m.Role + " message without tool_call_id: a responses upstream needs the call id")
				continue
			}
		}
		parts, err := chatParts(m.Content)
		if err != nil {
			return nil, res.at(fmt.Sprintf("messages[%d]", i), err)
		}
		switch m.Role {
		case "system", "developer":
			switch s := chatText(parts, res); {
			case s == "":
			case leading:
				instructions = append(instructions, s)
			default:
				items = append(items, respInputMessage("developer", inputText(s)))
			}
			continue
		case "assistant":
			if m.ReasoningContent != "" {
				droppedReasoning = true
			}
			if s := cmp.Or(chatText(parts, res), m.Refusal); s != "" {
				items = append(items, respInputMessage("assistant", respPart{Type: "output_text", Text: s}))
			}
			for _, tc := range m.ToolCalls {
				items = append(items, respItem{Type: "function_call", CallID: ids.call(tc.ID, "call_"),
					Name: tc.Function.Name, Arguments: callArgs(tc.Function.Arguments)})
			}
		case "tool", "function":
			s := chatText(parts, res)
			items = append(items, respItem{Type: "function_call_output", CallID: id, Output: jsonString(s)})
		default: // user and anything unknown
			if parts := chatUserParts(parts, res); len(parts) > 0 {
				items = append(items, respInputMessage("user", parts...))
			}
		}
		leading = false
	}
	out.Input = mustJSON(items)
	if len(instructions) > 0 {
		out.Instructions = jsonString(strings.Join(instructions, "\n\n"))
	}
	if droppedReasoning {
		res.note("dropped reasoning_content from history: a responses upstream needs its own reasoning items")
	}

	for _, t := range req.Tools {
		switch t.Type {
		case "web_search":
			out.Tools = append(out.Tools, respTool{Type: "web_search"})
		case "function", "":
			out.Tools = append(out.Tools, respTool{Type: "function", Name: t.toolName(), Description: t.Function.Description,
				Parameters: schemaOrEmpty(t.Function.Parameters), Strict: t.Function.Strict})
		default:
			res.note("dropped tool of type " + t.Type + ": not a function tool")
		}
	}
	if len(out.Tools) > 0 {
		out.ToolChoice = readToolChoice(req.ToolChoice, res).wire(true)
		out.ParallelToolCalls = req.ParallelToolCalls
	}
	if mt := req.maxTokens(); mt != nil {
		out.MaxOutputTokens = new(max(*mt, minOutputTokens))
		if *mt < minOutputTokens {
			res.note("max_tokens " + itoa(*mt) + " raised to " + itoa(minOutputTokens) + ", the responses minimum")
		}
	}
	out.Temperature, out.TopP, out.User = req.Temperature, req.TopP, apierr.TruncateUTF8(req.User, maxUserLen)
	out.PromptCacheKey = req.PromptCacheKey
	if req.ReasoningEffort != "" {
		out.Reasoning = &respReasoning{Effort: req.ReasoningEffort}
	}
	if f := readChatFormat(req.ResponseFormat, res); f != nil {
		out.Text = &respText{Format: f}
	}
	if !isNull(req.Stop) {
		res.note("dropped stop: not supported by a responses upstream")
	}
	if req.N != nil && *req.N > 1 {
		res.note("dropped n: a responses upstream answers once")
	}
	return res.encode(&out, len(body))
}

// chatUserParts converts user content into input_text / input_image /
// input_file parts.
func chatUserParts(parts []chatPart, res *Result) []respPart {
	var out []respPart
	for _, p := range parts {
		switch p.Type {
		case "text", "input_text":
			if p.Text != "" {
				out = append(out, inputText(p.Text))
			}
		case "image_url", "input_image":
			u, detail := imageURL(p.ImageURL)
			if u == "" {
				res.note("dropped image_url part without a usable url")
				continue
			}
			detail = cmp.Or(detail, "auto")
			out = append(out, respPart{Type: "input_image", ImageURL: jsonString(u), Detail: detail})
		case "file":
			if f := p.File; f != nil && (f.FileData != "" || f.FileURL != "") {
				out = append(out, respPart{Type: "input_file", Filename: f.Filename, FileData: f.FileData, FileURL: f.FileURL})
			} else {
				res.note("dropped file part without file_data or file_url")
			}
		default:
			res.note("dropped " + p.Type + " content part: not supported by a responses upstream")
		}
	}
	return out
}

// respInputMessage is a message input item.
func respInputMessage(role string, parts ...respPart) respItem {
	return respItem{Type: "message", Role: role, Content: mustJSON(parts)}
}
