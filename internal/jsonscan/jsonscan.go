// Package jsonscan is the gateway's hot-path JSON reading: it finds (and
// rewrites) the top-level "model" of a request or answer and detects
// "stream" without decoding a body that is only forwarded. It is the one
// place in FlowGate that reads JSON by hand; everything else decodes
// through a JSON library. FuzzScanMatchesEncodingJSON checks it against
// encoding/json.
package jsonscan

import (
	"bytes"
	"encoding/json"
	"errors"
	"unicode/utf8"

	segjson "github.com/segmentio/encoding/json"
)

// BodyInfo is what the hot path needs from a request body without decoding
// it: the top-level "model" value (and where it sits) and the "stream" flag.
type BodyInfo struct {
	// Model is the decoded top-level "model" string; empty if absent.
	Model string
	// HasModel reports that a top-level "model" string was found.
	HasModel bool
	// ModelStart and ModelEnd delimit the model value in the body, quotes included.
	ModelStart, ModelEnd int
	// Stream is true when the top-level "stream" is the literal true.
	Stream bool
	// Metadata and CacheKey are the raw top-level "metadata" object
	// (Anthropic Messages) and "prompt_cache_key" string (Responses, Chat),
	// quotes and braces included; nil when absent. They are sub-slices of
	// the body: the session a request belongs to is read from them.
	Metadata, CacheKey []byte
}

// ErrNotObject means the body is not a JSON object.
var ErrNotObject = errors.New("request body is not a JSON object")

var errSyntax = errors.New("request body is not valid JSON")

// ScanBody walks the top level of a JSON object once, skipping nested values
// without decoding them, and reports the model and stream fields. It does
// not validate nested values fully; the upstream does that.
func ScanBody(b []byte) (BodyInfo, error) { return scanBody(b, true) }

// ScanResponse is ScanBody for a body that is only forwarded: Model is left
// empty (HasModel, ModelStart and ModelEnd are set), so nothing is
// allocated.
func ScanResponse(b []byte) (BodyInfo, error) { return scanBody(b, false) }

func scanBody(b []byte, decodeModel bool) (BodyInfo, error) {
	var info BodyInfo
	i := skipWS(b, 0)
	if i >= len(b) || b[i] != '{' {
		return info, ErrNotObject
	}
	i++
	for {
		i = skipWS(b, i)
		if i >= len(b) {
			return info, errSyntax
		}
		if b[i] == '}' {
			return info, nil
		}
		if b[i] != '"' {
			return info, errSyntax
		}
		ks := i
		ke, ok := skipString(b, i)
		if !ok {
			return info, errSyntax
		}
		key := b[ks+1 : ke-1]
		i = skipWS(b, ke)
		if i >= len(b) || b[i] != ':' {
			return info, errSyntax
		}
		i = skipWS(b, i+1)
		vs := i
		ve, ok := skipValue(b, i)
		if !ok {
			return info, errSyntax
		}
		switch string(key) { // no allocation: compiler optimises string(bytes) in switch
		case "model":
			info.HasModel, info.Model = false, "" // a later duplicate wins, as in decoders
			if b[vs] == '"' {
				info.HasModel = true
				info.ModelStart, info.ModelEnd = vs, ve
				if decodeModel {
					m, ok := decodeString(b[vs:ve])
					if !ok {
						return info, errSyntax
					}
					info.Model = m
				}
			}
		case "stream":
			info.Stream = ve-vs == 4 && string(b[vs:ve]) == "true"
		case "metadata":
			info.Metadata = nil
			if b[vs] == '{' {
				info.Metadata = b[vs:ve:ve]
			}
		case "prompt_cache_key":
			info.CacheKey = nil
			if b[vs] == '"' {
				info.CacheKey = b[vs:ve:ve]
			}
		}
		i = skipWS(b, ve)
		if i >= len(b) {
			return info, errSyntax
		}
		switch b[i] {
		case ',':
			i++
		case '}':
			return info, nil
		default:
			return info, errSyntax
		}
	}
}

// decodeString decodes a JSON string literal (quotes included).
func decodeString(q []byte) (string, bool) {
	raw := q[1 : len(q)-1]
	if bytes.IndexByte(raw, '\\') < 0 && utf8.Valid(raw) {
		return string(raw), true
	}
	var m string
	if err := json.Unmarshal(q, &m); err != nil {
		return "", false
	}
	return m, true
}

// RewriteParts returns the body as three slices whose concatenation is the
// body with the model value replaced by modelJSON (a JSON string literal).
// Nothing is copied; when the body has no model, the model is inserted.
func RewriteParts(b []byte, info BodyInfo, modelJSON []byte) (head, mid, tail []byte) {
	if info.HasModel {
		return b[:info.ModelStart], modelJSON, b[info.ModelEnd:]
	}
	i := bytes.IndexByte(b, '{') + 1
	mid = make([]byte, 0, len(modelJSON)+10)
	mid = append(mid, `"model":`...)
	mid = append(mid, modelJSON...)
	if j := skipWS(b, i); j < len(b) && b[j] != '}' {
		mid = append(mid, ',')
	}
	return b[:i], mid, b[i:]
}

