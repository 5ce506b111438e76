package translate

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"unicode/utf8"
)

// Small append-style JSON writers for the hot stream paths: events have
// fixed shapes, so building them by hand avoids reflection per delta.

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string literal (same escaping rules as
// encoding/json without HTML escaping; invalid UTF-8 becomes U+FFFD).
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	dst = appendStringInner(dst, s)
	return append(dst, '"')
}

// appendStringInner appends the inside of s's JSON string literal.
func appendStringInner(dst []byte, s string) []byte {
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	return append(dst, s[start:]...)
}

func appendInt(dst []byte, n int) []byte { return strconv.AppendInt(dst, int64(n), 10) }

// appendKV appends `"key":` (key must not need escaping).
func appendKey(dst []byte, key string) []byte {
	dst = append(dst, '"')
	dst = append(dst, key...)
	return append(dst, '"', ':')
}

// mustJSON marshals v, which is always a value of this package's own types.
func mustJSON(v any) []byte {
	b, err := marshal(v)
	if err != nil {
		panic("translate: marshal: " + err.Error())
	}
	return b
}

// jsonString returns s as a JSON string literal.
func jsonString(s string) json.RawMessage { return appendString(nil, s) }

// newID returns prefix + 24 random hex characters.
func newID(prefix string) string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

// validObject reports whether raw is a JSON object.
func validObject(raw []byte) bool {
	raw = trimSpace(raw)
	return len(raw) > 1 && raw[0] == '{' && json.Valid(raw)
}

// marshal encodes v without HTML escaping (<, >, & stay as is: smaller
// bodies and byte-for-byte text for prompts full of <tags>).
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	b := buf.Bytes()
	return b[:len(b)-1], nil
}

// unmarshal decodes one JSON value like json.Unmarshal, but through a
// Decoder, which skips json.Unmarshal's separate validation pass (one scan
// fewer on large bodies). Trailing data after the value is an error.
func unmarshal(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("invalid character after top-level value")
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("invalid character after top-level value")
	}
	return nil
}

// appendChatRequest encodes a chat request by hand: RawMessage fields
// (content we built, schemas that came from a decoded body) are appended
// as is instead of being re-validated and compacted.
func appendChatRequest(b []byte, r *chatRequest) []byte {
	b = append(b, `{"model":`...)
	b = appendString(b, r.Model)
	b = append(b, `,"messages":[`...)
	for i := range r.Messages {
		m := &r.Messages[i]
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"role":`...)
		b = appendString(b, m.Role)
		b = append(b, `,"content":`...)
		if len(m.Content) == 0 {
			b = append(b, "null"...)
		} else {
			b = append(b, m.Content...)
		}
		if m.Name != "" {
			b = append(b, `,"name":`...)
			b = appendString(b, m.Name)
		}
		if m.ToolCallID != "" {
			b = append(b, `,"tool_call_id":`...)
			b = appendString(b, m.ToolCallID)
		}
		if m.ReasoningContent != "" {
			b = append(b, `,"reasoning_content":`...)
			b = appendString(b, m.ReasoningContent)
		}
		if len(m.ToolCalls) > 0 {
			b = append(b, `,"tool_calls":[`...)
			for j, tc := range m.ToolCalls {
				if j > 0 {
					b = append(b, ',')
				}
				b = append(b, `{"id":`...)
				b = appendString(b, tc.ID)
				b = append(b, `,"type":"function","function":{"name":`...)
				b = appendString(b, tc.Function.Name)
				b = append(b, `,"arguments":`...)
				b = appendString(b, tc.Function.Arguments)
				b = append(b, "}}"...)
			}
			b = append(b, ']')
		}
		b = append(b, '}')
	}
	b = append(b, ']')
	if len(r.Tools) > 0 {
		// Tool descriptions and schemas are large (Claude Code: ~50 KB):
		// schemas came from a decoded body and are appended as is.
		b = append(b, `,"tools":[`...)
		for i := range r.Tools {
			t := &r.Tools[i]
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"type":`...)
			b = appendString(b, t.Type)
			b = append(b, `,"function":{"name":`...)
			b = appendString(b, t.Function.Name)
			if t.Function.Description != "" {
				b = append(b, `,"description":`...)
				b = appendString(b, t.Function.Description)
			}
			if p := trimSpace(t.Function.Parameters); len(p) > 0 {
				b = append(b, `,"parameters":`...)
				b = append(b, p...)
			}
			if t.Function.Strict != nil {
				b = append(b, `,"strict":`...)
				b = strconv.AppendBool(b, *t.Function.Strict)
			}
			b = append(b, "}}"...)
		}
		b = append(b, ']')
	}
	return appendChatTail(b, chatTail(r))
}

// chatTail encodes the small fields of r after model, messages and tools
// (encoding/json, in struct order) as an object.
func chatTail(r *chatRequest) []byte {
	rest := *r
	rest.Model, rest.Messages, rest.Tools = "", nil, nil
	tail, err := marshal(&struct {
		*chatRequest
		Model    string `json:"model,omitempty"`
		Messages []int  `json:"messages,omitempty"`
	}{chatRequest: &rest})
	if err != nil {
		panic("translate: marshal: " + err.Error())
	}
	return tail
}

// appendChatTail appends the members of tail (from chatTail) and closes
// the request object.
func appendChatTail(b, tail []byte) []byte {
	if len(tail) > 2 {
		b = append(b, ',')
		return append(b, tail[1:]...)
	}
	return append(b, '}')
}
