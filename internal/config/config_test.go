package config

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func writeConfig(t *testing.T, body string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "config")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "flowgate.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func loadProblems(t *testing.T, body string) []Problem {
	t.Helper()
	_, err := Load(writeConfig(t, body))
	var ce *Error
	if !errors.As(err, &ce) {
		t.Fatalf("want *config.Error, got %v", err)
	}
	return ce.Problems
}

func TestReferenceExampleLoadsWithLegacyKeysMigrated(t *testing.T) {
	data, err := os.ReadFile("testdata/reference-example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p := writeConfig(t, string(data))
	cfg, err := Load(p)
	if err != nil {
		t.Fatalf("reference example must load: %v", err)
	}
	root := filepath.Dir(filepath.Dir(p))
	if got, want := cfg.Paths.RuntimeDir, filepath.Join(root, ".router", "runtime"); got != want {
		t.Errorf("runtime_dir = %s, want %s", got, want)
	}
	gw := cfg.Services[ServiceGateway]
	if gw == nil || gw.Engine != EngineLiteLLM || gw.Port != 4000 || gw.ReadinessPath != "/health" {
		t.Fatalf("services.litellm must become a litellm-engine gateway, got %+v", gw)
	}
	if gw.Command.Cwd != root {
		t.Errorf("command.cwd = %s, want %s", gw.Command.Cwd, root)
	}
	if cfg.Services["litellm"] != nil {
		t.Error("legacy services.litellm must not remain a separate service")
	}
	if got := cfg.Auth.Providers["codex"].AuthURLEndpoint; !strings.HasSuffix(got, "/oauth/codex/auth-url") {
		t.Errorf("oauth must migrate to auth.providers, got %q", got)
	}
	if len(cfg.SecretFiles) != 2 || cfg.SecretFiles[0] != filepath.Join(root, ".router", "auths", "codex.json") {
		t.Errorf("secrets must migrate to resolved secret_files, got %v", cfg.SecretFiles)
	}
	if len(cfg.Warnings) < 3 {
		t.Errorf("each legacy key should be reported, got %v", cfg.Warnings)
	}
	if got := cfg.ServiceOrder; len(got) != 2 || got[0] != ServiceCLIProxy || got[1] != ServiceGateway {
		t.Errorf("dependency order = %v", got)
	}
	if cfg.DefaultProfile != "balanced" {
		t.Errorf("default profile = %q", cfg.DefaultProfile)
	}
}

func TestLegacyCLIProxyServiceKeyIsRenamed(t *testing.T) {
	p := writeConfig(t, minimal+`
services:
  cliproxyapi:
    port: 9317
`)
	cfg, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Services[ServiceCLIProxy].Port != 9317 || cfg.Services["cliproxyapi"] != nil {
		t.Fatalf("services.cliproxyapi must become cliproxyapi_plus: %+v", cfg.Services)
	}
}

const minimal = `
config_version: 2
credentials:
  upstream:
    k: {file: key.txt}
litellm_base:
  model_list:
    - model_name: router-default
      litellm_params: {model: openai/m, api_base: "http://127.0.0.1:1/v1", api_key_ref: k}
profiles:
  balanced: {}
`

func TestPathsResolveAgainstConfigFolderAndExpandHome(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	p := writeConfig(t, minimal+`
paths:
  runtime_dir: ~/rt
  state_file: state/s.json
secret_files: [~/a.json, ../b.json]
`)
	cfg, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Dir(p)
	if cfg.Paths.RuntimeDir != filepath.Join(home, "rt") {
		t.Errorf("~ not expanded: %s", cfg.Paths.RuntimeDir)
	}
	if cfg.Paths.StateFile != filepath.Join(dir, "state", "s.json") {
		t.Errorf("relative path not resolved against config folder: %s", cfg.Paths.StateFile)
	}
	if cfg.Paths.LogFile != filepath.Join(home, "rt", "events.log") || cfg.Paths.AuthDir != filepath.Join(home, "auths") {
		t.Errorf("defaults derive from runtime_dir: %+v", cfg.Paths)
	}
	if cfg.SecretFiles[0] != filepath.Join(home, "a.json") || cfg.SecretFiles[1] != filepath.Join(filepath.Dir(dir), "b.json") {
		t.Errorf("secret_files = %v", cfg.SecretFiles)
	}
	if cfg.Credentials.Upstream["k"].File != filepath.Join(dir, "key.txt") {
		t.Errorf("credential file = %s", cfg.Credentials.Upstream["k"].File)
	}
}

func TestFiveMistakesAreAllReportedWithFieldPaths(t *testing.T) {
	problems := loadProblems(t, `
config_version: 2
services:
  gateway:
    port: 70000
  cliproxyapi_plus:
    ready_timeout: soon
credentials:
  upstream:
    k: {file: key.txt, env: ALSO}
litellm_base:
  model_list:
    - model_name: router-default
      litellm_params: {model: gpt-4o, api_key_ref: nope}
profiles:
  balanced:
    litellm_settings:
      fallbacks: [{router-default: [router-missing]}]
integration:
  default_model: router-gone
`)
	want := []string{
		"services.gateway.port",
		"services.cliproxyapi_plus.ready_timeout",
		"credentials.upstream.k",
		"litellm_base.model_list[0].litellm_params.model",
		"litellm_base.model_list[0].litellm_params.api_key_ref",
		"profiles.balanced.litellm_settings.fallbacks[0].router-default[0]",
		"integration.default_model",
	}
	got := map[string]Problem{}
	for _, p := range problems {
		got[p.Path] = p
	}
	for _, w := range want {
		p, ok := got[w]
		if !ok {
			t.Errorf("missing problem for %s; got %v", w, problems)
			continue
		}
		if p.Line == 0 {
			t.Errorf("problem %s has no line number", w)
		}
	}
	if !strings.Contains(got["integration.default_model"].Message, "router-default") {
		t.Errorf("alias problem should list the aliases that exist: %s", got["integration.default_model"].Message)
	}
}

func TestYAMLSyntaxErrorNamesLineAndColumn(t *testing.T) {
	p := writeConfig(t, "config_version: 2\npaths:\n  runtime_dir: [unclosed\nservices: {}\n")
	_, err := Load(p)
	var ce *Error
	if !errors.As(err, &ce) || len(ce.Problems) != 1 {
		t.Fatalf("want one syntax problem, got %v", err)
	}
	pr := ce.Problems[0]
	if pr.Line == 0 || pr.Column == 0 || !strings.Contains(pr.Message, "YAML syntax error") {
		t.Fatalf("want line and column, got %+v", pr)
	}
	if !strings.Contains(err.Error(), p) {
		t.Errorf("error must name the file: %v", err)
	}
}

func TestMissingFileSaysHowToCreateIt(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.yaml"))
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "flowgate init") {
		t.Fatalf("got %v", err)
	}
}

