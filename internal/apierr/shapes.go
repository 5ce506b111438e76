package apierr

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/flowgate/flowgate/internal/jsonscan"
	"github.com/flowgate/flowgate/internal/sse"
)

// UpstreamError is an upstream failure in protocol-neutral form.
type UpstreamError struct {
	// Status is the HTTP status to report (0 inside a stream).
	Status int
	// Type is the upstream's error type, if any ("rate_limit_error").
	Type string
	// Code is the upstream's error code as a string, if any.
	Code string
	// Message is a human readable message.
	Message string
}

func (e *UpstreamError) Error() string {
	if e.Status != 0 {
		return fmt.Sprintf("upstream error %d: %s", e.Status, e.Message)
	}
	return "upstream error: " + e.Message
}

// Wire is the "error" object of OpenAI and Anthropic error bodies and
// stream events.
type Wire struct {
	Message string          `json:"message"`
	Type    string          `json:"type"`
	Code    json.RawMessage `json:"code"`
}

// Err is w as an UpstreamError with status (a code that is a number or a
// string becomes its text).
func (w *Wire) Err(status int) *UpstreamError {
	return &UpstreamError{Status: status, Type: w.Type, Code: scalar(w.Code), Message: w.Message}
}

// Failure is w (nil: no error object) as an UpstreamError with status.
// Clients show the message, so an empty one becomes fallback, naming the
// error's code or type when it has one.
func (w *Wire) Failure(status int, fallback string) *UpstreamError {
	e := &UpstreamError{Status: status}
	if w != nil {
		e = w.Err(status)
	}
	if e.Message == "" {
		e.Message = fallback
		if c := cmp.Or(e.Code, e.Type); c != "" {
			e.Message += " (" + c + ")"
		}
	}
	return e
}

// ParseUpstreamError reads an upstream error body in OpenAI shape
// ({"error":{message,type,code}}), Anthropic shape ({"type":"error",
// "error":{type,message}}), or anything else (the text, shortened, becomes
// the message).
func ParseUpstreamError(status int, body []byte) *UpstreamError {
	e := &UpstreamError{Status: status}
	var w struct {
		Error   json.RawMessage `json:"error"`
		Message string          `json:"message"`
		Detail  json.RawMessage `json:"detail"`
	}
	if json.Unmarshal(body, &w) == nil {
		var we Wire
		var s string
		switch {
		case len(w.Error) > 0 && json.Unmarshal(w.Error, &we) == nil:
			e = we.Err(status)
		case len(w.Error) > 0 && json.Unmarshal(w.Error, &s) == nil:
			e.Message = s
		case w.Message != "":
			e.Message = w.Message
		case len(w.Detail) > 0:
			e.Message = scalar(w.Detail)
		}
	}
	if e.Message == "" {
		e.Message = strings.TrimSpace(TruncateUTF8(string(body), 500))
	}
	if e.Message == "" {
		e.Message = "upstream returned status " + strconv.Itoa(status)
	}
	return e
}

// scalar is a JSON string's text, another value's JSON text, or "" for
// none or null.
func scalar(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	return string(raw)
}

// TruncateUTF8 shortens s to at most n bytes without splitting a
// character.
func TruncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// AsUpstreamError converts any error into an UpstreamError.
func AsUpstreamError(err error) *UpstreamError {
	var ue *UpstreamError
	if errors.As(err, &ue) {
		return ue
	}
	if err == nil {
		return &UpstreamError{Message: "unknown error"}
	}
	return &UpstreamError{Status: 502, Message: err.Error()}
}

// ErrorJSON is e as an error body in the client's shape: Anthropic's
// {"type":"error","error":{type,message}} when anthropic, else OpenAI's
// {"error":{message,type,param,code}} (Chat and Responses clients; code is
// the upstream's, else the status). A type that is not the shape's own
// comes from the error table.
func ErrorJSON(anthropic bool, e *UpstreamError) []byte {
	if anthropic {
		t := e.Type
		if !IsAnthropic(t) {
			t = For(e.Status).Anthropic
		}
		b := append([]byte(nil), `{"type":"error","error":{"type":`...)
		b = jsonscan.AppendString(b, t)
		b = append(b, `,"message":`...)
		b = jsonscan.AppendString(b, e.Message)
		return append(b, "}}"...)
	}
	t := e.Type
	if t == "" {
		t = For(e.Status).Chat
	}
	code := e.Code
	if code == "" && e.Status != 0 {
		code = strconv.Itoa(e.Status)
	}
	b := append([]byte(nil), `{"error":{"message":`...)
	b = jsonscan.AppendString(b, e.Message)
	b = append(b, `,"type":`...)
	b = jsonscan.AppendString(b, t)
	b = append(b, `,"param":null,"code":`...)
	if code == "" {
		b = append(b, "null"...)
	} else {
		b = jsonscan.AppendString(b, code)
	}
	return append(b, "}}"...)
}

// AnthropicErrorFrame is the in-stream error event for Messages clients:
// "event: error" with {"type":"error","error":{type,message}}.
func AnthropicErrorFrame(err error) sse.Frame {
	return sse.Frame{Event: "error", Data: ErrorJSON(true, AsUpstreamError(err))}
}

// ChatErrorFrame is the in-stream error for Chat clients: a data-only frame
// {"error":{...}} (the OpenAI convention); the gateway then ends the stream
// without [DONE].
func ChatErrorFrame(err error) sse.Frame {
	return sse.Frame{Data: ErrorJSON(false, AsUpstreamError(err))}
}

// ResponsesErrorFrame is a standalone Responses "error" event
// ({"type":"error","code","message","param","sequence_number"}) for a
// failure before any response.created was sent. Streams that already
// started end with response.failed instead.
func ResponsesErrorFrame(err error, seq int) sse.Frame {
	e := AsUpstreamError(err)
	code := e.Code
	if code == "" {
		code = For(e.Status).Responses
	}
	b := append([]byte(nil), `{"type":"error","code":`...)
	b = jsonscan.AppendString(b, code)
	b = append(b, `,"message":`...)
	b = jsonscan.AppendString(b, e.Message)
	b = append(b, `,"param":null,"sequence_number":`...)
	b = strconv.AppendInt(b, int64(seq), 10)
	return sse.Frame{Event: "error", Data: append(b, '}')}
}
