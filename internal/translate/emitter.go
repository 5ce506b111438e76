package translate

import (
	"fmt"

	"github.com/flowgate/flowgate/internal/apierr"
	"github.com/flowgate/flowgate/internal/sse"
)

// StreamOptions configure a stream state machine.
type StreamOptions struct {
	// ID is the client-visible message / response id. Default: derived from
	// the upstream's id, or random.
	ID string
	// InputTokens is reported as input_tokens in Anthropic message_start
	// before the upstream's real usage arrives at the end of a chat stream
	// (the real numbers follow in message_delta). Pass
	// tokens.EstimateTokens of the request. Default 0.
	InputTokens int
	// Tools maps flattened upstream function names back to the client's
	// (namespace, name); from Result.Tools. Default nil: names unchanged.
	Tools *ToolNames
	// CreatedAt is the Responses created_at (unix seconds). Default: now.
	CreatedAt int64
}

// emitter collects the frames of one Feed/Finish call in one byte arena
// (one allocation per call, not per frame); returned frames are never
// reused.
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

// event writes a frame holding v (this package's types: encoding never
// fails).
func (e *emitter) event(name string, v any) {
	e.begin(name)
	e.buf, _ = appendJSON(e.buf, v)
	e.end()
}

// frame writes a ready frame.
func (e *emitter) frame(f sse.Frame) {
	e.begin(f.Event)
	e.buf = append(e.buf, f.Data...)
	e.end()
}

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

// decodeChunk parses one chat stream chunk, reusing the choices array of
// the previous one (zeroed): chunks then cost no slice allocation.
func decodeChunk(data []byte, c *chatResponse) error {
	choices := c.Choices[:0]
	clear(choices[:cap(choices)])
	*c = chatResponse{Choices: choices}
	if err := unmarshal(data, c); err != nil {
		return fmt.Errorf("%w: bad stream chunk: %v", ErrUpstreamBody, err)
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

// toolKey identifies a streamed tool call: its tool-call index (never the
// choice index), else its id.
type toolKey struct {
	index int
	id    string
}

// errStreamTruncated: a chat stream ended without a finish_reason or
// [DONE].
var errStreamTruncated = fmt.Errorf("%w: stream ended before finish_reason", ErrUpstreamBody)

// chatWriter is what the parsers of Anthropic and Responses streams share:
// the chatIn their events go to, which orders them for the client
// (chatCalls) and writes its protocol, and the upstream's id.
type chatWriter struct {
	out      *chatIn
	upstream string
}

func (w *chatWriter) start() { w.out.head(w.upstream) }

// chatChunks is the chatIn and chatSink of a Chat client: it writes the
// chat.completion.chunk stream, reusing the chunk for the next one.
type chatChunks struct {
	chatIn
	id string

	c      chatResponse
	choice [1]chatChoice
	d      chatRespMsg
}

func newChatChunks(alias string, opts StreamOptions) *chatChunks {
	o := &chatChunks{}
	o.init(o, alias, opts, "chatcmpl-")
	return o
}

// delta writes a chunk with delta d and finish_reason finish (null when "").
func (o *chatChunks) delta(d chatRespMsg, finish string) {
	o.d = d
	o.choice[0] = chatChoice{Delta: &o.d, FinishReason: finishReason(finish)}
	o.c = chatResponse{ID: o.id, Object: "chat.completion.chunk", Created: o.opts.CreatedAt, Model: o.alias, Choices: o.choice[:]}
	o.e.event("", &o.c)
}

// start writes the first chunk: the assistant role, empty content.
func (o *chatChunks) start(id string) {
	o.id = id
	o.delta(chatRespMsg{Role: "assistant", Content: new("")}, "")
}

func (o *chatChunks) reasoning(text, sig string) {
	o.text("reasoning_content", text)
	o.text("reasoning_signature", sig)
}

// text writes a content, refusal, reasoning_content or
// reasoning_signature delta ("": none).
func (o *chatChunks) text(field, text string) {
	if text == "" {
		return
	}
	var d chatRespMsg
	switch field {
	case "content":
		d.Content = &text
	case "refusal":
		d.Refusal = &text
	case "reasoning_content":
		d.ReasoningContent = &text
	case "reasoning_signature":
		d.ReasoningSignature = &text
	}
	o.delta(d, "")
}

func (o *chatChunks) openCall(c *chatCall) {
	o.delta(chatRespMsg{ToolCalls: []chatDeltaCall{{Index: &c.key.index, ID: c.id, Type: "function",
		Function: chatDeltaFunc{Name: c.name}}}}, "")
}

func (o *chatChunks) callArgs(c *chatCall, frag string) {
	if frag != "" {
		o.delta(chatRespMsg{ToolCalls: []chatDeltaCall{{Index: &c.key.index, Function: chatDeltaFunc{Arguments: frag}}}}, "")
	}
}

func (o *chatChunks) heldArgs(args []byte) string { return argsOrEmpty(args) }
func (o *chatChunks) closeOpen()                  {}

// complete writes the finish_reason chunk, the usage chunk (choices [], as
// include_usage does) and [DONE].
func (o *chatChunks) complete() {
	o.delta(chatRespMsg{}, o.reason)
	if o.usage != nil {
		o.c = chatResponse{ID: o.id, Object: "chat.completion.chunk", Created: o.opts.CreatedAt, Model: o.alias,
			Choices: o.choice[:0], Usage: o.usage}
		o.e.event("", &o.c)
	}
	o.e.frame(sse.Frame{Data: sse.Done})
}

// fail writes a chat error frame ({"error":{...}}, no [DONE]).
func (o *chatChunks) fail(err error) { o.e.frame(apierr.ChatErrorFrame(err)) }

// argsOrEmpty is held arguments as they came, "{}" for none.
func argsOrEmpty(args []byte) string {
	if len(trimSpace(args)) == 0 {
		return "{}"
	}
	return string(args)
}
