package translate

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
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
	dst = append(dst, s[start:]...)
	return append(dst, '"')
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
