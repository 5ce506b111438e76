package translate

import (
	"github.com/flowgate/flowgate/internal/sse"
)

// ChatToResponsesStream turns a Chat Completions stream into OpenAI
// Responses SSE events (event: + data:, every data with "type" and an
// increasing "sequence_number").
//
// Output: response.created, response.in_progress; then items one at a
// time, each with its own output_index: reasoning (summary_part /
// reasoning_summary_text events), message (content_part.added,
// output_text.delta*, output_text.done, content_part.done) and one
// function_call item per upstream tool call, keyed by tool-call index
// (function_call_arguments.delta* / .done) — parallel calls are never merged
// (F5, F6), and interleaved ones are sent one whole item after another (see
// chatCalls); each item ends with response.output_item.done. Arguments are
// what the upstream sent ("{}" for a call without any); arguments that are
// not valid JSON when their call ends fail the stream (ErrToolArguments).
// Finally response.completed (or response.incomplete for finish_reason
// length) with the full output and usage; a broken stream ends with
// response.failed.
//
// Use it exactly like ChatToAnthropicStream: Feed every data payload
// (including "[DONE]"), Finish(err) at the end or after a Feed error.
type ChatToResponsesStream struct {
	alias string
	opts  StreamOptions
	e     emitter
	chatIn
	id      string
	seq     int
	started bool
	done    bool

	items []*rItem
	cur   *rItem // the open item
}

// NewChatToResponsesStream starts a translator; alias is the reported model.
func NewChatToResponsesStream(alias string, opts StreamOptions) *ChatToResponsesStream {
	if opts.CreatedAt == 0 {
		opts.CreatedAt = nowUnix()
	}
	return &ChatToResponsesStream{alias: alias, opts: opts}
}

// Feed consumes one upstream SSE data payload.
func (s *ChatToResponsesStream) Feed(data []byte) ([]sse.Frame, error) {
	if s.done {
		return nil, nil
	}
	s.e.reset()
	err := feedChat(s, &s.chatIn, data)
	return s.e.frames(), err
}

func (s *ChatToResponsesStream) take(c *chatResponse) error {
	if s.done {
		return nil
	}
	ch, err := s.read(c, s)
	if err == nil && ch != nil && ch.FinishReason != "" {
		err = s.closeAll()
	}
	return err
}

func (s *ChatToResponsesStream) takeDone() error {
	if s.done {
		return nil
	}
	s.start("")
	return s.finalize()
}

// Finish ends the stream: after a finish_reason a clean end completes the
// response even without [DONE]; otherwise (truncated, broken, Feed error)
// it emits response.failed with the error. Calls after the end return nil.
func (s *ChatToResponsesStream) Finish(err error) []sse.Frame {
	if s.done {
		return nil
	}
	s.e.reset()
	if err == nil && s.finishSeen {
		if err = s.finalize(); err == nil {
			return s.e.frames()
		}
	}
	if err == nil {
		err = errStreamTruncated
	}
	s.start("")
	s.done = true
	e := &s.e
	s.begin("response.failed")
	e.buf = append(e.buf, `,"response":`...)
	e.buf = appendResponse(e.buf, s.id, s.alias, s.opts.CreatedAt, respStatus{status: "failed", err: asUpstreamError(err)}, s.items, s.usage)
	s.endEv()
	return s.e.frames()
}

// begin opens an event: {"type":...,"sequence_number":N ... ; endEv closes it.
func (s *ChatToResponsesStream) begin(typ string) {
	e := &s.e
	e.begin(typ)
	e.buf = append(e.buf, `{"type":"`...)
	e.buf = append(e.buf, typ...)
	e.buf = append(e.buf, `","sequence_number":`...)
	e.buf = appendInt(e.buf, s.seq)
	s.seq++
}

func (s *ChatToResponsesStream) endEv() {
	s.e.buf = append(s.e.buf, '}')
	s.e.end()
}

