// Package apierr is FlowGate's one place for errors: the table of error
// vocabulary (for an HTTP status, the error type each client protocol names
// it with, and back from a type or code an upstream sent inside a stream to
// the status it stands for), and the error shapes (shapes.go): upstream
// error bodies read into an UpstreamError, written back in the client's
// shape as a body or an in-stream event. The gateway and the translators
// both answer errors from here, so a failure gets the same type whichever
// path produced it. The table is documented in docs/errors.md (a test
// keeps the two in step).
package apierr

// Types is one row of the table: the error type each protocol uses for one
// HTTP status.
type Types struct {
	// Chat is error.type in an OpenAI Chat Completions error body and in a
	// Chat stream's {"error":{...}} chunk.
	Chat string
	// Responses is error.type in an OpenAI Responses error body, and the
	// code of a Responses error event when the upstream gave none.
	Responses string
	// Anthropic is error.type in an Anthropic Messages error body and
	// "event: error".
	Anthropic string
}

// openAI builds a row whose Chat and Responses types agree (they share the
// OpenAI vocabulary).
func openAI(t, anthropic string) Types { return Types{Chat: t, Responses: t, Anthropic: anthropic} }

var (
	// clientError is any 4xx without a row of its own.
	clientError = openAI("invalid_request_error", "invalid_request_error")
	// serverError is any 5xx without a row of its own, and a failure with
	// no HTTP status at all (a stream that broke after its first event).
	serverError = openAI("server_error", "api_error")

	byStatus = map[int]Types{
		400: clientError,
		401: openAI("authentication_error", "authentication_error"),
		402: openAI("invalid_request_error", "billing_error"),
		403: openAI("permission_error", "permission_error"),
		404: openAI("invalid_request_error", "not_found_error"),
		408: openAI("invalid_request_error", "timeout_error"),
		413: openAI("invalid_request_error", "request_too_large"),
		422: clientError,
		429: openAI("rate_limit_error", "rate_limit_error"),
		500: serverError,
		503: openAI("server_error", "overloaded_error"),
		504: openAI("server_error", "timeout_error"),
		529: openAI("server_error", "overloaded_error"),
	}
)

// For returns the error types for an HTTP status. A status outside 400-599
// (0 inside a stream) gets the server-error row.
func For(status int) Types {
	if t, ok := byStatus[status]; ok {
		return t
	}
	if status >= 400 && status < 500 {
		return clientError
	}
	return serverError
}

// IsAnthropic reports whether t is an Anthropic error type, one the table
// can produce; an upstream's own type is kept only when it is.
func IsAnthropic(t string) bool {
	if t == "" {
		return false
	}
	if t == serverError.Anthropic || t == clientError.Anthropic {
		return true
	}
	for _, row := range byStatus {
		if row.Anthropic == t {
			return true
		}
	}
	return false
}

// statusOf maps the error types and codes upstreams send inside a stream
// (both vocabularies, plus the OpenAI codes that name a status) to the HTTP
// status that stands for them, so that the router classifies an error
// event as it would the same error answered as a status.
var statusOf = map[string]int{
	"invalid_request_error":   400,
	"context_length_exceeded": 400,
	"authentication_error":    401,
	"invalid_api_key":         401,
	"billing_error":           402,
	"permission_error":        403,
	"not_found_error":         404,
	"model_not_found":         404,
	"request_too_large":       413,
	"rate_limit_error":        429,
	"rate_limit_exceeded":     429,
	"insufficient_quota":      429,
	"api_error":               500,
	"server_error":            500,
	"timeout_error":           504,
	"overloaded_error":        529,
	"server_is_overloaded":    529,
}

// StatusOf returns the HTTP status an upstream error event stands for: its
// code when that is a status number (400-599), else the status of its type,
// else of its code; 502 when neither is known.
func StatusOf(typ, code string) int {
	if n, ok := atoiStatus(code); ok {
		return n
	}
	if s, ok := statusOf[typ]; ok {
		return s
	}
	if s, ok := statusOf[code]; ok {
		return s
	}
	return 502
}

// atoiStatus parses a three-digit HTTP error status.
func atoiStatus(s string) (int, bool) {
	if len(s) != 3 {
		return 0, false
	}
	n := 0
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, n >= 400 && n <= 599
}
