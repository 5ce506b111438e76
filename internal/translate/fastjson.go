package translate

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf16"
	"unicode/utf8"
)

// A small reader for JSON that json.Valid has already accepted: it finds
// value boundaries without re-validating, so the large "messages" array of
// a Claude Code request is walked once instead of being decoded into raw
// messages, validated again and decoded again per message. Field matching
// follows encoding/json (exact name, else case-insensitive), so the result
// is what json.Unmarshal into the wire types would give.

var errNotValidated = errors.New("invalid JSON")

func skipWS(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\n' || b[i] == '\r' || b[i] == '\t') {
		i++
	}
	return i
}

// skipString returns the index after the string literal starting at b[i].
func skipString(b []byte, i int) int {
	j := i + 1
	for {
		k := bytes.IndexByte(b[j:], '"')
		if k < 0 {
			return len(b)
		}
		j += k
		n := 0
		for p := j - 1; p > i && b[p] == '\\'; p-- {
			n++
		}
		j++
		if n%2 == 0 {
			return j
		}
	}
}

// skipValue returns the index after the value starting at b[i].
func skipValue(b []byte, i int) int {
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				i = skipString(b, i)
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return i
	}
	for i < len(b) && b[i] != ',' && b[i] != '}' && b[i] != ']' && b[i] != ' ' && b[i] != '\n' && b[i] != '\r' && b[i] != '\t' {
		i++
	}
	return i
}

// eachMember calls fn for every member of the object at b (validated JSON,
// no surrounding space); key is the unescaped key.
func eachMember(b []byte, fn func(key []byte, val []byte) error) error {
	if len(b) == 0 || b[0] != '{' {
		return errNotValidated
	}
	i := skipWS(b, 1)
	for i < len(b) && b[i] != '}' {
		ks := i
		i = skipString(b, i)
		key := b[ks+1 : i-1]
		if bytes.IndexByte(key, '\\') >= 0 {
			var s string
			if err := json.Unmarshal(b[ks:i], &s); err != nil {
				return err
			}
			key = []byte(s)
		}
		i = skipWS(b, i)
		i = skipWS(b, i+1) // ':'
		vs := i
		i = skipValue(b, i)
		if err := fn(key, b[vs:i]); err != nil {
			return err
		}
		i = skipWS(b, i)
		if i < len(b) && b[i] == ',' {
			i = skipWS(b, i+1)
		}
	}
	return nil
}

// eachElement calls fn for every element of the array at b.
func eachElement(b []byte, fn func(val []byte) error) error {
	if len(b) == 0 || b[0] != '[' {
		return errNotValidated
	}
	i := skipWS(b, 1)
	for i < len(b) && b[i] != ']' {
		vs := i
		i = skipValue(b, i)
		if err := fn(b[vs:i]); err != nil {
			return err
		}
		i = skipWS(b, i)
		if i < len(b) && b[i] == ',' {
			i = skipWS(b, i+1)
		}
	}
	return nil
}

// field reports whether key selects the Go field with JSON name name.
func field(key []byte, name string) bool {
	return string(key) == name || bytes.EqualFold(key, []byte(name))
}

func isNull(v []byte) bool { return len(v) == 4 && string(v) == "null" }

// setString decodes a string value into dst (null leaves dst unchanged,
// as encoding/json does).
func setString(dst *string, v []byte, name string) error {
	if isNull(v) {
		return nil
	}
	if len(v) < 2 || v[0] != '"' {
		return fmt.Errorf("json: cannot unmarshal %s into field %s of type string", kindOf(v), name)
	}
	inner := v[1 : len(v)-1]
	if bytes.IndexByte(inner, '\\') < 0 && utf8.Valid(inner) {
		*dst = string(inner)
		return nil
	}
	*dst = unquoteValid(inner)
	return nil
}

// unquoteValid decodes the inside of a validated JSON string literal the
// way encoding/json does (invalid UTF-8 and lone surrogates become U+FFFD).
func unquoteValid(s []byte) string {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); {
		c := s[i]
		if c == '\\' {
			i++
			switch s[i] {
			case 'n':
				out = append(out, '\n')
			case 't':
				out = append(out, '\t')
			case 'r':
				out = append(out, '\r')
			case 'b':
				out = append(out, '\b')
			case 'f':
				out = append(out, '\f')
			case 'u':
				r := hex4(s[i+1:])
				i += 5
				if utf16.IsSurrogate(r) {
					r2 := rune(-1)
					if i+6 <= len(s) && s[i] == '\\' && s[i+1] == 'u' {
						r2 = hex4(s[i+2:])
					}
					if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
						i += 6
						r = dec
					} else {
						r = utf8.RuneError
					}
				}
				out = utf8.AppendRune(out, r)
				continue
			default: // " \\ /
				out = append(out, s[i])
			}
			i++
			continue
		}
		if c < utf8.RuneSelf {
			out = append(out, c)
			i++
			continue
		}
		r, size := utf8.DecodeRune(s[i:])
		if r == utf8.RuneError && size == 1 {
			out = utf8.AppendRune(out, utf8.RuneError)
		} else {
			out = append(out, s[i:i+size]...)
		}
		i += size
	}
	return string(out)
}