// AppendRewritten appends the rewritten body to dst.
func AppendRewritten(dst, b []byte, info BodyInfo, modelJSON []byte) []byte {
	h, m, t := RewriteParts(b, info, modelJSON)
	dst = append(dst, h...)
	dst = append(dst, m...)
	return append(dst, t...)
}

func skipWS(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\r', '\n':
			i++
		default:
			return i
		}
	}
	return i
}

// skipString returns the index just past the closing quote of the string
// starting at b[i] == '"'.
func skipString(b []byte, i int) (int, bool) {
	i++
	for {
		j := bytes.IndexByte(b[i:], '"')
		if j < 0 {
			return len(b), false
		}
		i += j
		// count preceding backslashes
		n := 0
		for k := i - 1; k >= 0 && b[k] == '\\'; k-- {
			n++
		}
		i++
		if n%2 == 0 {
			return i, true
		}
	}
}

var structural = [256]bool{'"': true, '{': true, '}': true, '[': true, ']': true}

func skipValue(b []byte, i int) (int, bool) {
	if i >= len(b) {
		return i, false
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for i < len(b) {
			c := b[i]
			if !structural[c] {
				i++
				continue
			}
			switch c {
			case '"':
				var ok bool
				if i, ok = skipString(b, i); !ok {
					return i, false
				}
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1, true
				}
			}
			i++
		}
		return i, false
	default:
		s := i
		for i < len(b) {
			switch b[i] {
			case ',', '}', ']', ' ', '\t', '\r', '\n':
				return i, i > s
			}
			i++
		}
		return i, i > s
	}
}

// AppendString appends s as a JSON string literal the way FlowGate's
// translators write strings (the same library call): invalid UTF-8 becomes
// U+FFFD, U+2028 and U+2029 are escaped, <, > and & are not.
func AppendString(dst []byte, s string) []byte { return segjson.AppendEscape(dst, s, 0) }

// FindModel locates the "model" string value of the JSON object b without
// decoding it: the top-level one, or else the one inside the top-level
// object named nested ("message" for Anthropic message_start, "response"
// for Responses events; "" for none). start and end delimit the value,
// quotes included. It stops at the first match, so a model that comes
// before a large field costs nothing for the rest.
func FindModel(b []byte, nested string) (start, end int, ok bool) {
	start, end, _, ok = findModel(b, skipWS(b, 0), nested)
	return start, end, ok
}

// findModel scans the object at b[i] == '{'. It returns the model span if
// found; else next is the index just past the object, or -1 if b is not a
// well-formed object there.
func findModel(b []byte, i int, nested string) (start, end, next int, ok bool) {
	if i >= len(b) || b[i] != '{' {
		return 0, 0, -1, false
	}
	i++
	for {
		i = skipWS(b, i)
		if i < len(b) && b[i] == '}' {
			return 0, 0, i + 1, false
		}
		if i >= len(b) || b[i] != '"' {
			return 0, 0, -1, false
		}
		ke, sok := skipString(b, i)
		if !sok {
			return 0, 0, -1, false
		}
		key := b[i+1 : ke-1]
		i = skipWS(b, ke)
		if i >= len(b) || b[i] != ':' {
			return 0, 0, -1, false
		}
		vs := skipWS(b, i+1)
		var ve int
		switch {
		case string(key) == "model" && vs < len(b) && b[vs] == '"':
			if ve, sok = skipString(b, vs); sok {
				return vs, ve, ve, true
			}
			return 0, 0, -1, false
		case nested != "" && string(key) == nested && vs < len(b) && b[vs] == '{':
			var found bool
			if start, end, ve, found = findModel(b, vs, ""); found || ve < 0 {
				return start, end, ve, found
			}
		default:
			if ve, sok = skipValue(b, vs); !sok {
				return 0, 0, -1, false
			}
		}
		i = skipWS(b, ve)
		if i < len(b) && b[i] == ',' {
			i++
			continue
		}
		if i < len(b) && b[i] == '}' {
			return 0, 0, i + 1, false
		}
		return 0, 0, -1, false
	}
}

// Strings calls fn for every string literal of the JSON text b, keys and
// values, in order: raw is the literal's text between the quotes (escapes
// not decoded) and key reports that a ':' follows it. It reads nothing
// else and returns false when a string is not terminated. Token estimates
// use it to weigh a large body in one pass without decoding it.
func Strings(b []byte, fn func(raw []byte, key bool)) bool {
	for i := 0; i < len(b); {
		j := bytes.IndexByte(b[i:], '"')
		if j < 0 {
			return true
		}
		start := i + j + 1
		end, ok := skipString(b, start-1)
		if !ok {
			return false
		}
		k := skipWS(b, end)
		fn(b[start:end-1], k < len(b) && b[k] == ':')
		i = end
	}
	return true
}
