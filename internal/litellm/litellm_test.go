package litellm

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func baseDoc() map[string]any {
	return map[string]any{
		"model_list": []any{
			map[string]any{"model_name": "router-default", "litellm_params": map[string]any{
				"model": "openai/router-default", "api_base": "http://127.0.0.1:8317/v1", "api_key_ref": "cliproxy_default"}},
			map[string]any{"model_name": "router-cheap", "litellm_params": map[string]any{
				"model": "openai/gpt-4o-mini", "api_base": "http://127.0.0.1:9000/v1", "api_key": "sk-literal-inline-secret"},
				"model_info": map[string]any{"supported_endpoints": []any{"/v1/messages"}}},
		},
		"router_settings":  map[string]any{"routing_strategy": "simple-shuffle", "redis_password": "hunter2-redis"},
		"litellm_settings": map[string]any{"num_retries": 2, "callbacks": []any{"prometheus"}},
		"general_settings": map[string]any{"extra_keys": []any{"sk-extra"}, "master_key": "sk-old-literal"},
	}
}

func envMap(env []string) map[string]string {
	m := map[string]string{}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		m[k] = v
	}
	return m
}

func hasReport(report []string, re string) bool {
	r := regexp.MustCompile(re)
	for _, l := range report {
		if r.MatchString(l) {
			return true
		}
	}
	return false
}

func TestGenerateKeepsSecretsOutOfTheFile(t *testing.T) {
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "cliproxy.key")
	os.WriteFile(keyFile, []byte("  sk-upstream-from-file\n"), 0o600)
	doc := baseDoc()
	before, _ := json.Marshal(doc)
	data, env, report, err := Generate(doc,
		map[string]CredentialSource{"cliproxy_default": {File: keyFile}},
		CredentialSource{Value: "sk-gateway-key"})
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"sk-upstream-from-file", "sk-gateway-key", "sk-literal-inline-secret", "hunter2-redis", "sk-extra", "sk-old-literal"} {
		if bytes.Contains(data, []byte(secret)) {
			t.Errorf("generated config contains secret %q:\n%s", secret, data)
		}
	}
	after, _ := json.Marshal(doc)
	if !bytes.Equal(before, after) {
		t.Errorf("Generate modified its input document")
	}
	var out map[string]any
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatalf("config is not JSON/YAML: %v", err)
	}
	ml := out["model_list"].([]any)
	lp0 := ml[0].(map[string]any)["litellm_params"].(map[string]any)
	if lp0["api_key"] != "os.environ/FLOWGATE_CRED_CLIPROXY_DEFAULT" || lp0["api_key_ref"] != nil {
		t.Errorf("model 0 litellm_params = %v", lp0)
	}
	gs := out["general_settings"].(map[string]any)
	if gs["master_key"] != "os.environ/FLOWGATE_MASTER_KEY" || gs["custom_auth"] != customAuthRef || gs["extra_keys"] != nil {
		t.Errorf("general_settings = %v", gs)
	}
	if ls := out["litellm_settings"].(map[string]any); ls["use_chat_completions_url_for_anthropic_messages"] != true {
		t.Errorf("litellm_settings = %v, want use_chat_completions_url_for_anthropic_messages: true", ls)
	}
	e := envMap(env)
	want := map[string]string{
		"FLOWGATE_CRED_CLIPROXY_DEFAULT":                          "sk-upstream-from-file",
		"FLOWGATE_MASTER_KEY":                                     "sk-gateway-key",
		"LITELLM_LOCAL_MODEL_COST_MAP":                            "True",
		"LITELLM_OFFLINE_MODE":                                    "true",
		"LITELLM_USE_CHAT_COMPLETIONS_URL_FOR_ANTHROPIC_MESSAGES": "True",
	}
	for k, v := range want {
		if e[k] != v {
			t.Errorf("env %s = %q, want %q", k, e[k], v)
		}
	}
	lp1 := ml[1].(map[string]any)["litellm_params"].(map[string]any)
	ref, _ := strings.CutPrefix(lp1["api_key"].(string), "os.environ/")
	if e[ref] != "sk-literal-inline-secret" {
		t.Errorf("inline api_key moved to %q = %q", ref, e[ref])
	}
	for _, re := range []string{
		`^general_settings\.extra_keys: FlowGate-only, dropped`,
		`^general_settings\.master_key: replaced`,
		`^litellm_settings\.callbacks: LiteLLM-only`,
		`^model_list\[1\]\.litellm_params\.api_key: literal secret moved`,
		`^model_list\[1\]\.model_info\.supported_endpoints: .*native passthrough`,
		`^router_settings\.redis_password: literal secret moved`,
	} {
		if !hasReport(report, re) {
			t.Errorf("report lacks %s:\n%s", re, strings.Join(report, "\n"))
		}
	}
}

