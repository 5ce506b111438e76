package translate

import (
	"cmp"
	"fmt"
	"strings"

	"github.com/flowgate/flowgate/internal/apierr"
)

// respResponse is a Responses "response" object as an upstream sends it
// (the non-streaming body, or the "response" of a stream's terminal event).
type respResponse struct {
	ID                string       `json:"id"`
	Object            string       `json:"object"`
	CreatedAt         int64        `json:"created_at"`
	Status            string       `json:"status"`
	Error             *apierr.Wire `json:"error"`
	IncompleteDetails *respReason  `json:"incomplete_details"`
	Output            []respItem   `json:"output"`
	Usage             *respUsageIn `json:"usage"`
}

// respUsageIn is Responses usage as read from an upstream.
type respUsageIn struct {
	InputTokens         int                 `json:"input_tokens"`
	OutputTokens        int                 `json:"output_tokens"`
	TotalTokens         int                 `json:"total_tokens"`
	InputTokensDetails  *chatCachedTokens   `json:"input_tokens_details"`
	OutputTokensDetails *chatReasonedTokens `json:"output_tokens_details"`
}

// chatUsageFromResp maps Responses usage (both count cached tokens inside
// the input); nil stays nil.
func chatUsageFromResp(u *respUsageIn) *chatUsage {
	if u == nil {
		return nil
	}
	return &chatUsage{PromptTokens: u.InputTokens, CompletionTokens: u.OutputTokens,
		TotalTokens:             cmp.Or(u.TotalTokens, u.InputTokens+u.OutputTokens),
		PromptTokensDetails:     cmp.Or(u.InputTokensDetails, &chatCachedTokens{}),
		CompletionTokensDetails: cmp.Or(u.OutputTokensDetails, &chatReasonedTokens{})}
}

// respChatFinish maps a response's final status to a chat finish_reason.
func respChatFinish(r *respResponse, hasTools bool) string {
	if r.Status == "incomplete" {
		if r.IncompleteDetails != nil && r.IncompleteDetails.Reason == "content_filter" {
			return "content_filter"
		}
		return "length"
	}
	return toolsOrStop(hasTools)
}

// respItemText joins the text of a message item (output_text and refusal
// parts) or of a reasoning item (summary, then reasoning_text content).
func respItemText(it *respItem) (text string, refusal bool) {
	var sb strings.Builder
	if it.Type == "reasoning" {
		for _, s := range it.Summary {
			if sb.Len() > 0 && s.Text != "" {
				sb.WriteString("\n\n")
			}
			sb.WriteString(s.Text)
		}
	}
	c := trimSpace(it.Content)
	if len(c) == 0 || c[0] != '[' {
		return sb.String(), false
	}
	var parts []respPart
	if unmarshal(c, &parts) != nil {
		return sb.String(), false
	}
	hasText := false
	for _, p := range parts {
		switch p.Type {
		case "output_text", "reasoning_text", "text":
			if it.Type == "reasoning" && len(it.Summary) > 0 {
				continue // the summary already says it
			}
			sb.WriteString(p.Text)
			hasText = true
		case "refusal":
			if !hasText {
				sb.WriteString(p.Refusal)
				refusal = true
			}
		}
	}
	return sb.String(), refusal && !hasText
}

// decodeRespResponse parses a non-streaming Responses answer strictly.
func decodeRespResponse(body []byte) (*respResponse, error) {
	var r respResponse
	if err := unmarshal(body, &r); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUpstreamBody, err)
	}
	if r.Error != nil || r.Status == "failed" {
		return nil, r.Error.Failure(502, "upstream response failed")
	}
	if r.Object != "response" && r.Output == nil {
		return nil, fmt.Errorf("%w: not a responses object (object %q)", ErrUpstreamBody, r.Object)
	}
	return &r, nil
}

// ResponsesResponseToChat converts a Responses answer into a Chat
// Completions object reporting model alias: message text joined into
// content (a refusal-only message becomes refusal), function_call items
// tool_calls in order, reasoning items reasoning_content. A body that is
// not a response is an ErrUpstreamBody error, a failed response an
// *apierr.UpstreamError.
func ResponsesResponseToChat(body []byte, alias string) ([]byte, error) {
	r, err := decodeRespResponse(body)
	if err != nil {
		return nil, err
	}
	var text, reasoning strings.Builder
	m := chatOutMsg{Role: "assistant"}
	for i := range r.Output {
		switch it := &r.Output[i]; it.Type {
		case "message":
			if s, isRefusal := respItemText(it); isRefusal {
				m.Refusal += s
			} else {
				text.WriteString(s)
			}
		case "reasoning":
			s, _ := respItemText(it)
			if s != "" && reasoning.Len() > 0 {
				reasoning.WriteString("\n\n")
			}
			reasoning.WriteString(s)
		case "function_call":
			m.ToolCalls = append(m.ToolCalls, chatOutCall(respCallID(it), it.Name, it.Arguments))
		}
	}
	if text.Len() > 0 || len(m.ToolCalls) == 0 && m.Refusal == "" {
		m.Content = new(text.String())
	}
	if reasoning.Len() > 0 {
		m.ReasoningContent = new(reasoning.String())
	}
	out := chatCompletion{ID: convertID(r.ID, "chatcmpl-", "resp_"), Object: "chat.completion", Created: unixOr(r.CreatedAt),
		Model: alias, Usage: chatUsageFromResp(r.Usage)}
	out.Choices[0] = chatOutChoice{Message: m, FinishReason: respChatFinish(r, len(m.ToolCalls) > 0)}
	return marshal(&out)
}

// respCallID is a function_call item's call id (its item id, or a new id,
// when the upstream left call_id out).
func respCallID(it *respItem) string { return idOr(cmp.Or(it.CallID, it.ID), "call_") }
