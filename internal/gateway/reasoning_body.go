package gateway

import (
	"bytes"
	"strconv"
	"strings"

	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"

	"github.com/flowgate/flowgate/internal/translate"
)

// Reasoning continuity. Signed thinking (Anthropic) and encrypted reasoning
// (OpenAI Responses) are only valid on the provider that issued them. For
// an attempt sent elsewhere (a retry, a fallback, a moved session) the
// gateway removes what the target would reject with a 400; every other
// byte stays as the client sent it (signatures are echoed byte-exact, and
// prompt caches key on the bytes).

// reasoningChange is what messagesReasoning or responsesReasoning removed.
type reasoningChange struct {
	// Dropped counts the thinking blocks or reasoning items removed.
	Dropped int
	// ThinkingDisabled: the request's "thinking" setting was removed, since
	// its last assistant turn calls a tool without starting with thinking.
	ThinkingDisabled bool
}

// messagesReasoning prepares an Anthropic Messages request for a deployment
// that serves Messages natively. Thinking blocks signed
// translate.UnsignedThinkingSignature (FlowGate made them from another provider's
// reasoning) are always removed; with foreignOrigin (the session's
// reasoning was made by a provider other than Anthropic) every thinking and
// redacted_thinking block is. When blocks were removed and the last
// assistant turn calls a tool without starting with thinking, thinking is
// turned off for the request, as Anthropic refuses that combination. The
// body is returned unchanged, and not parsed, when it holds nothing to
// remove.
func messagesReasoning(body []byte, foreignOrigin bool) ([]byte, reasoningChange) {
	var ch reasoningChange
	if !bytes.Contains(body, []byte(translate.UnsignedThinkingSignature)) &&
		(!foreignOrigin || !bytes.Contains(body, []byte(`"signature"`)) && !bytes.Contains(body, []byte("redacted_thinking"))) {
		return body, ch
	}
	var (
		drop     []string // paths, in document order
		lastTool bool     // the last assistant turn calls a tool without starting with thinking
	)
	gjson.GetBytes(body, "messages").ForEach(func(mi, m gjson.Result) bool {
		if m.Get("role").String() != "assistant" {
			return true
		}
		kept, removed, first := 0, 0, ""
		lastTool = false
		m.Get("content").ForEach(func(bi, b gjson.Result) bool {
			t := b.Get("type").String()
			if (t == "thinking" || t == "redacted_thinking") && (foreignOrigin || b.Get("signature").String() == translate.UnsignedThinkingSignature) {
				drop = append(drop, elem(elem("messages", mi)+".content", bi))
				removed++
				return true
			}
			if kept++; kept == 1 {
				first = t
			}
			lastTool = lastTool || t == "tool_use" && !strings.HasSuffix(first, "thinking")
			return true
		})
		if removed > 0 && kept == 0 {
			// Nothing else in the turn: the whole message goes (Anthropic
			// refuses empty content and merges the neighbouring user turns).
			drop = append(drop[:len(drop)-removed], elem("messages", mi))
		}
		ch.Dropped += removed
		return true
	})
	if ch.Dropped == 0 {
		return body, ch
	}
	if t := gjson.GetBytes(body, "thinking.type"); lastTool && t.Exists() && t.String() != "disabled" {
		// Edits that clear thinking are refused without thinking too.
		drop = append(drop, "thinking")
		edits := gjson.GetBytes(body, "context_management.edits")
		n := len(drop)
		edits.ForEach(func(i, e gjson.Result) bool {
			if strings.HasPrefix(e.Get("type").String(), "clear_thinking") {
				drop = append(drop, elem("context_management.edits", i))
			}
			return true
		})
		if len(drop) > n && len(drop)-n == len(edits.Array()) {
			drop = append(drop[:n], "context_management")
		}
		ch.ThinkingDisabled = true
	}
	return deletePaths(body, drop), ch
}

// responsesReasoning prepares an OpenAI Responses request for a deployment
// that serves Responses natively. Reasoning input items carrying an
// Anthropic signature (translate.AnthropicSignaturePrefix) are always removed; with
// foreignOrigin (the session's reasoning was made by another provider or
// account) every reasoning item with encrypted_content is, since the target
// cannot decrypt it. The body is returned unchanged, and not parsed, when
// it holds nothing to remove.
func responsesReasoning(body []byte, foreignOrigin bool) ([]byte, reasoningChange) {
	var ch reasoningChange
	if !bytes.Contains(body, []byte(translate.AnthropicSignaturePrefix)) && (!foreignOrigin || !bytes.Contains(body, []byte(`"encrypted_content"`))) {
		return body, ch
	}
	var drop []string
	gjson.GetBytes(body, "input").ForEach(func(i, it gjson.Result) bool {
		enc := it.Get("encrypted_content").String()
		if it.Get("type").String() == "reasoning" && enc != "" && (foreignOrigin || strings.HasPrefix(enc, translate.AnthropicSignaturePrefix)) {
			drop = append(drop, elem("input", i))
		}
		return true
	})
	ch.Dropped = len(drop)
	return deletePaths(body, drop), ch
}

// deletePaths deletes paths, listed with the elements of any one array in
// increasing index order, last first so the earlier indexes stay valid.
// body itself is not modified.
func deletePaths(body []byte, paths []string) []byte {
	for i := len(paths) - 1; i >= 0; i-- {
		if out, err := sjson.DeleteBytes(body, paths[i]); err == nil {
			body = out
		}
	}
	return body
}

// elem is the path of the array element at key i (a ForEach key) under path.
func elem(path string, i gjson.Result) string {
	return path + "." + strconv.Itoa(int(i.Num))
}
