package runtime

import (
	"strconv"
	"unicode/utf8"
)

// MaxOutsideString is how many bytes of a string that came from outside
// (a client's model name, a header, an upstream message) may reach a log
// line or an error message.
const MaxOutsideString = 200

// Clip returns s unchanged when it is at most MaxOutsideString bytes, else
// its first MaxOutsideString bytes (cut on a rune boundary), an ellipsis and
// the original length: `abc… (8388608 bytes)`. Every outside string passes
// through it (or Quote) before it is logged or put in an error message, so
// that a hostile client cannot grow the log or an answer by sending a huge
// value.
func Clip(s string) string {
	head, clipped := clipHead(s, MaxOutsideString)
	if !clipped {
		return s
	}
	return head + "… (" + strconv.Itoa(len(s)) + " bytes)"
}

// Quote is Clip for messages that quote the value: the Go-quoted head,
// with the original length after the closing quote when it was cut:
// `"abc…" (8388608 bytes)`.
func Quote(s string) string {
	head, clipped := clipHead(s, MaxOutsideString)
	if !clipped {
		return strconv.Quote(s)
	}
	return strconv.Quote(head+"…") + " (" + strconv.Itoa(len(s)) + " bytes)"
}

// ClipTo is Clip with another limit, for longer excerpts such as an
// upstream error body.
func ClipTo(s string, n int) string {
	head, clipped := clipHead(s, n)
	if !clipped {
		return s
	}
	return head + "… (" + strconv.Itoa(len(s)) + " bytes)"
}

// clipHead returns at most n bytes of s, never cutting a UTF-8 sequence.
func clipHead(s string, n int) (string, bool) {
	if len(s) <= n {
		return s, false
	}
	if n < 0 {
		n = 0
	}
	cut := n
	for cut > 0 && cut > n-utf8.UTFMax && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut], true
}
