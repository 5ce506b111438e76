package cliproxy

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/flowgate/flowgate/internal/runtime"
)

const testPassword = "test-management-password"

// fakeCPA stands in for CLIProxyAPIPlus 6.8.x's management API: Bearer
// password on every route, plain-text 404 for unknown routes, sessions keyed
// by state with wait/error/ok, ok for unknown states, auth-files growing when
// a login completes.
type fakeCPA struct {
	srv *httptest.Server

	mu sync.Mutex
	// script is the status answers of each new session, one per poll; the
	// last repeats. "wait", "ok" (ambiguous: no file), "complete" (save the
	// file, answer ok), "error:<msg>", "callback" (wait until oauth-callback
	// arrives, then complete).
	script []string
	// complete is the credential a completed login saves.
	complete AuthFile
	files    []AuthFile
	sessions map[string]*fakeSession
	nstate   int
	hits     map[string]int
	queries  []url.Values
	// callbacks are the oauth-callback bodies received.
	callbacks []map[string]string
	// busy1455 makes is_webui=true fail like a busy port.
	busy1455 bool
	// routes, when set, limits which management paths exist.
	routes map[string]bool
}

type fakeSession struct {
	provider string
	polls    int
	called   bool
}

func newFakeCPA(t *testing.T) *fakeCPA {
	f := &fakeCPA{sessions: map[string]*fakeSession{}, hits: map[string]int{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeCPA) client(password string) *Client {
	return &Client{BaseURL: f.srv.URL, Password: password}
}

func (f *fakeCPA) hitCount(path string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.hits[path]
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

func (f *fakeCPA) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.hits[r.URL.Path]++
	f.queries = append(f.queries, r.URL.Query())
	known := map[string]bool{PathCodexAuthURL: true, PathGitHubAuthURL: true, PathAuthStatus: true, PathOAuthCallback: true, PathAuthFiles: true}
	if f.routes != nil {
		known = f.routes
	}
	if !known[r.URL.Path] {
		http.Error(w, "404 page not found", http.StatusNotFound) // gin's plain text
		return
	}
	w.Header().Set("X-CPA-VERSION", "6.8.16-0-plus")
	switch auth := r.Header.Get("Authorization"); {
	case auth == "":
		writeJSON(w, 401, map[string]string{"error": "missing management key"})
		return
	case auth != "Bearer "+testPassword:
		writeJSON(w, 401, map[string]string{"error": "invalid management key"})
		return
	}
	switch r.URL.Path {
	case PathCodexAuthURL:
		if f.busy1455 && r.URL.Query().Get("is_webui") == "true" {
			writeJSON(w, 500, map[string]string{"error": "failed to start callback server"})
			return
		}
		state := f.newSession("codex")
		writeJSON(w, 200, map[string]string{"status": "ok", "state": state,
			"url": "https://auth.openai.com/oauth/authorize?client_id=app_x&redirect_uri=http%3A%2F%2Flocalhost%3A1455%2Fauth%2Fcallback&state=" + state})
	case PathGitHubAuthURL:
		state := f.newSession("github")
		writeJSON(w, 200, map[string]string{"status": "ok", "url": "https://github.com/login/device",
			"verification_uri": "https://github.com/login/device", "user_code": "ABCD-1234", "state": state})
	case PathAuthStatus:
		s, ok := f.sessions[r.URL.Query().Get("state")]
		if !ok {
			writeJSON(w, 200, map[string]string{"status": "ok"}) // unknown state: ambiguous ok
			return
		}
		step := f.script[min(s.polls, len(f.script)-1)]
		s.polls++
		switch {
		case step == "wait":
			writeJSON(w, 200, map[string]string{"status": "wait"})
		case step == "ok":
			writeJSON(w, 200, map[string]string{"status": "ok"})
		case step == "complete", step == "callback" && s.called:
			f.files = append(f.files, f.complete)
			delete(f.sessions, r.URL.Query().Get("state"))
			writeJSON(w, 200, map[string]string{"status": "ok"})
		case step == "callback":
			writeJSON(w, 200, map[string]string{"status": "wait"})
		case strings.HasPrefix(step, "error:"):
			writeJSON(w, 200, map[string]string{"status": "error", "error": strings.TrimPrefix(step, "error:")})
		}
	case PathOAuthCallback:
		var body map[string]string
		json.NewDecoder(r.Body).Decode(&body)
		f.callbacks = append(f.callbacks, body)
		u, err := url.Parse(body["redirect_url"])
		if err != nil || u.Query().Get("state") == "" {
			writeJSON(w, 400, map[string]string{"status": "error", "error": "state is required"})
			return
		}
		s, ok := f.sessions[u.Query().Get("state")]
		if !ok {
			writeJSON(w, 404, map[string]string{"status": "error", "error": "unknown or expired state"})
			return
		}
		if s.provider != body["provider"] {
			writeJSON(w, 400, map[string]string{"status": "error", "error": "provider does not match state"})
			return
		}
		s.called = true
		writeJSON(w, 200, map[string]string{"status": "ok"})
	case PathAuthFiles:
		writeJSON(w, 200, map[string]any{"files": f.files})
	}
}

func (f *fakeCPA) newSession(provider string) string {
	f.nstate++
	state := fmt.Sprintf("state%d", f.nstate)
	f.sessions[state] = &fakeSession{provider: provider}
	return state
}

type recorder struct {
	mu     sync.Mutex
	events []runtime.Event
}

func (r *recorder) emitter() runtime.Emitter {
	return func(ev runtime.Event) {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.events = append(r.events, ev)
	}
}

func (r *recorder) all() []runtime.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]runtime.Event(nil), r.events...)
}

// syncBuffer is a bytes.Buffer safe for the login goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
