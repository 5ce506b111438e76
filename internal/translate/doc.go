// Package translate converts between the three LLM wire protocols FlowGate
// speaks: Anthropic Messages, OpenAI Responses and OpenAI Chat Completions.
//
// Everything here is pure: functions over request/response bytes and
// explicit streaming state machines that turn one upstream SSE data payload
// into zero or more client frames. The gateway owns reading, writing,
// flushing, retries and the point of no return.
//
// Each direction is written once. Requests: AnthropicToChat, ResponsesToChat,
// ChatToAnthropic, ChatToResponses; AnthropicToResponses and
// ResponsesToAnthropic go through the chat form. Answers:
// <From>ResponseTo<To>. Streams: New<From>To<To>Stream, each with
// Feed(data) for every upstream SSE data payload (including "[DONE]") and
// Finish(err) once the upstream body ended (err == nil) or broke; after a
// Feed error the caller calls Finish(err). Not safe for concurrent use.
// Chat is the hub: every stream machine is a chatIn, which reads Chat
// chunks or the events of a parser of Anthropic or Responses streams, and
// a chatSink, which writes the client's protocol.
//
// Invariants: one Anthropic content block open at a time, closed in order;
// thinking before text; tool calls keyed by their tool-call index, never
// merged, dropped or reordered, interleaved parallel calls reassembled so
// each reaches the client whole (chatCalls); arguments that do not parse
// when their call ends are an error event, never {}; Responses items get
// distinct output_index values; the reported model is always the alias the
// client asked for; an unparseable upstream body is an error, never an
// empty success.
package translate
