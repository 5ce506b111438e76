// Package sse reads and writes Server-Sent Events as used by LLM APIs.
//
// Two dialects appear on the wire and Reader accepts both:
//
//   - event+data (Anthropic Messages, OpenAI Responses): "event: X\ndata: {...}\n\n"
//   - data-only (OpenAI Chat Completions): "data: {...}\n\n" ending with "data: [DONE]"
//
// The reader follows the WHATWG rules that matter in practice: lines end in
// \n, \r\n or \r; several data lines are joined with \n; lines starting with
// ':' are comments (keep-alives) and are skipped; an event is dispatched on a
// blank line, and a pending event is dispatched at EOF as well (upstreams
// often omit the final blank line).
//
// Reader reads frames as sent (for relaying) or parsed events, with one
// cap per event (MaxEvent). The writer side is AppendFrame / AppendFrames;
// the caller writes and flushes.
package sse