func TestSamePortForGatewayAndCLIProxyIsRejected(t *testing.T) {
	problems := loadProblems(t, minimal+`
services:
  gateway: {port: 8317}
`)
	if len(problems) != 1 || problems[0].Path != "services.gateway.port" {
		t.Fatalf("got %v", problems)
	}
}

func TestUnknownKeysAreRejectedWithTheKnownOnes(t *testing.T) {
	problems := loadProblems(t, minimal+"colour: blue\n")
	if len(problems) != 1 || problems[0].Path != "colour" || !strings.Contains(problems[0].Message, "litellm_base") {
		t.Fatalf("got %v", problems)
	}
}

func TestServiceDefaultsAndDurations(t *testing.T) {
	cfg, err := Load(writeConfig(t, minimal+`
services:
  gateway: {engine: litellm, stop_timeout: 3}
  cliproxyapi_plus: {ready_timeout: 20s}
`))
	if err != nil {
		t.Fatal(err)
	}
	gw, cp := cfg.Services[ServiceGateway], cfg.Services[ServiceCLIProxy]
	if gw.Port != 4000 || gw.ReadinessPath != "/health/readiness" || gw.ReadyTimeout != 120*time.Second || gw.StopTimeout != 3*time.Second {
		t.Errorf("gateway = %+v", gw)
	}
	if cp.Port != 8317 || cp.ReadinessPath != "/" || cp.ReadyTimeout != 20*time.Second || !strings.HasSuffix(cp.ConfigFile, "cliproxyapi.yaml") {
		t.Errorf("cliproxy = %+v", cp)
	}
}

