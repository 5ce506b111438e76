package translate

import (
	"encoding/json"
	"strings"

	"github.com/flowgate/flowgate/internal/apierr"
)

type blockKind uint8

const (
	blockNone blockKind = iota
	blockText
	blockThinking
	blockTool
)

// anthOutEvent is a Messages stream event ChatToAnthropicStream writes,
// but for content_block_delta (delta).
type anthOutEvent struct {
	Type         string          `json:"type"`
	Index        *int            `json:"index,omitempty"`
	Message      *anthResponse   `json:"message,omitempty"`
	ContentBlock json.RawMessage `json:"content_block,omitempty"`
	Delta        *anthStopDelta  `json:"delta,omitempty"`
	Usage        *anthUsage      `json:"usage,omitempty"`
}

type anthStopDelta struct {
	StopReason   string  `json:"stop_reason"`
	StopSequence *string `json:"stop_sequence"`
}

// ChatToAnthropicStream turns a Chat Completions stream into Anthropic
// Messages SSE frames: message_start (usage: estimated input, updated in
// message_delta), then blocks strictly one at a time, thinking
// (thinking_delta, then signature_delta), text (text_delta), tool_use (one
// block per upstream call, whole; arguments as chatCalls hands them, held
// ones made an object by heldArgs); then message_delta (stop_reason, real
// usage) and message_stop. Broken arguments end the stream with an error
// event (ErrToolArguments) and no content_block_stop for that call. Feed
// and Finish are chatIn's; the methods below are its chatSink.
type ChatToAnthropicStream struct {
	chatIn

	index int       // index of the open block, or of the next one
	open  blockKind // kind of the open block
	sig   strings.Builder

	outputChars int
}

// NewChatToAnthropicStream starts a translator reporting model alias.
func NewChatToAnthropicStream(alias string, opts StreamOptions) *ChatToAnthropicStream {
	s := &ChatToAnthropicStream{}
	s.init(s, alias, opts, "msg_")
	return s
}

func (s *ChatToAnthropicStream) fail(err error) { s.e.frame(apierr.AnthropicErrorFrame(err)) }

func (s *ChatToAnthropicStream) start(id string) {
	u := anthUsage{InputTokens: s.opts.InputTokens}
	if s.usage != nil {
		u = anthropicUsage(s.usage)
		u.OutputTokens = 0
	}
	u.CacheCreation = &anthCacheCreation{}
	s.e.event("message_start", &anthOutEvent{Type: "message_start", Message: &anthResponse{ID: id, Type: "message",
		Role: "assistant", Model: s.alias, Content: []anthBlock{}, Usage: u}})
}

// reasoning: the signature is sent when the thinking block ends.
func (s *ChatToAnthropicStream) reasoning(text, sig string) {
	s.sig.WriteString(sig)
	if s.open != blockThinking {
		s.openBlock(blockThinking, json.RawMessage(`{"type":"thinking","thinking":"","signature":""}`))
	}
	if text != "" {
		s.outputChars += len(text)
		s.delta("thinking_delta", "thinking", text)
	}
}

func (s *ChatToAnthropicStream) text(_, text string) {
	if s.open != blockText {
		s.openBlock(blockText, json.RawMessage(`{"type":"text","text":""}`))
	}
	s.outputChars += len(text)
	s.delta("text_delta", "text", text)
}

// delta writes a content_block_delta of the open block.
func (s *ChatToAnthropicStream) delta(kind, field, text string) {
	e := &s.e
	e.begin("content_block_delta")
	e.buf = append(e.buf, `{"type":"content_block_delta","index":`...)
	e.buf = appendInt(e.buf, s.index)
	e.buf = append(e.buf, `,"delta":{"type":"`...)
	e.buf = append(e.buf, kind...)
	e.buf = append(e.buf, `","`...)
	e.buf = append(e.buf, field...)
	e.buf = append(e.buf, `":`...)
	e.buf = appendString(e.buf, text)
	e.buf = append(e.buf, "}}"...)
	e.end()
}

func (s *ChatToAnthropicStream) openCall(c *chatCall) {
	s.openBlock(blockTool, mustJSON(aBlock{Type: "tool_use", ID: idOr(c.id, "toolu_"), Name: &c.name, Input: json.RawMessage("{}")}))
}

func (s *ChatToAnthropicStream) callArgs(_ *chatCall, frag string) {
	if frag != "" {
		s.outputChars += len(frag)
		s.delta("input_json_delta", "partial_json", frag)
	}
}

// heldArgs: nothing for empty arguments (the block started with input {}),
// else argsObject's.
func (s *ChatToAnthropicStream) heldArgs(args []byte) string {
	if len(trimSpace(args)) == 0 {
		return ""
	}
	return string(argsObject(string(args)))
}

// openBlock closes the open block and starts one of kind k.
func (s *ChatToAnthropicStream) openBlock(k blockKind, contentBlock json.RawMessage) {
	s.closeOpen()
	s.open = k
	s.e.event("content_block_start", &anthOutEvent{Type: "content_block_start", Index: &s.index, ContentBlock: contentBlock})
}

// closeOpen closes the open block (a thinking block gets its
// signature_delta first).
func (s *ChatToAnthropicStream) closeOpen() {
	if s.open == blockNone {
		return
	}
	if s.open == blockThinking {
		sig := s.sig.String()
		if sig == "" {
			sig = UnsignedThinkingSignature
		}
		s.sig.Reset()
		s.delta("signature_delta", "signature", sig)
	}
	s.e.event("content_block_stop", &anthOutEvent{Type: "content_block_stop", Index: &s.index})
	s.index++
	s.open = blockNone
}

func (s *ChatToAnthropicStream) complete() {
	reason, seq := anthropicStop(s.reason, s.calls.any(), s.stop[0], s.stop[1])
	u := anthropicUsage(s.usage)
	if s.usage == nil {
		u.InputTokens = s.opts.InputTokens
		u.OutputTokens = (s.outputChars + 3) / 4
	}
	s.e.event("message_delta", &anthOutEvent{Type: "message_delta",
		Delta: &anthStopDelta{StopReason: reason, StopSequence: seq}, Usage: &u})
	s.e.event("message_stop", &anthOutEvent{Type: "message_stop"})
}
