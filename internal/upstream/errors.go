package upstream

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/flowgate/flowgate/internal/apierr"
	"github.com/flowgate/flowgate/internal/runtime"
)

// FailKind says how a call failed. The router's classification table maps
// (FailKind, Status) to what happens next; this package only reports.
type FailKind uint8

const (
	// FailStatus: the upstream answered with a non-2xx status.
	FailStatus FailKind = iota
	// FailConnect: no usable answer: connection refused or reset, DNS, TLS,
	// or the connection died before or while the response was read.
	FailConnect
	// FailTimeout: the attempt's deadline (request_timeout, stream first-byte
	// or idle timeout) passed.
	FailTimeout
	// FailBadResponse: a 2xx whose body is not what the protocol promises
	// (not JSON, not SSE, truncated).
	FailBadResponse
	// FailCanceled: the client went away; nobody is waiting for an answer.
	FailCanceled
	// FailUnsupported: the deployment cannot serve this request here (no
	// translator for the protocol pair).
	FailUnsupported
)

func (k FailKind) String() string {
	switch k {
	case FailStatus:
		return "status"
	case FailConnect:
		return "connect"
	case FailTimeout:
		return "timeout"
	case FailBadResponse:
		return "bad_response"
	case FailCanceled:
		return "canceled"
	case FailUnsupported:
		return "unsupported"
	}
	return "unknown"
}

// ErrAttemptTimeout is the cancel cause the gateway uses when an attempt's
// deadline passes; ErrIdleTimeout when a stream stays silent too long.
var (
	ErrAttemptTimeout = errors.New("upstream did not answer within the timeout")
	ErrIdleTimeout    = errors.New("upstream stream was silent longer than the idle timeout")
)

// Error is a failed call to one deployment.
type Error struct {
	Kind FailKind
	// Status is the upstream HTTP status for FailStatus, else 0.
	Status int
	// RetryAfter is the upstream's Retry-After (or retry-after-ms), 0 if none.
	RetryAfter time.Duration
	// Body is the upstream error body (at most 1 MiB) for FailStatus.
	Body []byte
	// ContentType is the upstream Content-Type for FailStatus.
	ContentType string
	// Err is the underlying error, if any. It never contains a key.
	Err error
}

func (e *Error) Error() string {
	switch e.Kind {
	case FailStatus:
		// Redacted before it is cut, so that a cut never leaves part of
		// a secret the body echoed.
		msg := runtime.ClipTo(runtime.RedactSecrets(strings.TrimSpace(string(e.Body))), 300)
		return fmt.Sprintf("upstream returned %d: %s", e.Status, msg)
	case FailConnect:
		return fmt.Sprintf("upstream connection failed: %v", e.Err)
	case FailTimeout:
		return fmt.Sprintf("upstream timed out: %v", e.Err)
	case FailBadResponse:
		return fmt.Sprintf("upstream sent an unusable response: %v", e.Err)
	case FailCanceled:
		return "client canceled the request"
	case FailUnsupported:
		return fmt.Sprintf("%v", e.Err)
	}
	return "upstream failed"
}

func (e *Error) Unwrap() error { return e.Err }

// TransportError classifies a transport-level error of a call made with ctx.
func TransportError(ctx context.Context, err error) *Error {
	if cause := context.Cause(ctx); cause != nil {
		if errors.Is(cause, ErrAttemptTimeout) || errors.Is(cause, ErrIdleTimeout) || errors.Is(cause, context.DeadlineExceeded) {
			return &Error{Kind: FailTimeout, Err: cause}
		}
		return &Error{Kind: FailCanceled, Err: cause}
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return &Error{Kind: FailTimeout, Err: stripURL(err)}
	}
	return &Error{Kind: FailConnect, Err: stripURL(err)}
}

// stripURL drops the *url.Error wrapper text "Post \"url\": " but keeps the cause.
func stripURL(err error) error {
	type unwrapper interface{ Unwrap() error }
	if u, ok := err.(unwrapper); ok && strings.HasPrefix(err.Error(), "Post ") {
		if inner := u.Unwrap(); inner != nil {
			return inner
		}
	}
	return err
}

// ParseRetryAfter reads retry-after-ms or Retry-After (seconds or HTTP date).
func ParseRetryAfter(h http.Header, now time.Time) time.Duration {
	if v := h.Get("Retry-After-Ms"); v != "" {
		if ms, err := strconv.ParseFloat(v, 64); err == nil && ms > 0 {
			return time.Duration(ms * float64(time.Millisecond))
		}
	}
	v := h.Get("Retry-After")
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil {
		if s <= 0 {
			return 0
		}
		return time.Duration(s * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}

// ErrorMessage extracts the message of an upstream error body in either
// dialect ({"error":{"message"}}, {"message"}, {"detail"}), or returns the
// raw text capped at 500 bytes: apierr.ParseUpstreamError, the one
// reader of upstream error bodies.
func ErrorMessage(body []byte) string {
	if len(bytes.TrimSpace(body)) == 0 {
		return ""
	}
	return apierr.ParseUpstreamError(0, body).Message
}
