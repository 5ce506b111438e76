package gateway_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/flowgate/flowgate/internal/gateway"
)

// TestHugeModelNameIsCappedInTheAnswerAndTheLog: an 8 MiB model name that
// matches no alias gets a 404 of a few hundred bytes in the caller's shape,
// noting the name's length, and adds a few hundred bytes to the log, not
// megabytes.
func TestHugeModelNameIsCappedInTheAnswerAndTheLog(t *testing.T) {
	up := newUpstream(t, "ok")
	g := startGateway(t, doc([]any{dep("router-default", "openai/up-model", up.URL+"/v1", nil)}, nil), nil)
	huge := strings.Repeat("m", 8<<20)
	before := len(g.logs.String())
	for _, c := range []struct{ path, body string }{
		{"/v1/chat/completions", `{"model":"` + huge + `","messages":[{"role":"user","content":"hi"}]}`},
		{"/v1/messages", `{"model":"` + huge + `","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}`},
		{"/v1/responses", `{"model":"` + huge + `","input":"hi","stream":true}`},
	} {
		resp, body := g.post(t, c.path, c.body, nil)
		if resp.StatusCode != http.StatusNotFound {
			t.Fatalf("%s: status %d, body %.300s", c.path, resp.StatusCode, body)
		}
		if len(body) > 1024 || !strings.Contains(body, `(8388608 bytes)`) || !strings.Contains(body, "router-default") {
			t.Fatalf("%s: %d-byte body %.600s", c.path, len(body), body)
		}
		var e map[string]any
		if err := json.Unmarshal([]byte(body), &e); err != nil || e["error"] == nil {
			t.Fatalf("%s: not an error in the caller's shape: %.300s", c.path, body)
		}
	}
	if grown := len(g.logs.String()) - before; grown > 4096 {
		t.Fatalf("three requests with an 8 MiB model added %d bytes to the log", grown)
	}
	if up.hits.Load() != 0 {
		t.Fatalf("the upstream was called %d times for an unknown model", up.hits.Load())
	}
}

