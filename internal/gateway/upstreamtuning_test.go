package gateway_test

import (
	"strings"
	"testing"

	"github.com/tidwall/gjson"
)

// What a deployment's model and model_info say about its upstream changes
// the translated body: an OpenAI reasoning model gets max_completion_tokens
// and developer instructions, reasoning_in_history sends earlier reasoning
// back, and max_output_tokens is the Anthropic limit when the client sets none.
func TestTranslatedRequestsFollowWhatTheUpstreamModelTakes(t *testing.T) {
	u := newCacheUpstream(t)
	withInfo := func(d map[string]any, info map[string]any) map[string]any { d["model_info"] = info; return d }
	g := startGateway(t, doc([]any{
		dep("gpt5", "openai/gpt-5-mini", u.URL+"/v1", nil),
		dep("plain", "openai/up-model", u.URL+"/v1", nil),
		withInfo(dep("kimi", "openai/kimi-k2-thinking", u.URL+"/v1", nil), map[string]any{"reasoning_in_history": true}),
		withInfo(dep("claude", "anthropic/up-model", u.URL, nil), map[string]any{"max_output_tokens": 32000}),
	}, nil), nil)

	claude := func(alias string) string {
		return `{"model":"` + alias + `","max_tokens":900,"system":"be brief","messages":[{"role":"user","content":"list"},` +
			`{"role":"assistant","content":[{"type":"thinking","thinking":"use ls","signature":"flowgate-unsigned-thinking"},{"type":"tool_use","id":"t1","name":"Bash","input":{"cmd":"ls"}}]},` +
			`{"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":"a.go"}]}]}`
	}
	codex := func(alias string) string {
		return `{"model":"` + alias + `","max_output_tokens":700,"input":[{"type":"message","role":"developer","content":"be brief"},{"type":"message","role":"user","content":"hi"}]}`
	}
	for _, c := range []struct {
		name, path, body, want, absent string
	}{
		{"reasoning model, messages", "/v1/messages", claude("gpt5"), `"max_completion_tokens":900`, `"max_tokens"`},
		{"reasoning model, responses", "/v1/responses", codex("gpt5"), `"role":"developer"`, `"max_tokens"`},
		{"other model", "/v1/responses", codex("plain"), `"max_tokens":700`, `"developer"`},
		{"reasoning in history", "/v1/messages", claude("kimi"), `"reasoning_content":"use ls"`, ""},
		{"reasoning not in history", "/v1/messages", claude("plain"), `"tool_calls"`, `reasoning_content`},
	} {
		before := u.count("/v1/chat/completions")
		resp, answer := g.post(t, c.path, c.body, nil)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", c.name, resp.StatusCode, answer)
		}
		u.mu.Lock()
		got := u.bodies["/v1/chat/completions"][before]
		u.mu.Unlock()
		if !strings.Contains(got, c.want) || c.absent != "" && strings.Contains(got, c.absent) {
			t.Errorf("%s: upstream body wants %s and not %q:\n%s", c.name, c.want, c.absent, got)
		}
	}

	resp, answer := g.post(t, "/v1/chat/completions", `{"model":"claude","messages":[{"role":"user","content":"hi"}]}`, nil)
	if resp.StatusCode != 200 {
		t.Fatalf("chat to anthropic: %d %s", resp.StatusCode, answer)
	}
	if got := u.only(t, "/v1/messages"); gjson.Get(got, "max_tokens").Int() != 32000 {
		t.Errorf("max_tokens from model_info.max_output_tokens: %s", got)
	}
}
