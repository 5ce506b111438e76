package translate

import (
	"fmt"
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
// JSON object.
func EstimateTokens(body []byte) (int, error) {
	i := 0
	for i < len(body) && isSpace(body[i]) {
		i++
	}
	if i == len(body) || body[i] != '{' {
		return 0, fmt.Errorf("estimating tokens: %w: body is not a JSON object", ErrUpstreamBody)
	}
	var bytesN, nstr, fixed int
	var lastKey [16]byte
	lastKeyLen := -1 // -1: the previous string was not a key we track
	for i < len(body) {
		c := body[i]
		if c != '"' {
			i++
			continue
		}
		// Scan one string.
		start := i + 1
		j := start
		for j < len(body) {
			if body[j] == '\\' {
				j += 2
				continue
			}
			if body[j] == '"' {
				break
			}
			j++
		}
		if j >= len(body) {
			return 0, fmt.Errorf("estimating tokens: %w: unterminated string", ErrUpstreamBody)
		}
		n := j - start
		// Is this string a key? (next non-space is ':')
		k := j + 1
		for k < len(body) && isSpace(body[k]) {
			k++
		}
		isKey := k < len(body) && body[k] == ':'
		switch {
		case isKey:
			bytesN += n
			nstr++
			if n <= len(lastKey) {
				lastKeyLen = copy(lastKey[:], body[start:j])
			} else {
				lastKeyLen = -1
			}
		case lastKeyLen == 4 && string(lastKey[:4]) == "data":
			fixed += imageTokens
			lastKeyLen = -1
		case lastKeyLen == 9 && string(lastKey[:9]) == "signature":
			lastKeyLen = -1
		default:
			bytesN += n
			nstr++
		}
		i = j + 1
	}
	return baseTokens + fixed + (bytesN+nstr*perStringTokens*bytesPerToken+bytesPerToken-1)/bytesPerToken, nil
}

func isSpace(c byte) bool { return c == ' ' || c == '\n' || c == '\r' || c == '\t' }
