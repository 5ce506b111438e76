package translate

import (
	"bytes"
	"encoding/binary"
	"strings"
	"unicode/utf8"
	"unsafe"
)

// A validating single-pass JSON scanner for the hot request paths. Unlike
// fastjson.go (which walks a body json.Valid already accepted), every
// function here checks the grammar json.Valid checks while it finds value
// boundaries, so a translation reads its input once. Every function returns
// -1 for anything it does not accept; callers then fall back to the
// encoding/json path, which produces the precise error. The scanner may be
// stricter than json.Valid (nesting deeper than scanMaxDepth), never laxer.

// scanMaxDepth bounds nesting; deeper bodies take the slow path (which
// applies encoding/json's own limit).
const scanMaxDepth = 256

// sspan is a JSON string literal found by scanString: s is the text between
// the quotes.
type sspan struct {
	s []byte
	// plain: no escapes and valid UTF-8, so the decoded value is s itself.
	plain bool
	// canon: s is exactly what appendString writes for the decoded value,
	// so the literal can be copied verbatim into an output we encode.
	canon bool
}

// str returns the decoded value (as encoding/json decodes it); the zero
// sspan (an absent or null member) is "".
func (s sspan) str() string {
	if s.plain || len(s.s) == 0 {
		return string(s.s)
	}
	return unquoteValid(s.s)
}

// is reports whether the decoded value equals v.
func (s sspan) is(v string) bool {
	if s.plain || len(s.s) == 0 {
		return string(s.s) == v
	}
	return unquoteValid(s.s) == v
}

func bytesString(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// appendSpan appends the inside of the JSON literal appendString would
// write for s's decoded value: verbatim when canonical.
func appendSpan(dst []byte, s sspan) []byte {
	switch {
	case s.canon || len(s.s) == 0:
		return append(dst, s.s...)
	case s.plain:
		return appendStringInner(dst, bytesString(s.s))
	}
	return appendStringInner(dst, unquoteValid(s.s))
}

// appendQSpan appends s as a JSON string literal (appendString of its value).
func appendQSpan(dst []byte, s sspan) []byte {
	dst = append(dst, '"')
	dst = appendSpan(dst, s)
	return append(dst, '"')
}

// spanHasPrefix reports whether s's decoded value starts with p (ASCII
// without characters JSON escapes).
func spanHasPrefix(s sspan, p string) bool {
	n := min(len(s.s), len(p))
	k := bytes.IndexByte(s.s[:n], '\\')
	if k < 0 {
		// Up to len(p) bytes of s are raw: ASCII there decodes to itself
		// and anything else cannot match ASCII p.
		return bytes.HasPrefix(s.s, []byte(p))
	}
	if string(s.s[:k]) != p[:k] {
		return false
	}
	return strings.HasPrefix(unquoteValid(s.s), p)
}

const (
	swarLo = 0x0101010101010101
	swarHi = 0x8080808080808080
)

// swarSpecial is non-zero when one of the 8 bytes of x is a control
// character, '"', '\\' or non-ASCII.
func swarSpecial(x uint64) uint64 {
	lt := (x - swarLo*0x20) &^ x
	q := x ^ (swarLo * '"')
	q = (q - swarLo) &^ q
	bs := x ^ (swarLo * '\\')
	bs = (bs - swarLo) &^ bs
	return (lt | q | bs | x) & swarHi
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// scanString validates the string literal at b[i] (which is '"') and
// returns the index after it (-1 if invalid) and its span.
func scanString(b []byte, i int) (int, sspan) {
	start := i + 1
	plain, canon := true, true
	i++
	for {
		for i+8 <= len(b) && swarSpecial(binary.LittleEndian.Uint64(b[i:])) == 0 {
			i += 8
		}
		if i >= len(b) {
			return -1, sspan{}
		}
		c := b[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"':
				return i + 1, sspan{s: b[start:i], plain: plain, canon: canon}
			case c == '\\':
				plain = false
				if i+1 >= len(b) {
					return -1, sspan{}
				}
				switch b[i+1] {
				case '"', '\\', 'n', 'r', 't':
					i += 2
				case '/', 'b', 'f':
					canon = false
					i += 2
				case 'u':
					if i+6 > len(b) {
						return -1, sspan{}
					}
					h := b[i+2 : i+6]
					if !isHex(h[0]) || !isHex(h[1]) || !isHex(h[2]) || !isHex(h[3]) {
						return -1, sspan{}
					}
					if canon && !canonEscape(h) {
						canon = false
					}
					i += 6
				default:
					return -1, sspan{}
				}
			case c < 0x20:
				return -1, sspan{}
			default:
				i++
			}
			continue
		}
		r, size := utf8.DecodeRune(b[i:])
		if size == 1 {
			plain, canon = false, false
		} else if r == '\u2028' || r == '\u2029' {
			canon = false
		}
		i += size
	}
}

// canonEscape reports whether \uXXXX (h = XXXX) is how appendString writes
// the character: control characters other than \n \r \t, and U+2028/9.
func canonEscape(h []byte) bool {
	if h[0] == '2' && h[1] == '0' && h[2] == '2' && (h[3] == '8' || h[3] == '9') {
		return true
	}
	if h[0] != '0' || h[1] != '0' || h[2] != '0' && h[2] != '1' {
		return false
	}
	c := h[3]
	if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
		return false
	}
	return !(h[2] == '0' && (c == '9' || c == 'a' || c == 'd'))
}

