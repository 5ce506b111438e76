package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	rt "github.com/flowgate/flowgate/internal/runtime"
)

type result struct {
	code           int
	stdout, stderr string
}

func runCLI(t *testing.T, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, strings.NewReader(""), &out, &errb)
	return result{code, out.String(), errb.String()}
}

// project makes a temp project with `flowgate init` done and returns the
// config path.
func project(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	cfg := filepath.Join(root, "config", "flowgate.yaml")
	if r := runCLI(t, "--config", cfg, "init"); r.code != 0 {
		t.Fatalf("init failed: %+v", r)
	}
	return cfg
}

func TestHelpListsEveryCommand(t *testing.T) {
	r := runCLI(t, "--help")
	if r.code != 0 {
		t.Fatalf("help: %+v", r)
	}
	for _, c := range strings.Fields("status health doctor service auth bootstrap profile integration gateway init up down version") {
		if !strings.Contains(r.stdout, "\n  "+c+" ") {
			t.Errorf("--help does not list %s", c)
		}
	}
}

func TestExitCodeTable(t *testing.T) {
	cfg := project(t)
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(bad, []byte("config_version: 2\nservices: [\n"), 0o600)
	cases := []struct {
		name string
		args []string
		want int
	}{
		{"ok", []string{"--config", cfg, "profile", "list"}, ExitOK},
		{"unknown command is usage", []string{"frobnicate"}, ExitUsage},
		{"unknown flag is usage", []string{"--config", cfg, "profile", "list", "--nope"}, ExitUsage},
		{"missing config is a config error", []string{"--config", filepath.Join(t.TempDir(), "none.yaml"), "profile", "list"}, ExitUsage},
		{"YAML syntax error is a config error", []string{"--config", bad, "profile", "list"}, ExitUsage},
		{"unknown profile is usage", []string{"--config", cfg, "profile", "set", "nope"}, ExitUsage},
		{"version", []string{"version"}, ExitOK},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := runCLI(t, c.args...)
			if r.code != c.want {
				t.Fatalf("exit %d, want %d (stderr %q)", r.code, c.want, r.stderr)
			}
			if c.want == ExitUsage && strings.Contains(r.stderr, "goroutine ") {
				t.Fatalf("stack trace on stderr: %s", r.stderr)
			}
		})
	}
}

func TestYAMLSyntaxErrorNamesFileLineColumn(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(bad, []byte("config_version: 2\npaths:\n  runtime_dir: [x\n"), 0o600)
	r := runCLI(t, "--config", bad, "profile", "list")
	if r.code != ExitUsage || !strings.Contains(r.stderr, bad) || !strings.Contains(r.stderr, "line ") || !strings.Contains(r.stderr, "column ") {
		t.Fatalf("got %+v", r)
	}
}

func TestInitWritesConfigsAndSecretsAndNeverOverwrites(t *testing.T) {
	cfg := project(t)
	root := filepath.Dir(filepath.Dir(cfg))
	for _, p := range []string{cfg, filepath.Join(root, "config", "cliproxyapi.yaml"), filepath.Join(root, ".router", "secrets", "gateway_key"), filepath.Join(root, ".router", "secrets", "upstream_cliproxyapi_api_key")} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatalf("%s not written: %v", p, err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %o, want 0600", p, fi.Mode().Perm())
		}
	}
	cp, _ := os.ReadFile(filepath.Join(root, "config", "cliproxyapi.yaml"))
	key, _ := os.ReadFile(filepath.Join(root, ".router", "secrets", "upstream_cliproxyapi_api_key"))
	if !strings.Contains(string(cp), strings.TrimSpace(string(key))) || !strings.Contains(string(cp), filepath.Join(root, ".router", "auths")) {
		t.Errorf("cliproxyapi.yaml must carry the upstream key and auth dir:\n%s", cp)
	}
	os.WriteFile(cfg, []byte("# mine\n"+string(must(os.ReadFile(cfg)))), 0o600)
	gwKey, _ := os.ReadFile(filepath.Join(root, ".router", "secrets", "gateway_key"))
	r := runCLI(t, "--config", cfg, "init")
	if r.code != 0 || !strings.Contains(r.stdout, "kept=") {
		t.Fatalf("second init: %+v", r)
	}
	if data, _ := os.ReadFile(cfg); !strings.HasPrefix(string(data), "# mine") {
		t.Fatal("init overwrote the config without --force")
	}
	r = runCLI(t, "--config", cfg, "init", "--force")
	if data, _ := os.ReadFile(cfg); r.code != 0 || strings.HasPrefix(string(data), "# mine") {
		t.Fatalf("--force must overwrite: %+v", r)
	}
	if again, _ := os.ReadFile(filepath.Join(root, ".router", "secrets", "gateway_key")); string(again) != string(gwKey) {
		t.Fatal("init --force must keep existing secrets")
	}
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

func TestProfileSetWritesStateActiveConfigAndEvent(t *testing.T) {
	cfg := project(t)
	root := filepath.Dir(filepath.Dir(cfg))
	r := runCLI(t, "--config", cfg, "profile", "set", "cost")
	if r.code != 0 || !strings.Contains(r.stdout, "profile=cost") {
		t.Fatalf("profile set: %+v", r)
	}
	st, err := rt.ReadState(filepath.Join(root, ".router", "runtime", "state.json"))
	if err != nil || st.CurrentProfile != "cost" {
		t.Fatalf("state = %+v %v", st, err)
	}
	active := filepath.Join(root, ".router", "runtime", "gateway.active.yaml")
	data, err := os.ReadFile(active)
	if err != nil {
		t.Fatal(err)
	}
	key, _ := os.ReadFile(filepath.Join(root, ".router", "secrets", "upstream_cliproxyapi_api_key"))
	if strings.Contains(string(data), strings.TrimSpace(string(key))) {
		t.Fatal("active config holds a plaintext secret")
	}
	if fi, _ := os.Stat(active); fi.Mode().Perm() != 0o600 {
		t.Errorf("active config mode %o", fi.Mode().Perm())
	}
	r = runCLI(t, "--config", cfg, "events", "--json")
	var events []map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &events); err != nil || len(events) == 0 {
		t.Fatalf("events: %v %q", err, r.stdout)
	}
	last := events[len(events)-1]
	if last["event"] != "profile_switch" || last["profile"] != "cost" || last["result"] != "success" {
		t.Fatalf("last event = %v", last)
	}
	r = runCLI(t, "--config", cfg, "profile", "list")
	if !strings.Contains(r.stdout, "cost (active)") {
		t.Errorf("list: %q", r.stdout)
	}
}

func TestProfileShowRedactsLiteralKeys(t *testing.T) {
	cfg := project(t)
	data, _ := os.ReadFile(cfg)
	body := strings.Replace(string(data), "api_key_ref: cliproxy_default\n    - model_name: router-cheap", "api_key: sk-literal-secret-123\n    - model_name: router-cheap", 1)
	os.WriteFile(cfg, []byte(body), 0o600)
	r := runCLI(t, "--config", cfg, "profile", "show", "balanced")
	if r.code != 0 || strings.Contains(r.stdout, "sk-literal-secret-123") || !strings.Contains(r.stdout, "[redacted]") {
		t.Fatalf("show: %+v", r)
	}
}
