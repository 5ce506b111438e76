package cliproxy

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestStatusReportsFilesExpiryLoadedAndPermissions(t *testing.T) {
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
	f.files = []AuthFile{{Name: "codex-dev@example.com-plus.json", Provider: "codex"}, {Name: "elsewhere.json", Provider: "codex"}}
	now := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	st, err := Status(context.Background(), dir, f.client(testPassword), now)
	if err != nil {
		t.Fatal(err)
	}
	if st.Service != "running" || len(st.Credentials) != 3 {
		t.Fatalf("status %+v", st)
	}
	by := map[string]Credential{}
	for _, c := range st.Credentials {
		by[c.File] = c
	}
	codex := by["codex-dev@example.com-plus.json"]
	if codex.Provider != "codex" || codex.Account != "dev@example.com" || !codex.Expired || codex.Loaded == nil || !*codex.Loaded {
		t.Errorf("codex %+v", codex)
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
	for _, want := range []string{"service=running", "provider=codex file=codex-dev@example.com-plus.json account=dev@example.com expires=2026-01-01T00:00:00Z expired=true loaded=true", "secret_permission_issues=1"} {
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