// scanNumber validates the number at b[i] and returns the index after it
// (-1 for none, also when i is at the end: a chunk cut after `"created":`).
func scanNumber(b []byte, i int) int {
	if i < len(b) && b[i] == '-' {
		i++
	}
	if i >= len(b) {
		return -1
	}
	switch c := b[i]; {
	case c == '0':
		i++
	case c >= '1' && c <= '9':
		for i++; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
		}
	default:
		return -1
	}
	if i < len(b) && b[i] == '.' {
		i++
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			return -1
		}
		for i++; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			return -1
		}
		for i++; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
		}
	}
	return i
}

// scanLiteral checks that b[i:] starts with lit and returns the index after.
func scanLiteral(b []byte, i int, lit string) int {
	if len(b)-i < len(lit) || string(b[i:i+len(lit)]) != lit {
		return -1
	}
	return i + len(lit)
}

// scanValue validates the value at b[i] and returns the index after it.
func scanValue(b []byte, i, depth int) int {
	if i >= len(b) {
		return -1
	}
	switch c := b[i]; c {
	case '"':
		e, _ := scanString(b, i)
		return e
	case '{':
		if depth >= scanMaxDepth {
			return -1
		}
		i = skipWS(b, i+1)
		if i < len(b) && b[i] == '}' {
			return i + 1
		}
		for {
			if i >= len(b) || b[i] != '"' {
				return -1
			}
			if i, _ = scanString(b, i); i < 0 {
				return -1
			}
			i = skipWS(b, i)
			if i >= len(b) || b[i] != ':' {
				return -1
			}
			if i = scanValue(b, skipWS(b, i+1), depth+1); i < 0 {
				return -1
			}
			var more bool
			if i, more = scanNext(b, i, '}'); !more {
				return i
			}
		}
	case '[':
		if depth >= scanMaxDepth {
			return -1
		}
		i = skipWS(b, i+1)
		if i < len(b) && b[i] == ']' {
			return i + 1
		}
		for {
			if i = scanValue(b, i, depth+1); i < 0 {
				return -1
			}
			var more bool
			if i, more = scanNext(b, i, ']'); !more {
				return i
			}
		}
	case 't':
		return scanLiteral(b, i, "true")
	case 'f':
		return scanLiteral(b, i, "false")
	case 'n':
		return scanLiteral(b, i, "null")
	}
	return scanNumber(b, i)
}

// scanNext follows a member or element ending at i: it returns the start
// of the next one and true after a comma, or the index after the closing
// byte and false (-1, false if neither follows).
func scanNext(b []byte, i int, closing byte) (int, bool) {
	i = skipWS(b, i)
	if i >= len(b) {
		return -1, false
	}
	switch b[i] {
	case ',':
		return skipWS(b, i+1), true
	case closing:
		return i + 1, false
	}
	return -1, false
}

