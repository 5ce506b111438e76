package router

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/flowgate/flowgate/internal/runtime"
	"github.com/flowgate/flowgate/internal/upstream"
)

// UnknownModelError: the alias is not configured.
type UnknownModelError struct {
	Model string
	Known []string
}

func (e *UnknownModelError) Error() string {
	return fmt.Sprintf("model %s is not configured on this gateway; available models: %s", runtime.Quote(e.Model), strings.Join(e.Known, ", "))
}

// ContextWindowError: the request is larger than the context window
// (model_info.max_input_tokens) of every deployment that could serve it,
// so it was not sent. The gateway answers 400.
type ContextWindowError struct {
	Alias, Group string
	// Deployment and Path name the first deployment that was too small.
	Deployment, Path string
	// Tokens is the request's count and Method how it was counted.
	Tokens int
	Method string
	// Window is that deployment's context window.
	Window int
}

func (e *ContextWindowError) Error() string {
	return fmt.Sprintf("the request has %d input tokens (%s), more than the %d-token context window of model %s (deployment %s, %s.model_info.max_input_tokens); shorten or compact the conversation, or add a larger model to router_settings.context_window_fallbacks for %s",
		e.Tokens, e.Method, e.Window, runtime.Quote(e.Alias), e.Deployment, e.Path, runtime.Quote(e.Group))
}

// NoDeploymentsError: every deployment that could serve the request is
// cooling down or at its rpm/tpm limit. The gateway answers 429 with Retry-After.
type NoDeploymentsError struct {
	Model      string
	RetryAfter time.Duration
	Cooling    []string
}

func (e *NoDeploymentsError) Error() string {
	return fmt.Sprintf("no deployments available for model %s: all are cooling down after upstream failures or at their rpm/tpm limit (%s); try again in %ds or check `flowgate health`",
		runtime.Quote(e.Model), strings.Join(e.Cooling, ", "), RetryAfterSeconds(e.RetryAfter))
}

// AuthFailedError: the upstream refused the credentials of the deployment
// that answered the request's own alias (every other candidate failed too).
// The gateway answers 401 (authentication) or 403 (permission) in the
// caller's shape, with Fix; never 429 and never a Retry-After.
type AuthFailedError struct {
	// Alias is the model the client asked for.
	Alias string
	// Deployment is the deployment whose credential was refused.
	Deployment *Deployment
	// Status is the upstream's HTTP status (401, 402 or 403).
	Status int
	// Message is the upstream's error message, capped and with known
	// secrets redacted; "" when it sent none.
	Message string
	// Others are further deployments refused for the same request (ids).
	Others []string
	// Fix says what to run or check; the gateway sets it (it knows which
	// api_base is CLIProxyAPIPlus). Empty: the message names the deployment only.
	Fix string
	// Err is the upstream error.
	Err error
}

func (e *AuthFailedError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "upstream rejected the credentials of deployment %s (alias %s) with %d", e.Deployment.Model, e.Deployment.Group, e.Status)
	if len(e.Others) > 0 {
		fmt.Fprintf(&b, " (also refused: %s)", strings.Join(e.Others, ", "))
	}
	if e.Fix != "" {
		b.WriteString("; " + e.Fix)
	}
	if e.Message != "" {
		b.WriteString("; upstream said: " + e.Message)
	}
	return b.String()
}

func (e *AuthFailedError) Unwrap() error { return e.Err }

// maxUpstreamMessage caps an upstream message kept in state or errors.
const maxUpstreamMessage = 200

// upstreamMessage is err's upstream message, capped and redacted.
func upstreamMessage(err error) string {
	var ue *upstream.Error
	if errors.As(err, &ue) && ue.Kind == upstream.FailStatus {
		return runtime.ClipTo(runtime.RedactSecrets(upstream.ErrorMessage(ue.Body)), maxUpstreamMessage)
	}
	return runtime.ClipTo(runtime.RedactSecrets(err.Error()), maxUpstreamMessage)
}

// RetryAfterSeconds rounds a wait up to whole seconds (at least 1).
func RetryAfterSeconds(d time.Duration) int {
	s := int((d + time.Second - 1) / time.Second)
	if s < 1 {
		s = 1
	}
	return s
}
