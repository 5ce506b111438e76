package translate

import (
	"fmt"

	"github.com/flowgate/flowgate/internal/sse"
)

// ErrToolArguments is returned when a tool call's arguments are not valid
// JSON when the call ends, or a fragment arrives for a call that already
// ended: the stream fails (an error event, the call never completed)
// rather than hand the client arguments it did not receive whole.
var ErrToolArguments = fmt.Errorf("%w: tool call arguments are not valid JSON", ErrUpstreamBody)

// How a call's arguments reach the client (chatCall.mode). Arguments that
// start (after whitespace) with '{' are streamed as they arrive and checked
// once at the end; anything else cannot become an object by appending, so
// it is held and sent at the end as the sink's heldArgs makes it.
const (
	argsUndecided uint8 = iota // only whitespace so far: held
	argsStreaming              // began with '{': streamed, checked at the end
	argsHeld                   // began with anything else: held, sent at the end
)

// chatCalls reassembles the tool calls of a Chat Completions stream for the
// machines that turn it into another protocol (ChatToAnthropicStream,
// ChatToResponsesStream), whose clients need each call in one run: a
// tool_use block or function_call item is started, given its arguments
// and ended before the next one starts.
//
// Chat upstreams may stream parallel calls interleaved: every call's header
// ({index, id, name}) first, then argument pieces of call 0 and call 1
// alternating, in any order. Fragments are matched to their call by
// tool-call index (by id, or the latest call, when an upstream sends no
// index). The first call is "active": it reaches the client as it arrives.
// Any other call, and text or reasoning that arrives meanwhile, is held in
// arrival order. The active call ends once its arguments are a complete
// JSON object and something else is waiting (no later piece can extend a
// complete object), or at the end of the stream; then what was held is
// sent in order, each held call whole, and the next held call becomes
// active. So sequential calls still stream live, and interleaved ones reach
// the client one complete call after another.
//
// Arguments: the client receives exactly what the upstream sent (see the
// args* modes); empty arguments mean a call without arguments.
type chatCalls struct {
	calls  []*chatCall // every call, in order of first appearance
	queue  []heldEntry // calls and text waiting for the active call to end
	active *chatCall   // the call being sent, or nil
	last   *chatCall   // the call of the latest fragment (index-less fragments continue it)
	spare  []byte      // an ended call's arguments buffer, for the next call
}

// chatCall is one upstream tool call.
type chatCall struct {
	key    toolKey
	id     string
	name   string
	args   []byte // the arguments received so far (nil once ended)
	mode   uint8  // argsUndecided, argsStreaming or argsHeld
	opened bool   // the sink started the call's block/item
	ended  bool
}

// heldEntry is a call or a text/reasoning segment waiting its turn.
type heldEntry struct {
	call *chatCall
	seg  segment
}

// callSink is the protocol side of a machine: what chatCalls asks it to
// send.
type callSink interface {
	// openCall starts the call's block or item (ending any open text or
	// reasoning block first); c.id and c.name are final.
	openCall(c *chatCall)
	// callArgs sends an arguments fragment of the open call.
	callArgs(c *chatCall, frag string)
	// closeCall ends the open call.
	closeCall(c *chatCall)
	// heldArgs returns what to send at the end for arguments that did not
	// start with '{' (empty or whitespace for a call without arguments;
	// otherwise valid JSON): "" sends nothing.
	heldArgs(args []byte) string
	// segment sends held text or reasoning.
	segment(seg segment)
}

// chatIn reads a Chat Completions stream for the machines that turn it
// into another protocol (ChatToAnthropicStream, ChatToResponsesStream):
// chunks, usage, the finish_reason, and text, reasoning and tool calls in
// the order the client must get them (calls). It runs the machine's life:
// Feed for every upstream data payload (including "[DONE]"), Finish once
// the upstream body ended (err == nil: after a finish_reason the answer is
// completed even without [DONE], without one it was truncated) or broke;
// the machine (w) writes the events.
type chatIn struct {
	w          chatSink
	e          emitter
	done       bool
	chunk      chatResponse
	calls      chatCalls
	finish     string
	finishSeen bool
	usage      *chatUsage
}

// chatSink is a machine's side of chatIn.
type chatSink interface {
	callSink
	// start sends the message or response head, once.
	start(upstreamID string)
	// reasoning takes reasoning text and its signature; held means a call
	// is being sent and chatIn holds the text until it ends.
	reasoning(text, sig string, held bool)
	// text sends answer text.
	text(text string)
	// finished sees the choice that carried a finish_reason.
	finished(ch *chatChoice)
	// closeOpen ends the open block or item.
	closeOpen()
	// complete sends the events that end a finished answer.
	complete()
	// fail sends the events that end a failed stream.
	fail(err error)
}

