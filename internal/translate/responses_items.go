package translate

import (
	"strings"
	"time"
)

// rItem is one Responses output item being built.
type rItem struct {
	kind   blockKind // blockText = message, blockThinking = reasoning, blockTool = function_call
	id     string
	text   strings.Builder // message text, reasoning summary, or arguments
	sig    string          // reasoning signature -> encrypted_content
	callID string
	ref    ToolRef
	index  int // output_index
	done   bool
}

// appendItem writes the item JSON; status is "in_progress" or "completed".
func appendItem(b []byte, it *rItem, completed bool) []byte {
	status := "in_progress"
	if completed {
		status = "completed"
	}
	b = append(b, `{"id":`...)
	b = appendString(b, it.id)
	switch it.kind {
	case blockText:
		b = append(b, `,"type":"message","status":`...)
		b = appendString(b, status)
		b = append(b, `,"role":"assistant","content":[`...)
		if completed {
			b = append(b, `{"type":"output_text","text":`...)
			b = appendString(b, it.text.String())
			b = append(b, `,"annotations":[]}`...)
		}
		b = append(b, "]}"...)
	case blockThinking:
		b = append(b, `,"type":"reasoning","summary":[`...)
		if completed {
			b = append(b, `{"type":"summary_text","text":`...)
			b = appendString(b, it.text.String())
			b = append(b, '}')
		}
		b = append(b, ']')
		if it.sig != "" {
			b = append(b, `,"encrypted_content":`...)
			b = appendString(b, it.sig)
		}
		b = append(b, '}')
	case blockTool:
		b = append(b, `,"type":"function_call","status":`...)
		b = appendString(b, status)
		b = append(b, `,"call_id":`...)
		b = appendString(b, it.callID)
		b = append(b, `,"name":`...)
		b = appendString(b, it.ref.Name)
		if it.ref.Namespace != "" {
			b = append(b, `,"namespace":`...)
			b = appendString(b, it.ref.Namespace)
		}
		b = append(b, `,"arguments":`...)
		if completed {
			b = appendString(b, it.text.String())
		} else {
			b = append(b, `""`...)
		}
		b = append(b, '}')
	}
	return b
}

// respStatus is the final state of a response object.
type respStatus struct {
	status     string // in_progress, completed, incomplete, failed
	incomplete string // incomplete_details.reason
	err        *UpstreamError
}

// appendResponse writes a Responses "response" object.
func appendResponse(b []byte, id, model string, created int64, st respStatus, items []*rItem, u *chatUsage) []byte {
	b = append(b, `{"id":`...)
	b = appendString(b, id)
	b = append(b, `,"object":"response","created_at":`...)
	b = appendInt(b, int(created))
	b = append(b, `,"status":`...)
	b = appendString(b, st.status)
	b = append(b, `,"error":`...)
	if st.err != nil {
		code := st.err.Code
		if code == "" {
			code = "server_error"
		}
		b = append(b, `{"code":`...)
		b = appendString(b, code)
		b = append(b, `,"message":`...)
		b = appendString(b, st.err.Message)
		b = append(b, '}')
	} else {
		b = append(b, "null"...)
	}
	b = append(b, `,"incomplete_details":`...)
	if st.incomplete != "" {
		b = append(b, `{"reason":`...)
		b = appendString(b, st.incomplete)
		b = append(b, '}')
	} else {
		b = append(b, "null"...)
	}
	b = append(b, `,"model":`...)
	b = appendString(b, model)
	b = append(b, `,"output":[`...)
	n := 0
	for _, it := range items {
		if !it.done {
			continue
		}
		if n > 0 {
			b = append(b, ',')
		}
		n++
		b = appendItem(b, it, true)
	}
	b = append(b, `],"usage":`...)
	b = appendRespUsage(b, u)
	return append(b, '}')
}

// appendRespUsage maps chat usage to Responses usage (input_tokens includes
// cached tokens in both APIs; reasoning tokens are kept).
func appendRespUsage(b []byte, u *chatUsage) []byte {
	if u == nil {
		return append(b, "null"...)
	}
	total := u.TotalTokens
	if total == 0 {
		total = u.PromptTokens + u.CompletionTokens
	}
	b = append(b, `{"input_tokens":`...)
	b = appendInt(b, u.PromptTokens)
	b = append(b, `,"input_tokens_details":{"cached_tokens":`...)
	b = appendInt(b, u.cached())
	b = append(b, `},"output_tokens":`...)
	b = appendInt(b, u.CompletionTokens)
	b = append(b, `,"output_tokens_details":{"reasoning_tokens":`...)
	b = appendInt(b, u.reasoningTokens())
	b = append(b, `},"total_tokens":`...)
	b = appendInt(b, total)
	return append(b, '}')
}

func itemID(prefix, resp string, n int) string {
	return prefix + strings.TrimPrefix(resp, "resp_") + "_" + itoa(n)
}

func nowUnix() int64 { return time.Now().Unix() }
