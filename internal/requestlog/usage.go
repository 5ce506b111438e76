package requestlog

import (
	"bytes"
	"encoding/json"
)

var usageKey = []byte(`"usage"`)

// ScanUsage merges into t every "usage" object in b: a whole JSON answer or
// an SSE frame of any of the three protocols (Chat's include_usage chunk,
// Messages' message_start and message_delta, Responses' response.completed).
// Text without the key costs one substring search and nothing is decoded;
// only the usage object itself is. Counts are merged by maximum, because
// Messages streams repeat cumulative counts across events.
func ScanUsage(t *Tokens, b []byte) {
	for {
		k := bytes.Index(b, usageKey)
		if k < 0 {
			return
		}
		b = b[k+len(usageKey):]
		i := skipSpace(b, 0)
		if i >= len(b) || b[i] != ':' {
			continue // "usage" as a string value, not a key
		}
		i = skipSpace(b, i+1)
		if i >= len(b) || b[i] != '{' {
			continue // "usage": null
		}
		end := objectEnd(b, i)
		if end < 0 {
			return
		}
		var u wireUsage
		if json.Unmarshal(b[i:end], &u) == nil {
			t.merge(u.tokens())
		}
		b = b[end:]
	}
}

// wireUsage is the union of the three protocols' usage objects.
type wireUsage struct {
	// Chat Completions.
	PromptTokens        *int64 `json:"prompt_tokens"`
	CompletionTokens    int64  `json:"completion_tokens"`
	PromptTokensDetails struct {
		CachedTokens int64 `json:"cached_tokens"`
	} `json:"prompt_tokens_details"`
	CompletionTokensDetails struct {
		ReasoningTokens int64 `json:"reasoning_tokens"`
	} `json:"completion_tokens_details"`
	// Messages and Responses.
	InputTokens  int64 `json:"input_tokens"`
	OutputTokens int64 `json:"output_tokens"`
	// Messages: input_tokens excludes these.
	CacheReadInputTokens     int64 `json:"cache_read_input_tokens"`
	CacheCreationInputTokens int64 `json:"cache_creation_input_tokens"`
	// Responses: input_tokens includes cached_tokens.
	InputTokensDetails struct {
		CachedTokens int64 `json:"cached_tokens"`
	} `json:"input_tokens_details"`
	OutputTokensDetails struct {
		ReasoningTokens int64 `json:"reasoning_tokens"`
	} `json:"output_tokens_details"`
}

func (u *wireUsage) tokens() Tokens {
	if u.PromptTokens != nil {
		// prompt_tokens counts cache reads and (LiteLLM's
		// cache_creation_input_tokens, also FlowGate's) cache writes.
		cached, written := u.PromptTokensDetails.CachedTokens, u.CacheCreationInputTokens
		return Tokens{Input: max(*u.PromptTokens-cached-written, 0), Output: u.CompletionTokens, CacheRead: cached,
			CacheWrite: written, Reasoning: u.CompletionTokensDetails.ReasoningTokens}
	}
	cached := u.InputTokensDetails.CachedTokens
	return Tokens{Input: max(u.InputTokens-cached, 0), Output: u.OutputTokens,
		CacheRead: u.CacheReadInputTokens + cached, CacheWrite: u.CacheCreationInputTokens,
		Reasoning: u.OutputTokensDetails.ReasoningTokens}
}

func (t *Tokens) merge(o Tokens) {
	t.Input = max(t.Input, o.Input)
	t.Output = max(t.Output, o.Output)
	t.CacheRead = max(t.CacheRead, o.CacheRead)
	t.CacheWrite = max(t.CacheWrite, o.CacheWrite)
	t.Reasoning = max(t.Reasoning, o.Reasoning)
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// objectEnd returns the index after the object that starts at b[i] ('{'),
// or -1 when b ends first.
func objectEnd(b []byte, i int) int {
	depth := 0
	for ; i < len(b); i++ {
		switch b[i] {
		case '"':
			for i++; i < len(b) && b[i] != '"'; i++ {
				if b[i] == '\\' {
					i++
				}
			}
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth == 0 {
				return i + 1
			}
		}
	}
	return -1
}
