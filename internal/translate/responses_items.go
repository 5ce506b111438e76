package translate

import (
	"cmp"
	"strings"
	"time"

	"github.com/flowgate/flowgate/internal/apierr"
)

// AnthropicSignaturePrefix starts the encrypted_content of a Responses
// reasoning item FlowGate built from Anthropic thinking; the Anthropic
// signature follows it, told apart from a Responses upstream's own
// encrypted reasoning. ResponsesToAnthropic turns such an item back into
// the thinking block; a Responses upstream never gets it.
const AnthropicSignaturePrefix = "flowgate-anthropic-signature:"

// rItem is one Responses output item being built.
type rItem struct {
	kind   blockKind // blockText = message, blockThinking = reasoning, blockTool = function_call
	id     string
	text   strings.Builder // message text, reasoning summary, or arguments
	sig    string          // reasoning signature -> encrypted_content, tagged
	callID string
	ref    ToolRef
	index  int // output_index
	done   bool
}

// The output items FlowGate writes, one type per item type.
type (
	respMessageItem struct {
		ID      string         `json:"id"`
		Type    string         `json:"type"` // "message"
		Status  string         `json:"status"`
		Role    string         `json:"role"`
		Content []respTextPart `json:"content"`
	}
	respTextPart struct {
		Type        string     `json:"type"` // "output_text"
		Text        string     `json:"text"`
		Annotations []struct{} `json:"annotations"`
	}
	respReasoningItem struct {
		ID               string            `json:"id"`
		Type             string            `json:"type"` // "reasoning"
		Summary          []respSummaryPart `json:"summary"`
		EncryptedContent string            `json:"encrypted_content,omitempty"`
	}
	respSummaryPart struct {
		Type string `json:"type"` // "summary_text"
		Text string `json:"text"`
	}
	respCallItem struct {
		ID        string `json:"id"`
		Type      string `json:"type"` // "function_call"
		Status    string `json:"status"`
		CallID    string `json:"call_id"`
		Name      string `json:"name"`
		Namespace string `json:"namespace,omitempty"`
		Arguments string `json:"arguments"`
	}
)

// wire returns the item as written: in progress (no text yet) or
// completed.
func (it *rItem) wire(completed bool) any {
	status, text := "in_progress", ""
	if completed {
		status, text = "completed", it.text.String()
	}
	switch it.kind {
	case blockText:
		m := respMessageItem{ID: it.id, Type: "message", Status: status, Role: "assistant", Content: []respTextPart{}}
		if completed {
			m.Content = append(m.Content, respTextPart{Type: "output_text", Text: text, Annotations: []struct{}{}})
		}
		return m
	case blockThinking:
		r := respReasoningItem{ID: it.id, Type: "reasoning", Summary: []respSummaryPart{}}
		if it.sig != "" {
			r.EncryptedContent = AnthropicSignaturePrefix + it.sig
		}
		if completed {
			r.Summary = append(r.Summary, respSummaryPart{Type: "summary_text", Text: text})
		}
		return r
	}
	return respCallItem{ID: it.id, Type: "function_call", Status: status, CallID: it.callID, Name: it.ref.Name,
		Namespace: it.ref.Namespace, Arguments: text}
}

// respObject is a Responses "response" object FlowGate writes.
type respObject struct {
	ID                string       `json:"id"`
	Object            string       `json:"object"` // "response"
	CreatedAt         int64        `json:"created_at"`
	Status            string       `json:"status"` // in_progress, completed, incomplete, failed
	Error             *respOutErr  `json:"error"`
	IncompleteDetails *respReason  `json:"incomplete_details"`
	Model             string       `json:"model"`
	Output            []any        `json:"output"`
	Usage             *respUsageIn `json:"usage"`
}

type respOutErr struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

type respReason struct {
	Reason string `json:"reason"`
}

// newRespObject builds a response object with status (and, for incomplete,
// the reason; for failed, the error), the completed items and usage.
func newRespObject(id, model string, created int64, status, reason string, err *apierr.UpstreamError, items []*rItem, u *chatUsage) *respObject {
	r := &respObject{ID: id, Object: "response", CreatedAt: created, Status: status, Model: model, Output: []any{},
		Usage: respUsageOf(u)}
	if reason != "" {
		r.IncompleteDetails = &respReason{reason}
	}
	if err != nil {
		r.Error = &respOutErr{Code: err.Code, Message: err.Message}
		r.Error.Code = cmp.Or(r.Error.Code, "server_error")
	}
	for _, it := range items {
		if it.done {
			r.Output = append(r.Output, it.wire(true))
		}
	}
	return r
}

// respStatusOf maps a chat finish_reason to a response status and
// incomplete reason.
func respStatusOf(finish string) (status, reason string) {
	switch finish {
	case "length":
		return "incomplete", "max_output_tokens"
	case "content_filter":
		return "incomplete", "content_filter"
	}
	return "completed", ""
}

// respUsageOf maps chat usage to Responses usage (input_tokens includes
// cached tokens in both APIs; reasoning tokens are kept); nil stays nil.
func respUsageOf(u *chatUsage) *respUsageIn {
	if u == nil {
		return nil
	}
	total := cmp.Or(u.TotalTokens, u.PromptTokens+u.CompletionTokens)
	return &respUsageIn{InputTokens: u.PromptTokens, OutputTokens: u.CompletionTokens, TotalTokens: total,
		InputTokensDetails:  &chatCachedTokens{u.cached()},
		OutputTokensDetails: &chatReasonedTokens{u.reasoningTokens()}}
}

func itemID(prefix, resp string, n int) string {
	return prefix + strings.TrimPrefix(resp, "resp_") + "_" + itoa(n)
}

// idOr returns id, or a new id with prefix when id is empty.
func idOr(id, prefix string) string {
	if id == "" {
		return newID(prefix)
	}
	return id
}

// unixOr returns t, or the time now in unix seconds when t is 0.
func unixOr(t int64) int64 {
	if t == 0 {
		return time.Now().Unix()
	}
	return t
}