func TestGenerateRejectsUnknownAndMissingCredentials(t *testing.T) {
	doc := baseDoc()
	if _, _, _, err := Generate(doc, nil, CredentialSource{Value: "sk-k"}); err == nil || !strings.Contains(err.Error(), `unknown credential "cliproxy_default"`) {
		t.Errorf("unknown ref: err = %v", err)
	}
	_, _, _, err := Generate(doc, map[string]CredentialSource{"cliproxy_default": {Env: "FLOWGATE_TEST_SURELY_UNSET_VAR"}}, CredentialSource{Value: "sk-k"})
	if err == nil || !strings.Contains(err.Error(), "FLOWGATE_TEST_SURELY_UNSET_VAR is not set") {
		t.Errorf("unset env credential: err = %v", err)
	}
	t.Setenv("FLOWGATE_TEST_CRED", "sk-from-env")
	_, env, _, err := Generate(doc, map[string]CredentialSource{"cliproxy_default": {Env: "FLOWGATE_TEST_CRED"}}, CredentialSource{Value: "sk-k"})
	if err != nil || envMap(env)["FLOWGATE_CRED_CLIPROXY_DEFAULT"] != "sk-from-env" {
		t.Errorf("env credential: err=%v env=%v", err, env)
	}
	if _, _, _, err := Generate(map[string]any{}, nil, CredentialSource{}); err == nil || !strings.Contains(err.Error(), "model_list") {
		t.Errorf("empty doc: err = %v", err)
	}
}

func TestGenerateMakesEnvironReferencesExplicit(t *testing.T) {
	t.Setenv("CUSTOM_API_KEY", "sk-custom")
	doc := map[string]any{"model_list": []any{
		map[string]any{"model_name": "a", "litellm_params": map[string]any{"model": "openai/a", "api_key": "os.environ/CUSTOM_API_KEY"}},
		map[string]any{"model_name": "b", "litellm_params": map[string]any{"model": "openai/b", "api_key": "os.environ/FLOWGATE_TEST_NOT_SET"}},
	}}
	_, env, report, err := Generate(doc, nil, CredentialSource{Value: "sk-k"})
	if err != nil {
		t.Fatal(err)
	}
	if envMap(env)["CUSTOM_API_KEY"] != "sk-custom" {
		t.Errorf("CUSTOM_API_KEY not passed explicitly: %v", env)
	}
	if !hasReport(report, `model_list\[1\]\.litellm_params\.api_key: os.environ/FLOWGATE_TEST_NOT_SET is not set`) {
		t.Errorf("report lacks the unset reference: %v", report)
	}
}

func TestWriteConfigIs0600WithAuthModule(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "runtime")
	path := filepath.Join(dir, "litellm.active.yaml")
	if err := WriteConfig(path, []byte("{}\n")); err != nil {
		t.Fatal(err)
	}
	if err := WriteConfig(path, []byte("{\"a\": 1}\n")); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, filepath.Join(dir, AuthModuleFile)} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %v, want 0600", p, fi.Mode().Perm())
		}
	}
	if b, _ := os.ReadFile(path); string(b) != "{\"a\": 1}\n" {
		t.Errorf("content %q", b)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("temp files left behind: %v", entries)
	}
}

// fakeVenv makes a venv whose python answers the version query and runs
// "litellm --version".
func fakeVenv(t *testing.T, dir, version string) {
	t.Helper()
	os.MkdirAll(filepath.Join(dir, "bin"), 0o755)
	py := "#!/bin/sh\ncase \"$1\" in -c) echo " + version + ";; *) echo \"LiteLLM: Current Version = " + version + "\";; esac\n"
	os.WriteFile(filepath.Join(dir, "bin", "python"), []byte(py), 0o755)
	os.WriteFile(filepath.Join(dir, "bin", "litellm"), []byte("# console script\n"), 0o755)
}

