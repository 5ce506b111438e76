package translate

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/flowgate/flowgate/internal/sse"
)

type blockKind uint8

const (
	blockNone blockKind = iota
	blockText
	blockThinking
	blockTool
)

type streamTool struct {
	key    toolKey
	id     string
	name   string
	opened bool
}

// How the arguments of the current tool call reach the client. Anthropic
// clients parse a tool_use block's concatenated partial_json at
// content_block_stop, and "input" must be a JSON object. Arguments that
// start (after whitespace) with '{' are streamed as they arrive and checked
// once at the end; anything else cannot become a valid object by appending,
// so it is held and sent at the end the way the non-streaming translation
// sends it (argsObject): "" or null as {}, anything else as
// {"_raw_arguments":"<the arguments>"}, so nothing is lost and the client
// gets a tool_use it can parse (and reject against the tool's schema,
// telling the model). Streamed arguments that turn out not to be valid JSON
// at the end (a truncated or broken object) cannot be taken back: the
// stream then fails with ErrToolArguments instead of sending
// content_block_stop, so the client never parses a broken input.
const (
	argsUndecided uint8 = iota // only whitespace so far: held
	argsStreaming              // began with '{': streamed, checked at the end
	argsWrapped                // began with anything else: held, sent at the end
)

// ErrToolArguments is returned when a tool call's arguments, already
// streamed to an Anthropic client as the start of a JSON object, are not
// valid JSON when the call ends. The stream fails (an error event, no
// content_block_stop) rather than hand the client an input it cannot parse.
var ErrToolArguments = fmt.Errorf("%w: tool call arguments are not valid JSON", ErrUpstreamBody)

// ChatToAnthropicStream turns a Chat Completions stream into Anthropic
// Messages SSE frames (every frame has event: and data:).
//
// Output: message_start (usage: estimated input, updated in message_delta),
// then blocks strictly one at a time — content_block_start, deltas,
// content_block_stop — thinking (thinking_delta, then signature_delta),
// text (text_delta), tool_use (input_json_delta streamed as the arguments
// arrive when they start with '{', else held and sent as one object when
// the call ends; see argsStreaming); then message_delta (stop_reason, real
// usage) and message_stop. A tool call whose name never comes gets its
// block with an empty name when the next block or the end arrives.
// Text or thinking that arrives while a tool call is open is held and
// emitted after that call's block closes, so order is kept and no block is
// reopened.
//
// Use: for every upstream data payload call Feed (also for "[DONE]"); write
// the frames. When Feed returns an error, call Finish(err) and write its
// frames. When the upstream body ends, call Finish(nil) (or Finish(err) for
// a read error). Not safe for concurrent use.
type ChatToAnthropicStream struct {
	alias   string
	opts    StreamOptions
	e       emitter
	chunk   chatResponse
	started bool
	done    bool

	index int       // index of the open block, or of the next one
	open  blockKind // kind of the open block
	sig   strings.Builder

	tools    []*streamTool
	cur      *streamTool // the open tool block, if any
	pending  []segment   // text held while a tool block is open
	args     []byte      // arguments of cur so far (reused across calls)
	argsMode uint8       // argsUndecided, argsStreaming or argsWrapped
	err      error       // ErrToolArguments once a tool block could not be closed

	finish      string
	finishSeen  bool
	hasTools    bool
	stopSeq     *string
	stopReason  string
	usage       *chatUsage
	outputChars int
}

// NewChatToAnthropicStream starts a translator; alias is reported as the
// message model (F8).
func NewChatToAnthropicStream(alias string, opts StreamOptions) *ChatToAnthropicStream {
	return &ChatToAnthropicStream{alias: alias, opts: opts}
}

// Feed consumes one upstream SSE data payload.
func (s *ChatToAnthropicStream) Feed(data []byte) ([]sse.Frame, error) {
	if s.done {
		return nil, nil
	}
	s.e.reset()
	if sse.IsDone(data) {
		s.start("")
		err := s.finalize()
		return s.e.frames(), err
	}
	c := &s.chunk
	if err := decodeChunk(data, c); err != nil {
		return s.e.frames(), err
	}
	if c.Usage != nil {
		s.usage = c.Usage
	}
	s.start(c.ID)
	if ch := choiceZero(c); ch != nil {
		if d := ch.Delta; d != nil {
			if err := s.delta(d); err != nil {
				return s.e.frames(), err
			}
		}
		if ch.FinishReason != "" {
			s.finishSeen = true
			s.finish = ch.FinishReason
			s.stopReason, s.stopSeq = anthropicStop(ch.FinishReason, s.hasTools, ch.StopReason, ch.MatchedStop)
			if err := s.closeAll(); err != nil {
				return s.e.frames(), err
			}
		}
	}
	return s.e.frames(), nil
}

