package clients

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestPrintClaudeLinesInOrder(t *testing.T) {
	got := PrintClaude(Spec{GatewayURL: "http://0.0.0.0:4000/v1", FastModel: "router-fast"})
	want := `ANTHROPIC_BASE_URL=http://127.0.0.1:4000
ANTHROPIC_AUTH_TOKEN=your-gateway-token
ANTHROPIC_MODEL=router-default
ANTHROPIC_DEFAULT_OPUS_MODEL=router-default
ANTHROPIC_DEFAULT_SONNET_MODEL=router-default
ANTHROPIC_DEFAULT_HAIKU_MODEL=router-fast
`
	if got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
	if !strings.Contains(PrintClaude(Spec{Token: "sk-real"}), "ANTHROPIC_AUTH_TOKEN=sk-real\n") {
		t.Fatal("real token not printed")
	}
}

const claudeExisting = `{
    "permissions": {
        "allow": ["Bash(git status)", "Read"],
        "deny": []
    },
    "env": {
        "ZZZ_FIRST": "1",
        "ANTHROPIC_AUTH_TOKEN": "sk-real-token",
        "ANTHROPIC_BASE_URL": "https://old.example",
        "HTTP_PROXY": "http://proxy:3128"
    },
    "hooks": {
        "PostToolUse": [{"matcher": "Edit", "hooks": [{"type": "command", "command": "gofmt -w \"$FILE\" && echo \u003cok\u003e"}]}]
    },
    "model": "opus",
    "cleanupPeriodDays": 1e2
}
`

func topKeys(t *testing.T, data []byte, path ...string) []string {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(string(data)))
	// Walk down path by decoding into RawMessage maps, then read key order.
	raw := json.RawMessage(data)
	for _, p := range path {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatal(err)
		}
		raw = m[p]
	}
	dec = json.NewDecoder(strings.NewReader(string(raw)))
	var keys []string
	dec.Token()
	for dec.More() {
		k, _ := dec.Token()
		keys = append(keys, k.(string))
		var skip json.RawMessage
		dec.Decode(&skip)
	}
	return keys
}

func TestApplyClaudeKeepsTokenOrderAndOtherKeys(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "settings.json")
	os.WriteFile(path, []byte(claudeExisting), 0o644)
	res, err := ApplyClaude(path, testSpec(), false)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	var before, after map[string]any
	json.Unmarshal([]byte(claudeExisting), &before)
	if err := json.Unmarshal(got, &after); err != nil {
		t.Fatal(err)
	}
	env := after["env"].(map[string]any)
	if env["ANTHROPIC_AUTH_TOKEN"] != "sk-real-token" {
		t.Fatalf("token replaced: %v", env["ANTHROPIC_AUTH_TOKEN"])
	}
	if env["ANTHROPIC_BASE_URL"] != "http://127.0.0.1:4000" || env["ANTHROPIC_DEFAULT_HAIKU_MODEL"] != "router-fast" || env["ANTHROPIC_MODEL"] != "router-default" {
		t.Fatalf("env = %v", env)
	}
	for _, k := range []string{"permissions", "hooks", "model", "cleanupPeriodDays"} {
		if !reflect.DeepEqual(before[k], after[k]) {
			t.Errorf("%s changed", k)
		}
	}
	if k := topKeys(t, got); !reflect.DeepEqual(k, []string{"permissions", "env", "hooks", "model", "cleanupPeriodDays"}) {
		t.Errorf("top-level order %v", k)
	}
	wantEnv := []string{"ZZZ_FIRST", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_BASE_URL", "HTTP_PROXY", "ANTHROPIC_MODEL", "ANTHROPIC_DEFAULT_OPUS_MODEL", "ANTHROPIC_DEFAULT_SONNET_MODEL", "ANTHROPIC_DEFAULT_HAIKU_MODEL"}
	if k := topKeys(t, got, "env"); !reflect.DeepEqual(k, wantEnv) {
		t.Errorf("env order %v", k)
	}
	// Raw scalars survive byte for byte, indent is the file's own.
	for _, s := range []string{`\u003cok\u003e`, `1e2`, "\n    \"permissions\"", `"allow": ["Bash(git status)", "Read"],`, `"PostToolUse": [{"matcher"`} {
		if !strings.Contains(string(got), s) {
			t.Errorf("lost %q in\n%s", s, got)
		}
	}
	if len(res.Warnings) != 0 {
		t.Errorf("warnings %v", res.Warnings)
	}
	// The file holds the gateway key now: others may no longer read it.
	st, _ := os.Stat(path)
	if st.Mode().Perm() != 0o600 || res.TightenedFrom != 0o644 {
		t.Errorf("mode %v (TightenedFrom %v), want 0600 narrowed from 0644", st.Mode().Perm(), res.TightenedFrom)
	}
	checkBackup(t, res.BackupPath, claudeExisting)
}

