package translate

import (
	"cmp"
	"encoding/json"
	"fmt"

	"github.com/flowgate/flowgate/internal/apierr"
	"github.com/flowgate/flowgate/internal/sse"
)

// anthEvent is one Anthropic Messages stream event (the data JSON; "type"
// names the event).
type anthEvent struct {
	Type         string        `json:"type"`
	Message      *anthResponse `json:"message"`
	Index        *int          `json:"index"`
	ContentBlock *anthBlock    `json:"content_block"`
	Delta        *struct {
		Type         string  `json:"type"`
		Text         string  `json:"text"`
		Thinking     string  `json:"thinking"`
		Signature    string  `json:"signature"`
		PartialJSON  string  `json:"partial_json"`
		StopReason   *string `json:"stop_reason"`
		StopSequence *string `json:"stop_sequence"`
	} `json:"delta"`
	Usage *anthUsageDelta `json:"usage"`
	Error *apierr.Wire    `json:"error"`
}

// anthUsageDelta is message_delta usage: cumulative counts, any field may
// be absent.
type anthUsageDelta struct {
	InputTokens              *int `json:"input_tokens"`
	OutputTokens             *int `json:"output_tokens"`
	CacheCreationInputTokens *int `json:"cache_creation_input_tokens"`
	CacheReadInputTokens     *int `json:"cache_read_input_tokens"`
}

// UnnamedToolName is the function name a Chat client gets for an upstream
// tool call without a name. Chat clients drop a call without a name or
// fail the stream; with a placeholder the call is kept in order, the
// client answers it as an unknown tool (so the model learns of its
// mistake), and the conversation stays replayable.
const UnnamedToolName = "unnamed_tool"

// aStreamBlock is the state of one upstream content block.
type aStreamBlock struct {
	kind    blockKind // blockNone for blocks that produce nothing (server tools, redacted thinking)
	open    bool
	tool    int  // tool-call index (blockTool)
	gotArgs bool // any input_json_delta text sent
	input   json.RawMessage
	args    []byte // the input_json_delta text so far (tool blocks)
}

// AnthropicToChatStream turns a Messages stream into Chat Completions
// chunks: the role chunk; text, thinking and signature deltas as
// content, reasoning_content and reasoning_signature; each tool_use block
// the next tool-call index, a header chunk then one chunk per
// input_json_delta ("{}" for a block without input); message_delta a
// finish_reason chunk; then a usage chunk and [DONE]. Blocks must open
// before their deltas, each index once; violations, garbage, error events
// and streamed arguments that are not valid JSON when their block stops
// (ErrToolArguments) end the stream with a chat error frame. Finish(nil)
// after message_delta completes the stream even without message_stop.
type AnthropicToChatStream struct {
	chatWriter
	ev anthEvent

	blocks []aStreamBlock
	tools  int
	spare  []byte // a closed tool block's args buffer, for the next one

	finishSeen bool
	usage      anthUsage
	stop       string
}

// NewAnthropicToChatStream starts a translator reporting model alias.
func NewAnthropicToChatStream(alias string, opts StreamOptions) *AnthropicToChatStream {
	s := &AnthropicToChatStream{}
	s.init(alias, opts, "msg_")
	return s
}

var errAnthStreamOrder = fmt.Errorf("%w: anthropic content block events out of order", ErrUpstreamBody)

