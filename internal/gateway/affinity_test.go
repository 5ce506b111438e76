package gateway_test

import (
	"encoding/json"
	"io"
	"net/http"
	"testing"
)

// TestAgentSessionsStayOnTheirDeploymentAndMoveWhenItFails: a Claude Code
// session (metadata.user_id) and a Codex one (prompt_cache_key) each stay on
// one of three healthy deployments, the response says so, and when the
// session's deployment fails the request moves and the session follows it.
func TestAgentSessionsStayOnTheirDeploymentAndMoveWhenItFails(t *testing.T) {
	ups := map[string]*fakeUpstream{}
	var deps []any
	for _, id := range []string{"d0", "d1", "d2"} {
		u := newUpstream(t, "ok")
		ups[id] = u
		e := dep("coder", "openai/up-model", u.URL+"/v1", nil)
		e["model_info"] = map[string]any{"id": id}
		deps = append(deps, e)
	}
	g := startGateway(t, doc(deps, map[string]any{"allowed_fails": 0, "cooldown_time": 60, "num_retries": 2}), nil)
	for _, c := range []struct{ name, path, body string }{
		{"messages", "/v1/messages", `{"model":"coder","max_tokens":16,"messages":[{"role":"user","content":"hi"}],` +
			`"metadata":{"user_id":"{\"device_id\":\"dev\",\"account_uuid\":\"\",\"session_id\":\"3f1c-session\"}"}}`},
		{"responses", "/v1/responses", `{"model":"coder","input":"hi","stream":false,"prompt_cache_key":"019a-codex-session"}`},
	} {
		t.Run(c.name, func(t *testing.T) {
			send := func() (string, string) {
				t.Helper()
				resp, body := g.post(t, c.path, c.body, nil)
				if resp.StatusCode != 200 {
					t.Fatalf("status %d: %s", resp.StatusCode, body)
				}
				return resp.Header.Get("X-Flowgate-Deployment"), resp.Header.Get("X-Flowgate-Session-Affinity")
			}
			pinned, aff := send()
			if aff != "new" || ups[pinned] == nil {
				t.Fatalf("first request of the session: deployment %q, affinity %q; want a deployment and new", pinned, aff)
			}
			for i := 0; i < 12; i++ {
				if d, aff := send(); d != pinned || aff != "hit" {
					t.Fatalf("request %d went to %s (affinity %q); the session is on %s", i, d, aff, pinned)
				}
			}
			ups[pinned].setMode("500")
			moved, aff := send()
			if moved == pinned || aff != "moved" {
				t.Fatalf("the session's deployment fails: answered by %s, affinity %q", moved, aff)
			}
			ups[pinned].setMode("ok")
			for i := 0; i < 5; i++ {
				if d, aff := send(); d != moved || aff != "hit" {
					t.Fatalf("after the move request %d went to %s (affinity %q), want %s", i, d, aff, moved)
				}
			}
			if n := sessionsOn(t, g)[moved]; n < 1 {
				t.Fatalf("/health counts %d sessions on %s", n, moved)
			}
		})
	}
	// A request of no session says nothing about affinity.
	resp, _ := g.post(t, "/v1/chat/completions", `{"model":"coder","messages":[{"role":"user","content":"hi"}]}`, nil)
	if resp.StatusCode != 200 || resp.Header.Get("X-Flowgate-Session-Affinity") != "" {
		t.Fatalf("no session: status %d, affinity %q", resp.StatusCode, resp.Header.Get("X-Flowgate-Session-Affinity"))
	}
}

func sessionsOn(t *testing.T, g *gw) map[string]int {
	t.Helper()
	req, _ := http.NewRequest("GET", g.URL+"/health", nil)
	req.Header.Set("Authorization", "Bearer "+gatewayKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var h struct {
		Deployments []struct {
			ID       string `json:"id"`
			Sessions int    `json:"sessions"`
		} `json:"deployments"`
	}
	if err := json.Unmarshal(raw, &h); err != nil {
		t.Fatalf("%v: %s", err, raw)
	}
	out := map[string]int{}
	for _, d := range h.Deployments {
		out[d.ID] = d.Sessions
	}
	return out
}
