package translate

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	stdjson "encoding/json"
	"errors"
	"strconv"
	"strings"

	"github.com/flowgate/flowgate/internal/jsonscan"
	"github.com/segmentio/encoding/json"
)

// Every JSON value this package reads or writes goes through the helpers
// below and one library, github.com/segmentio/encoding/json: a drop-in for
// encoding/json (see FuzzJSONLibraryMatchesEncodingJSON) two to four times
// faster on long requests and streams (docs/performance.md).

// unmarshal decodes one JSON value into v like json.Unmarshal. A syntax
// error is reported in encoding/json's words: the library's own message
// quotes the input, which here is a client's or an upstream's text.
func unmarshal(data []byte, v any) error {
	err := json.Unmarshal(data, v)
	if se := (*json.SyntaxError)(nil); errors.As(err, &se) {
		if serr := stdjson.Unmarshal(data, new(stdjson.RawMessage)); serr != nil {
			return serr
		}
	}
	return err
}

// validJSON reports whether b is one JSON value.
func validJSON(b []byte) bool { return json.Valid(b) }

// appendJSON appends the encoding of v without HTML escaping (<, > and &
// stay as they are: prompts are full of tags). Raw messages are trusted:
// they were decoded by unmarshal or built here.
func appendJSON(dst []byte, v any) ([]byte, error) {
	return json.Append(dst, v, json.TrustRawMessage|json.SortMapKeys)
}

// marshal encodes v (see appendJSON).
func marshal(v any) ([]byte, error) { return appendJSON(nil, v) }

// mustJSON marshals v, which is always a value of this package's own types.
func mustJSON(v any) []byte {
	b, err := marshal(v)
	if err != nil {
		panic("translate: marshal: " + err.Error())
	}
	return b
}

// appendString appends s as a JSON string literal (jsonscan's, the one
// string encoder).
var appendString = jsonscan.AppendString

// jsonString returns s as a JSON string literal.
func jsonString(s string) json.RawMessage {
	return appendString(make([]byte, 0, len(s)+len(s)/16+2), s)
}

func appendInt(dst []byte, n int) []byte { return strconv.AppendInt(dst, int64(n), 10) }

func itoa(n int) string { return strconv.Itoa(n) }

// newID returns prefix + 24 random hex characters.
func newID(prefix string) string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

// convertID derives an id with prefix from an upstream's id: kept when it
// has the prefix already, else prefix + the id without from; a random id
// when there is none.
func convertID(upstream, prefix, from string) string {
	switch {
	case upstream == "":
		return newID(prefix)
	case strings.HasPrefix(upstream, prefix):
		return upstream
	}
	return prefix + strings.TrimPrefix(upstream, from)
}

// appendCompact appends the valid JSON text raw without insignificant
// whitespace.
func appendCompact(dst, raw []byte) []byte {
	buf := bytes.NewBuffer(dst)
	if json.Compact(buf, raw) != nil {
		return append(dst, raw...)
	}
	return buf.Bytes()
}

// validObject reports whether raw is a JSON object.
func validObject(raw []byte) bool {
	raw = trimSpace(raw)
	return len(raw) > 1 && raw[0] == '{' && validJSON(raw)
}

// trimSpace trims the whitespace around a JSON value.
var trimSpace = bytes.TrimSpace

// isNull reports whether raw is absent or JSON null.
func isNull(raw []byte) bool {
	raw = trimSpace(raw)
	return len(raw) == 0 || string(raw) == "null"
}

// stringOrList decodes raw, a JSON array of T or a string (read as the
// one element one(s)); null or nothing is an empty list.
func stringOrList[T any](raw []byte, one func(string) T) ([]T, error) {
	if raw = trimSpace(raw); isNull(raw) {
		return nil, nil
	}
	if raw[0] == '"' {
		var s string
		err := unmarshal(raw, &s)
		return []T{one(s)}, err
	}
	var list []T
	err := unmarshal(raw, &list)
	return list, err
}

// rawText decodes a JSON string; anything else gives "".
func rawText(raw json.RawMessage) string {
	raw = trimSpace(raw)
	if len(raw) == 0 || raw[0] != '"' {
		return ""
	}
	var s string
	_ = unmarshal(raw, &s)
	return s
}
