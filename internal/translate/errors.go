package translate

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/flowgate/flowgate/internal/apierr"
	"github.com/flowgate/flowgate/internal/sse"
)

// ErrUpstreamBody marks an upstream body that could not be parsed or was
// truncated. The gateway answers it with 502 (or an in-stream error event
// once the stream has started); it is never turned into an empty success.
var ErrUpstreamBody = errors.New("invalid upstream response")

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
	if unmarshal(body, &w) == nil {
		var we wireError
		var s string
		switch {
		case len(w.Error) > 0 && unmarshal(w.Error, &we) == nil:
			e.Message, e.Type, e.Code = we.Message, we.Type, rawScalar(we.Code)
		case len(w.Error) > 0 && unmarshal(w.Error, &s) == nil:
			e.Message = s
		case w.Message != "":
			e.Message = w.Message
		case len(w.Detail) > 0:
			e.Message = rawScalar(w.Detail)
		}
	}
	if e.Message == "" {
		e.Message = strings.TrimSpace(truncateUTF8(string(body), 500))
	}
	if e.Message == "" {
		e.Message = "upstream returned status " + strconv.Itoa(status)
	}
	return e
}

func rawScalar(raw json.RawMessage) string {
	raw = trimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	var s string
	if unmarshal(raw, &s) == nil {
		return s
	}
	return string(raw)
}

// asUpstreamError converts any error into an UpstreamError.
func asUpstreamError(err error) *UpstreamError {
	var ue *UpstreamError
	if errors.As(err, &ue) {
		return ue
	}
	if err == nil {
		return &UpstreamError{Message: "unknown error"}
	}
	return &UpstreamError{Status: 502, Message: err.Error()}
}

func anthropicErrorJSON(e *UpstreamError) []byte {
	t := e.Type
	if !apierr.IsAnthropic(t) {
		t = apierr.For(e.Status).Anthropic
	}
	b := append([]byte(nil), `{"type":"error","error":{"type":`...)
	b = appendString(b, t)
	b = append(b, `,"message":`...)
	b = appendString(b, e.Message)
	return append(b, "}}"...)
}

func openAIErrorJSON(e *UpstreamError) []byte {
	t := e.Type
	if t == "" {
		t = apierr.For(e.Status).Chat
	}
	code := e.Code
	if code == "" && e.Status != 0 {
		code = strconv.Itoa(e.Status)
	}
	b := append([]byte(nil), `{"error":{"message":`...)
	b = appendString(b, e.Message)
	b = append(b, `,"type":`...)
	b = appendString(b, t)
	b = append(b, `,"param":null,"code":`...)
	if code == "" {
		b = append(b, "null"...)
	} else {
		b = appendString(b, code)
	}
	return append(b, "}}"...)
}

// ErrorJSON is e as an error body in the client's shape: Anthropic's
// {"type":"error","error":{type,message}} when anthropic, else OpenAI's
// {"error":{message,type,param,code}} (Chat and Responses clients). A type
// that is not the shape's own comes from the error table.
func ErrorJSON(anthropic bool, e *UpstreamError) []byte {
	if anthropic {
		return anthropicErrorJSON(e)
	}
	return openAIErrorJSON(e)
}

// AnthropicErrorBody converts an upstream error (status + body, any shape)
// into an Anthropic error body {"type":"error","error":{type,message}}.
// The gateway sends it with the same status.
func AnthropicErrorBody(status int, body []byte) []byte {
	return anthropicErrorJSON(ParseUpstreamError(status, body))
}

// OpenAIErrorBody converts an upstream error into an OpenAI error body
// {"error":{message,type,param,code}} for Chat and Responses clients; code
// is the upstream's code or else the status as a string.
func OpenAIErrorBody(status int, body []byte) []byte {
	return openAIErrorJSON(ParseUpstreamError(status, body))
}

// AnthropicErrorFrame is the in-stream error event for Messages clients:
// "event: error" with {"type":"error","error":{type,message}}.
func AnthropicErrorFrame(err error) sse.Frame {
	return sse.Frame{Event: "error", Data: anthropicErrorJSON(asUpstreamError(err))}
}

// ChatErrorFrame is the in-stream error for Chat clients: a data-only frame
// {"error":{...}} (the OpenAI convention); the gateway then ends the stream
// without [DONE].
func ChatErrorFrame(err error) sse.Frame {
	return sse.Frame{Data: openAIErrorJSON(asUpstreamError(err))}
}

// ResponsesErrorFrame is a standalone Responses "error" event
// ({"type":"error","code","message","param","sequence_number"}) for a
// failure before any response.created was sent. Streams that already
// started end with response.failed instead (see ChatToResponsesStream).
func ResponsesErrorFrame(err error, seq int) sse.Frame {
	e := asUpstreamError(err)
	code := e.Code
	if code == "" {
		code = apierr.For(e.Status).Responses
	}
	b := append([]byte(nil), `{"type":"error","code":`...)
	b = appendString(b, code)
	b = append(b, `,"message":`...)
	b = appendString(b, e.Message)
	b = append(b, `,"param":null,"sequence_number":`...)
	b = appendInt(b, seq)
	b = append(b, '}')
	return sse.Frame{Event: "error", Data: b}
}
