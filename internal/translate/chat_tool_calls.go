package translate

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"

	"github.com/flowgate/flowgate/internal/sse"
)

// ErrToolArguments: a tool call's arguments are not valid JSON when the
// call ends, or a fragment came for an ended call. The stream fails rather
// than hand the client arguments it did not receive whole.
var ErrToolArguments = fmt.Errorf("%w: tool call arguments are not valid JSON", ErrUpstreamBody)

// How a call's arguments reach the client (chatCall.mode): arguments that
// start with '{' are streamed and checked at the end; anything else cannot
// become an object by appending, so it is held and sent as heldArgs makes
// it.
const (
	argsUndecided uint8 = iota // only whitespace so far: held
	argsStreaming              // began with '{': streamed, checked at the end
	argsHeld                   // began with anything else: held, sent at the end
)

// chatCalls reassembles the tool calls of a stream for every client, each
// of which needs each call in one run (a tool_use block, function_call
// item or chat tool call started, given its arguments and ended before the
// next).
//
// Upstreams may interleave parallel calls: all headers first, then
// argument pieces of each call in any order. Fragments are matched to their
// call by tool-call index (else by id, or the latest call). The first call
// is "active" and reaches the client as it arrives; other calls, and text
// or reasoning arriving meanwhile, are held in order. The active call ends
// once its arguments are a complete JSON object and something waits (no
// later piece can extend a complete object), or at the end; then what was
// held is sent in order, each held call whole. So sequential calls still
// stream live and interleaved ones arrive one whole call after another,
// with exactly the arguments the upstream sent.
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

// heldEntry is a call, or text or reasoning that arrived while a call was
// being sent, waiting its turn.
type heldEntry struct {
	call      *chatCall
	field     string // content, refusal or reasoning_content
	text, sig string // sig: the reasoning's signature
}

// chatIn reads a Chat stream: chunks (Feed) or the neutral events of a
// parser of Anthropic or Responses streams (head, textDelta, toolHead,
// toolArgs, finish, end), giving the machine that writes the client's
// protocol (w) text, reasoning and tool calls in the order the client must
// get them, the usage and the finish_reason. It runs the machine's life
// (Feed, Finish: after a finish_reason a clean end completes the answer
// even without [DONE]).
type chatIn struct {
	w       chatSink
	alias   string
	opts    StreamOptions
	prefix  string // the client's ids: chatcmpl-, msg_ or resp_
	from    string // the prefix of the upstream's ids
	started bool

	e          emitter
	err        error // the first error of this Feed
	done       bool
	chunk      chatResponse
	calls      chatCalls
	reason     string             // the finish_reason
	stop       [2]json.RawMessage // and the stop string the upstream matched (vLLM stop_reason, SGLang matched_stop)
	finishSeen bool
	usage      *chatUsage
}

// chatSink is a machine's side of chatIn and chatCalls.
type chatSink interface {
	// start sends the message or response head, under the client's id.
	start(id string)
	// reasoning sends reasoning text and its signature.
	reasoning(text, sig string)
	// text sends answer text (field content or refusal).
	text(field, text string)
	// openCall starts the call's block or item (ending any open text or
	// reasoning block first); c.id and c.name are final.
	openCall(c *chatCall)
	// callArgs sends an arguments fragment of the open call.
	callArgs(c *chatCall, frag string)
	// heldArgs returns what to send for arguments that did not start with
	// '{' (blank for none, else valid JSON); "" sends nothing.
	heldArgs(args []byte) string
	// closeOpen ends the open block or item (the call's, when one is open).
	closeOpen()
	// complete sends the events that end a finished answer.
	complete()
	// fail sends the events that end a failed stream.
	fail(err error)
}

// init sets up the machine w, writing ids that start with prefix.
func (in *chatIn) init(w chatSink, alias string, opts StreamOptions, prefix string) {
	opts.CreatedAt = unixOr(opts.CreatedAt)
	in.w, in.alias, in.opts, in.prefix, in.from = w, alias, opts, prefix, "chatcmpl-"
}

func (in *chatIn) Feed(data []byte) ([]sse.Frame, error) {
	if in.done {
		return nil, nil
	}
	in.e.reset()
	in.err = nil
	if sse.IsDone(data) {
		in.end(nil)
	} else if err := decodeChunk(data, &in.chunk); err != nil {
		in.err = err
	} else {
		in.take(&in.chunk)
	}
	return in.e.frames(), in.err
}

// Finish ends the stream; calls after the end return nil.
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
	in.done = true
	in.w.fail(cmp.Or(err, errStreamTruncated))
	return in.e.frames()
}

// take reads one chunk.
func (in *chatIn) take(c *chatResponse) {
	if c.Error != nil {
		in.err = c.Error.Err(0)
		return
	}
	if c.Usage != nil {
		in.usage = c.Usage
	}
	in.head(c.ID)
	ch := choiceZero(c)
	if ch == nil {
		return
	}
	if d := ch.Delta; d != nil {
		in.think(d.reasoning())
		in.textDelta("content", d.text())
		if d.FunctionCall != nil {
			d.ToolCalls = append(d.ToolCalls, chatDeltaCall{Index: new(0), Function: *d.FunctionCall})
		}
		for i := range d.ToolCalls {
			in.tool(&d.ToolCalls[i])
		}
	}
	if ch.FinishReason != "" {
		in.finished(ch)
	}
}

// reading reports whether events are still taken: not after the end or
// an error.
func (in *chatIn) reading() bool { return !in.done && in.err == nil }

// head: the answer begins (upstreamID: the upstream's id, if known).
func (in *chatIn) head(upstreamID string) {
	if in.reading() {
		in.begin(upstreamID)
	}
}

