package translate

import (
	"cmp"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/flowgate/flowgate/internal/apierr"
)

// ResponsesToChat translates a Responses request (Codex's) into a Chat
// Completions request. instructions and developer/system messages stay
// system messages (never "user"); function_call items become assistant
// tool_calls (consecutive calls in one message), function_call_output
// items role:"tool" messages, ids and order kept. Namespace tools are
// flattened into "<namespace>__<name>" functions (mapping in
// Result.Tools); hosted tools are dropped with a note. store and include
// are ignored (the gateway is stateless); prompt_cache_key is kept (OpenAI
// routes on it to hit its prompt cache).
func ResponsesToChat(body []byte, opts Options) (*Result, error) {
	var req respRequest
	if err := unmarshal(body, &req); err != nil {
		return nil, fmt.Errorf("decoding responses request: %w", err)
	}
	res := &Result{Stream: req.Stream, ClientModel: req.Model}
	out := opts.newChatRequest(req.Model, req.MaxOutputTokens, req.Stream)
	names := &ToolNames{}
	// Tools first: input items need the namespace mapping.
	for _, t := range req.Tools {
		switch t.Type {
		case "function":
			out.Tools = append(out.Tools, chatFunctionTool(t.Name, t.Description, t.Parameters, t.Strict))
		case "namespace":
			for _, inner := range t.Tools {
				if inner.Type != "function" && inner.Type != "" {
					res.note("dropped tool " + t.Name + "." + inner.Name + " (type " + inner.Type + "): not a function tool")
					continue
				}
				out.Tools = append(out.Tools, chatFunctionTool(names.add(t.Name, inner.Name), inner.Description, inner.Parameters, inner.Strict))
			}
		default:
			n := cmp.Or(t.Name, t.Type)
			res.note("dropped tool " + n + " (type " + t.Type + "): not supported by a chat upstream")
		}
	}
	if names.toClient != nil {
		res.Tools = names
	}

	if s := rawText(req.Instructions); s != "" {
		out.Messages = append(out.Messages, chatMessage{Role: "system", Content: jsonString(s)})
	}
	if err := appendRespInput(&out, req.Input, opts, res); err != nil {
		return nil, err
	}
	if req.PreviousResponseID != "" {
		res.note("ignored previous_response_id: the gateway is stateless, the client must resend history (store:false)")
	}

	if len(out.Tools) > 0 {
		c := readToolChoice(req.ToolChoice, res)
		c.name = res.Tools.Upstream(c.namespace, c.name)
		out.ToolChoice = c.wire(false)
		out.ParallelToolCalls = req.ParallelToolCalls
	}
	out.Temperature, out.TopP, out.User = req.Temperature, req.TopP, apierr.TruncateUTF8(req.User, maxUserLen)
	out.PromptCacheKey = req.PromptCacheKey
	if req.Reasoning != nil {
		out.ReasoningEffort = req.Reasoning.Effort
	}
	if req.Text != nil {
		out.ResponseFormat = req.Text.Format.chat(res)
	}
	return res.encode(&out, len(body))
}

