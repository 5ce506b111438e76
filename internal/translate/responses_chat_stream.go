package translate

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"

	"github.com/flowgate/flowgate/internal/apierr"
)

// respEvent is one OpenAI Responses stream event (the data JSON; "type"
// names the event).
type respEvent struct {
	Type         string          `json:"type"`
	OutputIndex  *int            `json:"output_index"`
	ItemID       string          `json:"item_id"`
	SummaryIndex *int            `json:"summary_index"`
	Delta        json.RawMessage `json:"delta"`
	Arguments    *string         `json:"arguments"`
	Item         *respItem       `json:"item"`
	Response     *respResponse   `json:"response"`
	Code         json.RawMessage `json:"code"`
	Message      string          `json:"message"`
	Error        *apierr.Wire    `json:"error"`

	delta string // Delta decoded when it is a string
}

// rcItem is one upstream output item seen in a Responses stream.
type rcItem struct {
	outIdx  int
	itemID  string
	typ     string // message, reasoning, function_call, or another item type
	sawText bool   // text / reasoning deltas were sent for it
	summary int    // last reasoning summary_index
	// function_call
	callID string
	call   int    // chat tool-call index
	args   []byte // arguments received so far
	done   bool   // the upstream finished the call
}

var (
	errRespStreamTruncated = fmt.Errorf("%w: stream ended before response.completed", ErrUpstreamBody)
	errRespStreamOrder     = fmt.Errorf("%w: responses stream event for an unknown or finished item", ErrUpstreamBody)
)

// ResponsesToChatStream turns a Responses stream into Chat Completions
// chunks: the role chunk; text and refusal deltas as content and refusal;
// reasoning summary and text deltas as reasoning_content (summary parts a
// blank line apart); each function_call item the next tool-call index, in
// the order the items are added, its arguments matched by output_index (or
// item_id), each whole before the next (chatCalls); arguments that only
// come in a .done event or the final output are sent then ("{}" for none),
// so no call is lost. The terminal response gives the finish_reason, the
// usage chunk and [DONE]. Failures, garbage, deltas for unknown items and
// arguments that are not valid JSON (ErrToolArguments) end the stream with
// a chat error frame.
type ResponsesToChatStream struct{ chained }

// NewResponsesToChatStream starts a translator reporting model alias.
func NewResponsesToChatStream(alias string, opts StreamOptions) *ResponsesToChatStream {
	out := newChatChunks(alias, opts)
	return &ResponsesToChatStream{chained{newResponsesParser(&out.chatIn), &out.chatIn}}
}

// responsesParser reads a Responses stream into chatIn's events.
type responsesParser struct {
	chatWriter
	ev respEvent

	items   []rcItem
	calls   int
	anyText bool
}

func newResponsesParser(out *chatIn) *responsesParser {
	out.from = "resp_"
	return &responsesParser{chatWriter: chatWriter{out: out}}
}

func (s *responsesParser) feed(data []byte) error {
	ev := &s.ev
	*ev = respEvent{}
	if err := unmarshal(data, ev); err != nil {
		return fmt.Errorf("%w: bad stream event: %v", ErrUpstreamBody, err)
	}
	ev.delta = rawText(ev.Delta)
	return s.event(ev)
}

func (s *responsesParser) event(ev *respEvent) error {
	switch ev.Type {
	case "response.created", "response.in_progress", "response.queued":
		if ev.Response != nil && s.upstream == "" {
			s.upstream = ev.Response.ID
		}
		s.start()
	case "response.output_item.added":
		s.start()
		if ev.Item == nil {
			return fmt.Errorf("%w: output_item.added without item", ErrUpstreamBody)
		}
		s.item(ev.OutputIndex, ev.Item) // a repeated announcement carries nothing new
	case "response.output_text.delta", "response.refusal.delta":
		s.start()
		it := s.item(ev.OutputIndex, &respItem{Type: "message", ID: ev.ItemID})
		field := "content"
		if ev.Type == "response.refusal.delta" {
			field = "refusal"
		}
		if d := ev.delta; d != "" {
			it.sawText, s.anyText = true, true
			s.out.textDelta(field, d)
		}
	case "response.reasoning_summary_text.delta", "response.reasoning_text.delta":
		s.start()
		it := s.item(ev.OutputIndex, &respItem{Type: "reasoning", ID: ev.ItemID})
		d := ev.delta
		if d == "" {
			return nil
		}
		if ev.SummaryIndex != nil && *ev.SummaryIndex != it.summary {
			if it.sawText {
				s.out.textDelta("reasoning_content", "\n\n")
			}
			it.summary = *ev.SummaryIndex
		}
		it.sawText = true
		s.out.textDelta("reasoning_content", d)
	case "response.function_call_arguments.delta":
		s.start()
		it := s.find(ev.OutputIndex, ev.ItemID)
		if it == nil || it.typ != "function_call" || it.done {
			return errRespStreamOrder
		}
		s.callArgs(it, ev.delta)
	case "response.function_call_arguments.done":
		it := s.find(ev.OutputIndex, ev.ItemID)
		if it == nil || it.typ != "function_call" || it.done {
			return errRespStreamOrder
		}
		if ev.Arguments != nil {
			s.catchUp(it, *ev.Arguments)
		}
	case "response.output_item.done":
		s.start()
		if ev.Item == nil {
			return fmt.Errorf("%w: output_item.done without item", ErrUpstreamBody)
		}
		s.itemDone(s.item(ev.OutputIndex, ev.Item), ev.Item)
	case "response.completed", "response.incomplete":
		s.start()
		if ev.Response == nil {
			return fmt.Errorf("%w: %s without response", ErrUpstreamBody, ev.Type)
		}
		s.complete(ev.Response)
	case "response.failed":
		var we *apierr.Wire
		if ev.Response != nil {
			we = ev.Response.Error
		}
		return we.Failure(0, "upstream response failed")
	case "error":
		we := ev.Error
		if we == nil {
			we = &apierr.Wire{Message: ev.Message, Code: ev.Code}
		}
		return we.Failure(0, "upstream stream error")
	case "":
		return fmt.Errorf("%w: stream event without type", ErrUpstreamBody)
	}
	return nil // other events (content_part.*, *.done for text) carry nothing new
}