// scanKey reads the member key at b[i] and the colon after it; it returns
// the raw key and the start of the value. Keys with escapes or invalid
// UTF-8 are refused (-1): callers match names on raw bytes.
func scanKey(b []byte, i int) ([]byte, int) {
	if i >= len(b) || b[i] != '"' {
		return nil, -1
	}
	e, k := scanString(b, i)
	if e < 0 || !k.plain {
		return nil, -1
	}
	e = skipWS(b, e)
	if e >= len(b) || b[e] != ':' {
		return nil, -1
	}
	return k.s, skipWS(b, e+1)
}

// scanObjectStart returns the index of the first key of the object at b[i]
// (which must be '{'), or -1; empty reports "{}" (and i is then after it).
func scanObjectStart(b []byte, i int) (next int, empty bool) {
	if i >= len(b) || b[i] != '{' {
		return -1, false
	}
	i = skipWS(b, i+1)
	if i < len(b) && b[i] == '}' {
		return i + 1, true
	}
	return i, false
}

// scanArrayStart is scanObjectStart for arrays.
func scanArrayStart(b []byte, i int) (next int, empty bool) {
	if i >= len(b) || b[i] != '[' {
		return -1, false
	}
	i = skipWS(b, i+1)
	if i < len(b) && b[i] == ']' {
		return i + 1, true
	}
	return i, false
}

// scanMembers calls member for each member of the object at b[i] with
// its raw key and the start of its value. member returns the index after
// the value (-1 to fail) and the member's bit (0 where a key may repeat);
// a bit seen twice fails, like a duplicate key. It returns the index after
// the object, or -1.
func scanMembers(b []byte, i int, member func(key []byte, v int) (int, uint16)) int {
	i, empty := scanObjectStart(b, i)
	if i < 0 {
		return -1
	}
	var seen uint16
	for !empty {
		key, v := scanKey(b, i)
		if v < 0 {
			return -1
		}
		var bit uint16
		if i, bit = member(key, v); i < 0 || seen&bit != 0 {
			return -1
		}
		seen |= bit
		if i, empty = scanNext(b, i, '}'); i < 0 {
			return -1
		}
		empty = !empty
	}
	return i
}

// scanElems calls elem at each element of the array at b[v]; elem returns
// the index after the element, or -1 to fail. It returns the index after
// the array, or -1.
func scanElems(b []byte, v int, elem func(i int) int) int {
	i, empty := scanArrayStart(b, v)
	for i >= 0 && !empty {
		if i = elem(i); i < 0 {
			return -1
		}
		if i, empty = scanNext(b, i, ']'); i >= 0 {
			empty = !empty
		}
	}
	return i
}

// scanElemsOrNull is scanElems where null is no array.
func scanElemsOrNull(b []byte, v int, elem func(i int) int) int {
	if v < len(b) && b[v] == 'n' {
		return scanLiteral(b, v, "null")
	}
	return scanElems(b, v, elem)
}

// scanSlice decodes the array at b[v] into *dst with one per element, as
// encoding/json does: null leaves *dst alone, [] makes it empty, not nil.
func scanSlice[T any](b []byte, v int, dst *[]T, one func(b []byte, i int, t *T) int) int {
	if v < len(b) && b[v] == '[' {
		*dst = make([]T, 0, 1)
	}
	return scanElemsOrNull(b, v, func(i int) int {
		*dst = append(*dst, *new(T))
		return one(b, i, &(*dst)[len(*dst)-1])
	})
}

// scanBoolOrNull reads a bool member value: null is false.
func scanBoolOrNull(b []byte, i int) (int, bool) {
	switch {
	case i >= len(b):
		return -1, false
	case b[i] == 't':
		return scanLiteral(b, i, "true"), true
	case b[i] == 'f':
		return scanLiteral(b, i, "false"), false
	}
	return scanLiteral(b, i, "null"), false
}

// scanStringOrNull reads a string member value for a Go string field:
// null leaves it unset (as encoding/json does), other kinds are refused.
func scanStringOrNull(b []byte, i int) (int, sspan) {
	if i >= len(b) {
		return -1, sspan{}
	}
	switch b[i] {
	case '"':
		return scanString(b, i)
	case 'n':
		return scanLiteral(b, i, "null"), sspan{}
	}
	return -1, sspan{}
}

// foldsToAny reports whether key matches one of names the way
// encoding/json matches field names (exactly or case-insensitively).
func foldsToAny(key []byte, names []string) bool {
	for _, n := range names {
		if bytes.EqualFold(key, []byte(n)) {
			return true
		}
	}
	return false
}
