package cli

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// stubProject is an initialised project whose two services are the test
// binary serving HTTP on free ports.
func stubProject(t *testing.T) (cfgPath string, gwPort, cpPort int) {
	t.Helper()
	cfgPath = project(t)
	gwPort, cpPort = freePort(t), freePort(t)
	data, _ := os.ReadFile(cfgPath)
	body := string(data)
	self, _ := os.Executable()
	body = strings.Replace(body, "    port: 4000\n    readiness_path: /health/readiness\n",
		fmt.Sprintf("    port: %d\n    readiness_path: /health/readiness\n    command:\n      args: [%q, \"-test.run=^$\"]\n    env:\n      FG_TEST_SERVE: 127.0.0.1:%d\n", gwPort, self, gwPort), 1)
	body = strings.Replace(body, "    port: 8317\n    readiness_path: /\n",
		fmt.Sprintf("    port: %d\n    readiness_path: /\n    command:\n      args: [%q, \"-test.run=^$\"]\n    env:\n      FG_TEST_SERVE: 127.0.0.1:%d\n", cpPort, self, cpPort), 1)
	if err := os.WriteFile(cfgPath, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return cfgPath, gwPort, cpPort
}

func listFiles(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	filepath.Walk(root, func(p string, info os.FileInfo, err error) error {
		if err == nil {
			out = append(out, p)
		}
		return nil
	})
	return out
}

func TestStatusAndHealthOnAFreshCheckoutCreateNoFiles(t *testing.T) {
	root := t.TempDir()
	cfgDir := filepath.Join(root, "config")
	os.MkdirAll(cfgDir, 0o755)
	tmpl, _ := templates.ReadFile("templates/flowgate.yaml")
	cfg := filepath.Join(cfgDir, "flowgate.yaml")
	os.WriteFile(cfg, tmpl, 0o600)
	before := listFiles(t, root)
	r := runCLI(t, "--config", cfg, "status")
	if r.code != 0 || !strings.Contains(r.stdout, "secret_permission_issues=0") || !strings.Contains(r.stdout, "current_profile=unknown") {
		t.Fatalf("status: %+v", r)
	}
	r = runCLI(t, "--config", cfg, "health")
	if r.code != 1 || !strings.Contains(r.stdout, "readiness=fail") {
		t.Fatalf("health on nothing running must fail with readiness=fail: %+v", r)
	}
	runCLI(t, "--config", cfg, "doctor")
	after := listFiles(t, root)
	if strings.Join(before, "\n") != strings.Join(after, "\n") {
		t.Fatalf("read-only commands created files:\nbefore %v\nafter %v", before, after)
	}
}

func TestWorldReadableAuthFileShowsInStatusAndDoctor(t *testing.T) {
	cfg := project(t)
	auth := filepath.Join(filepath.Dir(filepath.Dir(cfg)), ".router", "auths", "codex-a@b.c-plus.json")
	os.WriteFile(auth, []byte(`{"type":"codex"}`), 0o644)
	os.Chmod(auth, 0o644)
	r := runCLI(t, "--config", cfg, "status")
	if !strings.Contains(r.stdout, "secret_permission_issues=1") || !strings.Contains(r.stdout, auth) {
		t.Fatalf("status: %+v", r)
	}
	r = runCLI(t, "--config", cfg, "doctor")
	if r.code != 1 || !strings.Contains(r.stdout, "doctor:secret_permissions=fail") || !strings.Contains(r.stdout, "chmod 600 "+auth) {
		t.Fatalf("doctor: %+v", r)
	}
}

func TestServiceRoundTripStatusHealthStopWithEvents(t *testing.T) {
	cfg, gwPort, _ := stubProject(t)
	r := runCLI(t, "--config", cfg, "service", "start", "all")
	if r.code != 0 || !strings.Contains(r.stdout, "cliproxyapi_plus: started pid=") || !strings.Contains(r.stdout, "gateway: started pid=") {
		t.Fatalf("start: %+v", r)
	}
	t.Cleanup(func() { runCLI(t, "--config", cfg, "service", "stop", "all") })
	if strings.Index(r.stdout, "cliproxyapi_plus:") > strings.Index(r.stdout, "gateway:") {
		t.Errorf("cliproxyapi_plus must start before the gateway:\n%s", r.stdout)
	}
	r = runCLI(t, "--config", cfg, "service", "start", "gateway")
	if r.code != 0 || !strings.Contains(r.stdout, "already running") {
		t.Fatalf("second start: %+v", r)
	}
	r = runCLI(t, "--config", cfg, "--json", "status")
	var st statusReport
	if err := json.Unmarshal([]byte(r.stdout), &st); err != nil {
		t.Fatal(err, r.stdout)
	}
	for _, s := range st.Services {
		if s.State != "running" || s.Pid == 0 {
			t.Errorf("status %+v", s)
		}
	}
	// health also judges the logins the aliases route to.
	writeCodexLogin(t, filepath.Join(filepath.Dir(filepath.Dir(cfg)), ".router", "auths"), time.Now().Add(240*time.Hour))
	r = runCLI(t, "--config", cfg, "health")
	if r.code != 0 || strings.Count(r.stdout, "liveness=ok readiness=ok") != 2 {
		t.Fatalf("health: %+v", r)
	}
	r = runCLI(t, "--config", cfg, "service", "restart", "gateway")
	if r.code != 0 || !strings.Contains(r.stdout, "gateway: restarted") {
		t.Fatalf("restart: %+v", r)
	}
	r = runCLI(t, "--config", cfg, "service", "stop", "all")
	if r.code != 0 || strings.Index(r.stdout, "gateway:") > strings.Index(r.stdout, "cliproxyapi_plus:") {
		t.Fatalf("stop must go gateway first: %+v", r)
	}
	if c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", gwPort)); err == nil {
		c.Close()
		t.Fatal("gateway port still answers after stop")
	}
	r = runCLI(t, "--config", cfg, "events", "--json", "-n", "100")
	var events []map[string]any
	json.Unmarshal([]byte(r.stdout), &events)
	seen := map[string]bool{}
	for _, e := range events {
		seen[fmt.Sprint(e["event"], "/", e["result"])] = true
	}
	for _, want := range []string{"service_start/success", "service_start/already-running", "service_restart/success", "service_stop/success"} {
		if !seen[want] {
			t.Errorf("missing event %s in %v", want, seen)
		}
	}
}

func TestPortHeldByAnotherProcessFailsAndOthersGoOn(t *testing.T) {
	cfg, gwPort, _ := stubProject(t)
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", gwPort))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	r := runCLI(t, "--config", cfg, "service", "start", "all")
	t.Cleanup(func() { runCLI(t, "--config", cfg, "service", "stop", "all") })
	if r.code != 1 {
		t.Fatalf("want exit 1: %+v", r)
	}
	if !strings.Contains(r.stdout, "cliproxyapi_plus: started") {
		t.Errorf("the other service must still start: %s", r.stdout)
	}
	for _, want := range []string{fmt.Sprintf("lsof -nP -iTCP:%d -sTCP:LISTEN", gwPort), "services.gateway.port", fmt.Sprintf("pid %d", os.Getpid())} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("port conflict message lacks %q: %s", want, r.stderr)
		}
	}
}

func TestMissingCLIProxyBinarySaysHowToInstall(t *testing.T) {
	cfg := project(t)
	r := runCLI(t, "--config", cfg, "service", "start", "cliproxyapi_plus")
	if r.code != 1 || !strings.Contains(r.stderr, "bootstrap download") {
		t.Fatalf("got %+v", r)
	}
}