// Finish ends the stream. err == nil means the upstream body ended: after a
// finish_reason this completes the message (message_delta, message_stop)
// even without [DONE]; without one the answer is truncated and an error
// event is produced. err != nil produces the Anthropic error event
// ({"type":"error","error":{...}}). Calls after the end return nil.
func (s *ChatToAnthropicStream) Finish(err error) []sse.Frame {
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
	s.done = true
	f := AnthropicErrorFrame(err)
	s.e.begin(f.Event)
	s.e.buf = append(s.e.buf, f.Data...)
	s.e.end()
	return s.e.frames()
}

func (s *ChatToAnthropicStream) start(upstreamID string) {
	if s.started {
		return
	}
	s.started = true
	id := s.opts.ID
	if id == "" {
		id = anthMessageID(upstreamID)
	}
	in, cached := s.opts.InputTokens, 0
	if s.usage != nil {
		u := anthropicUsage(s.usage)
		in, cached = u.InputTokens, u.CacheReadInputTokens
	}
	e := &s.e
	e.begin("message_start")
	e.buf = append(e.buf, `{"type":"message_start","message":{"id":`...)
	e.buf = appendString(e.buf, id)
	e.buf = append(e.buf, `,"type":"message","role":"assistant","model":`...)
	e.buf = appendString(e.buf, s.alias)
	e.buf = append(e.buf, `,"content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":`...)
	e.buf = appendInt(e.buf, in)
	e.buf = append(e.buf, `,"cache_creation_input_tokens":0,"cache_read_input_tokens":`...)
	e.buf = appendInt(e.buf, cached)
	e.buf = append(e.buf, `,"cache_creation":{"ephemeral_5m_input_tokens":0,"ephemeral_1h_input_tokens":0},"output_tokens":0}}}`...)
	e.end()
}

func (s *ChatToAnthropicStream) delta(d *chatRespMsg) error {
	if text, sig := d.reasoning(); text != "" || sig != "" {
		if s.cur != nil {
			s.pending = appendSegment(s.pending, true, text)
		} else {
			s.thinking(text)
		}
		if s.open == blockThinking || s.cur != nil {
			s.sig.WriteString(sig)
		}
	}
	text := ""
	if d.Content != nil {
		text = *d.Content
	}
	if text == "" && d.Refusal != nil {
		text = *d.Refusal
	}
	if text != "" {
		if s.cur != nil {
			s.pending = appendSegment(s.pending, false, text)
		} else {
			s.text(text)
		}
	}
	for i := range d.ToolCalls {
		if err := s.toolDelta(&d.ToolCalls[i]); err != nil {
			return err
		}
	}
	if d.FunctionCall != nil {
		zero := 0
		if err := s.toolDelta(&chatToolCall{Index: &zero, Function: *d.FunctionCall}); err != nil {
			return err
		}
	}
	return nil
}

func (s *ChatToAnthropicStream) thinking(text string) {
	if s.open != blockThinking {
		s.closeBlock()
		s.openBlock(blockThinking, `{"type":"thinking","thinking":"","signature":""}`)
	}
	if text == "" {
		return
	}
	s.outputChars += len(text)
	e := &s.e
	e.begin("content_block_delta")
	e.buf = append(e.buf, `{"type":"content_block_delta","index":`...)
	e.buf = appendInt(e.buf, s.index)
	e.buf = append(e.buf, `,"delta":{"type":"thinking_delta","thinking":`...)
	e.buf = appendString(e.buf, text)
	e.buf = append(e.buf, "}}"...)
	e.end()
}

