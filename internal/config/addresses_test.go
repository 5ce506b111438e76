package config

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const symbolicConfig = `
config_version: 2
services:
  cliproxyapi_plus:
    host: 0.0.0.0
    port: 9417
credentials:
  upstream:
    k: {file: key.txt}
litellm_base:
  model_list:
    - model_name: router-default
      litellm_params: {model: openai/m, api_base: cliproxy, api_key_ref: k}
    - model_name: elsewhere
      litellm_params: {model: openai/m, api_base: "https://api.example.com/v1"}
profiles:
  balanced: {}
  own:
    model_list:
      - model_name: router-default
        litellm_params: {model: anthropic/c, api_base: cliproxy}
`

func TestSymbolicCLIProxyAPIBaseFollowsTheServicePort(t *testing.T) {
	cfg, err := Load(writeConfig(t, symbolicConfig))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := cfg.CLIProxyURL(), "http://127.0.0.1:9417/v1"; got != want {
		t.Fatalf("CLIProxyURL = %s, want %s (wildcard host dials loopback)", got, want)
	}
	for profile, want := range map[string][]string{
		"balanced": {"http://127.0.0.1:9417/v1", "https://api.example.com/v1"},
		"own":      {"http://127.0.0.1:9417/v1"},
	} {
		doc, err := cfg.ProfileDocument(profile)
		if err != nil {
			t.Fatal(err)
		}
		list := doc["model_list"].([]any)
		for i, w := range want {
			got := list[i].(map[string]any)["litellm_params"].(map[string]any)["api_base"]
			if got != w {
				t.Errorf("profile %s model_list[%d].api_base = %v, want %s", profile, i, got, w)
			}
		}
	}
	// The config itself keeps the symbol, so the next load follows a new port.
	base := cfg.LiteLLMBase["model_list"].([]any)[0].(map[string]any)["litellm_params"].(map[string]any)["api_base"]
	if base != CLIProxyAPIBase {
		t.Errorf("ProfileDocument must not modify litellm_base, api_base is now %v", base)
	}
}

func TestAPIBaseThatIsNeitherURLNorCLIProxyIsRejectedWithItsLine(t *testing.T) {
	probs := loadProblems(t, strings.Replace(symbolicConfig, "api_base: cliproxy, api_key_ref", "api_base: cliproxyapi_plus, api_key_ref", 1))
	if len(probs) != 1 || probs[0].Path != "litellm_base.model_list[0].litellm_params.api_base" || probs[0].Line != 13 {
		t.Fatalf("want one located api_base problem, got %v", probs)
	}
	if !strings.Contains(probs[0].Message, "must be cliproxy") {
		t.Errorf("message should name the symbolic form: %s", probs[0].Message)
	}
}

func TestLoopbackPort(t *testing.T) {
	for raw, want := range map[string]int{
		"http://127.0.0.1:8317/v1": 8317, "http://localhost:4000": 4000, "http://[::1]:9/v1": 9,
		"http://0.0.0.0/v1": 80, "https://127.0.0.2/v1": 443,
	} {
		if got, ok := LoopbackPort(raw); !ok || got != want {
			t.Errorf("LoopbackPort(%s) = %d %t, want %d", raw, got, ok, want)
		}
	}
	for _, raw := range []string{"https://api.openai.com/v1", "http://10.0.0.1:8317/v1", "cliproxy", "::"} {
		if _, ok := LoopbackPort(raw); ok {
			t.Errorf("LoopbackPort(%s) should not be a local address", raw)
		}
	}
}

const cliproxyYAML = `# CLIProxyAPIPlus config, edited by hand
host: "127.0.0.1"   # keep local
port: 8317 # the old port
auth-dir: "/x/auths"
api-keys:
  - "sk-cpa-secret"
debug: true
`

func syncProject(t *testing.T, port int, cpBody string, mode os.FileMode) (*Config, string) {
	t.Helper()
	p := writeConfig(t, strings.Replace(minimal, "config_version: 2", "config_version: 2\nservices:\n  cliproxyapi_plus: {port: "+strconv.Itoa(port)+"}", 1))
	cp := filepath.Join(filepath.Dir(p), "cliproxyapi.yaml")
	if err := os.WriteFile(cp, []byte(cpBody), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(cp, mode); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	return cfg, cp
}

func TestSyncCLIProxyConfigRewritesOnlyThePortAndKeepsEverythingElse(t *testing.T) {
	cfg, cp := syncProject(t, 18417, cliproxyYAML, 0o644)

	changes, err := SyncCLIProxyConfig(cfg, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(changes) != 1 || changes[0].String() != "port 8317 -> 18417" {
		t.Fatalf("dry run changes = %v", changes)
	}
	if data, _ := os.ReadFile(cp); string(data) != cliproxyYAML {
		t.Fatal("a dry run must not write")
	}

	if _, err := SyncCLIProxyConfig(cfg, false); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(cp)
	want := strings.Replace(cliproxyYAML, "port: 8317 #", "port: 18417 #", 1)
	if string(data) != want {
		t.Fatalf("file after sync:\n%s\nwant:\n%s", data, want)
	}
	fi, _ := os.Stat(cp)
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode = %v, want 0600 (the file holds api-keys)", fi.Mode().Perm())
	}
	if again, err := SyncCLIProxyConfig(cfg, false); err != nil || len(again) != 0 {
		t.Errorf("a second sync must find nothing to change, got %v %v", again, err)
	}
}

func TestSyncCLIProxyConfigAddsMissingHostAndPort(t *testing.T) {
	cfg, cp := syncProject(t, 18418, "auth-dir: /x\napi-keys: [a]", 0o600)
	changes, err := SyncCLIProxyConfig(cfg, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(changes) != 2 {
		t.Fatalf("changes = %v", changes)
	}
	data, _ := os.ReadFile(cp)
	if string(data) != "auth-dir: /x\napi-keys: [a]\nhost: \"127.0.0.1\"\nport: 18418\n" {
		t.Fatalf("file after sync:\n%s", data)
	}
}

func TestSyncCLIProxyConfigNamesTheFixWhenItCannotEdit(t *testing.T) {
	cfg, cp := syncProject(t, 18419, "port: [1, 2]\n", 0o600)
	_, err := SyncCLIProxyConfig(cfg, false)
	if err == nil || !strings.Contains(err.Error(), cp) || !strings.Contains(err.Error(), "port: 18419") {
		t.Fatalf("want an error naming the file and the value to write, got %v", err)
	}
	os.Remove(cp)
	_, err = SyncCLIProxyConfig(cfg, false)
	if err == nil || !strings.Contains(err.Error(), "init") {
		t.Fatalf("a missing file should point at flowgate init, got %v", err)
	}
}
