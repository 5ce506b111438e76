package clients

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/flowgate/flowgate/internal/jsonscan"
	"github.com/tidwall/gjson"
)

// jnode is a JSON value that remembers key order and the exact bytes of
// scalars and keys, so that re-encoding a settings file changes only what was
// edited (plus whitespace).
type jnode struct {
	kind  byte     // '{', '[' or 's' (scalar)
	raw   []byte   // scalar bytes exactly as in the input
	keys  [][]byte // object keys, raw (quoted) bytes
	vals  []*jnode // object values, parallel to keys
	items []*jnode // array items
	// start and end are the value's byte offsets in the parsed input.
	start, end int
}

// parseOrdered reads data, which must already be valid JSON (checked with
// json.Unmarshal for a good error message), keeping key order, raw scalars
// and every value's offsets.
func parseOrdered(data []byte) (*jnode, error) {
	root := gjson.ParseBytes(data)
	if !root.Exists() {
		return nil, errors.New("no JSON value")
	}
	n := orderedNode(root)
	n.end = len(bytes.TrimRight(data, " \t\r\n")) // the root's Raw runs to the end of data
	return n, nil
}

func orderedNode(v gjson.Result) *jnode {
	n := &jnode{kind: 's', raw: []byte(v.Raw), start: v.Index, end: v.Index + len(v.Raw)}
	switch {
	case v.IsObject():
		n.kind, n.raw = '{', nil
		v.ForEach(func(k, val gjson.Result) bool {
			n.keys, n.vals = append(n.keys, []byte(k.Raw)), append(n.vals, orderedNode(val))
			return true
		})
	case v.IsArray():
		n.kind, n.raw = '[', nil
		v.ForEach(func(_, val gjson.Result) bool {
			n.items = append(n.items, orderedNode(val))
			return true
		})
	}
	return n
}

// get returns the value of the last occurrence of key (the one JSON decoders
// honour) and its index, or nil, -1.
func (n *jnode) get(key string) (*jnode, int) {
	for i := len(n.keys) - 1; i >= 0; i-- {
		var k string
		if json.Unmarshal(n.keys[i], &k) == nil && k == key {
			return n.vals[i], i
		}
	}
	return nil, -1
}

// set replaces the value of key in place, or appends key at the end.
func (n *jnode) set(key string, v *jnode) {
	if _, i := n.get(key); i >= 0 {
		n.vals[i] = v
		return
	}
	n.keys = append(n.keys, jsonString(key))
	n.vals = append(n.vals, v)
}

// stringValue returns the decoded string and true when n is a JSON string.
func (n *jnode) stringValue() (string, bool) {
	if n == nil || n.kind != 's' || len(n.raw) == 0 || n.raw[0] != '"' {
		return "", false
	}
	var s string
	if json.Unmarshal(n.raw, &s) != nil {
		return "", false
	}
	return s, true
}

func jsonString(s string) []byte { return jsonscan.AppendString(nil, s) }

func jstr(s string) *jnode { return &jnode{kind: 's', raw: jsonString(s)} }

// encode writes n with one value per line, indented by unit.
func (n *jnode) encode(buf *bytes.Buffer, unit, prefix string) {
	switch n.kind {
	case '{':
		if len(n.keys) == 0 {
			buf.WriteString("{}")
			return
		}
		buf.WriteString("{\n")
		for i, k := range n.keys {
			buf.WriteString(prefix + unit)
			buf.Write(k)
			buf.WriteString(": ")
			n.vals[i].encode(buf, unit, prefix+unit)
			if i < len(n.keys)-1 {
				buf.WriteByte(',')
			}
			buf.WriteByte('\n')
		}
		buf.WriteString(prefix + "}")
	case '[':
		if len(n.items) == 0 {
			buf.WriteString("[]")
			return
		}
		buf.WriteString("[\n")
		for i, v := range n.items {
			buf.WriteString(prefix + unit)
			v.encode(buf, unit, prefix+unit)
			if i < len(n.items)-1 {
				buf.WriteByte(',')
			}
			buf.WriteByte('\n')
		}
		buf.WriteString(prefix + "]")
	default:
		buf.Write(n.raw)
	}
}

// detectIndent returns the whitespace of the first indented line, or two
// spaces.
func detectIndent(data []byte) string {
	for _, line := range strings.Split(string(data), "\n") {
		trimmed := strings.TrimLeft(line, " \t")
		if trimmed != "" && len(trimmed) < len(line) {
			return line[:len(line)-len(trimmed)]
		}
	}
	return "  "
}

// jsonError turns a json.Unmarshal error into one naming the file, line and
// column.
func jsonError(path string, data []byte, err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	off := int64(-1)
	switch {
	case errors.As(err, &se):
		off = se.Offset
	case errors.As(err, &te):
		off = te.Offset
	}
	if off >= 0 {
		line, col := 1, 1
		for i := 0; i < int(off) && i < len(data); i++ {
			if data[i] == '\n' {
				line, col = line+1, 1
			} else {
				col++
			}
		}
		return fmt.Errorf("%s is not valid JSON: line %d, column %d: %v; fix it (or move it away) and run apply again", path, line, col, err)
	}
	return fmt.Errorf("%s is not valid JSON: %v; fix it (or move it away) and run apply again", path, err)
}
