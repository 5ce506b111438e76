package translate

import (
	"fmt"

	"github.com/flowgate/flowgate/internal/jsonscan"
)

// Token estimate constants (see EstimateTokens).
const (
	// bytesPerToken: English prose is ~4 bytes per token and code or JSON
	// ~3, so dividing by 3 errs high.
	bytesPerToken = 3
	// imageTokens is charged per base64 "data" payload instead of its size
	// (Anthropic caps an image at ~1600 tokens; documents are charged the
	// same per payload).
	imageTokens = 1600
	// perStringTokens covers quoting/boundary overhead of every string.
	perStringTokens = 1
	// baseTokens covers the request envelope and role markers.
	baseTokens = 16
)

// EstimateTokens estimates the input tokens of an Anthropic Messages
// request (the body of /v1/messages/count_tokens or /v1/messages) without a
// tokenizer, erring HIGH so that clients compact too early rather than too
// late (a low estimate is the failure mode users report).
//
// Rule: one pass over the raw JSON; every string (keys and values: system,
// messages, tool results, tool names, descriptions and schemas) counts its
// encoded bytes, plus one token per string; the total is divided by 3 and
// rounded up; plus 16. Exceptions: the value of a "data" key (base64 image or
// document) counts a flat 1600 tokens, and "signature" values count zero.
// Non-ASCII text counts its UTF-8 bytes, so CJK comes out near one token per
// character. The result is >= the real count for typical prompts
// (~1.3x for English, ~1.0-1.1x for dense JSON/code).
//
// It allocates nothing and returns an error only for a body that is not a
// JSON object (or has an unterminated string).
func EstimateTokens(body []byte) (int, error) {
	if t := trimSpace(body); len(t) == 0 || t[0] != '{' {
		return 0, fmt.Errorf("estimating tokens: %w: body is not a JSON object", ErrUpstreamBody)
	}
	var bytesN, nstr, fixed int
	var prevKey []byte // the key the current value belongs to
	ok := jsonscan.Strings(body, func(raw []byte, key bool) {
		switch {
		case key:
			bytesN += len(raw)
			nstr++
			prevKey = raw
			return
		case string(prevKey) == "data":
			fixed += imageTokens
		case string(prevKey) == "signature":
		default:
			bytesN += len(raw)
			nstr++
		}
		prevKey = nil
	})
	if !ok {
		return 0, fmt.Errorf("estimating tokens: %w: unterminated string", ErrUpstreamBody)
	}
	return baseTokens + fixed + (bytesN+nstr*perStringTokens*bytesPerToken+bytesPerToken-1)/bytesPerToken, nil
}
