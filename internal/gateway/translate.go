package gateway

import (
	"errors"

	"github.com/flowgate/flowgate/internal/upstream"
)

// Translator converts between a client's protocol and a deployment's native
// protocol. It is the seam to internal/translate: the gateway calls it only
// when a request's protocol is not one its deployment serves natively;
// same-protocol requests never touch it (passthrough).
type Translator interface {
	// Request converts a client request body in protocol from into protocol
	// to, with the top-level model set to model. An error wrapping
	// ErrTranslationUnavailable means the pair is not supported (501, and
	// the router tries another deployment); any other error is the client's
	// fault (400).
	Request(from, to upstream.Protocol, body []byte, model string) ([]byte, error)
	// Response converts a non-streaming upstream body in protocol to into
	// protocol from, naming alias as the model.
	Response(from, to upstream.Protocol, body []byte, alias string) ([]byte, error)
	// Stream starts converting one upstream SSE stream in protocol to into
	// SSE frames of protocol from.
	Stream(from, to upstream.Protocol, alias string) (StreamTranslator, error)
}

// StreamTranslator is the state machine for one translated stream.
type StreamTranslator interface {
	// Frame converts one upstream SSE event (event name may be empty; data
	// is the joined data lines) and appends complete client frames to dst.
	Frame(dst []byte, event, data []byte) ([]byte, error)
	// Finish appends whatever ends the client stream properly after the
	// upstream ended (including an upstream that never sent [DONE]).
	Finish(dst []byte) ([]byte, error)
}

// ErrTranslationUnavailable: no translator for this protocol pair yet.
var ErrTranslationUnavailable = errors.New("translation not available yet")

// DefaultTranslator is used when Options.Translator is nil. It stays nil
// until internal/translate is wired in; requests that need translation are
// then answered 501 "translation not available yet".
var DefaultTranslator Translator

// TokenEstimator estimates input tokens for count_tokens when the
// deployment has no native counting endpoint. Default: len(body)/3, which
// over-counts rather than under-counts (an under-count makes Claude Code
// compact too late).
var TokenEstimator = func(body []byte) int { return len(body)/3 + 1 }

func unsupported(from, to upstream.Protocol) error {
	return &upstream.Error{Kind: upstream.FailUnsupported, Err: errors.New(
		"translation not available yet: this deployment speaks " + to.String() + ", the request is " + from.String() +
			"; route this model to a deployment that serves " + from.String() + " natively (model_info.supported_endpoints)")}
}
