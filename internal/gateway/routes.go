package gateway

import (
	"net/http"
	"strings"

	"github.com/flowgate/flowgate/internal/runtime"
	"github.com/flowgate/flowgate/internal/upstream"
)

// ServeHTTP dispatches every route, with and without the /v1 prefix; query
// strings (?beta=true) are ignored for routing.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	if strings.HasPrefix(p, "/v1/") {
		p = p[3:]
	}
	if len(p) > 1 {
		p = strings.TrimSuffix(p, "/")
	}
	switch p {
	case "/chat/completions":
		if s.post(w, r, apiOpenAI) {
			s.inference(w, r, upstream.Chat, false)
		}
	case "/messages":
		if s.post(w, r, apiAnthropic) {
			s.inference(w, r, upstream.Messages, false)
		}
	case "/responses":
		if s.post(w, r, apiOpenAI) {
			s.inference(w, r, upstream.Responses, false)
		}
	case "/messages/count_tokens":
		if s.post(w, r, apiAnthropic) {
			s.inference(w, r, upstream.Messages, true)
		}
	case "/models":
		if s.get(w, r) {
			s.models(w, r)
		}
	case "/health/liveliness", "/health/liveness":
		if s.get(w, r) {
			writeJSON(w, http.StatusOK, []byte(`"I'm alive!"`))
		}
	case "/health/readiness":
		if s.get(w, r) {
			s.readiness(w, r)
		}
	case "/health":
		if s.get(w, r) {
			s.health(w, r)
		}
	case "/metrics":
		if s.get(w, r) {
			s.metrics.handler.ServeHTTP(w, r)
		}
	case "/", "":
		if s.get(w, r) {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.Header().Set("Content-Length", "17")
			w.WriteHeader(http.StatusOK)
			if r.Method != http.MethodHead {
				w.Write([]byte("FlowGate gateway\n"))
			}
		}
	default:
		writeError(w, apiFromHeaders(r), http.StatusNotFound, "not_found",
			"no route "+runtime.Clip(r.Method)+" "+runtime.Clip(r.URL.Path)+"; the gateway serves /v1/chat/completions, /v1/responses, /v1/messages, /v1/messages/count_tokens, /v1/models and /health")
	}
}

func (s *Server) post(w http.ResponseWriter, r *http.Request, a api) bool {
	if r.Method == http.MethodPost {
		return true
	}
	w.Header().Set("Allow", "POST")
	writeError(w, a, http.StatusMethodNotAllowed, "method_not_allowed", runtime.Clip(r.Method)+" is not allowed on "+runtime.Clip(r.URL.Path)+"; use POST")
	return false
}

func (s *Server) get(w http.ResponseWriter, r *http.Request) bool {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return true
	}
	w.Header().Set("Allow", "GET, HEAD")
	writeError(w, apiFromHeaders(r), http.StatusMethodNotAllowed, "method_not_allowed", runtime.Clip(r.Method)+" is not allowed on "+runtime.Clip(r.URL.Path)+"; use GET")
	return false
}

func writeJSON(w http.ResponseWriter, status int, b []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(b)
}
