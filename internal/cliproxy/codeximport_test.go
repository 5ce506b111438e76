package cliproxy

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// unsignedJWT builds a real-shaped JWT (RS256 header, claims, fake signature).
func unsignedJWT(t *testing.T, claims map[string]any) string {
	t.Helper()
	enc := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return base64.RawURLEncoding.EncodeToString(b)
	}
	return enc(map[string]string{"alg": "RS256", "typ": "JWT", "kid": "test"}) + "." + enc(claims) + "." +
		base64.RawURLEncoding.EncodeToString([]byte("not-a-signature"))
}

var accessExp = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// codexAuthJSON writes a Codex CLI auth.json for one ChatGPT account.
func codexAuthJSON(t *testing.T, dir, email, accountID, plan string, withAccountID bool) string {
	t.Helper()
	idToken := unsignedJWT(t, map[string]any{
		"iss": "https://auth.openai.com", "aud": []string{"app_EMoamEEZ73f0CkXaXp7hrann"}, "email": email, "email_verified": true,
		"exp": 1767225600, "iat": 1767222000,
		openAIAuthClaim: map[string]any{"chatgpt_account_id": accountID, "chatgpt_plan_type": plan, "chatgpt_user_id": "user-123"},
	})
	access := unsignedJWT(t, map[string]any{"aud": []string{"https://api.openai.com/v1"}, "exp": accessExp.Unix(), "scp": []string{"openid", "email"}})
	tokens := map[string]any{"id_token": idToken, "access_token": access, "refresh_token": "rt_" + accountID}
	if withAccountID {
		tokens["account_id"] = accountID
	}
	doc := map[string]any{"OPENAI_API_KEY": nil, "auth_mode": "chatgpt", "tokens": tokens,
		"last_refresh": "2026-02-20T08:30:15.123456789Z", "agent_identity": map[string]any{"x": 1}}
	p := filepath.Join(dir, "auth.json")
	b, _ := json.Marshal(doc)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestImportHeadlessCodexWritesCredentialNamedLikeCLIProxyAPIPlusAt0600(t *testing.T) {
	src := codexAuthJSON(t, t.TempDir(), "dev@example.com", "acc-1111", "plus", true)
	dest := filepath.Join(t.TempDir(), "auths")
	rec := &recorder{}
	res, err := ImportHeadless(ImportOptions{Provider: "codex", Source: src, DestDir: dest, Events: rec.emitter()})
	if err != nil {
		t.Fatal(err)
	}
	want := filepath.Join(dest, "codex-dev@example.com-plus.json")
	if res.Path != want || res.Email != "dev@example.com" || res.AccountID != "acc-1111" || res.Plan != "plus" || res.Replaced {
		t.Fatalf("result %+v", res)
	}
	if !res.Expires.Equal(accessExp) || !strings.Contains(res.Warning, "shared") {
		t.Errorf("expires %s warning %q", res.Expires, res.Warning)
	}
	fi, err := os.Stat(want)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("file mode %v, %v", fi, err)
	}
	di, _ := os.Stat(dest)
	if di.Mode().Perm() != 0o700 {
		t.Errorf("dir mode %v", di.Mode().Perm())
	}
	var got map[string]string
	data, _ := os.ReadFile(want)
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatalf("not all-string JSON: %v", err)
	}
	in, _ := os.ReadFile(src)
	var orig struct{ Tokens map[string]string }
	json.Unmarshal(in, &orig)
	checks := map[string]string{
		"type": "codex", "email": "dev@example.com", "account_id": "acc-1111",
		"id_token": orig.Tokens["id_token"], "access_token": orig.Tokens["access_token"], "refresh_token": "rt_acc-1111",
		"last_refresh": "2026-02-20T08:30:15Z", "expired": "2026-03-01T12:00:00Z",
	}
	for k, v := range checks {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	if len(got) != len(checks) {
		t.Errorf("unexpected fields: %v", got)
	}
	evs := rec.all()
	if len(evs) != 1 || evs[0].Event != "auth_import" || evs[0].Result != "success" || evs[0].Provider != "codex" ||
		!strings.Contains(evs[0].Detail, "method=headless") || strings.Contains(evs[0].Detail, "rt_") {
		t.Errorf("events %+v", evs)
	}
	// The written file reads back as a codex credential in `auth status`.
	creds, err := ScanAuthDir(dest, accessExp.Add(-time.Hour))
	if err != nil || len(creds) != 1 || creds[0].Provider != "codex" || creds[0].Account != "dev@example.com" || creds[0].Expired {
		t.Errorf("scan %+v %v", creds, err)
	}
}

