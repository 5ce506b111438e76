// Package contract is the gateway contract FlowGate promises on :4000,
// written once and run against every engine: the builtin Go gateway and the
// real LiteLLM proxy. Both engines are configured from the same document
// (Doc) and pointed at the same fake OpenAI-compatible upstream (Upstream).
//
// A package that can start an engine runs the suite with
//
//	contract.Run(t, contract.Engine{Name: "builtin", Start: startBuiltin})
//
// Start receives the upstream and the document and returns the base URL and
// the gateway key. Cases are in Cases; behaviour that is observed and
// recorded, not asserted (error shapes, status codes of failures), is in
// Observations.
package contract

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// Upstream model names the fake upstream serves.
const (
	// UpstreamModelMain answers "hello from up-main".
	UpstreamModelMain = "up-main"
	// UpstreamModelBackup answers "hello from up-backup".
	UpstreamModelBackup = "up-backup"
	// UpstreamModelFail always fails with HTTP 500.
	UpstreamModelFail = "up-fail-500"
	// UpstreamModelLimited always fails with HTTP 429 and Retry-After: 1.
	UpstreamModelLimited = "up-limited-429"
	// UpstreamKey is the key the fake upstream requires as Bearer token.
	UpstreamKey = "sk-upstream-contract-0123456789"
)

// Upstream is a fake OpenAI-compatible API on 127.0.0.1:0.
type Upstream struct {
	// URL is the base URL including /v1, as used for api_base.
	URL string
	srv *httptest.Server
	mu  sync.Mutex
	// hits counts requests per "METHOD path model".
	hits map[string]int
}

// Text is what the upstream answers for model.
func Text(model string) string { return "hello from " + model }

// NewUpstream starts the fake upstream; it stops when the test ends.
func NewUpstream(t testing.TB) *Upstream {
	u := &Upstream{hits: map[string]int{}}
	u.srv = httptest.NewServer(http.HandlerFunc(u.serve))
	u.URL = u.srv.URL + "/v1"
	t.Cleanup(u.srv.Close)
	return u
}

// Hits returns how often path was called for model ("" = any model).
func (u *Upstream) Hits(path, model string) int {
	u.mu.Lock()
	defer u.mu.Unlock()
	n := 0
	for k, v := range u.hits {
		p, m, _ := strings.Cut(k, " ")
		if p == path && (model == "" || m == model) {
			n += v
		}
	}
	return n
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func openAIError(w http.ResponseWriter, status int, typ, msg string) {
	writeJSON(w, status, map[string]any{"error": map[string]any{"message": msg, "type": typ, "param": nil, "code": nil}})
}

func (u *Upstream) serve(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Model  string `json:"model"`
		Stream bool   `json:"stream"`
	}
	raw, _ := io.ReadAll(r.Body)
	_ = json.Unmarshal(raw, &body)
	u.mu.Lock()
	u.hits[r.URL.Path+" "+body.Model]++
	u.mu.Unlock()

	if r.Header.Get("Authorization") != "Bearer "+UpstreamKey {
		openAIError(w, 401, "invalid_request_error", "fake upstream: wrong or missing api key")
		return
	}
	switch r.URL.Path {
	case "/v1/models":
		writeJSON(w, 200, map[string]any{"object": "list", "data": []any{
			map[string]any{"id": UpstreamModelMain, "object": "model", "owned_by": "fake"},
			map[string]any{"id": UpstreamModelBackup, "object": "model", "owned_by": "fake"},
		}})
		return
	case "/v1/chat/completions":
	default:
		openAIError(w, 404, "invalid_request_error", "fake upstream: no route "+r.URL.Path)
		return
	}
	switch body.Model {
	case UpstreamModelFail:
		openAIError(w, 500, "server_error", "fake upstream: model "+body.Model+" always fails")
		return
	case UpstreamModelLimited:
		w.Header().Set("Retry-After", "1")
		openAIError(w, 429, "rate_limit_error", "fake upstream: rate limited")
		return
	}
	text := Text(body.Model)
	id := fmt.Sprintf("chatcmpl-fake-%d", time.Now().UnixNano())
	created := time.Now().Unix()
	if !body.Stream {
		writeJSON(w, 200, map[string]any{
			"id": id, "object": "chat.completion", "created": created, "model": body.Model,
			"choices": []any{map[string]any{"index": 0, "finish_reason": "stop",
				"message": map[string]any{"role": "assistant", "content": text}}},
			"usage": map[string]any{"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10},
		})
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	fl, _ := w.(http.Flusher)
	chunk := func(delta map[string]any, finish any, usage any) {
		c := map[string]any{"id": id, "object": "chat.completion.chunk", "created": created, "model": body.Model,
			"choices": []any{map[string]any{"index": 0, "delta": delta, "finish_reason": finish}}}
		if usage != nil {
			c["usage"] = usage
		}
		b, _ := json.Marshal(c)
		fmt.Fprintf(w, "data: %s\n\n", b)
		if fl != nil {
			fl.Flush()
		}
	}
	chunk(map[string]any{"role": "assistant", "content": ""}, nil, nil)
	for i, part := range strings.SplitAfter(text, " ") {
		_ = i
		chunk(map[string]any{"content": part}, nil, nil)
	}
	chunk(map[string]any{}, "stop", map[string]any{"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10})
	fmt.Fprint(w, "data: [DONE]\n\n")
	if fl != nil {
		fl.Flush()
	}
}

// ClosedPortURL returns an http://127.0.0.1:<port>/v1 where nothing listens.
func ClosedPortURL(t testing.TB) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr + "/v1"
}
