package gateway

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"github.com/flowgate/flowgate/internal/apierr"
	"github.com/flowgate/flowgate/internal/router"
	"github.com/flowgate/flowgate/internal/upstream"
)

// api is the error dialect a caller understands: the shape of its error
// body, and the column of the error table its types come from.
type api uint8

const (
	apiOpenAI    api = iota // Chat Completions (and routes shared by OpenAI clients)
	apiAnthropic            // Messages
	apiResponses            // Responses: the OpenAI shape
)

func apiOf(p upstream.Protocol) api {
	switch p {
	case upstream.Messages:
		return apiAnthropic
	case upstream.Responses:
		return apiResponses
	}
	return apiOpenAI
}

// errorType is the caller's error type for status, from the one table.
func errorType(a api, status int) string {
	t := apierr.For(status)
	switch a {
	case apiAnthropic:
		return t.Anthropic
	case apiResponses:
		return t.Responses
	}
	return t.Chat
}

// apiFromHeaders picks the dialect for routes shared by both clients.
func apiFromHeaders(r *http.Request) api {
	if r.Header.Get("Anthropic-Version") != "" {
		return apiAnthropic
	}
	return apiOpenAI
}

// errorBody renders an error in the caller's shape. Every message is
// redacted by value and shape and capped: error paths are where upstream
// text and client input meet the outside.
func errorBody(a api, status int, code, msg string) []byte {
	return apierr.ErrorJSON(a == apiAnthropic, &apierr.UpstreamError{
		Status: status, Type: errorType(a, status), Code: code, Message: redactMessage(msg)})
}

func writeError(w http.ResponseWriter, a api, status int, code, msg string) {
	b := errorBody(a, status, code, msg)
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	w.Write(b)
}

// writeFailure answers a request whose routing failed before anything was
// sent: in the caller's shape, with the upstream's status, Retry-After
// forwarded, transport failures as 502/504.
func writeFailure(w http.ResponseWriter, a api, err error) int {
	var (
		unk *router.UnknownModelError
		nod *router.NoDeploymentsError
		afe *router.AuthFailedError
		cwe *router.ContextWindowError
		ue  *upstream.Error
	)
	switch {
	case errors.As(err, &afe):
		// The client's own credentials were fine; the upstream refused the
		// deployment's. No Retry-After: waiting does not fix a login.
		status := http.StatusForbidden
		if afe.Status == http.StatusUnauthorized {
			status = http.StatusUnauthorized
		}
		writeError(w, a, status, "upstream_auth_failed", afe.Error())
		return status
	case errors.As(err, &cwe):
		writeError(w, a, http.StatusBadRequest, "context_length_exceeded", cwe.Error())
		return http.StatusBadRequest
	case errors.As(err, &unk):
		writeError(w, a, http.StatusNotFound, "model_not_found", unk.Error())
		return http.StatusNotFound
	case errors.As(err, &nod):
		w.Header().Set("Retry-After", strconv.Itoa(router.RetryAfterSeconds(nod.RetryAfter)))
		writeError(w, a, http.StatusTooManyRequests, "no_deployments_available", nod.Error())
		return http.StatusTooManyRequests
	case errors.As(err, &ue):
		return writeUpstreamError(w, a, ue)
	}
	writeError(w, a, http.StatusInternalServerError, "internal_error", "gateway error: "+err.Error())
	return http.StatusInternalServerError
}

func writeUpstreamError(w http.ResponseWriter, a api, ue *upstream.Error) int {
	if ue.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(router.RetryAfterSeconds(ue.RetryAfter)))
	}
	status := failureStatus(ue)
	switch ue.Kind {
	case upstream.FailStatus:
		if bodyInShape(a, ue.Body) {
			// The upstream's own error object, minus any secret it echoed
			// (an upstream may quote the key it refused).
			if body := redactBody(ue.Body); body != nil {
				h := w.Header()
				h.Set("Content-Type", "application/json")
				h.Set("Content-Length", strconv.Itoa(len(body)))
				w.WriteHeader(status)
				w.Write(body)
				return status
			}
		}
		msg := upstream.ErrorMessage(ue.Body)
		if msg == "" {
			msg = http.StatusText(ue.Status)
		}
		writeError(w, a, status, "", "upstream error "+strconv.Itoa(ue.Status)+": "+msg)
	case upstream.FailTimeout:
		writeError(w, a, status, "upstream_timeout", ue.Error()+"; raise litellm_params.timeout or router_settings.timeout if the model is slow")
	case upstream.FailUnsupported:
		writeError(w, a, status, "translation_unavailable", ue.Error())
	case upstream.FailCanceled:
	default:
		writeError(w, a, status, "upstream_unavailable", ue.Error())
	}
	return status
}

// failureStatus is the HTTP status the gateway answers a failed attempt
// with before the first byte: the upstream's own error status, 504 for a
// timeout, 501 when no translator serves the pair, 499 (nothing sent) for a
// client that went away, 502 for any other failure. After the first byte
// the same status picks the type of the in-stream error event.
func failureStatus(ue *upstream.Error) int {
	switch ue.Kind {
	case upstream.FailStatus:
		if ue.Status >= 400 && ue.Status <= 599 {
			return ue.Status
		}
	case upstream.FailTimeout:
		return http.StatusGatewayTimeout
	case upstream.FailUnsupported:
		return http.StatusNotImplemented
	case upstream.FailCanceled:
		return 499
	}
	return http.StatusBadGateway
}

// clientError is a failure as a stream reports it to its client once the
// first byte is sent: with the status (so the error type) the gateway
// would have answered before it, and the upstream's own message for an
// error it sent, with every known secret removed.
func clientError(err error) error {
	var ue *upstream.Error
	if !errors.As(err, &ue) {
		return err
	}
	if ue.Kind == upstream.FailStatus {
		e := apierr.ParseUpstreamError(failureStatus(ue), ue.Body)
		e.Message = redactMessage(e.Message)
		return e
	}
	return &apierr.UpstreamError{Status: failureStatus(ue), Message: redactMessage(ue.Error())}
}

// bodyInShape reports whether an upstream error body already is a valid
// error object of the caller's dialect, so it can be returned as is.
func bodyInShape(a api, body []byte) bool {
	if len(body) == 0 || !json.Valid(body) {
		return false
	}
	var probe struct {
		Type  string          `json:"type"`
		Error json.RawMessage `json:"error"`
	}
	if json.Unmarshal(body, &probe) != nil || len(probe.Error) == 0 || probe.Error[0] != '{' {
		return false
	}
	if a == apiAnthropic {
		return probe.Type == "error"
	}
	return probe.Type == ""
}
