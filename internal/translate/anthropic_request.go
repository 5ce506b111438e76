package translate

import (
	"cmp"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/flowgate/flowgate/internal/apierr"
)

// billingHeaderPrefix starts the attribution text block Claude Code puts
// first in "system"; it carries a per-session hash that only Anthropic
// understands and that breaks an upstream's prefix cache, so it is dropped.
const billingHeaderPrefix = "x-anthropic-billing-header:"

// AnthropicToChat translates a Messages request (Claude Code's) into a Chat
// Completions request: system blocks and messages become system messages
// in place, tool_use assistant tool_calls, tool_result role:"tool"
// messages (ids and order kept), the thinking config reasoning_effort.
// What a chat upstream cannot take (cache_control, top_k, server tools,
// defer_loading tools) is dropped with a note; what it must not silently
// lose (web search, PDFs it cannot read) is refused.
func AnthropicToChat(body []byte, opts Options) (*Result, error) {
	var req anthRequest
	if err := unmarshal(body, &req); err != nil {
		return nil, fmt.Errorf("decoding anthropic request: %w", err)
	}
	res := &Result{Stream: req.Stream, ClientModel: req.Model}
	out := opts.newChatRequest(req.Model, req.MaxTokens, req.Stream)
	out.Messages = make([]chatMessage, 0, len(req.Messages)+2)

	if sys := joinText(req.System, true); sys != "" {
		out.Messages = append(out.Messages, chatMessage{Role: "system", Content: jsonString(sys)})
	}
	for i, m := range req.Messages {
		var err error
		switch m.Role {
		case "system":
			if s := joinText(m.Content, true); s != "" {
				out.Messages = append(out.Messages, chatMessage{Role: "system", Content: jsonString(s)})
			}
		case "assistant":
			out.Messages = appendAnthAssistant(out.Messages, m.Content, opts)
		default: // "user"
			out.Messages, err = appendAnthUser(out.Messages, m.Content, opts, res)
		}
		if err != nil {
			return nil, res.at(fmt.Sprintf("messages[%d]", i), err)
		}
	}

	out.Temperature, out.TopP = req.Temperature, req.TopP
	if req.TopK != nil {
		res.note("dropped top_k: not part of the chat API")
	}
	if len(req.StopSequences) > 0 {
		out.Stop = mustJSON(req.StopSequences)
	}
	for _, t := range req.Tools {
		switch {
		case strings.HasPrefix(t.Type, "web_search_") && opts.responses:
			// The chat form carries it to ChatToResponses, which sends the
			// upstream's own web_search tool.
			out.Tools = append(out.Tools, chatTool{Type: "web_search", Function: chatToolFuncDef{Name: t.Name}})
		case strings.HasPrefix(t.Type, "web_search_") || strings.HasPrefix(t.Type, "web_fetch_"):
			// Dropping it would have the model answer as if it had searched.
			r := &refusal{what: "tool " + t.Name + " (type " + t.Type + ") is an Anthropic server tool",
				fix: "turn the tool off in the client"}
			if strings.HasPrefix(t.Type, "web_fetch_") {
				r.route = "an anthropic/ deployment" // no other upstream fetches pages itself
			}
			return nil, res.at("", r)
		case t.Type != "" && t.Type != "custom":
			res.note("dropped tool " + t.Name + " (type " + t.Type + "): server tools are not supported by a chat upstream")
		case t.DeferLoading:
			res.note("dropped tool " + t.Name + ": defer_loading tools are not offered to a chat upstream")
		default:
			out.Tools = append(out.Tools, chatFunctionTool(t.Name, t.Description, t.InputSchema, nil))
		}
	}
	if tc := req.ToolChoice; tc != nil && len(out.Tools) > 0 {
		c := toolChoice{name: tc.Name}
		for chat, anth := range anthChoiceOf {
			if anth == tc.Type {
				c.mode = chat
			}
		}
		out.ToolChoice = c.wire(false)
		if tc.DisableParallelToolUse {
			out.ParallelToolCalls = new(false)
		}
	}
	if req.Metadata != nil {
		out.User = userID(req.Metadata.UserID)
	}
	out.ReasoningEffort = anthropicEffort(&req)
	raw := req.OutputFormat
	if req.OutputConfig != nil && len(req.OutputConfig.Format) > 0 {
		raw = req.OutputConfig.Format
	}
	var format schemaFormat
	if !isNull(raw) && unmarshal(raw, &format) == nil {
		format.Strict = new(true) // Anthropic's structured outputs always follow the schema
		out.ResponseFormat = format.chat(res)
	}
	return res.encode(&out, len(body))
}

// joinText joins the text blocks as lines; dropBilling leaves out Claude
// Code's billing header.
func joinText(bs []anthBlock, dropBilling bool) string {
	var sb lines
	for _, b := range bs {
		if b.Type == "text" && !(dropBilling && strings.HasPrefix(b.Text, billingHeaderPrefix)) {
			sb.add(b.Text)
		}
	}
	return sb.String()
}

func appendAnthAssistant(dst []chatMessage, bs []anthBlock, opts Options) []chatMessage {
	msg := chatMessage{Role: "assistant", Content: json.RawMessage(`""`)}
	var text, reasoning strings.Builder
	for _, b := range bs {
		switch b.Type {
		case "text":
			text.WriteString(b.Text)
		case "thinking":
			reasoning.WriteString(b.Thinking)
		case "tool_use":
			msg.ToolCalls = append(msg.ToolCalls, functionCall(b.ID, b.Name, string(b.Input)))
		}
	}
	if opts.ReasoningInHistory {
		msg.ReasoningContent = reasoning.String()
	}
	if text.Len() > 0 {
		msg.Content = jsonString(text.String())
	} else if len(msg.ToolCalls) > 0 {
		msg.Content = json.RawMessage("null") // Chat's content beside tool calls without text
	}
	return append(dst, msg)
}