func hex4(b []byte) rune {
	var r rune
	for _, c := range b[:4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			c = c - 'A' + 10
		}
		r = r<<4 | rune(c)
	}
	return r
}

func kindOf(v []byte) string {
	switch v[0] {
	case '{':
		return "object"
	case '[':
		return "array"
	case 't', 'f':
		return "bool"
	case '"':
		return "string"
	}
	return "number"
}

// fastBlocks is blocks() for content inside a validated body.
func fastBlocks(raw json.RawMessage) ([]anthBlock, error) {
	raw = trimSpace(raw)
	if len(raw) == 0 || isNull(raw) {
		return nil, nil
	}
	switch raw[0] {
	case '"':
		var s string
		if err := setString(&s, raw, "content"); err != nil {
			return nil, err
		}
		return []anthBlock{{Type: "text", Text: s}}, nil
	case '[':
	default:
		return nil, fmt.Errorf("json: cannot unmarshal %s into Go value of type []translate.anthBlock", kindOf(raw))
	}
	bs := make([]anthBlock, 0, 4)
	err := eachElement(raw, func(v []byte) error {
		var b anthBlock
		if isNull(v) {
			bs = append(bs, b)
			return nil
		}
		if v[0] != '{' {
			return fmt.Errorf("json: cannot unmarshal %s into Go value of type translate.anthBlock", kindOf(v))
		}
		err := eachMember(v, func(k, v []byte) error {
			switch {
			case field(k, "type"):
				return setString(&b.Type, v, "type")
			case field(k, "text"):
				return setString(&b.Text, v, "text")
			case field(k, "thinking"):
				return setString(&b.Thinking, v, "thinking")
			case field(k, "signature"):
				return setString(&b.Signature, v, "signature")
			case field(k, "data"):
				return setString(&b.Data, v, "data")
			case field(k, "id"):
				return setString(&b.ID, v, "id")
			case field(k, "name"):
				return setString(&b.Name, v, "name")
			case field(k, "tool_use_id"):
				return setString(&b.ToolUseID, v, "tool_use_id")
			case field(k, "input"):
				b.Input = v
			case field(k, "content"):
				b.Content = v
			case field(k, "is_error"):
				switch string(v) {
				case "true":
					b.IsError = true
				case "false":
					b.IsError = false
				case "null":
				default:
					return fmt.Errorf("json: cannot unmarshal %s into field is_error of type bool", kindOf(v))
				}
			case field(k, "source"):
				return json.Unmarshal(v, &b.Source)
			}
			return nil
		})
		bs = append(bs, b)
		return err
	})
	if err != nil {
		return nil, err
	}
	return bs, nil
}

// decodeAnthRequestFast decodes an Anthropic request: the body is
// validated once, "messages" is split by hand (contents stay raw for
// fastBlocks) and the small remaining members go through encoding/json.
func decodeAnthRequestFast(body []byte, req *anthRequest) error {
	if !json.Valid(body) {
		return unmarshal(body, req) // the precise error
	}
	b := trimSpace(body)
	if b[0] != '{' {
		return unmarshal(body, req)
	}
	rest := make([]byte, 0, 4096)
	rest = append(rest, '{')
	var msgs []byte
	err := eachMember(b, func(k, v []byte) error {
		if field(k, "messages") {
			msgs = v
			return nil
		}
		if len(rest) > 1 {
			rest = append(rest, ',')
		}
		rest = appendString(rest, string(k))
		rest = append(rest, ':')
		rest = append(rest, v...)
		return nil
	})
	if err != nil {
		return err
	}
	rest = append(rest, '}')
	if err := json.Unmarshal(rest, req); err != nil {
		return err
	}
	req.Messages = nil
	if msgs == nil || isNull(msgs) {
		return nil
	}
	if msgs[0] != '[' {
		return fmt.Errorf("json: cannot unmarshal %s into field messages", kindOf(msgs))
	}
	req.Messages = make([]anthMessage, 0, 64)
	return eachElement(msgs, func(v []byte) error {
		var m anthMessage
		if !isNull(v) {
			if v[0] != '{' {
				return fmt.Errorf("json: cannot unmarshal %s into Go value of type translate.anthMessage", kindOf(v))
			}
			if err := eachMember(v, func(k, v []byte) error {
				switch {
				case field(k, "role"):
					return setString(&m.Role, v, "role")
				case field(k, "content"):
					m.Content = v
				}
				return nil
			}); err != nil {
				return err
			}
		}
		req.Messages = append(req.Messages, m)
		return nil
	})
}
