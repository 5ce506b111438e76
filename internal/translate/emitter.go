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

// chatEvents is the neutral event stream between the stream machines: the
// parser of an Anthropic or Responses upstream produces it; chunkOut writes
// it as Chat chunks for a Chat client, and in a chained translation chatIn
// reads it directly, so no chat JSON is written and read in between.
type chatEvents interface {
	head(id string)                      // the answer begins, under chat id id
	textDelta(field, text string)        // a content, refusal, reasoning_content or reasoning_signature delta ("": none)
	toolHead(index int, id, name string) // a tool call begins (name never empty)
	toolArgs(index int, args string)     // an arguments fragment of the call at index
	finish(reason string)                // the chat finish_reason
	end(usage *chatUsage)                // the usage (nil: none), then the end of the answer
}

// chatWriter is what the parsers share: their frames, the events and the
// end of a broken stream.
type chatWriter struct {
	e        emitter
	out      chatEvents
	chunks   chunkOut
	opts     StreamOptions
	idFrom   string // the prefix of the upstream's ids
	upstream string // the upstream's id, once known
	started  bool
	done     bool
}

func (w *chatWriter) init(alias string, opts StreamOptions, idFrom string) {
	opts.CreatedAt = unixOr(opts.CreatedAt)
	w.opts, w.idFrom = opts, idFrom
	w.chunks = chunkOut{alias: alias, created: opts.CreatedAt, e: &w.e}
	w.out = &w.chunks
}

// start begins the answer, once, under opts.ID or an id derived from the
// upstream's.
func (w *chatWriter) start() {
	if w.started {
		return
	}
	w.started = true
	id := w.opts.ID
	if id == "" {
		id = convertID(w.upstream, "chatcmpl-", w.idFrom)
	}
	w.out.head(id)
}

// finish is a parser's Finish: nothing after the end, else close's events,
// or, when close says the stream failed, a chat error frame
// ({"error":{...}}, no [DONE]).
func (w *chatWriter) finish(err error, close func(error) error) []sse.Frame {
	if w.done {
		return nil
	}
	w.e.reset()
	if err = close(err); err != nil { // close wrote nothing and ended the parser
		w.e.frame(apierr.ChatErrorFrame(err))
	}
	return w.e.frames()
}

// chunkOut writes the events as the chat.completion.chunk stream; the
// chunk is reused for the next one.
type chunkOut struct {
	id, alias string
	created   int64
	e         *emitter

	c      chatResponse
	choice [1]chatChoice
	d      chatRespMsg
}

// delta writes a chunk with delta d and finish_reason finish (null when "").
func (o *chunkOut) delta(d chatRespMsg, finish string) {
	o.d = d
	o.choice[0] = chatChoice{Delta: &o.d, FinishReason: finishReason(finish)}
	o.c = chatResponse{ID: o.id, Object: "chat.completion.chunk", Created: o.created, Model: o.alias, Choices: o.choice[:]}
	o.e.event("", &o.c)
}

// head writes the first chunk: the assistant role, empty content.
func (o *chunkOut) head(id string) {
	o.id = id
	o.delta(chatRespMsg{Role: "assistant", Content: new("")}, "")
}

func (o *chunkOut) textDelta(field, text string) {
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

func (o *chunkOut) toolHead(index int, id, name string) {
	o.delta(chatRespMsg{ToolCalls: []chatDeltaCall{{Index: &index, ID: id, Type: "function",
		Function: chatDeltaFunc{Name: name}}}}, "")
}

func (o *chunkOut) toolArgs(index int, args string) {
	o.delta(chatRespMsg{ToolCalls: []chatDeltaCall{{Index: &index, Function: chatDeltaFunc{Arguments: args}}}}, "")
}

func (o *chunkOut) finish(reason string) { o.delta(chatRespMsg{}, reason) }

// end writes the usage chunk (choices [], as include_usage does) and
// [DONE].
func (o *chunkOut) end(usage *chatUsage) {
	if usage != nil {
		o.c = chatResponse{ID: o.id, Object: "chat.completion.chunk", Created: o.created, Model: o.alias,
			Choices: o.choice[:0], Usage: usage}
		o.e.event("", &o.c)
	}
	o.e.frame(sse.Frame{Data: sse.Done})
}
