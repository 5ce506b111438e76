package cliproxy

import (
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestStatusShowsEachAccountAsTheServiceReportsIt: files on disk joined with
// GET /auth-files: plan, status, status message, quota state (unavailable,
// next retry), disabled; accounts listed only by the service appear too.
func TestStatusShowsEachAccountAsTheServiceReportsIt(t *testing.T) {
	dir := t.TempDir()
	os.Chmod(dir, 0o700)
	write := func(name, body string, mode os.FileMode) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), mode); err != nil {
			t.Fatal(err)
		}
	}
	write("codex-dev@example.com-plus.json", `{"type":"codex","email":"dev@example.com","account_id":"acc-1","expired":"2026-01-01T00:00:00Z"}`, 0o600)
	write("github-octo.json", `{"type":"github-copilot","username":"octo","access_token":"gho_x"}`, 0o644)
	write("notes.json", `{"hello":"world"}`, 0o600)
	write(".oauth-codex-abc.oauth", `{}`, 0o600)
	write("readme.txt", `x`, 0o600)

	f := newFakeCPA(t)
	retry := time.Date(2026, 2, 1, 0, 30, 0, 0, time.UTC)
	// JSON as CLIProxyAPIPlus writes it, so the field names are checked.
	if err := json.Unmarshal([]byte(`[
	  {"id":"codex-dev@example.com-plus.json","auth_index":"a1","name":"codex-dev@example.com-plus.json","type":"codex","provider":"codex","label":"","status":"error","status_message":"quota exhausted","disabled":false,"unavailable":true,"runtime_only":false,"source":"file","size":10,"email":"dev@example.com","account_type":"oauth","next_retry_after":"2026-02-01T00:30:00Z","id_token":{"chatgpt_account_id":"acc-1","plan_type":"plus"}},
	  {"id":"elsewhere.json","name":"elsewhere.json","type":"codex","provider":"codex","status":"active","disabled":true,"unavailable":false,"source":"memory","email":"other@example.com"}
	]`), &f.files); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	st, err := Status(context.Background(), dir, f.client(testPassword), now)
	if err != nil {
		t.Fatal(err)
	}
	if st.Service != "running" || len(st.Credentials) != 4 {
		t.Fatalf("status %+v", st)
	}
	by := map[string]Credential{}
	for _, c := range st.Credentials {
		by[c.File] = c
	}
	codex := by["codex-dev@example.com-plus.json"]
	if codex.Provider != "codex" || codex.Account != "dev@example.com" || !codex.Expired || codex.Loaded == nil || !*codex.Loaded ||
		codex.Plan != "plus" || codex.Status != "error" || codex.StatusMessage != "quota exhausted" || !codex.Unavailable ||
		codex.NextRetryAfter == nil || !codex.NextRetryAfter.Equal(retry) {
		t.Errorf("codex %+v", codex)
	}
	if o := by["elsewhere.json"]; !o.Elsewhere || !o.Disabled || o.Account != "other@example.com" || o.Provider != "codex" || o.Problem != "" {
		t.Errorf("account listed only by the service %+v", o)
	}
	gh := by["github-octo.json"]
	if gh.Provider != "copilot" || gh.Account != "octo" || gh.Expires != nil || gh.Loaded == nil || *gh.Loaded {
		t.Errorf("copilot %+v", gh)
	}
	if by["notes.json"].Problem == "" {
		t.Error("a file without type was not flagged")
	}
	if len(st.PermissionIssues) != 1 || !strings.Contains(st.PermissionIssues[0], "github-octo.json") {
		t.Errorf("permission issues %v", st.PermissionIssues)
	}
	if len(st.LoadedElsewhere) != 1 || st.LoadedElsewhere[0] != "elsewhere.json" {
		t.Errorf("loaded elsewhere %v", st.LoadedElsewhere)
	}
	lines := strings.Join(st.Lines(), "\n")
	for _, want := range []string{"service=running",
		`provider=codex file=codex-dev@example.com-plus.json account=dev@example.com plan=plus expires=2026-01-01T00:00:00Z expired=true disabled=false loaded=true status=error status_message="quota exhausted" unavailable=true next_retry_after=2026-02-01T00:30:00Z`,
		"provider=codex file=elsewhere.json account=other@example.com expired=false disabled=true loaded=true status=active",
		"secret_permission_issues=1"} {
		if !strings.Contains(lines, want) {
			t.Errorf("lines lack %q:\n%s", want, lines)
		}
	}
	if strings.Contains(lines, "gho_") {
		t.Error("a token reached the output")
	}
}

func TestStatusWithServiceDownIsNotAnError(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	st, err := Status(context.Background(), filepath.Join(t.TempDir(), "missing"), NewClient("127.0.0.1", port, "x"), time.Now())
	if err != nil || st.Service != "not-running" || len(st.Credentials) != 0 {
		t.Fatalf("%+v %v", st, err)
	}
}
