package clients

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func mode(t *testing.T, path string) os.FileMode {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

func TestApplyClaudeNarrowsAWorldReadableSettingsFileThatGetsTheKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "settings.json")
	os.WriteFile(path, []byte(`{"model": "opus"}`+"\n"), 0o644)
	os.Chmod(path, 0o644)
	spec := Spec{GatewayURL: "http://127.0.0.1:4000", Token: "sk-fg-secret"}

	res, err := ApplyClaude(path, spec, true)
	if err != nil {
		t.Fatal(err)
	}
	if res.TightenedFrom != 0o644 || mode(t, path) != 0o644 {
		t.Fatalf("dry run: want a planned narrowing and no chmod, got TightenedFrom=%o mode=%o", res.TightenedFrom, mode(t, path))
	}

	res, err = ApplyClaude(path, spec, false)
	if err != nil {
		t.Fatal(err)
	}
	if res.TightenedFrom != 0o644 || mode(t, path) != 0o600 {
		t.Fatalf("want 0600 and TightenedFrom=0644, got mode=%o TightenedFrom=%o", mode(t, path), res.TightenedFrom)
	}

	// Already holding the key but loosened again by hand: nothing to
	// rewrite, the mode is still narrowed.
	os.Chmod(path, 0o664)
	res, err = ApplyClaude(path, spec, false)
	if err != nil {
		t.Fatal(err)
	}
	if res.Changed || res.TightenedFrom != 0o664 || mode(t, path) != 0o600 {
		t.Fatalf("unchanged content: want chmod to 0600, got changed=%t mode=%o TightenedFrom=%o", res.Changed, mode(t, path), res.TightenedFrom)
	}
}

func TestApplyClaudeKeepsTheModeWithoutAKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "settings.json")
	os.WriteFile(path, []byte(`{"apiKeyHelper": "helper.sh"}`), 0o644)
	os.Chmod(path, 0o644)
	res, err := ApplyClaude(path, Spec{}, false)
	if err != nil {
		t.Fatal(err)
	}
	if res.TightenedFrom != 0 || mode(t, path) != 0o644 {
		t.Fatalf("no key written: the mode must stay, got %o (TightenedFrom %o)", mode(t, path), res.TightenedFrom)
	}
}

func TestClaudeDriftFindsAnOldAddressAndAnOldKeyWithoutPrintingIt(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "settings.json")
	old := Spec{GatewayURL: "http://127.0.0.1:4000", Token: "sk-fg-old"}
	if _, err := ApplyClaude(path, old, false); err != nil {
		t.Fatal(err)
	}
	s, err := ReadClaude(path)
	if err != nil {
		t.Fatal(err)
	}
	if d := ClaudeDrift(old, s); len(d) != 0 {
		t.Fatalf("freshly applied settings must not drift: %v", d)
	}
	now := Spec{GatewayURL: "http://127.0.0.1:4100", Token: "sk-fg-new"}
	d := ClaudeDrift(now, s)
	if len(d) != 2 || !strings.Contains(d[0], "http://127.0.0.1:4000") || !strings.Contains(d[0], "http://127.0.0.1:4100") || !strings.Contains(d[1], "not the current gateway key") {
		t.Fatalf("want address and key drift, got %v", d)
	}
	for _, line := range d {
		if strings.Contains(line, "sk-fg-") {
			t.Fatalf("drift must never show a key: %s", line)
		}
	}
	if s, _ := ReadClaude(filepath.Join(dir, "missing.json")); s.Exists || ClaudeDrift(now, s) != nil {
		t.Fatal("settings never applied are not drift")
	}
}

func TestCodexDriftFindsAnOldBaseURLAndEnvKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.toml")
	os.WriteFile(path, []byte("model = \"o3\"\n"), 0o600)
	s, err := ReadCodex(path)
	if err != nil || s.HasFlowGate || CodexDrift(Spec{}, s) != nil {
		t.Fatalf("no flowgate provider is not drift: %+v %v", s, err)
	}
	old := Spec{GatewayURL: "http://127.0.0.1:4000"}
	if _, err := ApplyCodex(path, old, false); err != nil {
		t.Fatal(err)
	}
	s, _ = ReadCodex(path)
	if !s.HasFlowGate || s.Provider != CodexProviderID || CodexDrift(old, s) != nil {
		t.Fatalf("freshly applied: %+v drift=%v", s, CodexDrift(old, s))
	}
	d := CodexDrift(Spec{GatewayURL: "http://127.0.0.1:4100", EnvKey: "FLOWGATE_API_KEY"}, s)
	if len(d) != 2 || !strings.Contains(d[0], "http://127.0.0.1:4100/v1") || !strings.Contains(d[1], "FLOWGATE_API_KEY") {
		t.Fatalf("want base_url and env_key drift, got %v", d)
	}
}
