package gateway

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"github.com/flowgate/flowgate/internal/router"
	"github.com/flowgate/flowgate/internal/upstream"
)

// api is the error dialect a caller understands.
type api uint8

const (
	apiOpenAI api = iota
	apiAnthropic
)

func apiOf(p upstream.Protocol) api {
	if p == upstream.Messages {
		return apiAnthropic
	}
	return apiOpenAI
}

// apiFromHeaders picks the dialect for routes shared by both clients.
func apiFromHeaders(r *http.Request) api {
	if r.Header.Get("Anthropic-Version") != "" {
		return apiAnthropic
	}
	return apiOpenAI
}

type openAIError struct {
	Error openAIErrorBody `json:"error"`
}
type openAIErrorBody struct {
	Message string  `json:"message"`
	Type    string  `json:"type"`
	Param   *string `json:"param"`
	Code    string  `json:"code"`
}
type anthropicError struct {
	Type  string             `json:"type"`
	Error anthropicErrorBody `json:"error"`
}
type anthropicErrorBody struct {
	Type    string `json:"type"`
	Message string `json:"message"`
}

func anthropicType(status int) string {
	switch status {
	case 400, 422:
		return "invalid_request_error"
	case 401:
		return "authentication_error"
	case 403:
		return "permission_error"
	case 404:
		return "not_found_error"
	case 413:
		return "request_too_large"
	case 429:
		return "rate_limit_error"
	case 529, 503:
		return "overloaded_error"
	}
	if status < 500 {
		return "invalid_request_error"
	}
	return "api_error"
}

func openAIType(status int) string {
	switch status {
	case 401:
		return "authentication_error"
	case 403:
		return "permission_error"
	case 429:
		return "rate_limit_error"
	}
	if status < 500 {
		return "invalid_request_error"
	}
	return "api_error"
}

// errorBody renders an error in the caller's shape. Every message is
// redacted by value and shape and capped: error paths are where upstream
// text and client input meet the outside.
func errorBody(a api, status int, code, msg string) []byte {
	msg = redactMessage(msg)
	var b []byte
	if a == apiAnthropic {
		b, _ = json.Marshal(anthropicError{Type: "error", Error: anthropicErrorBody{Type: anthropicType(status), Message: msg}})
	} else {
		if code == "" {
			code = strconv.Itoa(status)
		}
		b, _ = json.Marshal(openAIError{Error: openAIErrorBody{Message: msg, Type: openAIType(status), Code: code}})
	}
	return b
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
// forwarded, transport failures as 502/504 (F9).
func writeFailure(w http.ResponseWriter, a api, err error) int {
	var (
		unk *router.UnknownModelError
		nod *router.NoDeploymentsError
		afe *router.AuthFailedError
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
	switch ue.Kind {
	case upstream.FailStatus:
		status := ue.Status
		if status < 400 || status > 599 {
			status = http.StatusBadGateway
		}
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
		return status
	case upstream.FailTimeout:
		writeError(w, a, http.StatusGatewayTimeout, "upstream_timeout", ue.Error()+"; raise litellm_params.timeout or router_settings.timeout if the model is slow")
		return http.StatusGatewayTimeout
	case upstream.FailUnsupported:
		writeError(w, a, http.StatusNotImplemented, "translation_unavailable", ue.Error())
		return http.StatusNotImplemented
	case upstream.FailCanceled:
		return 499
	}
	writeError(w, a, http.StatusBadGateway, "upstream_unavailable", ue.Error())
	return http.StatusBadGateway
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
