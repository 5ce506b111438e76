package translate

import "github.com/flowgate/flowgate/internal/sse"

// AnthropicToResponses translates an Anthropic Messages request (Claude
// Code's POST /v1/messages body) into an OpenAI Responses request for a
// Responses-only upstream, through the chat form: AnthropicToChat, then
// ChatToResponses.
//
// So system becomes "instructions"; tool_use / tool_result pairs become
// function_call / function_call_output items with their ids, in order;
// thinking from history is dropped (a Responses upstream needs its own
// reasoning items); the thinking config becomes reasoning.effort,
// max_tokens max_output_tokens; store is false; web_search server tools
// become the upstream's web_search tool and PDF documents input_file parts.
// opts.Model names the
// upstream model. Result.Notes holds the notes of both steps.
func AnthropicToResponses(body []byte, opts Options) (*Result, error) {
	mid, err := AnthropicToChat(body, Options{responses: true})
	if err != nil {
		return nil, err
	}
	res, err := ChatToResponses(mid.Body, Options{Model: opts.Model})
	if err != nil {
		return nil, err
	}
	res.ClientModel, res.Stream = mid.ClientModel, mid.Stream
	res.Notes = append(mid.Notes, res.Notes...)
	return res, nil
}

// ResponsesResponseToAnthropic converts a non-streaming OpenAI Responses
// answer into an Anthropic message (ResponsesResponseToChat, then
// ChatResponseToAnthropic): thinking (from reasoning), text, tool_use in
// that order; stop_reason tool_use / end_turn / max_tokens; usage;
// model = alias.
func ResponsesResponseToAnthropic(body []byte, alias string) ([]byte, error) {
	mid, err := ResponsesResponseToChat(body, alias)
	if err != nil {
		return nil, err
	}
	return ChatResponseToAnthropic(mid, alias)
}

// ResponsesToAnthropicStream turns an OpenAI Responses stream into
// Anthropic Messages events with the guarantees of ChatToAnthropicStream
// (one block open at a time, closed in order, thinking signed, parallel
// calls as sequential tool_use blocks, none lost). It chains a
// ResponsesToChatStream into a ChatToAnthropicStream; use it the same way
// (Feed every event's data, Finish(err) at the end or after a Feed error).
// Errors, a failed response and a truncated stream end with the Anthropic
// error event.
type ResponsesToAnthropicStream struct {
	r     *ResponsesToChatStream
	c     *ChatToAnthropicStream
	chain chatChain
}

// NewResponsesToAnthropicStream starts a translator; alias is the reported
// model, opts.InputTokens the estimate for message_start (opts.ID the
// message id).
func NewResponsesToAnthropicStream(alias string, opts StreamOptions) *ResponsesToAnthropicStream {
	if opts.CreatedAt == 0 {
		opts.CreatedAt = nowUnix()
	}
	s := &ResponsesToAnthropicStream{r: NewResponsesToChatStream(alias, StreamOptions{CreatedAt: opts.CreatedAt}),
		c: NewChatToAnthropicStream(alias, opts)}
	s.chain.next = s.c
	s.r.out.sink = &s.chain
	return s
}

// Feed consumes one upstream event's data.
func (s *ResponsesToAnthropicStream) Feed(data []byte) ([]sse.Frame, error) {
	s.c.e.reset()
	s.chain.err = nil
	_, err := s.r.Feed(data)
	if s.chain.err != nil {
		err = s.chain.err // the Messages side failed on what it was handed: report that
	}
	return s.c.e.frames(), err
}

// Finish ends the stream: nothing more after a completed response;
// otherwise (truncated, broken, Feed error) the Anthropic error event.
func (s *ResponsesToAnthropicStream) Finish(err error) []sse.Frame {
	if err == nil && !s.r.done {
		err = errRespStreamTruncated
	}
	s.r.done = true
	return s.c.Finish(err)
}
