// Package tokens counts the input tokens of a request body (Messages, Chat
// or Responses): with the upstream model's own tokenizer when FlowGate has
// it, else with an estimate that errs high. The gateway answers
// count_tokens with it and the router checks context windows with it.
package tokens

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/flowgate/flowgate/internal/jsonscan"
	"github.com/tiktoken-go/tokenizer"
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
	if !isObject(body) {
		return 0, fmt.Errorf("estimating tokens: %w", jsonscan.ErrNotObject)
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
		return 0, errors.New("estimating tokens: request body has an unterminated string")
	}
	return baseTokens + fixed + (bytesN+nstr*perStringTokens*bytesPerToken+bytesPerToken-1)/bytesPerToken, nil
}

// Tokenizer names: the token-count method CountTokens reports.
const (
	O200kBase  = "o200k_base"
	Cl100kBase = "cl100k_base"
	// MethodEstimate is CountTokens' method when no tokenizer is known.
	MethodEstimate = "estimate"
)

// Per-message overhead of OpenAI's chat format: each message is framed by
// about 3 tokens, and the reply is primed with 3 more.
const (
	perMessageTokens = 3
	replyTokens      = 3
)

// codecs load each BPE table once, on first use. The tables are embedded
// in github.com/tiktoken-go/tokenizer: nothing is downloaded.
var codecs = map[string]func() tokenizer.Codec{
	O200kBase:  sync.OnceValue(func() tokenizer.Codec { c, _ := tokenizer.Get(tokenizer.O200kBase); return c }),
	Cl100kBase: sync.OnceValue(func() tokenizer.Codec { c, _ := tokenizer.Get(tokenizer.Cl100kBase); return c }),
}

// EncodingFor names the tokenizer of an upstream model (litellm_params.model
// without the provider prefix), or "" when it is not known: o200k_base for
// the GPT-4o, GPT-4.1, GPT-5 and o-series families, cl100k_base for GPT-4
// and GPT-3.5. Other models (Claude, open-weight models behind openai/) have
// no tokenizer here and are estimated.
func EncodingFor(model string) string {
	m := strings.ToLower(model)
	if i := strings.LastIndexByte(m, '/'); i >= 0 {
		m = m[i+1:] // e.g. openai/gpt-4o served under an org/ prefix
	}
	m = strings.TrimPrefix(m, "ft:")
	for _, p := range []string{"gpt-4o", "gpt-4.1", "gpt-4.5", "gpt-5", "chatgpt-4o", "o1", "o3", "o4", "codex-"} {
		if strings.HasPrefix(m, p) {
			return O200kBase
		}
	}
	for _, p := range []string{"gpt-4", "gpt-3.5", "gpt-35"} {
		if strings.HasPrefix(m, p) {
			return Cl100kBase
		}
	}
	return ""
}

// structuralKeys are keys whose string values are wire bookkeeping rather
// than text the model reads; CountTokens does not count them.
var structuralKeys = map[string]bool{
	"type": true, "role": true, "model": true, "id": true, "tool_use_id": true, "call_id": true,
	"tool_call_id": true, "media_type": true, "status": true, "prompt_cache_key": true,
	"user_id": true, "effort": true, "encrypted_content": true, "ttl": true, "detail": true,
}

// CountTokens counts the input tokens of a request body (Messages, Chat or
// Responses) for the upstream model model. With a known tokenizer (see
// EncodingFor) it tokenizes the text the model reads and says
// "tokenizer=<encoding>"; otherwise it returns EstimateTokens and
// "estimate".
//
// Rule with a tokenizer: every string value is tokenized, except the
// values of structuralKeys and "signature" (zero) and "data" or a data:
// URL (a base64 image or document, a flat 1600 tokens); keys are not
// counted. Each "role" adds 3 tokens (message framing) and the request 3
// (reply priming). Tool schemas are thus counted by their descriptions and
// enum values; their property names are not, which undercounts tools by a
// few tokens each.
func CountTokens(body []byte, model string) (n int, method string, err error) {
	enc := EncodingFor(model)
	if enc == "" {
		n, err = EstimateTokens(body)
		return n, MethodEstimate, err
	}
	if !isObject(body) {
		return 0, "", fmt.Errorf("counting tokens: %w", jsonscan.ErrNotObject)
	}
	c := codecs[enc]()
	if c == nil {
		n, err = EstimateTokens(body)
		return n, MethodEstimate, err
	}
	n = replyTokens
	var prevKey []byte
	var quoted []byte
	var bad error
	ok := jsonscan.Strings(body, func(raw []byte, key bool) {
		if key {
			prevKey = raw
			return
		}
		k := string(prevKey)
		prevKey = nil
		switch {
		case k == "role":
			n += perMessageTokens
			return
		case k == "signature" || structuralKeys[k]:
			return
		case k == "data" || (k == "url" && bytes.HasPrefix(raw, []byte("data:"))):
			n += imageTokens
			return
		}
		s := string(raw)
		if bytes.IndexByte(raw, '\\') >= 0 {
			quoted = append(append(append(quoted[:0], '"'), raw...), '"')
			if json.Unmarshal(quoted, &s) != nil {
				s = string(raw)
			}
		}
		m, cerr := c.Count(s)
		if cerr != nil && bad == nil {
			bad = cerr
		}
		n += m
	})
	if !ok {
		return 0, "", errors.New("counting tokens: request body has an unterminated string")
	}
	if bad != nil {
		return 0, "", fmt.Errorf("counting tokens with %s: %w", enc, bad)
	}
	return n, "tokenizer=" + enc, nil
}

// isObject reports whether body starts (after whitespace) with '{'.
func isObject(body []byte) bool {
	t := bytes.TrimLeft(body, " \t\r\n")
	return len(t) > 0 && t[0] == '{'
}