func TestDeepMergeMapsMergeListsReplace(t *testing.T) {
	base := map[string]any{
		"litellm_settings": map[string]any{"num_retries": 1, "cooldown_time": 10},
		"model_list":       []any{"a", "b"},
	}
	overlay := map[string]any{
		"litellm_settings": map[string]any{"num_retries": 3},
		"model_list":       []any{"c"},
	}
	got := DeepMerge(base, overlay)
	ls := got["litellm_settings"].(map[string]any)
	if ls["num_retries"] != 3 || ls["cooldown_time"] != 10 {
		t.Errorf("maps must merge: %v", ls)
	}
	if l := got["model_list"].([]any); len(l) != 1 || l[0] != "c" {
		t.Errorf("lists must replace: %v", l)
	}
	if base["litellm_settings"].(map[string]any)["num_retries"] != 1 {
		t.Error("base was modified")
	}
}

func TestCredentialsResolveFromFileAndEnv(t *testing.T) {
	p := writeConfig(t, strings.Replace(minimal, "    k: {file: key.txt}\n", "    k: {file: key.txt}\n    e: {env: FG_TEST_KEY}\n", 1))
	cfg, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cfg.ResolveCredential("k"); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("missing file: %v", err)
	}
	os.WriteFile(filepath.Join(filepath.Dir(p), "key.txt"), []byte(" sk-abc\n"), 0o600)
	if v, err := cfg.ResolveCredential("k"); err != nil || v != "sk-abc" {
		t.Errorf("file credential = %q, %v", v, err)
	}
	t.Setenv("FG_TEST_KEY", "sk-env")
	if v, err := cfg.ResolveCredential("e"); err != nil || v != "sk-env" {
		t.Errorf("env credential = %q, %v", v, err)
	}
}

func TestServiceLogRotationKeysDefaultAndValidate(t *testing.T) {
	cfg, err := Load(writeConfig(t, minimal+`
services:
  gateway: {log_max_bytes: 1048576, log_keep: 5}
`))
	if err != nil {
		t.Fatal(err)
	}
	gw, cp := cfg.Services[ServiceGateway], cfg.Services[ServiceCLIProxy]
	if gw.LogMaxBytes != 1<<20 || gw.LogKeep != 5 {
		t.Errorf("gateway log rotation = %d, %d", gw.LogMaxBytes, gw.LogKeep)
	}
	if cp.LogMaxBytes != 10<<20 || cp.LogKeep != 3 {
		t.Errorf("cliproxyapi_plus defaults = %d, %d", cp.LogMaxBytes, cp.LogKeep)
	}
	_, err = Load(writeConfig(t, minimal+`
services:
  gateway: {log_max_bytes: 10, log_keep: 0}
`))
	var cerr *Error
	if !errors.As(err, &cerr) {
		t.Fatalf("want a config error, got %v", err)
	}
	var paths []string
	for _, p := range cerr.Problems {
		paths = append(paths, p.Path)
	}
	if !slices.Contains(paths, "services.gateway.log_max_bytes") || !slices.Contains(paths, "services.gateway.log_keep") {
		t.Fatalf("problems = %v", cerr.Problems)
	}
}
