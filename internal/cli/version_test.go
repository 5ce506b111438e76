package cli

import (
	"debug/buildinfo"
	"encoding/json"
	"os/exec"
	"runtime/debug"
	"strings"
	"testing"
)

func TestVersionReadsModuleVersionAndVCSStamp(t *testing.T) {
	bi := &debug.BuildInfo{
		GoVersion: "go1.26.0",
		Main:      debug.Module{Path: "github.com/flowgate/flowgate", Version: "v0.3.0"},
		Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "0123456789abcdef0123456789abcdef01234567"},
			{Key: "vcs.time", Value: "2026-01-02T03:04:05Z"},
			{Key: "vcs.modified", Value: "true"},
		},
	}
	v := buildVersion(bi)
	want := versionInfo{Version: "v0.3.0", Commit: "0123456789abcdef0123456789abcdef01234567", CommitTime: "2026-01-02T03:04:05Z", Modified: true, Go: "go1.26.0"}
	if v != want {
		t.Fatalf("got %+v, want %+v", v, want)
	}
	if s := v.String(); s != "flowgate v0.3.0 (commit 0123456789abcdef0123456789abcdef01234567, 2026-01-02T03:04:05Z, modified; go1.26.0)" {
		t.Fatalf("line = %q", s)
	}
	bi.Main.Version, bi.Settings = "(devel)", nil
	if v := buildVersion(bi); v.Version != "dev" || v.Commit != "" || !strings.Contains(v.String(), "commit unknown") {
		t.Fatalf("no VCS stamp: %+v %q", v, v.String())
	}
}

// TestBuiltBinaryReportsWhatGoRecorded builds cmd/flowgate and checks that
// --version and version --json report the module version and VCS stamp Go
// recorded in that binary (Go stamps builds from a clone whose .git is a
// folder; builds with -buildvcs=false or from a git worktree carry none).
func TestBuiltBinaryReportsWhatGoRecorded(t *testing.T) {
	bin := flowgateBinary(t)
	bi, err := buildinfo.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	want := buildVersion(bi)
	out, err := exec.Command(bin, "version", "--json").Output()
	if err != nil {
		t.Fatal(err)
	}
	var got versionInfo
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if got != want {
		t.Fatalf("version --json = %+v, the binary records %+v", got, want)
	}
	var raw map[string]any
	json.Unmarshal(out, &raw)
	for _, k := range []string{"version", "commit", "commit_time", "modified", "go"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("version --json lacks %q: %s", k, out)
		}
	}
	if want.Commit != "" {
		if head, err := exec.Command("git", "rev-parse", "HEAD").Output(); err == nil && strings.TrimSpace(string(head)) != want.Commit {
			t.Errorf("binary stamped with %s, checkout is at %s", want.Commit, head)
		}
	}
	out, err = exec.Command(bin, "--version").Output()
	if err != nil || strings.TrimSpace(string(out)) != want.String() {
		t.Fatalf("--version: %v %q, want %q", err, out, want.String())
	}
	out, err = exec.Command(bin, "--version", "--json").Output()
	if err != nil || !json.Valid(out) {
		t.Errorf("--version --json: %v %q", err, out)
	}
}