func (s *ChatToResponsesStream) start(upstreamID string) {
	if s.started {
		return
	}
	s.started = true
	s.id = s.opts.ID
	if s.id == "" {
		s.id = respID(upstreamID)
	}
	for _, typ := range []string{"response.created", "response.in_progress"} {
		s.begin(typ)
		s.e.buf = append(s.e.buf, `,"response":`...)
		s.e.buf = appendResponse(s.e.buf, s.id, s.alias, s.opts.CreatedAt, respStatus{status: "in_progress"}, nil, nil)
		s.endEv()
	}
}

// itemHead appends `,"item_id":..,"output_index":N`.
func (s *ChatToResponsesStream) itemHead(it *rItem) {
	s.e.buf = append(s.e.buf, `,"item_id":`...)
	s.e.buf = appendString(s.e.buf, it.id)
	s.e.buf = append(s.e.buf, `,"output_index":`...)
	s.e.buf = appendInt(s.e.buf, s.indexOf(it))
}

func (s *ChatToResponsesStream) indexOf(it *rItem) int {
	for i := len(s.items) - 1; i >= 0; i-- {
		if s.items[i] == it {
			return i
		}
	}
	return -1
}

// reasoning takes reasoning text and its signature (chatSink); held
// text comes back through segment, without a signature.
func (s *ChatToResponsesStream) reasoning(text, sig string, held bool) {
	if !held {
		s.summary(text, sig)
	}
}

func (s *ChatToResponsesStream) newItem(kind blockKind, prefix string) *rItem {
	it := &rItem{kind: kind, id: itemID(prefix, s.id, len(s.items))}
	s.items = append(s.items, it)
	s.cur = it
	return it
}

func (s *ChatToResponsesStream) added(it *rItem) {
	s.begin("response.output_item.added")
	s.e.buf = append(s.e.buf, `,"output_index":`...)
	s.e.buf = appendInt(s.e.buf, s.indexOf(it))
	s.e.buf = append(s.e.buf, `,"item":`...)
	s.e.buf = appendItem(s.e.buf, it, false)
	s.endEv()
}

func (s *ChatToResponsesStream) summary(text, sig string) {
	it := s.cur
	if it == nil || it.kind != blockThinking {
		s.closeItem()
		it = s.newItem(blockThinking, "rs_")
		s.added(it)
		s.begin("response.reasoning_summary_part.added")
		s.itemHead(it)
		s.e.buf = append(s.e.buf, `,"summary_index":0,"part":{"type":"summary_text","text":""}`...)
		s.endEv()
	}
	it.sig += sig
	if text == "" {
		return
	}
	it.text.WriteString(text)
	s.begin("response.reasoning_summary_text.delta")
	s.itemHead(it)
	s.e.buf = append(s.e.buf, `,"summary_index":0,"delta":`...)
	s.e.buf = appendString(s.e.buf, text)
	s.endEv()
}

func (s *ChatToResponsesStream) text(text string) {
	it := s.cur
	if it == nil || it.kind != blockText {
		s.closeItem()
		it = s.newItem(blockText, "msg_")
		s.added(it)
		s.begin("response.content_part.added")
		s.itemHead(it)
		s.e.buf = append(s.e.buf, `,"content_index":0,"part":{"type":"output_text","text":"","annotations":[]}`...)
		s.endEv()
	}
	it.text.WriteString(text)
	s.begin("response.output_text.delta")
	s.itemHead(it)
	s.e.buf = append(s.e.buf, `,"content_index":0,"delta":`...)
	s.e.buf = appendString(s.e.buf, text)
	s.e.buf = append(s.e.buf, `,"logprobs":[]`...)
	s.endEv()
}

// openCall adds a function_call item (callSink).
func (s *ChatToResponsesStream) openCall(c *chatCall) {
	s.closeItem()
	it := s.newItem(blockTool, "fc_")
	it.callID, it.ref = c.id, s.opts.Tools.Client(c.name)
	if it.callID == "" {
		it.callID = newID("call_")
	}
	s.added(it)
}

// callArgs sends an arguments delta of the open call (callSink).
func (s *ChatToResponsesStream) callArgs(_ *chatCall, frag string) { s.argsDelta(s.cur, frag) }

// closeCall ends the open call's item (callSink).
func (s *ChatToResponsesStream) closeCall(*chatCall) { s.closeItem() }

