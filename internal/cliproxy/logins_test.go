package cliproxy

import (
	"testing"
	"time"
)

func TestProviderForModelNamesTheLoginServingIt(t *testing.T) {
	for model, want := range map[string]string{
		"gpt-5": "codex", "openai/gpt-5-mini": "codex", "gpt-5.1-codex-max": "codex", "codex-mini-latest": "codex",
		"claude-sonnet-4.5": "copilot", "gemini-2.5-pro": "copilot", "gpt-4.1": "copilot", "grok-code-fast-1": "copilot",
		"llama-3": "", "": "",
	} {
		if got := ProviderForModel(model); got != want {
			t.Errorf("ProviderForModel(%q) = %q, want %q", model, got, want)
		}
	}
	if LoginCommand("codex") != "flowgate auth login codex" || LoginCommand("github-copilot") != "flowgate auth login copilot" || LoginCommand("") != "flowgate auth status" {
		t.Error("LoginCommand")
	}
}

func TestOnServiceComparesHostAndPort(t *testing.T) {
	cases := []struct {
		base, svc string
		want      bool
	}{
		{"http://127.0.0.1:8317/v1", "http://127.0.0.1:8317", true},
		{"http://localhost:8317/v1", "http://127.0.0.1:8317", true},
		{"http://127.0.0.1:8318/v1", "http://127.0.0.1:8317", false},
		{"https://api.openai.com/v1", "http://127.0.0.1:8317", false},
		{"not a url", "http://127.0.0.1:8317", false},
	}
	for _, c := range cases {
		if got := OnService(c.base, c.svc); got != c.want {
			t.Errorf("OnService(%q, %q) = %v", c.base, c.svc, got)
		}
	}
}

// TestLoginsTakeTheBestAccount: a provider is as good as its best account;
// an expired-only provider reports its latest expiry.
func TestLoginsTakeTheBestAccount(t *testing.T) {
	t1, t2 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	no := false
	st := &AuthStatus{AuthDir: "/x", Credentials: []Credential{
		{Provider: "codex", Account: "a", Expired: true, Expires: &t1},
		{Provider: "codex", Account: "b", Expired: true, Expires: &t2},
		{Provider: "copilot", Account: "c", Loaded: &no, Path: "/x/c.json"},
		{Provider: "copilot", Account: "d", Status: "error", StatusMessage: "unauthorized"},
		{Problem: "no type"},
	}}
	got := st.Logins([]string{"copilot", "codex"})
	if len(got) != 2 || got[0].Provider != "codex" || got[0].State != LoginExpired || got[0].Account != "b" || !got[0].At.Equal(t2) {
		t.Fatalf("codex %+v", got)
	}
	if got[0].Problem() != "codex login expired at 2026-01-05T00:00:00Z (b) (run: flowgate auth login codex)" {
		t.Errorf("problem %q", got[0].Problem())
	}
	if got[1].State != LoginNotLoaded || got[1].Account != "c" {
		t.Errorf("copilot %+v", got[1])
	}
}