// begin starts the machine, once, under StreamOptions.ID or an id derived
// from the upstream's.
func (in *chatIn) begin(upstreamID string) {
	if !in.started {
		in.started = true
		in.w.start(cmp.Or(in.opts.ID, convertID(upstreamID, in.prefix, in.from)))
	}
}

// textDelta takes a content, refusal, reasoning_content or
// reasoning_signature delta.
func (in *chatIn) textDelta(field, text string) {
	switch field {
	case "reasoning_content":
		in.think(text, "")
	case "reasoning_signature":
		in.think("", text)
	default:
		in.say(heldEntry{field: field, text: text})
	}
}

// think takes reasoning text and its signature.
func (in *chatIn) think(text, sig string) {
	in.say(heldEntry{field: "reasoning_content", text: text, sig: sig})
}

// say sends text or reasoning, or holds it while a call is being sent; a
// call that is already complete then ends, so nothing waits longer than
// needed.
func (in *chatIn) say(h heldEntry) {
	switch {
	case !in.reading() || h.text == "" && h.sig == "":
	case in.calls.busy():
		in.calls.hold(h)
		in.err = in.calls.advance(in.w, false)
	default:
		h.send(in.w)
	}
}

func (h *heldEntry) send(w chatSink) {
	if h.field == "reasoning_content" {
		w.reasoning(h.text, h.sig)
	} else {
		w.text(h.field, h.text)
	}
}

// toolHead: a tool call begins (name never empty).
func (in *chatIn) toolHead(index int, id, name string) {
	in.tool(&chatDeltaCall{Index: &index, ID: id, Function: chatDeltaFunc{Name: name}})
}

// toolArgs: an arguments fragment of the call at index.
func (in *chatIn) toolArgs(index int, args string) {
	in.tool(&chatDeltaCall{Index: &index, Function: chatDeltaFunc{Arguments: args}})
}

func (in *chatIn) tool(tc *chatDeltaCall) {
	if in.reading() {
		in.err = in.calls.fragment(tc, in.w)
	}
}

// finish: the chat finish_reason.
func (in *chatIn) finish(reason string) { in.finished(&chatChoice{FinishReason: finishReason(reason)}) }

// finished takes the choice that carried a finish_reason: every call and
// the open block or item end.
func (in *chatIn) finished(ch *chatChoice) {
	if in.reading() {
		in.finishSeen, in.reason = true, string(ch.FinishReason)
		in.stop = [2]json.RawMessage{bytes.Clone(ch.StopReason), bytes.Clone(ch.MatchedStop)}
		in.err = in.closeAll()
	}
}

// end takes the usage (nil: none) and completes the answer.
func (in *chatIn) end(usage *chatUsage) {
	if in.reading() {
		if usage != nil {
			in.usage = usage
		}
		in.begin("")
		in.err = in.finalize()
	}
}

// closeAll ends every tool call and the open block or item (a call with
// broken arguments stays open: ErrToolArguments).
func (in *chatIn) closeAll() error {
	if err := in.calls.advance(in.w, true); err != nil {
		return err
	}
	in.w.closeOpen()
	return nil
}

// finalize closes everything and completes the answer, or returns
// closeAll's error (Finish(err) follows).
func (in *chatIn) finalize() error {
	if err := in.closeAll(); err != nil {
		return err
	}
	in.done = true
	in.w.complete()
	return nil
}

// busy reports whether a call is being sent (text and reasoning are then
// held).
func (a *chatCalls) busy() bool { return a.active != nil }

// any reports whether the stream had a tool call.
func (a *chatCalls) any() bool { return len(a.calls) > 0 }

// hold queues text or reasoning that arrived while a call is being sent.
func (a *chatCalls) hold(h heldEntry) {
	if n := len(a.queue); n > 0 && a.queue[n-1].call == nil && a.queue[n-1].field == h.field {
		a.queue[n-1].text += h.text
		a.queue[n-1].sig += h.sig
		return
	}
	a.queue = append(a.queue, h)
}

// fragment takes one tool_calls entry of a chunk's delta.
func (a *chatCalls) fragment(tc *chatDeltaCall, w chatSink) error {
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
	c.id = cmp.Or(c.id, tc.ID)
	c.name = cmp.Or(c.name, tc.Function.Name)
	c.args = append(c.args, frag...)
	switch {
	case c != a.active: // held until its turn
	case !c.opened:
		if c.name != "" {
			a.open(c, w)
		}
	case frag == "":
	case c.mode == argsStreaming:
		w.callArgs(c, frag)
	case c.mode == argsUndecided:
		a.decide(c, w)
	}
	return a.advance(w, false)
}

// advance ends the active call when it is complete and something waits
// (with final: always) and sends what waited, until a call still arriving
// is active or nothing is left.
func (a *chatCalls) advance(w chatSink, final bool) error {
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
				h.send(w)
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
func (a *chatCalls) open(c *chatCall, w chatSink) {
	c.opened = true
	w.openCall(c)
	a.decide(c, w)
}

// decide picks the arguments mode and, for an object, sends what was held.
func (a *chatCalls) decide(c *chatCall, w chatSink) {
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

// close ends the active call c (started first if its name never came).
func (a *chatCalls) close(c *chatCall, w chatSink) error {
	if !c.opened {
		a.open(c, w)
	}
	if c.mode != argsUndecided && !validJSON(c.args) {
		return ErrToolArguments
	}
	if c.mode != argsStreaming {
		if s := w.heldArgs(c.args); s != "" {
			w.callArgs(c, s)
		}
	}
	w.closeOpen()
	c.ended = true
	a.active = nil
	a.spare, c.args = c.args[:0], nil
	return nil
}
