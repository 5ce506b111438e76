package translate

import (
	"fmt"

	"github.com/flowgate/flowgate/internal/sse"
)

// StreamOptions configure a stream state machine.
type StreamOptions struct {
	// ID is the client-visible message / response id. Default: derived from
	// the upstream's id, or random.
	ID string
	// InputTokens is reported as input_tokens in Anthropic message_start
	// before the upstream's real usage arrives at the end of a chat stream
	// (the real numbers follow in message_delta). Pass EstimateTokens of the
	// request. Default 0.
	InputTokens int
	// Tools maps flattened upstream function names back to the client's
	// (namespace, name); from Result.Tools. Default nil: names unchanged.
	Tools *ToolNames
	// CreatedAt is the Responses created_at (unix seconds). Default: now.
	CreatedAt int64
}

// emitter collects the frames produced by one Feed/Finish call into a
// single byte arena (one allocation per call, not per frame). Frames
// returned to the caller are never reused afterwards.
type emitter struct {
	buf   []byte
	marks []mark
}

type mark struct {
	event      string
	start, end int
}

func (e *emitter) reset() {
	e.buf = make([]byte, 0, 512)
	e.marks = e.marks[:0]
}

// begin starts a frame; write its JSON with e.buf = append(e.buf, ...),
// then call end.
func (e *emitter) begin(event string) {
	e.marks = append(e.marks, mark{event: event, start: len(e.buf)})
}

func (e *emitter) end() { e.marks[len(e.marks)-1].end = len(e.buf) }

func (e *emitter) frames() []sse.Frame {
	if len(e.marks) == 0 {
		return nil
	}
	out := make([]sse.Frame, len(e.marks))
	for i, m := range e.marks {
		out[i] = sse.Frame{Event: m.event, Data: e.buf[m.start:m.end:m.end]}
	}
	return out
}

// decodeChunk parses one chat stream chunk. An error object inside the
// stream becomes an *UpstreamError.
func decodeChunk(data []byte, c *chatResponse) error {
	// Reuse the choices array of the previous chunk, zeroed: one chunk
	// after another then costs no slice allocation.
	choices := c.Choices[:0]
	clear(choices[:cap(choices)])
	*c = chatResponse{Choices: choices}
	if err := unmarshal(data, c); err != nil {
		return fmt.Errorf("%w: bad stream chunk: %v", ErrUpstreamBody, err)
	}
	if c.Error != nil {
		return &UpstreamError{Type: c.Error.Type, Code: rawScalar(c.Error.Code), Message: c.Error.Message}
	}
	return nil
}

// choiceZero returns the first choice with index 0, or nil.
func choiceZero(c *chatResponse) *chatChoice {
	for i := range c.Choices {
		if c.Choices[i].Index == 0 {
			return &c.Choices[i]
		}
	}
	return nil
}

// toolKey identifies a streamed tool call: its tool-call index when the
// upstream sends one (never the choice index, F5); otherwise calls are told
// apart by id, and id-less fragments continue the current call.
type toolKey struct {
	index int
	id    string
}

// streamEnded is the error reported when a chat stream ends (EOF) without a
// finish_reason or [DONE]: the answer is truncated.
var errStreamTruncated = fmt.Errorf("%w: stream ended before finish_reason", ErrUpstreamBody)

// segment is text or thinking that arrived while a tool call was being
// sent; it is emitted after that call ends, keeping arrival order.
type segment struct {
	thinking bool
	text     string
}

// chatHead is what every chunk of one translated chat stream repeats.
type chatHead struct {
	id, alias string
	created   int64
}

// The chat.completion.chunk writers of the streams that end in Chat
// (AnthropicToChatStream, ResponsesToChatStream).

// chatChunk writes a chunk whose one choice has the delta delta appends
// and finish_reason finish (null when "").
func (e *emitter) chatChunk(h chatHead, delta func([]byte) []byte, finish string) {
	e.chatBegin(h)
	e.buf = append(e.buf, `,"choices":[{"index":0,"delta":`...)
	e.buf = delta(e.buf)
	e.buf = append(e.buf, `,"logprobs":null,"finish_reason":`...)
	if finish == "" {
		e.buf = append(e.buf, "null"...)
	} else {
		e.buf = appendString(e.buf, finish)
	}
	e.buf = append(e.buf, "}]}"...)
	e.end()
}

// chatBegin starts a chunk frame up to and including its "model" member.
func (e *emitter) chatBegin(h chatHead) {
	e.begin("")
	e.buf = append(e.buf, `{"id":`...)
	e.buf = appendString(e.buf, h.id)
	e.buf = append(e.buf, `,"object":"chat.completion.chunk","created":`...)
	e.buf = appendInt(e.buf, int(h.created))
	e.buf = append(e.buf, `,"model":`...)
	e.buf = appendString(e.buf, h.alias)
}

// chatRole writes the first chunk: the assistant role, empty content.
func (e *emitter) chatRole(h chatHead) {
	e.chatChunk(h, func(b []byte) []byte { return append(b, `{"role":"assistant","content":""}`...) }, "")
}

// chatText writes {"<field>": text} as the delta (nothing for "").
func (e *emitter) chatText(h chatHead, field, text string) {
	if text == "" {
		return
	}
	e.chatChunk(h, func(b []byte) []byte {
		b = append(b, `{"`...)
		b = append(b, field...)
		b = append(b, `":`...)
		b = appendString(b, text)
		return append(b, '}')
	}, "")
}

// chatToolHead writes a tool call's first chunk: index, id, type and name
// (UnnamedToolName when the upstream gave none), empty arguments.
func (e *emitter) chatToolHead(h chatHead, index int, id, name string) {
	if name == "" {
		name = UnnamedToolName
	}
	e.chatChunk(h, func(b []byte) []byte {
		b = append(b, `{"tool_calls":[{"index":`...)
		b = appendInt(b, index)
		b = append(b, `,"id":`...)
		b = appendString(b, id)
		b = append(b, `,"type":"function","function":{"name":`...)
		b = appendString(b, name)
		return append(b, `,"arguments":""}}]}`...)
	}, "")
}

// chatToolArgs writes an arguments fragment of the call at index.
func (e *emitter) chatToolArgs(h chatHead, index int, args string) {
	e.chatChunk(h, func(b []byte) []byte {
		b = append(b, `{"tool_calls":[{"index":`...)
		b = appendInt(b, index)
		b = append(b, `,"function":{"arguments":`...)
		b = appendString(b, args)
		return append(b, `}}]}`...)
	}, "")
}

// chatEnd writes the usage chunk (choices [], as include_usage does; none
// when usage is nil) and [DONE].
func (e *emitter) chatEnd(h chatHead, usage func([]byte) []byte) {
	if usage != nil {
		e.chatBegin(h)
		e.buf = append(e.buf, `,"choices":[],"usage":`...)
		e.buf = usage(e.buf)
		e.buf = append(e.buf, '}')
		e.end()
	}
	e.begin("")
	e.buf = append(e.buf, sse.Done...)
	e.end()
}
