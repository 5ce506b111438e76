package gateway

import (
	"errors"

	"github.com/flowgate/flowgate/internal/sse"
	"github.com/flowgate/flowgate/internal/tokens"
	"github.com/flowgate/flowgate/internal/translate"
	"github.com/flowgate/flowgate/internal/upstream"
)

// Translator converts between a client's protocol and a deployment's native
// protocol. The gateway calls it only when a request's protocol is not one
// its deployment serves natively; same-protocol requests never touch it
// (passthrough). DefaultTranslator is backed by internal/translate.
type Translator interface {
	// Request converts a client body in protocol from into protocol to for
	// target (its model and what it accepts); alias is the name the answer
	// must carry. An error wrapping ErrTranslationUnavailable means the pair is
	// not supported (501, and the router tries another deployment); any
	// other error is the client's fault (400).
	Request(from, to upstream.Protocol, body []byte, target *upstream.Target, alias string) (*Conversion, error)
}

// Conversion is one translated request and how to translate its answer.
type Conversion struct {
	// Body is the upstream request body.
	Body []byte
	// Response converts a non-streaming upstream answer for the client.
	Response func(upstreamBody []byte) ([]byte, error)
	// Stream starts the state machine for a streaming answer.
	Stream func() StreamTranslator
}

// StreamTranslator turns upstream SSE data payloads into client frames.
type StreamTranslator interface {
	// Feed converts one upstream data payload (including "[DONE]").
	Feed(data []byte) ([]sse.Frame, error)
	// Finish ends the client stream: err nil after a clean upstream end,
	// else the in-stream error event of the client's protocol.
	Finish(err error) []sse.Frame
}

// ErrTranslationUnavailable: no translator for this protocol pair.
var ErrTranslationUnavailable = errors.New("translation not available yet")

// DefaultTranslator is used when Options.Translator is nil.
var DefaultTranslator Translator = translateAdapter{}

func unsupported(from, to upstream.Protocol) error {
	return &upstream.Error{Kind: upstream.FailUnsupported, Err: errors.New(
		"translation not available yet: this deployment speaks " + to.String() + ", the request is " + from.String() +
			"; route this model to a deployment that serves " + from.String() + " natively (model_info.supported_endpoints)")}
}

// translateAdapter wires internal/translate's pure converters.
type translateAdapter struct{}

func (translateAdapter) Request(from, to upstream.Protocol, body []byte, target *upstream.Target, alias string) (*Conversion, error) {
	opts := translate.Options{Model: target.Model, FileInput: target.FileInput, MaxCompletionTokens: target.ReasoningModel,
		DeveloperRole: target.ReasoningModel, ReasoningInHistory: target.ReasoningInHistory, DefaultMaxTokens: target.MaxOutputTokens}
	var (
		res *translate.Result
		err error
	)
	switch {
	case from == upstream.Messages && to == upstream.Chat:
		res, err = translate.AnthropicToChat(body, opts)
	case from == upstream.Responses && to == upstream.Chat:
		res, err = translate.ResponsesToChat(body, opts)
	case from == upstream.Chat && to == upstream.Messages:
		res, err = translate.ChatToAnthropic(body, opts)
	case from == upstream.Responses && to == upstream.Messages:
		res, err = translate.ResponsesToAnthropic(body, opts)
	case from == upstream.Chat && to == upstream.Responses:
		res, err = translate.ChatToResponses(body, opts)
	case from == upstream.Messages && to == upstream.Responses:
		res, err = translate.AnthropicToResponses(body, opts)
	default:
		return nil, ErrTranslationUnavailable
	}
	if err != nil {
		return nil, err
	}
	tools := res.Tools
	c := &Conversion{Body: res.Body}
	switch {
	case from == upstream.Messages && to == upstream.Chat:
		c.Response = func(b []byte) ([]byte, error) { return translate.ChatResponseToAnthropic(b, alias) }
		c.Stream = func() StreamTranslator {
			n, _ := tokens.EstimateTokens(body)
			return translate.NewChatToAnthropicStream(alias, translate.StreamOptions{InputTokens: n})
		}
	case from == upstream.Responses && to == upstream.Chat:
		c.Response = func(b []byte) ([]byte, error) { return translate.ChatResponseToResponses(b, alias, tools) }
		c.Stream = func() StreamTranslator {
			return translate.NewChatToResponsesStream(alias, translate.StreamOptions{Tools: tools})
		}
	case from == upstream.Chat && to == upstream.Messages:
		c.Response = func(b []byte) ([]byte, error) { return translate.AnthropicResponseToChat(b, alias) }
		c.Stream = func() StreamTranslator { return translate.NewAnthropicToChatStream(alias, translate.StreamOptions{}) }
	case from == upstream.Responses && to == upstream.Messages:
		c.Response = func(b []byte) ([]byte, error) { return translate.AnthropicResponseToResponses(b, alias, tools) }
		c.Stream = func() StreamTranslator {
			return translate.NewAnthropicToResponsesStream(alias, translate.StreamOptions{Tools: tools})
		}
	case from == upstream.Chat && to == upstream.Responses:
		c.Response = func(b []byte) ([]byte, error) { return translate.ResponsesResponseToChat(b, alias) }
		c.Stream = func() StreamTranslator { return translate.NewResponsesToChatStream(alias, translate.StreamOptions{}) }
	case from == upstream.Messages && to == upstream.Responses:
		c.Response = func(b []byte) ([]byte, error) { return translate.ResponsesResponseToAnthropic(b, alias) }
		c.Stream = func() StreamTranslator {
			n, _ := tokens.EstimateTokens(body)
			return translate.NewResponsesToAnthropicStream(alias, translate.StreamOptions{InputTokens: n})
		}
	}
	return c, nil
}