// appendAnthUser emits the tool results of a user turn first, as role:"tool"
// messages in their original order (Chat needs them right after the
// assistant's tool_calls), then one user message with the remaining text and
// images (including images returned inside tool results).
func appendAnthUser(dst []chatMessage, bs []anthBlock, opts Options, res *Result) ([]chatMessage, error) {
	var parts []chatPart
	for j, b := range bs {
		switch b.Type {
		case "text":
			parts = append(parts, chatPart{Type: "text", Text: b.Text})
		case "image":
			if u := b.Source.url(); u != "" {
				parts = append(parts, imagePart(u, ""))
			}
		case "document":
			p, err := documentPart(b, opts)
			if err != nil {
				err.what = fmt.Sprintf("content[%d] is a document block %s", j, err.what)
				return dst, err
			}
			parts = append(parts, p)
		case "tool_result":
			var inner anthContent
			if len(b.Content) > 0 {
				if err := unmarshal(b.Content, &inner); err != nil {
					return dst, fmt.Errorf("tool_result %s: %w", b.ToolUseID, err)
				}
			}
			text := joinText(inner, false)
			if b.IsError {
				text = "Error: " + text
			}
			for _, ib := range inner {
				if u := ib.Source.url(); ib.Type == "image" && u != "" {
					parts = append(parts, imagePart(u, ""))
				}
			}
			dst = append(dst, chatMessage{Role: "tool", ToolCallID: b.ToolUseID, Content: jsonString(text)})
		}
	}
	if len(parts) == 0 {
		return dst, nil
	}
	return append(dst, chatMessage{Role: "user", Content: chatContent(parts)}), nil
}

// imagePart is a chat image_url part.
func imagePart(url, detail string) chatPart {
	return chatPart{Type: "image_url", ImageURL: mustJSON(chatImageURL{URL: url, Detail: detail})}
}

// documentPart turns a document block into a chat part: text documents
// become text; PDFs (base64, or a URL for a responses upstream) become a
// file part when the upstream takes files. Anything else is refused: a
// dropped document would be answered as if it had been read.
func documentPart(b anthBlock, opts Options) (chatPart, *refusal) {
	src := b.Source
	if src == nil {
		return chatPart{}, &refusal{what: "without a source", fix: "give the block a source"}
	}
	files := opts.responses || opts.FileInput
	switch {
	case src.Type == "text":
		return chatPart{Type: "text", Text: titled(b.Title, src.Data)}, nil
	case src.Type == "content":
		return chatPart{Type: "text", Text: titled(b.Title, joinText(src.Content, false))}, nil
	case src.Type == "base64" && src.MediaType == "application/pdf" && files:
		return chatPart{Type: "file", File: &chatFile{Filename: cmp.Or(b.Title, "document.pdf"), FileData: src.url()}}, nil
	case src.Type == "url" && opts.responses:
		return chatPart{Type: "file", File: &chatFile{FileURL: src.URL}}, nil
	case src.Type == "base64" && src.MediaType == "application/pdf" || src.Type == "url":
		return chatPart{}, &refusal{what: "(a PDF)", fix: "send the document's text instead"}
	}
	return chatPart{}, &refusal{what: fmt.Sprintf("with source type %q and media_type %q", src.Type, src.MediaType),
		fix: "send the document as a base64 PDF or as text"}
}

func titled(title, text string) string {
	if title == "" {
		return text
	}
	return title + "\n\n" + text
}

// maxUserLen bounds the chat "user" field (OpenAI documents 64 characters
// for its successor fields; longer values are rejected by some upstreams).
const maxUserLen = 64

// userID turns Anthropic metadata.user_id into a chat "user". Claude Code
// sends a JSON string holding {device_id, account_uuid, session_id}; the
// first of account_uuid, device_id and session_id is used, otherwise the
// string, truncated to 64 bytes on a UTF-8 boundary.
func userID(raw json.RawMessage) string {
	var s string
	if unmarshal(raw, &s) != nil {
		s = string(trimSpace(raw)) // not a string: an object or a number as sent
	}
	if strings.HasPrefix(strings.TrimSpace(s), "{") {
		var ids struct {
			DeviceID    string `json:"device_id"`
			AccountUUID string `json:"account_uuid"`
			SessionID   string `json:"session_id"`
		}
		if unmarshal([]byte(s), &ids) == nil {
			s = cmp.Or(ids.AccountUUID, ids.DeviceID, ids.SessionID, s)
		}
	}
	return apierr.TruncateUTF8(s, maxUserLen)
}

var chatEffortOf = map[string]string{"low": "low", "medium": "medium", "high": "high", "xhigh": "high", "max": "high"}

// anthropicEffort maps Anthropic thinking settings to a chat
// reasoning_effort: output_config.effort wins (xhigh and max are high);
// otherwise thinking.budget_tokens >= 10000 high, >= 4000 medium, else
// low. Adaptive thinking without an effort and disabled thinking send
// nothing.
func anthropicEffort(req *anthRequest) string {
	switch {
	case req.Thinking != nil && req.Thinking.Type == "disabled":
		return ""
	case req.OutputConfig != nil && req.OutputConfig.Effort != "":
		return chatEffortOf[req.OutputConfig.Effort]
	case req.Thinking == nil || req.Thinking.Type != "enabled":
		return ""
	case req.Thinking.BudgetTokens >= 10000:
		return "high"
	case req.Thinking.BudgetTokens >= 4000:
		return "medium"
	}
	return "low"
}
