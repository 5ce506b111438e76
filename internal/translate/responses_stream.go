package translate

import "github.com/flowgate/flowgate/internal/apierr"

// ChatToResponsesStream turns a Chat Completions stream into Responses
// events (every data with "type" and an increasing "sequence_number"):
// response.created and .in_progress; items one at a time, each with its
// own output_index: reasoning, message, and one function_call per upstream
// tool call (arguments as chatCalls hands them, "{}" for none); then
// response.completed (or .incomplete for finish_reason length) with the
// full output and usage. A broken stream ends with response.failed. Feed
// and Finish are chatIn's; the methods below are its chatSink.
type ChatToResponsesStream struct {
	chatIn
	id  string
	seq int

	items []*rItem
	cur   *rItem // the open item
}

// NewChatToResponsesStream starts a translator reporting model alias;
// opts.Tools restores namespaced tool names.
func NewChatToResponsesStream(alias string, opts StreamOptions) *ChatToResponsesStream {
	s := &ChatToResponsesStream{}
	s.init(s, alias, opts, "resp_")
	return s
}

func (s *ChatToResponsesStream) fail(err error) {
	s.begin("")
	s.respEvent("response.failed", newRespObject(s.id, s.alias, s.opts.CreatedAt, "failed", "", apierr.AsUpstreamError(err), s.items, s.usage))
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

// itemEvent writes an event about item it: type, sequence_number, its
// item_id and output_index, then pre, val as a JSON string, and post.
func (s *ChatToResponsesStream) itemEvent(typ string, it *rItem, pre, val, post string) {
	e := &s.e
	e.begin(typ)
	e.buf = append(e.buf, `{"type":"`...)
	e.buf = append(e.buf, typ...)
	e.buf = append(e.buf, `","sequence_number":`...)
	e.buf = appendInt(e.buf, s.seq)
	e.buf = append(e.buf, `,"item_id":`...)
	e.buf = appendString(e.buf, it.id)
	e.buf = append(e.buf, `,"output_index":`...)
	e.buf = appendInt(e.buf, it.index)
	e.buf = append(e.buf, pre...)
	e.buf = appendString(e.buf, val)
	e.buf = append(e.buf, post...)
	e.buf = append(e.buf, '}')
	e.end()
	s.seq++
}

// itemState writes response.output_item.added or .done with the item.
func (s *ChatToResponsesStream) itemState(typ string, it *rItem, done bool) {
	s.e.event(typ, &respStateEvent{Type: typ, Seq: s.seq, OutputIndex: &it.index, Item: it.wire(done)})
	s.seq++
}

func (s *ChatToResponsesStream) start(id string) {
	s.id = id
	for _, typ := range []string{"response.created", "response.in_progress"} {
		s.respEvent(typ, newRespObject(s.id, s.alias, s.opts.CreatedAt, "in_progress", "", nil, nil, nil))
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
	s.closeOpen()
	it.id, it.index = itemID(prefix, s.id, len(s.items)), len(s.items)
	s.items = append(s.items, it)
	s.cur = it
	s.itemState("response.output_item.added", it, false)
	return it
}

// reasoning: the signature is the item's encrypted_content.
func (s *ChatToResponsesStream) reasoning(text, sig string) {
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

func (s *ChatToResponsesStream) text(_, text string) {
	it, added := s.open(blockText, "msg_")
	if added {
		s.itemEvent("response.content_part.added", it, `,"content_index":0,"part":{"type":"output_text","text":`, "", `,"annotations":[]}`)
	}
	it.text.WriteString(text)
	s.itemEvent("response.output_text.delta", it, `,"content_index":0,"delta":`, text, `,"logprobs":[]`)
}

func (s *ChatToResponsesStream) openCall(c *chatCall) {
	s.add(&rItem{kind: blockTool, callID: idOr(c.id, "call_"), ref: s.opts.Tools.Client(c.name)}, "fc_")
}

func (s *ChatToResponsesStream) callArgs(_ *chatCall, frag string) {
	if frag != "" {
		s.cur.text.WriteString(frag)
		s.itemEvent("response.function_call_arguments.delta", s.cur, `,"delta":`, frag, "")
	}
}

func (s *ChatToResponsesStream) heldArgs(args []byte) string { return argsOrEmpty(args) }

func (s *ChatToResponsesStream) closeOpen() {
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

func (s *ChatToResponsesStream) complete() {
	status, reason := respStatusOf(s.reason)
	s.respEvent("response."+status, newRespObject(s.id, s.alias, s.opts.CreatedAt, status, reason, nil, s.items, s.usage))
}