func TestApplyClaudeRealTokenReplacesPlaceholder(t *testing.T) {
	path := filepath.Join(t.TempDir(), "settings.json")
	os.WriteFile(path, []byte(`{"env":{"ANTHROPIC_AUTH_TOKEN":"your-gateway-token"}}`), 0o600)
	s := testSpec()
	res, err := ApplyClaude(path, s, false)
	if err != nil || len(res.Warnings) != 1 {
		t.Fatalf("%v %v", err, res.Warnings)
	}
	s.Token = "sk-gw"
	if _, err := ApplyClaude(path, s, false); err != nil {
		t.Fatal(err)
	}
	var m map[string]map[string]any
	b, _ := os.ReadFile(path)
	json.Unmarshal(b, &m)
	if m["env"]["ANTHROPIC_AUTH_TOKEN"] != "sk-gw" {
		t.Fatalf("%s", b)
	}
}

func TestApplyClaudeAddsPlaceholderOnlyWithoutOtherCredentials(t *testing.T) {
	dir := t.TempDir()
	for name, in := range map[string]string{
		"none":   `{}`,
		"apikey": `{"env":{"ANTHROPIC_API_KEY":"sk-x"}}`,
		"helper": `{"apiKeyHelper":"~/bin/key.sh"}`,
	} {
		path := filepath.Join(dir, name+".json")
		os.WriteFile(path, []byte(in), 0o600)
		if _, err := ApplyClaude(path, testSpec(), false); err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		b, _ := os.ReadFile(path)
		json.Unmarshal(b, &m)
		_, has := m["env"].(map[string]any)["ANTHROPIC_AUTH_TOKEN"]
		if has != (name == "none") {
			t.Errorf("%s: placeholder added = %v\n%s", name, has, b)
		}
	}
}

func TestApplyClaudeBackupsUniqueWithinOneSecond(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "settings.json")
	os.WriteFile(path, []byte(`{"env":{}}`), 0o600)
	s := testSpec()
	r1, err := ApplyClaude(path, s, false)
	if err != nil {
		t.Fatal(err)
	}
	s.DefaultModel = "router-fast"
	r2, err := ApplyClaude(path, s, false)
	if err != nil {
		t.Fatal(err)
	}
	if r1.BackupPath == "" || r2.BackupPath == "" || r1.BackupPath == r2.BackupPath {
		t.Fatalf("backups %q %q", r1.BackupPath, r2.BackupPath)
	}
	checkBackup(t, r1.BackupPath, `{"env":{}}`)
	first, _ := os.ReadFile(r2.BackupPath)
	if !strings.Contains(string(first), `"router-default"`) {
		t.Fatalf("second backup should hold the first apply's result:\n%s", first)
	}
	st, _ := os.Stat(r2.BackupPath)
	if st.Mode().Perm() != 0o600 {
		t.Fatal("backup mode")
	}
}

func TestApplyClaudeInvalidInputChangesNothing(t *testing.T) {
	for name, in := range map[string]string{
		"syntax":    "{\n  \"env\": {,\n}",
		"array":     `[1,2]`,
		"env-array": `{"env": ["x"]}`,
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "settings.json")
			os.WriteFile(path, []byte(in), 0o600)
			_, err := ApplyClaude(path, testSpec(), false)
			if err == nil || !strings.Contains(err.Error(), path) {
				t.Fatalf("err = %v", err)
			}
			if name == "syntax" && !strings.Contains(err.Error(), "line 2") {
				t.Errorf("no position in %v", err)
			}
			assertOnlyFile(t, dir, "settings.json", in)
		})
	}
}

func TestApplyClaudeDryRunAndSymlinkTarget(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "dotfiles-settings.json")
	os.WriteFile(real, []byte("{}\n"), 0o600)
	link := filepath.Join(dir, "settings.json")
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	res, err := ApplyClaude(link, testSpec(), true)
	if err != nil || !res.DryRun || !strings.Contains(res.Diff, `+    "ANTHROPIC_BASE_URL": "http://127.0.0.1:4000",`) && !strings.Contains(res.Diff, `"ANTHROPIC_BASE_URL"`) {
		t.Fatalf("%v\n%s", err, res.Diff)
	}
	if b, _ := os.ReadFile(real); string(b) != "{}\n" {
		t.Fatal("dry run wrote")
	}
	if _, err := ApplyClaude(link, testSpec(), false); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Lstat(link); fi.Mode()&os.ModeSymlink == 0 {
		t.Fatal("symlink replaced by a file")
	}
	if b, _ := os.ReadFile(real); !strings.Contains(string(b), "ANTHROPIC_BASE_URL") {
		t.Fatal("link target not updated")
	}
}

func TestApplyClaudeWithoutEnvKeepsEveryOtherByte(t *testing.T) {
	path := filepath.Join(t.TempDir(), "settings.json")
	in := "{\n\t\"permissions\": {\"allow\": [\"Read\"]},\n\t\"apiKeyHelper\": \"k.sh\"\n}\n"
	os.WriteFile(path, []byte(in), 0o600)
	if _, err := ApplyClaude(path, testSpec(), false); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	want := "{\n\t\"permissions\": {\"allow\": [\"Read\"]},\n\t\"apiKeyHelper\": \"k.sh\",\n\t\"env\": {\n\t\t\"ANTHROPIC_BASE_URL\": \"http://127.0.0.1:4000\",\n"
	if !strings.HasPrefix(string(got), want) || !strings.HasSuffix(string(got), "\n\t}\n}\n") {
		t.Fatalf("got\n%s", got)
	}
}