// Feed consumes one upstream event's data.
func (s *AnthropicToChatStream) Feed(data []byte) ([]sse.Frame, error) {
	if s.done {
		return nil, nil
	}
	s.e.reset()
	if sse.IsDone(data) {
		if s.finishSeen {
			s.finalize()
		}
		return s.e.frames(), nil
	}
	ev := &s.ev
	*ev = anthEvent{}
	if err := unmarshal(data, ev); err != nil {
		return s.e.frames(), fmt.Errorf("%w: bad stream event: %v", ErrUpstreamBody, err)
	}
	switch ev.Type {
	case "message_start":
		if ev.Message != nil {
			s.upstream = ev.Message.ID
			s.usage = ev.Message.Usage
		}
		s.start()
	case "content_block_start":
		s.start()
		if ev.Index == nil || *ev.Index != len(s.blocks) || ev.ContentBlock == nil {
			return s.e.frames(), errAnthStreamOrder
		}
		s.openBlock(ev.ContentBlock)
	case "content_block_delta":
		s.start()
		b, err := s.block(ev.Index)
		if err != nil {
			return s.e.frames(), err
		}
		if ev.Delta != nil {
			s.delta(b)
		}
	case "content_block_stop":
		b, err := s.block(ev.Index)
		if err != nil {
			return s.e.frames(), err
		}
		b.open = false
		switch {
		case b.kind != blockTool:
		case b.gotArgs:
			// Chat clients parse the joined arguments once the call ends;
			// fragments already sent cannot be mended, so a broken or
			// incomplete object (a lost or garbled delta) fails the
			// stream rather than completing with unparseable arguments.
			if !validJSON(b.args) {
				return s.e.frames(), ErrToolArguments
			}
			s.spare, b.args = b.args[:0], nil
		default: // the whole input came with content_block_start
			s.out.toolArgs(b.tool, compactInput(b.input))
		}
	case "message_delta":
		s.start()
		if u := ev.Usage; u != nil {
			setIf(&s.usage.InputTokens, u.InputTokens)
			setIf(&s.usage.OutputTokens, u.OutputTokens)
			setIf(&s.usage.CacheCreationInputTokens, u.CacheCreationInputTokens)
			setIf(&s.usage.CacheReadInputTokens, u.CacheReadInputTokens)
		}
		if ev.Delta != nil && ev.Delta.StopReason != nil && !s.finishSeen {
			for i := range s.blocks {
				if s.blocks[i].open {
					return s.e.frames(), errAnthStreamOrder
				}
			}
			s.finishSeen = true
			s.stop = *ev.Delta.StopReason
			s.out.finish(chatFinish(s.stop, s.tools > 0))
		}
	case "message_stop":
		s.start()
		if !s.finishSeen {
			return s.e.frames(), errStreamTruncated
		}
		s.finalize()
	case "error":
		return s.e.frames(), upstreamFailure(0, ev.Error, "upstream stream error")
	case "ping":
	case "":
		return s.e.frames(), fmt.Errorf("%w: stream event without type", ErrUpstreamBody)
	default:
		// Unknown event types are ignored, as the Messages docs ask.
	}
	return s.e.frames(), nil
}

// Finish ends the stream (see AnthropicToChatStream).
func (s *AnthropicToChatStream) Finish(err error) []sse.Frame { return s.finish(err, s.close) }

// close ends the events once the upstream body ended: after message_delta
// a clean end completes the answer, else it returns why the stream failed.
func (s *AnthropicToChatStream) close(err error) error {
	if s.done {
		return err
	}
	if err == nil && s.finishSeen {
		s.finalize()
		return nil
	}
	s.done = true
	return cmp.Or(err, errStreamTruncated)
}

func setIf(dst *int, v *int) {
	if v != nil {
		*dst = *v
	}
}

func (s *AnthropicToChatStream) block(idx *int) (*aStreamBlock, error) {
	if idx == nil || *idx < 0 || *idx >= len(s.blocks) || !s.blocks[*idx].open {
		return nil, errAnthStreamOrder
	}
	return &s.blocks[*idx], nil
}

func (s *AnthropicToChatStream) openBlock(cb *anthBlock) {
	b := aStreamBlock{open: true} // redacted_thinking, server_tool_use, *_tool_result: nothing for a chat client
	switch cb.Type {
	case "text":
		b.kind = blockText
		s.out.textDelta("content", cb.Text)
	case "thinking":
		b.kind = blockThinking
		s.out.textDelta("reasoning_content", cb.Thinking)
		s.out.textDelta("reasoning_signature", cb.Signature)
	case "tool_use":
		b.kind, b.tool, b.input, b.args = blockTool, s.tools, cb.Input, s.spare
		s.spare = nil
		s.tools++
		s.out.toolHead(b.tool, idOr(cb.ID, "call_"), cmp.Or(cb.Name, UnnamedToolName))
	}
	s.blocks = append(s.blocks, b)
}

func (s *AnthropicToChatStream) delta(b *aStreamBlock) {
	d := s.ev.Delta
	switch {
	case d.Type == "text_delta" && b.kind == blockText:
		s.out.textDelta("content", d.Text)
	case d.Type == "thinking_delta" && b.kind == blockThinking:
		s.out.textDelta("reasoning_content", d.Thinking)
	case d.Type == "signature_delta" && b.kind == blockThinking:
		s.out.textDelta("reasoning_signature", d.Signature)
	case d.Type == "input_json_delta" && b.kind == blockTool:
		if d.PartialJSON != "" {
			b.gotArgs = true
			b.args = append(b.args, d.PartialJSON...)
			s.out.toolArgs(b.tool, d.PartialJSON)
		}
	}
}

func (s *AnthropicToChatStream) finalize() {
	s.done = true
	s.out.end(chatUsageOf(s.usage))
}
