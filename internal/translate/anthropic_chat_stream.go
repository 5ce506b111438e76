package translate

import (
	"cmp"
	"encoding/json"
	"fmt"

	"github.com/flowgate/flowgate/internal/apierr"
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
	gotArgs bool // any input_json_delta text came
	input   json.RawMessage
}

// AnthropicToChatStream turns a Messages stream into Chat Completions
// chunks: the role chunk; text, thinking and signature deltas as
// content, reasoning_content and reasoning_signature; each tool_use block
// the next tool-call index, a header chunk then one chunk per
// input_json_delta ("{}" for a block without input); then the
// finish_reason chunk, a usage chunk and [DONE]. Blocks must open before
// their deltas, each index once; violations, garbage, error events and
// arguments that are not valid JSON when their call ends (ErrToolArguments)
// end the stream with a chat error frame. Finish(nil) after message_delta
// completes the stream even without message_stop.
type AnthropicToChatStream struct{ chained }

// NewAnthropicToChatStream starts a translator reporting model alias.
func NewAnthropicToChatStream(alias string, opts StreamOptions) *AnthropicToChatStream {
	out := newChatChunks(alias, opts)
	return &AnthropicToChatStream{chained{newAnthropicParser(&out.chatIn), &out.chatIn}}
}

// anthropicParser reads a Messages stream into chatIn's events.
type anthropicParser struct {
	chatWriter
	ev anthEvent

	blocks []aStreamBlock
	tools  int
	usage  anthUsage
}

func newAnthropicParser(out *chatIn) *anthropicParser {
	out.from = "msg_"
	return &anthropicParser{chatWriter: chatWriter{out: out}}
}

var errAnthStreamOrder = fmt.Errorf("%w: anthropic content block events out of order", ErrUpstreamBody)

func (s *anthropicParser) feed(data []byte) error {
	ev := &s.ev
	*ev = anthEvent{}
	if err := unmarshal(data, ev); err != nil {
		return fmt.Errorf("%w: bad stream event: %v", ErrUpstreamBody, err)
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
			return errAnthStreamOrder
		}
		s.openBlock(ev.ContentBlock)
	case "content_block_delta":
		s.start()
		b, err := s.block(ev.Index)
		if err != nil {
			return err
		}
		if ev.Delta != nil {
			s.delta(b)
		}
	case "content_block_stop":
		b, err := s.block(ev.Index)
		if err != nil {
			return err
		}
		b.open = false
		if b.kind == blockTool && !b.gotArgs { // the whole input came with content_block_start
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
		if ev.Delta != nil && ev.Delta.StopReason != nil && !s.out.finishSeen {
			for i := range s.blocks {
				if s.blocks[i].open {
					return errAnthStreamOrder
				}
			}
			s.out.finish(chatFinish(*ev.Delta.StopReason, s.tools > 0))
		}
	case "message_stop":
		s.start()
		if !s.out.finishSeen {
			return errStreamTruncated
		}
		s.finalize()
	case "error":
		return ev.Error.Failure(0, "upstream stream error")
	case "ping":
	case "":
		return fmt.Errorf("%w: stream event without type", ErrUpstreamBody)
	default:
		// Unknown event types are ignored, as the Messages docs ask.
	}
	return nil
}

// close ends the events once the upstream body ended: after message_delta
// a clean end completes the answer.
func (s *anthropicParser) close(err error) error {
	if err == nil && s.out.finishSeen {
		s.finalize()
	}
	return err
}

func setIf(dst *int, v *int) {
	if v != nil {
		*dst = *v
	}
}

func (s *anthropicParser) block(idx *int) (*aStreamBlock, error) {
	if idx == nil || *idx < 0 || *idx >= len(s.blocks) || !s.blocks[*idx].open {
		return nil, errAnthStreamOrder
	}
	return &s.blocks[*idx], nil
}

func (s *anthropicParser) openBlock(cb *anthBlock) {
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
		b.kind, b.tool, b.input = blockTool, s.tools, cb.Input
		s.tools++
		s.out.toolHead(b.tool, idOr(cb.ID, "call_"), cmp.Or(cb.Name, UnnamedToolName))
	}
	s.blocks = append(s.blocks, b)
}

func (s *anthropicParser) delta(b *aStreamBlock) {
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
			s.out.toolArgs(b.tool, d.PartialJSON)
		}
	}
}

func (s *anthropicParser) finalize() { s.out.end(chatUsageOf(s.usage)) }