func appendRespInput(out *chatRequest, raw json.RawMessage, opts Options, res *Result) error {
	// A string is one user message.
	items, err := stringOrList(raw, func(s string) respItem { return respItem{Role: "user", Content: jsonString(s)} })
	if err != nil {
		return fmt.Errorf("decoding responses input: %w", err)
	}
	msgs := make([]chatMessage, len(out.Messages), len(out.Messages)+len(items))
	copy(msgs, out.Messages)
	var (
		reasoning  strings.Builder
		sig        string     // Anthropic signature of the pending reasoning
		toolImages []chatPart // images returned by the current run of tool outputs
	)
	// attach hands the pending reasoning to the assistant message m.
	attach := func(m *chatMessage) {
		if sig != "" || opts.ReasoningInHistory {
			m.ReasoningContent, m.ReasoningSignature = reasoning.String(), sig
		}
		reasoning.Reset()
		sig = ""
	}
	for i, it := range items {
		typ := it.Type
		if typ == "" && it.Role != "" {
			typ = "message"
		}
		switch typ {
		case "message":
			m, err := respMessage(it, opts)
			if err != nil {
				return res.at(fmt.Sprintf("input[%d]", i), err)
			}
			if m.Role == "assistant" {
				attach(&m)
			}
			msgs = append(msgs, m)
		case "function_call", "custom_tool_call":
			args := it.Arguments
			if typ == "custom_tool_call" {
				args = string(mustJSON(map[string]string{"input": it.Input}))
			}
			tc := functionCall(it.CallID, res.Tools.Upstream(it.Namespace, it.Name), args)
			// Consecutive calls (and the assistant text before them) form one
			// assistant message, as the chat API expects.
			if n := len(msgs); n == 0 || msgs[n-1].Role != "assistant" {
				m := chatMessage{Role: "assistant"}
				attach(&m)
				msgs = append(msgs, m)
			}
			last := &msgs[len(msgs)-1]
			last.ToolCalls = append(last.ToolCalls, tc)
			if s := string(last.Content); s == "" || s == `""` {
				last.Content = json.RawMessage("null") // Chat's content beside tool calls without text
			}
		case "function_call_output", "custom_tool_call_output":
			text, images := toolOutput(it.Output)
			msgs = append(msgs, chatMessage{Role: "tool", ToolCallID: it.CallID, Content: jsonString(text)})
			toolImages = append(toolImages, images...)
			if len(toolImages) > 0 && (i+1 == len(items) || !strings.HasSuffix(items[i+1].Type, "_call_output")) {
				// Chat tool messages carry text only: the images the tools
				// returned follow the run of tool messages as one user message.
				msgs = append(msgs, chatMessage{Role: "user", Content: chatContent(toolImages)})
				toolImages = nil
			}
		case "reasoning":
			if s, ok := strings.CutPrefix(it.EncryptedContent, AnthropicSignaturePrefix); ok && opts.anthropic {
				sig = s
			}
			for _, s := range it.Summary {
				reasoning.WriteString(s.Text)
			}
		default:
			res.note("dropped input item of type " + typ)
		}
	}
	out.Messages = msgs
	return nil
}

// respMessage converts a message item. developer and system stay
// instructions (system, or developer with Options.DeveloperRole), never
// user.
func respMessage(it respItem, opts Options) (chatMessage, error) {
	role := it.Role
	switch {
	case role == "developer" && opts.DeveloperRole:
	case role == "developer", role == "system":
		role = "system"
	case role != "assistant":
		role = "user"
	}
	parts, err := stringOrList(it.Content, inputText)
	if err != nil {
		return chatMessage{}, err
	}
	var out []chatPart
	for j, p := range parts {
		switch p.Type {
		case "input_text", "output_text", "text", "summary_text":
			out = append(out, chatPart{Type: "text", Text: p.Text})
		case "refusal":
			out = append(out, chatPart{Type: "text", Text: p.Refusal})
		case "input_image":
			if u := rawText(p.ImageURL); u != "" && role == "user" {
				out = append(out, imagePart(u, p.Detail))
			}
		case "input_file":
			// A file dropped here would be answered as if it had been read.
			if !opts.FileInput || p.FileData == "" && !opts.anthropic {
				return chatMessage{}, &refusal{what: fmt.Sprintf("content[%d] is an input_file (%s)", j, cmp.Or(p.Filename, "a file")),
					fix: "send the document's text instead"}
			}
			out = append(out, chatPart{Type: "file", File: &chatFile{Filename: p.Filename, FileData: p.FileData, FileURL: p.FileURL}})
		}
	}
	return chatMessage{Role: role, Content: chatContent(out)}, nil
}

// toolOutput splits a function_call_output "output" (a string, or a list
// of input_text / input_image parts) into the tool message text and the
// images it holds.
func toolOutput(raw json.RawMessage) (string, []chatPart) {
	parts, err := stringOrList(raw, inputText)
	if err != nil {
		return string(trimSpace(raw)), nil
	}
	var (
		sb     lines
		images []chatPart
	)
	for _, p := range parts {
		if u := rawText(p.ImageURL); p.Type == "input_image" && u != "" {
			images = append(images, imagePart(u, p.Detail))
		}
		sb.add(p.Text)
	}
	return sb.String(), images
}

// inputText is a Responses input_text part.
func inputText(s string) respPart { return respPart{Type: "input_text", Text: s} }
