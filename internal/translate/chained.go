package translate

import (
	"bytes"
	"cmp"

	"github.com/flowgate/flowgate/internal/sse"
)

// The directions between Messages and Responses go through the chat form:
// the request is translated twice, the answer and the stream chained
// through the two machines (the first one's events go straight to the
// second's chatIn), so each inherits the guarantees and notes of both
// halves.

// AnthropicToResponses translates a Messages request for a Responses-only
// upstream: AnthropicToChat (in the form that keeps web_search server tools
// and PDF documents for the upstream's own tools and input_file parts),
// then ChatToResponses. opts.Model names the upstream model.
func AnthropicToResponses(body []byte, opts Options) (*Result, error) {
	mid, err := AnthropicToChat(body, Options{responses: true})
	if err != nil {
		return nil, err
	}
	res, err := ChatToResponses(mid.Body, Options{Model: opts.Model})
	if err != nil {
		return nil, err
	}
	res.ClientModel, res.Stream = mid.ClientModel, mid.Stream
	res.Notes = append(mid.Notes, res.Notes...)
	return res, nil
}

// ResponsesResponseToAnthropic is ResponsesResponseToChat, then
// ChatResponseToAnthropic.
func ResponsesResponseToAnthropic(body []byte, alias string) ([]byte, error) {
	mid, err := ResponsesResponseToChat(body, alias)
	if err != nil {
		return nil, err
	}
	return ChatResponseToAnthropic(mid, alias)
}

// ResponsesToAnthropicStream chains a ResponsesToChatStream into a
// ChatToAnthropicStream. Errors, a failed response and a truncated stream
// end with the Anthropic error event.
type ResponsesToAnthropicStream struct {
	r *ResponsesToChatStream
	c *ChatToAnthropicStream
}

// NewResponsesToAnthropicStream starts a translator reporting model alias
// (opts as for NewChatToAnthropicStream).
func NewResponsesToAnthropicStream(alias string, opts StreamOptions) *ResponsesToAnthropicStream {
	opts.CreatedAt = unixOr(opts.CreatedAt)
	s := &ResponsesToAnthropicStream{r: NewResponsesToChatStream(alias, StreamOptions{CreatedAt: opts.CreatedAt}),
		c: NewChatToAnthropicStream(alias, opts)}
	s.r.out = &s.c.chatIn
	return s
}

// Feed consumes one upstream event's data.
func (s *ResponsesToAnthropicStream) Feed(data []byte) ([]sse.Frame, error) {
	s.c.e.reset()
	s.c.err = nil
	_, err := s.r.Feed(data)
	if s.c.err != nil {
		err = s.c.err // the Messages side failed on what it was handed: report that
	}
	return s.c.e.frames(), err
}

// Finish ends the stream: nothing more after a completed response, else
// the Anthropic error event.
func (s *ResponsesToAnthropicStream) Finish(err error) []sse.Frame {
	if err == nil && !s.r.done {
		err = errRespStreamTruncated
	}
	s.r.done = true
	return s.c.Finish(err)
}

// ResponsesToAnthropic translates a Responses request for an Anthropic
// upstream: ResponsesToChat, then ChatToAnthropic. Reasoning items from
// history are dropped with a note unless FlowGate tagged them with their
// Anthropic signature (AnthropicSignaturePrefix): those become the signed
// thinking block again.
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
// items, for the note.
func bytesContainsReasoningItem(body []byte) bool {
	return bytes.Contains(body, []byte(`"type":"reasoning"`)) || bytes.Contains(body, []byte(`"type": "reasoning"`))
}

// AnthropicResponseToResponses is AnthropicResponseToChat, then
// ChatResponseToResponses (tools as there).
func AnthropicResponseToResponses(body []byte, alias string, tools *ToolNames) ([]byte, error) {
	mid, err := AnthropicResponseToChat(body, alias)
	if err != nil {
		return nil, err
	}
	return ChatResponseToResponses(mid, alias, tools)
}

// AnthropicToResponsesStream chains an AnthropicToChatStream into a
// ChatToResponsesStream.
type AnthropicToResponsesStream struct {
	a *AnthropicToChatStream
	r *ChatToResponsesStream
}

// NewAnthropicToResponsesStream starts a translator reporting model alias
// (opts as for NewChatToResponsesStream).
func NewAnthropicToResponsesStream(alias string, opts StreamOptions) *AnthropicToResponsesStream {
	opts.CreatedAt = unixOr(opts.CreatedAt)
	s := &AnthropicToResponsesStream{a: NewAnthropicToChatStream(alias, StreamOptions{CreatedAt: opts.CreatedAt}),
		r: NewChatToResponsesStream(alias, opts)}
	s.a.out = &s.r.chatIn
	return s
}

// Feed consumes one upstream event's data.
func (s *AnthropicToResponsesStream) Feed(data []byte) ([]sse.Frame, error) {
	s.r.e.reset()
	s.r.err = nil
	_, err := s.a.Feed(data)
	return s.r.e.frames(), cmp.Or(err, s.r.err)
}

// Finish ends the stream (see ChatToResponsesStream.Finish).
func (s *AnthropicToResponsesStream) Finish(err error) []sse.Frame {
	var out []sse.Frame
	if err == nil && !s.a.done && s.a.finishSeen {
		s.r.e.reset()
		s.r.err = nil
		s.a.finalize() // usage and the end
		out, err = s.r.e.frames(), s.r.err
	}
	s.a.done = true
	return append(out, s.r.Finish(err)...)
}