// TestHugePathIsCappedInTheAnswer: an unknown route's path and method are
// capped in the 404 and 405 answers.
func TestHugePathAndMethodAreCappedInTheAnswer(t *testing.T) {
	g := startGateway(t, doc([]any{dep("router-default", "openai/up-model", "http://127.0.0.1:9/v1", nil)}, nil), nil)
	for _, c := range []struct{ method, path string }{
		{"GET", "/" + strings.Repeat("p", 200<<10)},
		{"GET", "/v1/chat/completions?" + strings.Repeat("q", 1000)},
		{strings.Repeat("M", 100<<10), "/v1/models"},
	} {
		req, _ := http.NewRequest(c.method, g.URL+c.path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 404 && resp.StatusCode != 405 {
			t.Fatalf("status %d", resp.StatusCode)
		}
		if len(body) > 1024 {
			t.Fatalf("%d-byte answer: %.300s", len(body), body)
		}
	}
}

// oddKey is an upstream key of a shape the shape-based redaction does not
// know (no sk-, no Bearer, no JWT).
const oddKey = "zz9-plural-z-alpha-0123456789"

// TestUpstreamKeyOfAnyShapeEchoedByTheUpstreamReachesNoReader: an upstream
// that quotes the key it refused, from the config, an environment
// variable or a credential reference, in an error body of the client's own
// shape, a body of another shape, or a 401, leaves no trace of the key in
// the client's answer, in /health (last_error, probe) or in the gateway's
// log. The management password given in Options.Secrets is removed too.
func TestUpstreamKeyOfAnyShapeEchoedByTheUpstreamReachesNoReader(t *testing.T) {
	const envKey = "Env.Key:of/another+shape=42"
	const refKey = "refkey_UPPER_lower_9876543210"
	const mgmt = "mgmt-Password-0f-0dd-Shape"
	t.Setenv("FG_TEST_ODD_UPKEY", envKey)
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		got := r.Header.Get("Authorization") + r.Header.Get("X-Api-Key")
		w.Header().Set("Content-Type", "application/json")
		said := "Incorrect API key provided: " + got + " (raw " + strings.TrimPrefix(got, "Bearer ") + "); management password " + mgmt
		msg, _ := json.Marshal(said)
		switch {
		case strings.Contains(r.URL.Path, "/auth/"):
			w.WriteHeader(401)
			io.WriteString(w, `{"error":{"message":`+string(msg)+`,"type":"invalid_request_error"}}`)
		case strings.HasSuffix(r.URL.Path, "/messages"):
			w.WriteHeader(503)
			io.WriteString(w, `{"type":"error","error":{"type":"overloaded_error","message":`+string(msg)+`}}`)
		case strings.Contains(r.URL.Path, "/text/"):
			w.Header().Set("Content-Type", "text/plain")
			w.WriteHeader(500)
			io.WriteString(w, said)
		default:
			w.WriteHeader(503)
			io.WriteString(w, `{"error":{"message":`+string(msg)+`,"type":"server_error","code":"`+strings.TrimPrefix(got, "Bearer ")+`"}}`)
		}
	}))
	t.Cleanup(echo.Close)
	d := doc([]any{
		dep("lit", "openai/m", echo.URL+"/v1", map[string]any{"api_key": oddKey}),
		dep("env", "openai/m", echo.URL+"/v1", map[string]any{"api_key": "os.environ/FG_TEST_ODD_UPKEY"}),
		dep("ref", "openai/m", echo.URL+"/v1", map[string]any{"api_key": nil, "api_key_ref": "up"}),
		dep("anth", "anthropic/m", echo.URL+"/v1", map[string]any{"api_key": oddKey}),
		dep("auth", "openai/m", echo.URL+"/auth/v1", map[string]any{"api_key": oddKey}),
		dep("text", "openai/m", echo.URL+"/text/v1", map[string]any{"api_key": oddKey}),
	}, map[string]any{"num_retries": 0})
	g := startGatewayWith(t, d, nil, func(o *gateway.Options) {
		o.ResolveRef = func(name string) (string, error) { return refKey, nil }
		o.Secrets = []string{mgmt}
	})
	secrets := []string{oddKey, envKey, refKey, mgmt}
	leaks := func(what, text string) {
		t.Helper()
		for _, s := range secrets {
			if strings.Contains(text, s) {
				t.Errorf("%s shows secret %q:\n%.1500s", what, s, text)
			}
		}
	}
	for _, c := range []struct{ path, model string }{
		{"/v1/chat/completions", "lit"}, {"/v1/chat/completions", "env"}, {"/v1/chat/completions", "ref"},
		{"/v1/messages", "anth"}, {"/v1/chat/completions", "auth"}, {"/v1/chat/completions", "text"},
		{"/v1/messages", "lit"}, {"/v1/responses", "env"},
	} {
		for _, stream := range []string{"false", "true"} {
			body := `{"model":"` + c.model + `","max_tokens":5,"stream":` + stream + `,"messages":[{"role":"user","content":"hi"}]}`
			if strings.HasSuffix(c.path, "responses") {
				body = `{"model":"` + c.model + `","stream":` + stream + `,"input":"hi"}`
			}
			resp, answer := g.post(t, c.path, body, nil)
			if resp.StatusCode < 400 {
				t.Fatalf("%s %s: status %d", c.path, c.model, resp.StatusCode)
			}
			leaks(c.path+" "+c.model+" answer", answer)
			if !strings.Contains(answer, "[redacted]") {
				t.Errorf("%s %s: the answer lost the upstream's message instead of redacting it: %s", c.path, c.model, answer)
			}
			if !json.Valid([]byte(answer)) {
				t.Errorf("%s %s: answer is not JSON: %s", c.path, c.model, answer)
			}
		}
	}
	for _, q := range []string{"", "?probe=true"} {
		req, _ := http.NewRequest("GET", g.URL+"/health"+q, nil)
		req.Header.Set("Authorization", "Bearer "+gatewayKey)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		leaks("/health"+q, string(b))
		if !strings.Contains(string(b), `"last_error":"`) {
			t.Fatalf("/health%s has no last_error to check: %s", q, b)
		}
	}
	logs := g.logs.String()
	leaks("the gateway log", logs)
	if !strings.Contains(logs, "request failed") {
		t.Fatalf("no failure was logged:\n%s", logs)
	}
}

// An upstream that starts a stream, then sends its own error event echoing
// the key: the event reaches the client (it is the upstream's word on what
// went wrong) but without the key.
func TestMidStreamUpstreamErrorEventReachesTheClientWithoutTheKey(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		key := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, `data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":"hi"}}]}`+"\n\n")
		io.WriteString(w, `data: {"error":{"message":"key `+key+` was revoked mid-stream","type":"server_error"}}`+"\n\n")
	}))
	t.Cleanup(up.Close)
	g := startGatewayWith(t, doc([]any{dep("lit", "openai/m", up.URL+"/v1", map[string]any{"api_key": oddKey})}, map[string]any{"num_retries": 0}), nil, nil)
	_, answer := g.post(t, "/v1/chat/completions", `{"model":"lit","stream":true,"messages":[{"role":"user","content":"hi"}]}`, nil)
	if strings.Contains(answer, oddKey) || !strings.Contains(answer, "[redacted] was revoked mid-stream") {
		t.Fatalf("the mid-stream error event must reach the client with the key redacted:\n%s", answer)
	}
}
