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
// (function_call_arguments.delta* / .done) — parallel calls are never
// merged, and interleaved ones are sent one whole item after another (see
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
	s.respEvent("response.failed", newRespObject(s.id, s.alias, s.opts.CreatedAt, "failed", "", asUpstreamError(err), s.items, s.usage))
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

// respStateEvent is a Responses event about the response or an item as a
// whole.
type respStateEvent struct {
	Type        string      `json:"type"`
	Seq         int         `json:"sequence_number"`
	OutputIndex *int        `json:"output_index,omitempty"`
	Item        any         `json:"item,omitempty"`
	Response    *respObject `json:"response,omitempty"`
}

// respEvent writes a response.* event carrying the response object.
func (s *ChatToResponsesStream) respEvent(typ string, r *respObject) {
	s.e.event(typ, &respStateEvent{Type: typ, Seq: s.seq, Response: r})
	s.seq++
}

// itemEvent writes an event about item it: its item_id and output_index,
// then pre, val as a JSON string, and post.
func (s *ChatToResponsesStream) itemEvent(typ string, it *rItem, pre, val, post string) {
	s.begin(typ)
	s.e.buf = append(s.e.buf, `,"item_id":`...)
	s.e.buf = appendString(s.e.buf, it.id)
	s.e.buf = append(s.e.buf, `,"output_index":`...)
	s.e.buf = appendInt(s.e.buf, it.index)
	s.e.buf = append(s.e.buf, pre...)
	s.e.buf = appendString(s.e.buf, val)
	s.e.buf = append(s.e.buf, post...)
	s.endEv()
}

// itemState writes response.output_item.added or .done with the item.
func (s *ChatToResponsesStream) itemState(typ string, it *rItem, done bool) {
	s.e.event(typ, &respStateEvent{Type: typ, Seq: s.seq, OutputIndex: &it.index, Item: it.wire(done)})
	s.seq++
}

func (s *ChatToResponsesStream) start(upstreamID string) {
	if s.started {
		return
	}
	s.started = true
	s.id = s.opts.ID
	if s.id == "" {
		s.id = convertID(upstreamID, "resp_", "chatcmpl-")
	}
	for _, typ := range []string{"response.created", "response.in_progress"} {
		s.respEvent(typ, newRespObject(s.id, s.alias, s.opts.CreatedAt, "in_progress", "", nil, nil, nil))
	}
}

// reasoning takes reasoning text and its signature (chatSink); held
// text comes back through segment, without a signature.
func (s *ChatToResponsesStream) reasoning(text, sig string, held bool) {
	if !held {
		s.summary(text, sig)
	}
}

// open returns the open item when it is of kind, else closes it and adds
// a new one.
func (s *ChatToResponsesStream) open(kind blockKind, prefix string) (it *rItem, added bool) {
	if s.cur != nil && s.cur.kind == kind {
		return s.cur, false
	}
	return s.add(&rItem{kind: kind}, prefix), true
}

// add closes the open item, makes it the open one and sends
// response.output_item.added.
func (s *ChatToResponsesStream) add(it *rItem, prefix string) *rItem {
	s.closeItem()
	it.id, it.index = itemID(prefix, s.id, len(s.items)), len(s.items)
	s.items = append(s.items, it)
	s.cur = it
	s.itemState("response.output_item.added", it, false)
	return it
}

func (s *ChatToResponsesStream) summary(text, sig string) {
	it, added := s.open(blockThinking, "rs_")
	if added {
		s.itemEvent("response.reasoning_summary_part.added", it, `,"summary_index":0,"part":{"type":"summary_text","text":`, "", "}")
	}
	it.sig += sig
	if text == "" {
		return
	}
	it.text.WriteString(text)
	s.itemEvent("response.reasoning_summary_text.delta", it, `,"summary_index":0,"delta":`, text, "")
}

func (s *ChatToResponsesStream) text(text string) {
	it, added := s.open(blockText, "msg_")
	if added {
		s.itemEvent("response.content_part.added", it, `,"content_index":0,"part":{"type":"output_text","text":`, "", `,"annotations":[]}`)
	}
	it.text.WriteString(text)
	s.itemEvent("response.output_text.delta", it, `,"content_index":0,"delta":`, text, `,"logprobs":[]`)
}

// openCall adds a function_call item (callSink).
func (s *ChatToResponsesStream) openCall(c *chatCall) {
	it := &rItem{kind: blockTool, callID: c.id, ref: s.opts.Tools.Client(c.name)}
	if it.callID == "" {
		it.callID = newID("call_")
	}
	s.add(it, "fc_")
}

// callArgs sends an arguments delta of the open call (callSink).
func (s *ChatToResponsesStream) callArgs(_ *chatCall, frag string) {
	if frag != "" {
		s.cur.text.WriteString(frag)
		s.itemEvent("response.function_call_arguments.delta", s.cur, `,"delta":`, frag, "")
	}
}

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

// closeItem finishes the open item, if any.
func (s *ChatToResponsesStream) closeItem() {
	it := s.cur
	if it == nil {
		return
	}
	text := it.text.String()
	switch it.kind {
	case blockThinking:
		s.itemEvent("response.reasoning_summary_text.done", it, `,"summary_index":0,"text":`, text, "")
		s.itemEvent("response.reasoning_summary_part.done", it, `,"summary_index":0,"part":{"type":"summary_text","text":`, text, "}")
	case blockText:
		s.itemEvent("response.output_text.done", it, `,"content_index":0,"text":`, text, `,"logprobs":[]`)
		s.itemEvent("response.content_part.done", it, `,"content_index":0,"part":{"type":"output_text","text":`, text, `,"annotations":[]}`)
	case blockTool:
		s.itemEvent("response.function_call_arguments.done", it, `,"name":`+string(jsonString(it.ref.Name))+`,"arguments":`, text, "")
	}
	it.done = true
	s.itemState("response.output_item.done", it, true)
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
	status, reason := respStatusOf(s.finish)
	s.respEvent("response."+status, newRespObject(s.id, s.alias, s.opts.CreatedAt, status, reason, nil, s.items, s.usage))
	return nil
}