// Feed consumes one upstream SSE data payload.
func (in *chatIn) Feed(data []byte) ([]sse.Frame, error) {
	if in.done {
		return nil, nil
	}
	in.e.reset()
	var err error
	if sse.IsDone(data) {
		err = in.takeDone()
	} else if err = decodeChunk(data, &in.chunk); err == nil {
		err = in.take(&in.chunk)
	}
	return in.e.frames(), err
}

// Finish ends the stream: err == nil means the upstream body ended, else
// it broke (or a Feed call failed). Calls after the end return nil.
func (in *chatIn) Finish(err error) []sse.Frame {
	if in.done {
		return nil
	}
	in.e.reset()
	if err == nil && in.finishSeen {
		if err = in.finalize(); err == nil {
			return in.e.frames()
		}
	}
	if err == nil {
		err = errStreamTruncated
	}
	in.done = true
	in.w.fail(err)
	return in.e.frames()
}

// chatReader is a machine that reads a Chat stream, as chatChain feeds it.
type chatReader interface {
	take(c *chatResponse) error // one chunk
	takeDone() error            // [DONE]
}

func (in *chatIn) take(c *chatResponse) error {
	if in.done {
		return nil
	}
	ch, err := in.read(c, in.w)
	if err == nil && ch != nil && ch.FinishReason != "" {
		in.w.finished(ch)
		err = in.closeAll()
	}
	return err
}

func (in *chatIn) takeDone() error {
	if in.done {
		return nil
	}
	in.w.start("")
	return in.finalize()
}

// closeAll ends every tool call and the open block or item; its error is
// ErrToolArguments when a call's arguments are broken (that call stays
// open: the stream ends with an error).
func (in *chatIn) closeAll() error {
	if err := in.calls.end(in.w); err != nil {
		return err
	}
	in.w.closeOpen()
	return nil
}

// finalize closes everything and completes the answer; on a closeAll error
// it sends nothing more and returns it (Finish(err) follows).
func (in *chatIn) finalize() error {
	if err := in.closeAll(); err != nil {
		return err
	}
	in.done = true
	in.w.complete()
	return nil
}

// chatChain feeds the chunks of a machine that ends in Chat straight to a
// machine that reads Chat, keeping the first error.
type chatChain struct {
	next chatReader
	err  error
}

func (c *chatChain) chunk(ch *chatResponse) {
	if c.err == nil {
		c.err = c.next.take(ch)
	}
}

func (c *chatChain) done() {
	if c.err == nil {
		c.err = c.next.takeDone()
	}
}

// read takes one chunk and returns its first choice, if any. Errors: an
// error chunk, ErrToolArguments.
func (in *chatIn) read(c *chatResponse, w chatSink) (*chatChoice, error) {
	if c.Error != nil {
		return nil, c.Error.Err(0)
	}
	if c.Usage != nil {
		in.usage = c.Usage
	}
	w.start(c.ID)
	ch := choiceZero(c)
	if ch == nil {
		return nil, nil
	}
	if d := ch.Delta; d != nil {
		if err := in.delta(d, w); err != nil {
			return nil, err
		}
	}
	if ch.FinishReason != "" {
		in.finishSeen, in.finish = true, string(ch.FinishReason)
	}
	return ch, nil
}

func (in *chatIn) delta(d *chatRespMsg, w chatSink) error {
	if text, sig := d.reasoning(); text != "" || sig != "" {
		held := in.calls.busy()
		if held {
			in.calls.hold(true, text)
		}
		w.reasoning(text, sig, held)
	}
	if text := d.text(); text != "" {
		if in.calls.busy() {
			in.calls.hold(false, text)
		} else {
			w.text(text)
		}
	}
	if d.FunctionCall != nil {
		d.ToolCalls = append(d.ToolCalls, chatDeltaCall{Index: new(0), Function: *d.FunctionCall})
	}
	for i := range d.ToolCalls {
		if err := in.calls.fragment(&d.ToolCalls[i], w); err != nil {
			return err
		}
	}
	return nil
}

// busy reports whether a call is being sent: text and reasoning must then
// be held (hold) to keep the client's blocks in order.
func (a *chatCalls) busy() bool { return a.active != nil }

// any reports whether the stream had a tool call.
func (a *chatCalls) any() bool { return len(a.calls) > 0 }

