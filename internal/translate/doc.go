// Package translate converts between the three LLM wire protocols FlowGate
// speaks: Anthropic Messages, OpenAI Responses and OpenAI Chat Completions.
//
// Everything here is pure: functions over request/response bytes and
// explicit streaming state machines that turn one upstream SSE data payload
// into zero or more client frames. Nothing does I/O, so the gateway owns
// reading (internal/sse.Reader), writing and flushing (sse.Writer), retries
// and the point of no return.
//
// Client request -> upstream request:
//
//	AnthropicToChat    Claude Code   -> Chat upstream
//	ResponsesToChat    Codex         -> Chat upstream
//	ChatToAnthropic    Chat client   -> Anthropic upstream
//	ResponsesToAnthropic Codex       -> Anthropic upstream
//	ChatToResponses    Chat client   -> Responses-only upstream
//	AnthropicToResponses Claude Code -> Responses-only upstream
//
// Upstream answer -> client answer (non-streaming):
//
//	ChatResponseToAnthropic, ChatResponseToResponses,
//	AnthropicResponseToChat, AnthropicResponseToResponses,
//	ResponsesResponseToChat, ResponsesResponseToAnthropic
//
// Streaming: NewChatToAnthropicStream, NewChatToResponsesStream,
// NewAnthropicToChatStream, NewAnthropicToResponsesStream,
// NewResponsesToChatStream, NewResponsesToAnthropicStream. Each has
// Feed(data) for every upstream SSE data payload (including "[DONE]") and
// Finish(err) once the upstream body ended (err == nil) or broke (err != nil).
//
// Invariants: one Anthropic
// content block open at a time, closed in order; thinking before text;
// tool calls keyed by their tool-call index, never merged, never dropped,
// never reordered, and interleaved parallel calls reassembled so each
// reaches the client whole, one after another (chatCalls); arguments that
// do not parse when their call ends are an error event, never {};
// Responses items get distinct output_index values; the
// reported model is always the alias the client asked for; an unparseable
// upstream body is an error, never an empty success.
package translate
