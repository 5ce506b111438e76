package translate

import (
	"encoding/json"
	"fmt"
	"strings"
)

// decodeChatResponse parses a chat completion strictly: a body that is not
// a whole completion with choices[0].message wraps ErrUpstreamBody; an
// error object is an *apierr.UpstreamError.
func decodeChatResponse(body []byte) (*chatResponse, *chatChoice, error) {
	var r chatResponse
	if err := unmarshal(body, &r); err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrUpstreamBody, err)
	}
	if r.Error != nil {
		return nil, nil, r.Error.Err(502)
	}
	for i := range r.Choices {
		if r.Choices[i].Index == 0 && r.Choices[i].Message != nil {
			return &r, &r.Choices[i], nil
		}
	}
	return nil, nil, fmt.Errorf("%w: no choices[0].message in chat completion", ErrUpstreamBody)
}

// ChatResponseToAnthropic converts a Chat Completions answer into a
// Messages answer reporting model alias: thinking, text, tool_use, a
// reasoning signature from the upstream kept byte-exact.
func ChatResponseToAnthropic(body []byte, alias string) ([]byte, error) {
	r, ch, err := decodeChatResponse(body)
	if err != nil {
		return nil, err
	}
	m := ch.Message
	out := anthResponse{ID: convertID(r.ID, "msg_", "chatcmpl-"), Type: "message", Role: "assistant", Model: alias,
		Content: make([]anthBlock, 0, 2+len(m.ToolCalls))}
	if text, sig := m.reasoning(); text != "" || sig != "" {
		if sig == "" {
			sig = UnsignedThinkingSignature
		}
		out.Content = append(out.Content, anthBlock{Type: "thinking", Thinking: text, Signature: sig})
	}
	if text := m.text(); text != "" {
		out.Content = append(out.Content, anthBlock{Type: "text", Text: text})
	}
	calls := m.calls()
	for _, tc := range calls {
		out.Content = append(out.Content, anthBlock{Type: "tool_use", ID: idOr(tc.ID, "toolu_"), Name: tc.Function.Name,
			Input: argsObject(tc.Function.Arguments)})
	}
	reason, seq := anthropicStop(string(ch.FinishReason), len(calls) > 0, ch.StopReason, ch.MatchedStop)
	out.StopReason = &reason
	out.StopSequence = seq
	out.Usage = anthropicUsage(r.Usage)
	b, err := marshal(&out)
	if err != nil {
		return nil, fmt.Errorf("encoding anthropic response: %w", err)
	}
	return b, nil
}

// UnsignedThinkingSignature is the signature given to thinking that came
// from an upstream without signatures. Claude Code discards a thinking
// block that ends without a signature_delta, so one is always sent; it is
// not a valid Anthropic signature, so such thinking must not be replayed to
// a real Anthropic upstream (AnthropicToChat drops thinking anyway).
const UnsignedThinkingSignature = "flowgate-unsigned-thinking"

// argsObject turns chat tool arguments into an Anthropic "input" object:
// empty -> {}; a JSON object as is; anything else (a model that produced
// broken JSON) is wrapped as {"_raw_arguments": "..."} so it is not lost.
func argsObject(args string) json.RawMessage {
	a := strings.TrimSpace(args)
	if a == "" || a == "null" {
		return json.RawMessage("{}")
	}
	if validObject([]byte(a)) {
		return json.RawMessage(a)
	}
	b := append([]byte(nil), `{"_raw_arguments":`...)
	b = appendString(b, args)
	return append(b, '}')
}

// anthropicStopOf maps the chat finish_reasons that are not a plain stop
// to an Anthropic stop_reason.
var anthropicStopOf = map[string]string{"length": "max_tokens", "tool_calls": "tool_use", "function_call": "tool_use",
	"content_filter": "refusal"}

// anthropicStop maps a chat finish_reason to an Anthropic stop_reason: a
// plain stop with tool calls is tool_use, else end_turn, or stop_sequence
// when the upstream names the matched stop string (vLLM stop_reason,
// SGLang matched_stop).
func anthropicStop(finish string, hasTools bool, stopReason, matched json.RawMessage) (string, *string) {
	if s, ok := anthropicStopOf[finish]; ok {
		return s, nil
	}
	if hasTools {
		return "tool_use", nil
	}
	for _, raw := range []json.RawMessage{stopReason, matched} {
		var s string
		if len(raw) > 0 && raw[0] == '"' && unmarshal(raw, &s) == nil && s != "" && s != "stop" {
			return "stop_sequence", &s
		}
	}
	return "end_turn", nil
}

// anthropicUsage maps chat usage: Anthropic input_tokens excludes cache
// reads and writes, chat prompt_tokens includes them.
func anthropicUsage(u *chatUsage) anthUsage {
	if u == nil {
		return anthUsage{}
	}
	read, written := u.cached(), u.CacheCreationInputTokens
	return anthUsage{InputTokens: max(u.PromptTokens-read-written, 0), OutputTokens: u.CompletionTokens,
		CacheReadInputTokens: read, CacheCreationInputTokens: written}
}