func (s *ChatToAnthropicStream) text(text string) {
	if s.open != blockText {
		s.closeBlock()
		s.openBlock(blockText, `{"type":"text","text":""}`)
	}
	s.outputChars += len(text)
	e := &s.e
	e.begin("content_block_delta")
	e.buf = append(e.buf, `{"type":"content_block_delta","index":`...)
	e.buf = appendInt(e.buf, s.index)
	e.buf = append(e.buf, `,"delta":{"type":"text_delta","text":`...)
	e.buf = appendString(e.buf, text)
	e.buf = append(e.buf, "}}"...)
	e.end()
}

func (s *ChatToAnthropicStream) inputJSON(frag string) {
	if frag == "" {
		return
	}
	s.outputChars += len(frag)
	e := &s.e
	e.begin("content_block_delta")
	e.buf = append(e.buf, `{"type":"content_block_delta","index":`...)
	e.buf = appendInt(e.buf, s.index)
	e.buf = append(e.buf, `,"delta":{"type":"input_json_delta","partial_json":`...)
	e.buf = appendString(e.buf, frag)
	e.buf = append(e.buf, "}}"...)
	e.end()
}

func (s *ChatToAnthropicStream) toolDelta(tc *chatToolCall) error {
	key := toolKey{index: -1}
	if tc.Index != nil {
		key.index = *tc.Index
	} else if tc.ID != "" && (s.cur == nil || s.cur.id != tc.ID) {
		key.id = tc.ID
	} else if s.cur != nil {
		key = s.cur.key
	} else {
		key.id = "#" + itoa(len(s.tools))
	}
	var t *streamTool
	for _, x := range s.tools {
		if x.key == key || key.index < 0 && key.id != "" && x.id == key.id {
			t = x
			break
		}
	}
	args := tc.Function.Arguments
	if t == nil {
		if err := s.closeAll(); err != nil {
			return err
		}
		t = &streamTool{key: key, id: tc.ID, name: tc.Function.Name}
		s.tools = append(s.tools, t)
		s.hasTools = true
		s.cur = t
	} else if t != s.cur {
		if args == "" {
			return nil // a repeated id/name header carries nothing new
		}
		return ErrToolCallOrder
	}
	if t.id == "" {
		t.id = tc.ID
	}
	if t.name == "" {
		t.name = tc.Function.Name
	}
	if !t.opened {
		if t.name == "" {
			s.args = append(s.args, args...) // held until the name comes
			return nil
		}
		s.openTool(t)
	}
	s.toolArgs(args)
	return nil
}

// toolArgs passes an arguments fragment of the open tool block on (see
// argsStreaming).
func (s *ChatToAnthropicStream) toolArgs(frag string) {
	if frag == "" {
		return
	}
	s.args = append(s.args, frag...)
	switch s.argsMode {
	case argsStreaming:
		s.inputJSON(frag)
	case argsUndecided:
		s.decideArgs()
	}
}

// decideArgs picks the mode from the first non-whitespace byte of the held
// arguments and, for an object, sends what was held.
func (s *ChatToAnthropicStream) decideArgs() {
	i := skipWS(s.args, 0)
	switch {
	case i == len(s.args):
	case s.args[i] == '{':
		s.argsMode = argsStreaming
		s.inputJSON(bytesString(s.args))
	default:
		s.argsMode = argsWrapped
	}
}

// endArgs completes the open tool block's input before content_block_stop:
// held arguments are sent as argsObject makes them; streamed ones must be
// valid JSON, else ErrToolArguments.
func (s *ChatToAnthropicStream) endArgs() error {
	switch s.argsMode {
	case argsStreaming:
		if !json.Valid(s.args) {
			return ErrToolArguments
		}
	case argsWrapped:
		s.inputJSON(bytesString(argsObject(bytesString(s.args))))
	}
	s.args, s.argsMode = s.args[:0], argsUndecided
	return nil
}

func (s *ChatToAnthropicStream) openTool(t *streamTool) {
	if t.id == "" {
		t.id = newID("toolu_")
	}
	t.opened = true
	e := &s.e
	s.open = blockTool
	e.begin("content_block_start")
	e.buf = append(e.buf, `{"type":"content_block_start","index":`...)
	e.buf = appendInt(e.buf, s.index)
	e.buf = append(e.buf, `,"content_block":{"type":"tool_use","id":`...)
	e.buf = appendString(e.buf, t.id)
	e.buf = append(e.buf, `,"name":`...)
	e.buf = appendString(e.buf, t.name)
	e.buf = append(e.buf, `,"input":{}}}`...)
	e.end()
	if len(s.args) > 0 {
		s.decideArgs() // arguments that arrived before the name
	}
}

