package translate

import (
	"bytes"

	"github.com/flowgate/flowgate/internal/sse"
)

// ResponsesToAnthropic translates an OpenAI Responses request (Codex's POST
// /v1/responses body) into an Anthropic Messages request, through the chat
// form: ResponsesToChat, then ChatToAnthropic.
//
// So developer/system input messages and instructions become "system"
// (never user); function_call / function_call_output pairs become
// tool_use / tool_result with their call ids; namespace tools are flattened
// with the reversible mapping in Result.Tools (pass it to
// AnthropicResponseToResponses / NewAnthropicToResponsesStream);
// web_search, custom and other hosted tools are dropped with a note;
// reasoning items from history are dropped with a note unless FlowGate
// tagged them with their Anthropic signature (AnthropicSignaturePrefix):
// those become the signed thinking block again; reasoning.effort -> thinking budget,
// max_output_tokens -> max_tokens (default Options.DefaultMaxTokens or
// 8192). Result.Notes holds the notes of both steps.
func ResponsesToAnthropic(body []byte, opts Options) (*Result, error) {
	o := opts
	o.DeveloperRole = false
	o.MaxCompletionTokens = false
	o.ReasoningInHistory = false
	o.signedThinking = true
	mid, err := ResponsesToChat(body, o)
	if err != nil {
		return nil, err
	}
	res, err := ChatToAnthropic(mid.Body, Options{DefaultMaxTokens: opts.DefaultMaxTokens})
	if err != nil {
		return nil, err
	}
	res.ClientModel, res.Stream, res.Tools = mid.ClientModel, mid.Stream, mid.Tools
	res.Notes = append(mid.Notes, res.Notes...)
	if bytesContainsReasoningItem(body) && !bytes.Contains(body, []byte(AnthropicSignaturePrefix)) {
		res.note("dropped reasoning items from history: an anthropic upstream needs its own signed thinking")
	}
	return res, nil
}

// bytesContainsReasoningItem is a cheap check for "type":"reasoning" input
// items (only used for the note).
func bytesContainsReasoningItem(body []byte) bool {
	return bytes.Contains(body, []byte(`"type":"reasoning"`)) || bytes.Contains(body, []byte(`"type": "reasoning"`))
}

// AnthropicResponseToResponses converts a non-streaming Anthropic Messages
// answer into a Responses "response" object (AnthropicResponseToChat, then
// ChatResponseToResponses): items reasoning (signature kept as
// encrypted_content), message, one function_call per tool_use; usage;
// model = alias; max_tokens -> status incomplete. tools is Result.Tools of
// the request (restores namespaced names; nil is fine).
func AnthropicResponseToResponses(body []byte, alias string, tools *ToolNames) ([]byte, error) {
	mid, err := AnthropicResponseToChat(body, alias)
	if err != nil {
		return nil, err
	}
	return ChatResponseToResponses(mid, alias, tools)
}

// AnthropicToResponsesStream turns an Anthropic Messages stream into
// OpenAI Responses events with the same guarantees as ChatToResponsesStream
// (distinct output_index per item, parallel calls never merged, a terminal
// response.completed / incomplete / failed). It chains an
// AnthropicToChatStream into a ChatToResponsesStream; use it the same way
// (Feed every event's data, Finish(err) at the end or after a Feed error).
type AnthropicToResponsesStream struct {
	a     *AnthropicToChatStream
	r     *ChatToResponsesStream
	chain chatChain
}

// NewAnthropicToResponsesStream starts a translator; alias is the reported
// model, opts.Tools restores namespaced tool names (Result.Tools).
func NewAnthropicToResponsesStream(alias string, opts StreamOptions) *AnthropicToResponsesStream {
	if opts.CreatedAt == 0 {
		opts.CreatedAt = nowUnix()
	}
	ao := StreamOptions{CreatedAt: opts.CreatedAt}
	if opts.ID != "" {
		ao.ID = "chatcmpl-" + opts.ID
	}
	s := &AnthropicToResponsesStream{a: NewAnthropicToChatStream(alias, ao), r: NewChatToResponsesStream(alias, opts)}
	s.chain.next = s.r
	s.a.out.sink = &s.chain
	return s
}

// Feed consumes one upstream event's data.
func (s *AnthropicToResponsesStream) Feed(data []byte) ([]sse.Frame, error) {
	s.r.e.reset()
	s.chain.err = nil
	_, err := s.a.Feed(data)
	if err == nil {
		err = s.chain.err
	}
	return s.r.e.frames(), err
}

// Finish ends the stream (see ChatToResponsesStream.Finish).
func (s *AnthropicToResponsesStream) Finish(err error) []sse.Frame {
	var out []sse.Frame
	if err == nil && !s.a.done && s.a.finishSeen {
		s.r.e.reset()
		s.chain.err = nil
		s.a.finalize() // usage chunk and [DONE]
		out, err = s.r.e.frames(), s.chain.err
	}
	s.a.done = true
	return append(out, s.r.Finish(err)...)
}
