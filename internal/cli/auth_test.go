package cli

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func jwt(claims map[string]any) string {
	enc := base64.RawURLEncoding
	h, _ := json.Marshal(map[string]string{"alg": "none", "typ": "JWT"})
	p, _ := json.Marshal(claims)
	return enc.EncodeToString(h) + "." + enc.EncodeToString(p) + ".c2ln"
}

// TestAuthImportHeadlessThenStatus imports a Codex CLI login through the
// CLI: the credential lands in .router/auths at 0600 under CLIProxyAPIPlus's
// name, an auth_import event is logged, and auth status lists it.
func TestAuthImportHeadlessThenStatus(t *testing.T) {
	cfg := project(t)
	root := filepath.Dir(filepath.Dir(cfg))
	codexHome := t.TempDir()
	exp := time.Now().Add(10 * 24 * time.Hour).Unix()
	auth := map[string]any{
		"OPENAI_API_KEY": nil,
		"tokens": map[string]any{
			"id_token": jwt(map[string]any{"email": "dev@example.com", "https://api.openai.com/auth": map[string]any{
				"chatgpt_account_id": "acct-1", "chatgpt_plan_type": "plus"}}),
			"access_token":  jwt(map[string]any{"exp": exp}),
			"refresh_token": "rt-secret-value",
			"account_id":    "acct-1",
		},
		"last_refresh": "2026-11-20T10:00:00Z",
	}
	data, _ := json.Marshal(auth)
	src := filepath.Join(codexHome, "auth.json")
	os.WriteFile(src, data, 0o600)

	r := runCLI(t, "--config", cfg, "auth", "import-headless", "codex", "--source", src)
	if r.code != 0 {
		t.Fatalf("import: %+v", r)
	}
	want := filepath.Join(root, ".router", "auths", "codex-dev@example.com-plus.json")
	fi, err := os.Stat(want)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("credential %s: %v %v", want, fi, err)
	}
	if !strings.Contains(r.stderr, "refresh token") {
		t.Errorf("the shared refresh token warning is missing: %q", r.stderr)
	}
	if strings.Contains(r.stdout+r.stderr, "rt-secret-value") {
		t.Fatal("the refresh token was printed")
	}
	r = runCLI(t, "--config", cfg, "auth", "status")
	if r.code != 0 || !strings.Contains(r.stdout, "dev@example.com") || !strings.Contains(r.stdout, "secret_permission_issues=0") {
		t.Fatalf("auth status: %+v", r)
	}
	r = runCLI(t, "--config", cfg, "events", "-n", "5")
	if !strings.Contains(r.stdout, `"event": "auth_import"`) || strings.Contains(r.stdout, "rt-secret-value") {
		t.Fatalf("events: %s", r.stdout)
	}
	r = runCLI(t, "--config", cfg, "auth", "import-headless", "copilot")
	if r.code != ExitUsage || !strings.Contains(r.stderr, "supported=codex") {
		t.Fatalf("unsupported provider: %+v", r)
	}
}

func TestAuthLoginUnknownProviderIsUsageError(t *testing.T) {
	cfg := project(t)
	r := runCLI(t, "--config", cfg, "auth", "login", "nope")
	if r.code != ExitUsage || !strings.Contains(r.stderr, "available=codex,copilot") {
		t.Fatalf("got %+v", r)
	}
}
