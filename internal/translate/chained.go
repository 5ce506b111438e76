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

// ResponsesToAnthropicStream chains the parser of ResponsesToChatStream
// into a ChatToAnthropicStream. Errors, a failed response and a truncated
// stream end with the Anthropic error event.
type ResponsesToAnthropicStream struct{ chained }

// NewResponsesToAnthropicStream starts a translator reporting model alias
// (opts as for NewChatToAnthropicStream).
func NewResponsesToAnthropicStream(alias string, opts StreamOptions) *ResponsesToAnthropicStream {
	c := NewChatToAnthropicStream(alias, opts)
	return &ResponsesToAnthropicStream{chained{newResponsesParser(&c.chatIn), &c.chatIn}}
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
	o.anthropic = true
	o.FileInput = true // Anthropic reads PDFs
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

// AnthropicToResponsesStream chains the parser of AnthropicToChatStream
// into a ChatToResponsesStream.
type AnthropicToResponsesStream struct{ chained }

// NewAnthropicToResponsesStream starts a translator reporting model alias
// (opts as for NewChatToResponsesStream).
func NewAnthropicToResponsesStream(alias string, opts StreamOptions) *AnthropicToResponsesStream {
	r := NewChatToResponsesStream(alias, opts)
	return &AnthropicToResponsesStream{chained{newAnthropicParser(&r.chatIn), &r.chatIn}}
}

// chained runs the parser of an upstream's stream into the chatIn of the
// machine that writes the client's protocol.
type chained struct {
	parser interface {
		feed(data []byte) error
		close(err error) error
	}
	in *chatIn
}

// Feed consumes one upstream event's data. [DONE] is not part of the
// Messages or Responses protocols: after the finish it ends the answer as
// a clean end does, else it is ignored. A failure of the writing machine
// on what it was handed is reported first.
func (s *chained) Feed(data []byte) ([]sse.Frame, error) {
	if s.in.done {
		return nil, nil
	}
	s.in.e.reset()
	s.in.err = nil
	var err error
	switch {
	case !sse.IsDone(data):
		err = s.parser.feed(data)
	case s.in.finishSeen:
		err = s.parser.close(nil)
	}
	return s.in.e.frames(), cmp.Or(s.in.err, err)
}

// Finish ends the stream: the parser's last events (a clean end after the
// finish), then the writing machine's Finish.
func (s *chained) Finish(err error) []sse.Frame {
	s.in.e.reset()
	s.in.err = nil
	err = s.parser.close(err)
	return append(s.in.e.frames(), s.in.Finish(cmp.Or(s.in.err, err))...)
}