func (s *ChatToAnthropicStream) openBlock(k blockKind, contentBlock string) {
	s.open = k
	e := &s.e
	e.begin("content_block_start")
	e.buf = append(e.buf, `{"type":"content_block_start","index":`...)
	e.buf = appendInt(e.buf, s.index)
	e.buf = append(e.buf, `,"content_block":`...)
	e.buf = append(e.buf, contentBlock...)
	e.buf = append(e.buf, '}')
	e.end()
}

// closeBlock closes the open block (a thinking block gets its
// signature_delta first, a tool block the rest of its input) and then emits
// text held back during a tool call. A tool block whose streamed input is
// not valid JSON is not closed: s.err is set instead.
func (s *ChatToAnthropicStream) closeBlock() {
	if s.cur != nil && !s.cur.opened {
		s.openTool(s.cur) // a call whose name never came still gets its block
	}
	if s.open == blockNone {
		return
	}
	if s.open == blockTool {
		if s.err = s.endArgs(); s.err != nil {
			return
		}
	}
	e := &s.e
	if s.open == blockThinking {
		sig := s.sig.String()
		if sig == "" {
			sig = UnsignedThinkingSignature
		}
		s.sig.Reset()
		e.begin("content_block_delta")
		e.buf = append(e.buf, `{"type":"content_block_delta","index":`...)
		e.buf = appendInt(e.buf, s.index)
		e.buf = append(e.buf, `,"delta":{"type":"signature_delta","signature":`...)
		e.buf = appendString(e.buf, sig)
		e.buf = append(e.buf, "}}"...)
		e.end()
	}
	e.begin("content_block_stop")
	e.buf = append(e.buf, `{"type":"content_block_stop","index":`...)
	e.buf = appendInt(e.buf, s.index)
	e.buf = append(e.buf, '}')
	e.end()
	s.index++
	s.open = blockNone
	if s.cur != nil {
		s.cur = nil
		held := s.pending
		s.pending = nil
		for _, seg := range held {
			if seg.thinking {
				s.thinking(seg.text)
			} else {
				s.text(seg.text)
			}
		}
	}
}

// closeAll closes the open block and any block opened for held text; its
// error is ErrToolArguments when a tool block could not be closed.
func (s *ChatToAnthropicStream) closeAll() error {
	for (s.open != blockNone || s.cur != nil) && s.err == nil {
		s.closeBlock()
	}
	return s.err
}

// finalize closes every block and ends the message; on a closeAll error
// it emits nothing more and returns it (the caller ends with Finish(err)).
func (s *ChatToAnthropicStream) finalize() error {
	if err := s.closeAll(); err != nil {
		return err
	}
	s.done = true
	if !s.finishSeen {
		s.stopReason, s.stopSeq = anthropicStop(s.finish, s.hasTools, nil, nil)
	}
	u := anthropicUsage(s.usage)
	if s.usage == nil {
		u.InputTokens = s.opts.InputTokens
		u.OutputTokens = (s.outputChars + 3) / 4
	}
	e := &s.e
	e.begin("message_delta")
	e.buf = append(e.buf, `{"type":"message_delta","delta":{"stop_reason":`...)
	e.buf = appendString(e.buf, s.stopReason)
	e.buf = append(e.buf, `,"stop_sequence":`...)
	if s.stopSeq != nil {
		e.buf = appendString(e.buf, *s.stopSeq)
	} else {
		e.buf = append(e.buf, "null"...)
	}
	e.buf = append(e.buf, `},"usage":{"input_tokens":`...)
	e.buf = appendInt(e.buf, u.InputTokens)
	e.buf = append(e.buf, `,"cache_creation_input_tokens":0,"cache_read_input_tokens":`...)
	e.buf = appendInt(e.buf, u.CacheReadInputTokens)
	e.buf = append(e.buf, `,"output_tokens":`...)
	e.buf = appendInt(e.buf, u.OutputTokens)
	e.buf = append(e.buf, "}}"...)
	e.end()
	e.begin("message_stop")
	e.buf = append(e.buf, `{"type":"message_stop"}`...)
	e.end()
	return nil
}

func itoa(n int) string { return string(appendInt(nil, n)) }