func TestRunnerFollowsTheRuntimeFolderWhenMoved(t *testing.T) {
	root := t.TempDir()
	rt := filepath.Join(root, "a", "runtime")
	fakeVenv(t, DefaultVenvDir(rt), "9.9.9")
	if err := WriteRunner(rt, DefaultVenvDir(rt)); err != nil {
		t.Fatal(err)
	}
	moved := filepath.Join(root, "elsewhere", "rt")
	os.MkdirAll(filepath.Dir(moved), 0o755)
	if err := os.Rename(rt, moved); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(RunnerPath(moved), "--version").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "9.9.9") {
		t.Fatalf("moved runner: %v: %s", err, out)
	}
	if st := Status(moved); !st.Installed || st.Version != "9.9.9" || st.VenvDir != DefaultVenvDir(moved) {
		t.Errorf("Status = %+v", st)
	}
	checks := Check(context.Background(), moved)
	for _, c := range checks {
		if !c.OK {
			t.Errorf("check %+v", c)
		}
	}
	if len(checks) != 3 {
		t.Errorf("checks = %+v", checks)
	}
}

func TestRunnerUsesAbsolutePathForVenvOutsideRuntime(t *testing.T) {
	root := t.TempDir()
	venv := filepath.Join(root, "cache", "litellm-venv-x 'quoted'")
	fakeVenv(t, venv, "1.2.3")
	rt := filepath.Join(root, "proj", ".router", "runtime")
	if err := WriteRunner(rt, venv); err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(RunnerPath(rt))
	if fi.Mode().Perm() != 0o755 {
		t.Errorf("runner mode %v", fi.Mode().Perm())
	}
	out, err := exec.Command(RunnerPath(rt), "--version").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "1.2.3") {
		t.Fatalf("runner: %v: %s", err, out)
	}
	if st := Status(rt); st.VenvDir != venv || st.Version != "1.2.3" {
		t.Errorf("Status = %+v", st)
	}
}

func TestStatusAndCheckExplainAMissingInstall(t *testing.T) {
	rt := t.TempDir()
	if st := Status(rt); st.Installed || !strings.Contains(st.Reason, "bootstrap litellm") {
		t.Errorf("Status = %+v", st)
	}
	if c := Check(context.Background(), rt); len(c) != 1 || c[0].OK {
		t.Errorf("Check = %+v", c)
	}
	WriteRunner(rt, filepath.Join(rt, "gone-venv"))
	out, err := exec.Command(RunnerPath(rt), "--version").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "bootstrap litellm") {
		t.Errorf("runner without venv: %v %s", err, out)
	}
	if st := Status(rt); st.Installed {
		t.Errorf("Status = %+v", st)
	}
}

func TestBootstrapReusesAVenvWithThePinnedVersion(t *testing.T) {
	rt := t.TempDir()
	venv := filepath.Join(t.TempDir(), "venv")
	fakeVenv(t, venv, DefaultVersion)
	var progress bytes.Buffer
	res, err := Bootstrap(context.Background(), BootstrapOptions{RuntimeDir: rt, VenvDir: venv, Python: "/nonexistent/python3", Progress: &progress})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Reused || res.Version != DefaultVersion || res.Runner != RunnerPath(rt) {
		t.Errorf("result %+v", res)
	}
	if !strings.Contains(progress.String(), "already installed") {
		t.Errorf("progress %q", progress.String())
	}
	if fi, err := os.Stat(res.LogPath); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("log %s: %v", res.LogPath, err)
	}
}

func TestBootstrapReportsAMissingPython(t *testing.T) {
	rt := t.TempDir()
	_, err := Bootstrap(context.Background(), BootstrapOptions{RuntimeDir: rt, Python: "/nonexistent/python3"})
	if err == nil || !strings.Contains(err.Error(), "-m venv failed") {
		t.Errorf("err = %v", err)
	}
	if _, err := Bootstrap(context.Background(), BootstrapOptions{RuntimeDir: rt, Version: "1.0; rm -rf /"}); err == nil {
		t.Errorf("shell-ish version accepted")
	}
}

func TestCISetupPinsDefaultVersion(t *testing.T) {
	b, err := os.ReadFile("ci-setup.sh")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "\nDEFAULT_VERSION="+DefaultVersion+"\n") {
		t.Errorf("ci-setup.sh DEFAULT_VERSION differs from DefaultVersion %s", DefaultVersion)
	}
}

func TestCommandRunsTheRunnerWithConfigHostPort(t *testing.T) {
	got := strings.Join(Command("/rt", "/rt/litellm.active.yaml", "127.0.0.1", 4000), " ")
	if got != "/rt/bin/litellm --config /rt/litellm.active.yaml --host 127.0.0.1 --port 4000" {
		t.Errorf("Command = %s", got)
	}
}