// hold queues text or reasoning that arrived while a call is being sent.
func (a *chatCalls) hold(thinking bool, text string) {
	if n := len(a.queue); n > 0 && a.queue[n-1].call == nil && a.queue[n-1].seg.thinking == thinking {
		a.queue[n-1].seg.text += text
		return
	}
	a.queue = append(a.queue, heldEntry{seg: segment{thinking, text}})
}

// fragment takes one tool_calls entry of a chunk's delta.
func (a *chatCalls) fragment(tc *chatDeltaCall, w callSink) error {
	key := toolKey{index: -1}
	switch {
	case tc.Index != nil:
		key.index = *tc.Index
	case tc.ID != "" && (a.last == nil || a.last.id != tc.ID):
		key.id = tc.ID
	case a.last != nil:
		key = a.last.key
	default:
		key.id = "#" + itoa(len(a.calls))
	}
	var c *chatCall
	for _, x := range a.calls {
		if x.key == key || key.index < 0 && key.id != "" && x.id == key.id {
			c = x
			break
		}
	}
	frag := tc.Function.Arguments
	if c == nil {
		c = &chatCall{key: key, args: a.spare}
		a.spare = nil
		a.calls = append(a.calls, c)
		if a.active == nil {
			a.active = c
		} else {
			a.queue = append(a.queue, heldEntry{call: c})
		}
	} else if c.ended {
		if len(trimSpace([]byte(frag))) == 0 {
			return nil // a repeated header or trailing whitespace
		}
		return ErrToolArguments
	}
	a.last = c
	if c.id == "" {
		c.id = tc.ID
	}
	if c.name == "" {
		c.name = tc.Function.Name
	}
	if c != a.active {
		c.args = append(c.args, frag...)
		return a.advance(w, false)
	}
	if !c.opened {
		c.args = append(c.args, frag...)
		if c.name != "" {
			a.open(c, w)
		}
	} else if frag != "" {
		c.args = append(c.args, frag...)
		switch c.mode {
		case argsStreaming:
			w.callArgs(c, frag)
		case argsUndecided:
			a.decide(c, w)
		}
	}
	return a.advance(w, false)
}

// end sends everything still held: the active call ends, then each held
// segment and call in order. Errors: ErrToolArguments.
func (a *chatCalls) end(w callSink) error {
	return a.advance(w, true)
}

// advance ends the active call when it is complete and something waits
// (or, with final, always) and sends what waited, until a call that is
// still arriving is active or nothing is left.
func (a *chatCalls) advance(w callSink, final bool) error {
	for a.active != nil {
		c := a.active
		if !final && (len(a.queue) == 0 || !c.opened || !argsComplete(c)) {
			return nil
		}
		if err := a.close(c, w); err != nil {
			return err
		}
		for a.active == nil && len(a.queue) > 0 {
			h := a.queue[0]
			a.queue = a.queue[1:]
			if h.call == nil {
				w.segment(h.seg)
				continue
			}
			a.active = h.call
			if h.call.name != "" {
				a.open(h.call, w)
			}
		}
	}
	return nil
}

// argsComplete reports whether streamed arguments form a whole JSON object.
func argsComplete(c *chatCall) bool {
	t := trimSpace(c.args)
	return c.mode == argsStreaming && len(t) > 0 && t[len(t)-1] == '}' && validJSON(t)
}

// open starts c and sends the arguments it already has.
func (a *chatCalls) open(c *chatCall, w callSink) {
	c.opened = true
	w.openCall(c)
	a.decide(c, w)
}

// decide picks the arguments mode from the first non-whitespace byte and,
// for an object, sends what was held.
func (a *chatCalls) decide(c *chatCall, w callSink) {
	if c.mode != argsUndecided {
		return
	}
	t := trimSpace(c.args)
	switch {
	case len(t) == 0:
	case t[0] == '{':
		c.mode = argsStreaming
		w.callArgs(c, string(c.args))
	default:
		c.mode = argsHeld
	}
}

// close ends the active call c (starting it first if its name never came):
// its arguments must be valid JSON, or empty.
func (a *chatCalls) close(c *chatCall, w callSink) error {
	if !c.opened {
		a.open(c, w)
	}
	switch c.mode {
	case argsStreaming:
		if !validJSON(c.args) {
			return ErrToolArguments
		}
	case argsHeld:
		if !validJSON(c.args) {
			return ErrToolArguments
		}
		if s := w.heldArgs(c.args); s != "" {
			w.callArgs(c, s)
		}
	default:
		if s := w.heldArgs(nil); s != "" {
			w.callArgs(c, s)
		}
	}
	w.closeCall(c)
	c.ended = true
	a.active = nil
	a.spare, c.args = c.args[:0], nil
	return nil
}
