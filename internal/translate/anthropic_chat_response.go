package translate

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/flowgate/flowgate/internal/apierr"
)

// decodeAnthResponse parses a Messages answer strictly: a body that is not
// a whole message wraps ErrUpstreamBody; an error object is an
// *apierr.UpstreamError.
func decodeAnthResponse(body []byte) (*anthResponse, error) {
	var r struct {
		anthResponse
		Error *apierr.Wire `json:"error"`
	}
	if err := unmarshal(body, &r); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUpstreamBody, err)
	}
	if r.Error != nil {
		return nil, r.Error.Err(502)
	}
	if r.Type != "message" || r.Content == nil {
		return nil, fmt.Errorf("%w: not an anthropic message (type %q)", ErrUpstreamBody, r.Type)
	}
	return &r.anthResponse, nil
}

// chatFinishOf maps the Anthropic stop_reasons that are not a plain stop
// to a chat finish_reason.
var chatFinishOf = map[string]string{"max_tokens": "length", "model_context_window_exceeded": "length",
	"tool_use": "tool_calls", "refusal": "content_filter"}

// chatFinish maps an Anthropic stop_reason to a chat finish_reason.
func chatFinish(stop string, hasTools bool) string {
	if f, ok := chatFinishOf[stop]; ok {
		return f
	}
	return toolsOrStop(hasTools)
}

// toolsOrStop is the finish_reason of a plain end: tool_calls when the
// answer has calls.
func toolsOrStop(hasTools bool) string {
	if hasTools {
		return "tool_calls"
	}
	return "stop"
}

// chatUsageOf maps Anthropic usage: prompt_tokens includes cache reads and
// writes (Anthropic input_tokens excludes both), cached_tokens = reads.
func chatUsageOf(u anthUsage) *chatUsage {
	prompt := u.InputTokens + u.CacheReadInputTokens + u.CacheCreationInputTokens
	return &chatUsage{PromptTokens: prompt, CompletionTokens: u.OutputTokens, TotalTokens: prompt + u.OutputTokens,
		PromptTokensDetails: &chatCachedTokens{u.CacheReadInputTokens}, CacheCreationInputTokens: u.CacheCreationInputTokens}
}

// compactInput returns a tool_use input as compact JSON arguments text
// ({} when absent).
func compactInput(raw json.RawMessage) string {
	if raw = trimSpace(raw); isNull(raw) {
		return "{}"
	}
	return string(appendCompact(nil, raw))
}

// AnthropicResponseToChat converts a Messages answer into a Chat
// Completions object reporting model alias: text joined into content,
// thinking into reasoning_content (its signature as reasoning_signature
// when there is exactly one thinking block), tool_use blocks tool_calls in
// order. Server tool blocks and redacted thinking are dropped.
func AnthropicResponseToChat(body []byte, alias string) ([]byte, error) {
	r, err := decodeAnthResponse(body)
	if err != nil {
		return nil, err
	}
	var text, thinking strings.Builder
	sig, nThinking := "", 0
	m := chatOutMsg{Role: "assistant"}
	for i := range r.Content {
		switch c := &r.Content[i]; c.Type {
		case "text":
			text.WriteString(c.Text)
		case "thinking":
			thinking.WriteString(c.Thinking)
			sig = c.Signature
			nThinking++
		case "tool_use":
			m.ToolCalls = append(m.ToolCalls, chatOutCall(c.ID, c.Name, compactInput(c.Input)))
		}
	}
	if text.Len() > 0 || len(m.ToolCalls) == 0 {
		m.Content = new(text.String())
	}
	if nThinking > 0 {
		m.ReasoningContent = new(thinking.String())
		if nThinking == 1 {
			m.ReasoningSignature = sig
		}
	}
	stop := ""
	if r.StopReason != nil {
		stop = *r.StopReason
	}
	out := chatCompletion{ID: convertID(r.ID, "chatcmpl-", "msg_"), Object: "chat.completion", Created: unixOr(0), Model: alias,
		Usage: chatUsageOf(r.Usage)}
	out.Choices[0] = chatOutChoice{Message: m, FinishReason: chatFinish(stop, len(m.ToolCalls) > 0)}
	return marshal(&out)
}