// heldArgs: a call without arguments gets "{}", other JSON is sent as it
// came (callSink).
func (s *ChatToResponsesStream) heldArgs(args []byte) string {
	if len(trimSpace(args)) == 0 {
		return "{}"
	}
	return string(args)
}

// segment sends held text or reasoning (callSink).
func (s *ChatToResponsesStream) segment(seg segment) {
	if seg.thinking {
		s.summary(seg.text, "")
	} else {
		s.text(seg.text)
	}
}

func (s *ChatToResponsesStream) argsDelta(it *rItem, args string) {
	if args == "" {
		return
	}
	it.text.WriteString(args)
	s.begin("response.function_call_arguments.delta")
	s.itemHead(it)
	s.e.buf = append(s.e.buf, `,"delta":`...)
	s.e.buf = appendString(s.e.buf, args)
	s.endEv()
}

// closeItem finishes the open item, if any.
func (s *ChatToResponsesStream) closeItem() {
	it := s.cur
	if it == nil {
		return
	}
	text := it.text.String()
	switch it.kind {
	case blockThinking:
		s.begin("response.reasoning_summary_text.done")
		s.itemHead(it)
		s.e.buf = append(s.e.buf, `,"summary_index":0,"text":`...)
		s.e.buf = appendString(s.e.buf, text)
		s.endEv()
		s.begin("response.reasoning_summary_part.done")
		s.itemHead(it)
		s.e.buf = append(s.e.buf, `,"summary_index":0,"part":{"type":"summary_text","text":`...)
		s.e.buf = appendString(s.e.buf, text)
		s.e.buf = append(s.e.buf, '}')
		s.endEv()
	case blockText:
		s.begin("response.output_text.done")
		s.itemHead(it)
		s.e.buf = append(s.e.buf, `,"content_index":0,"text":`...)
		s.e.buf = appendString(s.e.buf, text)
		s.e.buf = append(s.e.buf, `,"logprobs":[]`...)
		s.endEv()
		s.begin("response.content_part.done")
		s.itemHead(it)
		s.e.buf = append(s.e.buf, `,"content_index":0,"part":{"type":"output_text","text":`...)
		s.e.buf = appendString(s.e.buf, text)
		s.e.buf = append(s.e.buf, `,"annotations":[]}`...)
		s.endEv()
	case blockTool:
		s.begin("response.function_call_arguments.done")
		s.itemHead(it)
		s.e.buf = append(s.e.buf, `,"name":`...)
		s.e.buf = appendString(s.e.buf, it.ref.Name)
		s.e.buf = append(s.e.buf, `,"arguments":`...)
		s.e.buf = appendString(s.e.buf, text)
		s.endEv()
	}
	it.done = true
	s.begin("response.output_item.done")
	s.e.buf = append(s.e.buf, `,"output_index":`...)
	s.e.buf = appendInt(s.e.buf, s.indexOf(it))
	s.e.buf = append(s.e.buf, `,"item":`...)
	s.e.buf = appendItem(s.e.buf, it, true)
	s.endEv()
	s.cur = nil
}

// closeAll ends every tool call and item; its error is ErrToolArguments
// when a call's arguments are broken.
func (s *ChatToResponsesStream) closeAll() error {
	if err := s.calls.end(s); err != nil {
		return err
	}
	s.closeItem()
	return nil
}

// finalize ends the response; on a closeAll error it emits nothing more
// and returns it (the caller ends with Finish(err)).
func (s *ChatToResponsesStream) finalize() error {
	if err := s.closeAll(); err != nil {
		return err
	}
	s.done = true
	st := respStatus{status: "completed"}
	typ := "response.completed"
	switch s.finish {
	case "length":
		st, typ = respStatus{status: "incomplete", incomplete: "max_output_tokens"}, "response.incomplete"
	case "content_filter":
		st, typ = respStatus{status: "incomplete", incomplete: "content_filter"}, "response.incomplete"
	}
	s.begin(typ)
	s.e.buf = append(s.e.buf, `,"response":`...)
	s.e.buf = appendResponse(s.e.buf, s.id, s.alias, s.opts.CreatedAt, st, s.items, s.usage)
	s.endEv()
	return nil
}