func TestImportHeadlessSecondAccountLandsBesideFirst(t *testing.T) {
	dest := t.TempDir()
	first := codexAuthJSON(t, t.TempDir(), "one@example.com", "acc-1", "plus", true)
	second := codexAuthJSON(t, t.TempDir(), "two@example.com", "acc-2", "pro", false)
	r1, err := ImportHeadless(ImportOptions{Provider: "codex", Source: first, DestDir: dest})
	if err != nil {
		t.Fatal(err)
	}
	r2, err := ImportHeadless(ImportOptions{Provider: "codex", Source: second, DestDir: dest})
	if err != nil {
		t.Fatal(err)
	}
	if r1.Path == r2.Path {
		t.Fatal("second account overwrote the first")
	}
	if filepath.Base(r2.Path) != "codex-two@example.com-pro.json" || r2.AccountID != "acc-2" {
		t.Errorf("second %+v (account id must come from the id_token claim)", r2)
	}
	for _, p := range []string{r1.Path, r2.Path} {
		if _, err := os.Stat(p); err != nil {
			t.Error(err)
		}
	}
}

func TestImportHeadlessSameAccountReplacesItsFile(t *testing.T) {
	dest := t.TempDir()
	src := codexAuthJSON(t, t.TempDir(), "dev@example.com", "acc-1", "plus", true)
	if _, err := ImportHeadless(ImportOptions{Provider: "codex", Source: src, DestDir: dest}); err != nil {
		t.Fatal(err)
	}
	res, err := ImportHeadless(ImportOptions{Provider: "codex", Source: src, DestDir: dest})
	if err != nil || !res.Replaced {
		t.Fatalf("%+v %v", res, err)
	}
	entries, _ := os.ReadDir(dest)
	if len(entries) != 1 {
		t.Errorf("folder holds %d entries (temp files left?)", len(entries))
	}
}

func TestImportHeadlessNeverClobbersAnotherAccountsFile(t *testing.T) {
	dest := t.TempDir()
	other := []byte(`{"type":"codex","email":"dev@example.com","account_id":"acc-OTHER","refresh_token":"keep"}`)
	p := filepath.Join(dest, "codex-dev@example.com-plus.json")
	os.WriteFile(p, other, 0o600)
	src := codexAuthJSON(t, t.TempDir(), "dev@example.com", "acc-1", "plus", true)
	rec := &recorder{}
	_, err := ImportHeadless(ImportOptions{Provider: "codex", Source: src, DestDir: dest, Events: rec.emitter()})
	if err == nil || !strings.Contains(err.Error(), "refusing to overwrite") || !strings.Contains(err.Error(), "acc-OTHER") {
		t.Fatalf("got %v", err)
	}
	if got, _ := os.ReadFile(p); string(got) != string(other) {
		t.Error("the other account's file changed")
	}
	if evs := rec.all(); len(evs) != 1 || evs[0].Result != "failed" {
		t.Errorf("events %+v", evs)
	}
}

func TestImportHeadlessTeamPlanNameCarriesAccountHash(t *testing.T) {
	src := codexAuthJSON(t, t.TempDir(), "dev@corp.example", "acc-team", "team", true)
	res, err := ImportHeadless(ImportOptions{Provider: "codex", Source: src, DestDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.Sum256([]byte("acc-team"))
	if want := "codex-" + hex.EncodeToString(h[:])[:8] + "-dev@corp.example-team.json"; filepath.Base(res.Path) != want {
		t.Errorf("name %s, want %s", filepath.Base(res.Path), want)
	}
}

func TestCodexFileNameKeepsInsideFolder(t *testing.T) {
	if got := codexFileName("../../etc/x", "Plus", "a"); got != "codex-.._.._etc_x-plus.json" {
		t.Errorf("got %s", got)
	}
	if got := codexFileName("dev@example.com", "", "a"); got != "codex-dev@example.com.json" {
		t.Errorf("got %s", got)
	}
}

func TestImportHeadlessAPIKeyOnlyAuthExplains(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "auth.json")
	os.WriteFile(src, []byte(`{"OPENAI_API_KEY":"sk-test-123456789","auth_mode":"apikey"}`), 0o600)
	dest := filepath.Join(t.TempDir(), "auths")
	_, err := ImportHeadless(ImportOptions{Provider: "codex", Source: src, DestDir: dest})
	if err == nil || !strings.Contains(err.Error(), "API key, not a ChatGPT login") || strings.Contains(err.Error(), "sk-test") {
		t.Fatalf("got %v", err)
	}
	if _, err := os.Stat(dest); err == nil {
		t.Error("the auth folder was created for a failed import")
	}
}

func TestImportHeadlessDefaultSourceIsCodexHome(t *testing.T) {
	home := t.TempDir()
	codexAuthJSON(t, home, "dev@example.com", "acc-1", "plus", true)
	t.Setenv("CODEX_HOME", home)
	res, err := ImportHeadless(ImportOptions{Provider: "codex", DestDir: t.TempDir()})
	if err != nil || res.Email != "dev@example.com" {
		t.Fatalf("%+v %v", res, err)
	}
	t.Setenv("CODEX_HOME", filepath.Join(home, "missing"))
	_, err = ImportHeadless(ImportOptions{Provider: "codex", DestDir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "codex login") {
		t.Fatalf("got %v", err)
	}
}

func TestImportHeadlessUnsupportedProvider(t *testing.T) {
	_, err := ImportHeadless(ImportOptions{Provider: "copilot", DestDir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "supported: codex") {
		t.Fatalf("got %v", err)
	}
}