// close ends the events once the upstream body ended: the stream failed
// unless the terminal event came (chatIn is then done).
func (s *responsesParser) close(err error) error { return cmp.Or(err, errRespStreamTruncated) }

// item returns the item at output index idx (or with item's id), recorded
// from item when new.
func (s *responsesParser) item(idx *int, item *respItem) *rcItem {
	if it := s.find(idx, item.ID); it != nil {
		return it
	}
	return s.add(idx, item)
}

// find returns the item at output index idx (or with item id id).
func (s *responsesParser) find(idx *int, id string) *rcItem {
	for i := range s.items {
		it := &s.items[i]
		if idx != nil && it.outIdx == *idx || idx == nil && id != "" && it.itemID == id {
			return it
		}
	}
	return nil
}

// add records a new item; a function_call gets its tool-call index and
// header (and any arguments the item already carries).
func (s *responsesParser) add(idx *int, item *respItem) *rcItem {
	o := len(s.items)
	if idx != nil {
		o = *idx
	} else if n := len(s.items); n > 0 {
		o = s.items[n-1].outIdx + 1
	}
	s.items = append(s.items, rcItem{outIdx: o, itemID: item.ID, typ: item.Type})
	it := &s.items[len(s.items)-1]
	if item.Type == "function_call" {
		it.callID, it.call = respCallID(item), s.calls
		s.calls++
		s.out.toolHead(it.call, it.callID, cmp.Or(item.Name, UnnamedToolName))
		s.callArgs(it, item.Arguments)
	}
	return it
}

// callArgs records an arguments fragment and sends it.
func (s *responsesParser) callArgs(it *rcItem, frag string) {
	if frag != "" {
		it.args = append(it.args, frag...)
		s.out.toolArgs(it.call, frag)
	}
}

// catchUp sends the part of the complete arguments not streamed yet.
func (s *responsesParser) catchUp(it *rcItem, full string) {
	if len(full) > len(it.args) && bytes.HasPrefix([]byte(full), it.args) {
		s.callArgs(it, full[len(it.args):])
	}
}

// itemDone completes an item: text never streamed is sent from the item;
// a call gets its remaining arguments.
func (s *responsesParser) itemDone(it *rcItem, item *respItem) {
	switch {
	case it.typ == "function_call" && !it.done:
		s.catchUp(it, item.Arguments)
		it.done = true
	case it.typ == "message" || it.typ == "reasoning":
		if !it.sawText {
			it.sawText = s.itemText(it.typ, item)
		}
	}
}

// itemText sends the text of a whole item of type typ (message or
// reasoning) and reports whether it had any.
func (s *responsesParser) itemText(typ string, item *respItem) bool {
	text, refusal := respItemText(item)
	field := "content"
	switch {
	case text == "":
		return false
	case typ == "reasoning":
		field = "reasoning_content"
	case refusal:
		field = "refusal"
	}
	s.anyText = s.anyText || typ == "message"
	s.out.textDelta(field, text)
	return true
}

// complete reconciles the final output with what was streamed (a call or
// text that only the final output holds is sent now), then ends the chat
// stream: finish_reason, usage, [DONE].
func (s *responsesParser) complete(r *respResponse) {
	for i := range r.Output {
		o := &r.Output[i]
		if o.Type != "function_call" {
			continue
		}
		var it *rcItem
		for k := range s.items {
			x := &s.items[k]
			if x.typ == "function_call" && (o.ID != "" && x.itemID == o.ID || o.CallID != "" && x.callID == o.CallID) {
				it = x
				break
			}
		}
		if it == nil {
			it = s.add(nil, o)
		}
		s.itemDone(it, o)
	}
	if !s.anyText {
		for i := range r.Output {
			if r.Output[i].Type == "message" {
				s.itemText("message", &r.Output[i])
			}
		}
	}
	s.out.finish(respChatFinish(r, s.calls > 0))
	s.out.end(chatUsageFromResp(r.Usage))
}
