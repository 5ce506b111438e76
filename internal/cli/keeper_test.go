package cli

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/flowgate/flowgate/internal/supervisor"
)

// addServiceYAML inserts lines (indented for the service's mapping) right
// under `  NAME:` in the config.
func addServiceYAML(t *testing.T, cfgPath, name, lines string) {
	t.Helper()
	data, err := os.ReadFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	head := "\n  " + name + ":\n"
	if !strings.Contains(string(data), head) {
		t.Fatalf("no services.%s in %s", name, cfgPath)
	}
	body := strings.Replace(string(data), head, head+lines, 1)
	if err := os.WriteFile(cfgPath, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
}

type statusJSON struct {
	Services []struct {
		Service string `json:"service"`
		State   string `json:"state"`
		Pid     int    `json:"pid"`
		Note    string `json:"note"`
		Keeper  *struct {
			State string `json:"state"`
			Note  string `json:"note"`
		} `json:"supervisor"`
	} `json:"services"`
	Supervisor struct {
		Running bool `json:"running"`
		Pid     int  `json:"pid"`
	} `json:"supervisor"`
}

func readStatus(t *testing.T, cfg string) (statusJSON, result) {
	t.Helper()
	r := runCLI(t, "--config", cfg, "--json", "status")
	var st statusJSON
	if err := json.Unmarshal([]byte(r.stdout), &st); err != nil {
		t.Fatalf("status --json: %v\n%+v", err, r)
	}
	return st, r
}

func servicePid(st statusJSON, name string) (int, string) {
	for _, s := range st.Services {
		if s.Service == name {
			ks := ""
			if s.Keeper != nil {
				ks = s.Keeper.State
			}
			if s.State != "running" {
				return 0, ks
			}
			return s.Pid, ks
		}
	}
	return 0, ""
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", within, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func eventsLog(t *testing.T, cfg string) string {
	data, _ := os.ReadFile(filepath.Join(filepath.Dir(filepath.Dir(cfg)), ".router", "runtime", "events.log"))
	return string(data)
}

func serves(port int) bool {
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/", port))
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == 200
}

func alive(pid int) bool {
	if pid <= 0 {
		return false
	}
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// State is the field after the command in parentheses; Z is a zombie.
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	return i > 0 && i+2 < len(s) && s[i+2] != 'Z'
}

func TestKilledServicesComeBackWithinTheBackoff(t *testing.T) {
	cfg, gwPort, cpPort := stubProject(t)
	for _, n := range []string{"gateway", "cliproxyapi_plus"} {
		addServiceYAML(t, cfg, n, "    restart: {backoff: 100ms, max_backoff: 400ms}\n")
	}
	if r := runCLI(t, "--config", cfg, "service", "start", "all"); r.code != 0 {
		t.Fatalf("start: %+v", r)
	}
	t.Cleanup(func() { runCLI(t, "--config", cfg, "down") })

	for _, svc := range []struct {
		name string
		port int
	}{{"gateway", gwPort}, {"cliproxyapi_plus", cpPort}} {
		st, _ := readStatus(t, cfg)
		old, _ := servicePid(st, svc.name)
		if old == 0 || !st.Supervisor.Running {
			t.Fatalf("%s not running under a supervisor: %+v", svc.name, st)
		}
		if err := syscall.Kill(old, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		var now int
		waitFor(t, 10*time.Second, svc.name+" to come back", func() bool {
			st, _ := readStatus(t, cfg)
			now, _ = servicePid(st, svc.name)
			return now != 0 && now != old && serves(svc.port)
		})
		// The restart event is written just after the new pid file.
		waitFor(t, 5*time.Second, "the service_restart event", func() bool {
			return strings.Contains(eventsLog(t, cfg), fmt.Sprintf("pid=%d", now))
		})
		ev := eventsLog(t, cfg)
		if !strings.Contains(ev, fmt.Sprintf(`"service_crash", "service": "%s"`, svc.name)) {
			t.Fatalf("no service_crash event for %s:\n%s", svc.name, ev)
		}
		if !strings.Contains(ev, fmt.Sprintf("pid=%d killed by SIGKILL", old)) {
			t.Fatalf("the crash event does not name the signal:\n%s", ev)
		}
		if !strings.Contains(ev, "service_restart") || !strings.Contains(ev, fmt.Sprintf("pid=%d", now)) {
			t.Fatalf("no service_restart event naming the new pid %d:\n%s", now, ev)
		}
	}
}

func TestAServiceThatKeepsExitingEndsInACrashLoopThatStatusExplains(t *testing.T) {
	cfg, _, _ := stubProject(t)
	addServiceYAML(t, cfg, "gateway", "    restart: {backoff: 50ms, max_backoff: 100ms, max_exits: 3, window: 1m}\n")
	data, _ := os.ReadFile(cfg)
	os.WriteFile(cfg, []byte(strings.Replace(string(data), "    env:\n      FG_TEST_SERVE:", "    env:\n      FG_TEST_EXIT_AFTER: 300ms\n      FG_TEST_SERVE:", 1)), 0o600)
	if r := runCLI(t, "--config", cfg, "service", "start", "gateway"); r.code != 0 {
		t.Fatalf("start: %+v", r)
	}
	t.Cleanup(func() { runCLI(t, "--config", cfg, "down") })

	waitFor(t, 20*time.Second, "the crash loop", func() bool {
		st, _ := readStatus(t, cfg)
		_, ks := servicePid(st, "gateway")
		return ks == supervisor.KeepCrashLoop
	})
	r := runCLI(t, "--config", cfg, "status")
	if r.code != ExitFailed {
		t.Fatalf("status must exit 1 on a crash loop: %+v", r)
	}
	for _, want := range []string{"crash loop: 3 exits in", "last exit exit status 3", "see flowgate logs gateway"} {
		if !strings.Contains(r.stdout, want) {
			t.Fatalf("status does not say %q:\n%s", want, r.stdout)
		}
	}
	if ev := eventsLog(t, cfg); !strings.Contains(ev, "service_giveup") {
		t.Fatalf("no service_giveup event:\n%s", ev)
	}
	// Starting it again is the way out of the crash loop.
	if r := runCLI(t, "--config", cfg, "service", "start", "gateway"); r.code != 0 || !strings.Contains(r.stdout, "started") {
		t.Fatalf("start after the crash loop: %+v", r)
	}
}

func TestDownDuringABackoffLeavesNothingRunning(t *testing.T) {
	cfg, gwPort, _ := stubProject(t)
	addServiceYAML(t, cfg, "gateway", "    restart: {backoff: 30s}\n")
	if r := runCLI(t, "--config", cfg, "service", "start", "gateway"); r.code != 0 {
		t.Fatalf("start: %+v", r)
	}
	st, _ := readStatus(t, cfg)
	pid, _ := servicePid(st, "gateway")
	keeper := st.Supervisor.Pid
	syscall.Kill(pid, syscall.SIGKILL)
	waitFor(t, 10*time.Second, "the backoff", func() bool {
		st, _ := readStatus(t, cfg)
		_, ks := servicePid(st, "gateway")
		return ks == supervisor.KeepBackoff
	})
	if r := runCLI(t, "--config", cfg, "down"); r.code != 0 {
		t.Fatalf("down: %+v", r)
	}
	// With the supervisor gone nothing can start the gateway again.
	waitFor(t, 10*time.Second, "the supervisor to exit", func() bool { return !alive(keeper) })
	st, r := readStatus(t, cfg)
	if p, _ := servicePid(st, "gateway"); p != 0 || st.Supervisor.Running || serves(gwPort) {
		t.Fatalf("something still runs after down: %+v", r)
	}
}

// gatewayProject is a project whose builtin gateway (this binary, see
// TestMain) routes router-default to a fake upstream with a key from a file.
func gatewayProject(t *testing.T) (cfg string, port int, keyFile string) {
	t.Helper()
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"id":"c1","object":"chat.completion","model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}]}`)
	}))
	t.Cleanup(up.Close)
	root := t.TempDir()
	port = freePort(t)
	cfg = filepath.Join(root, "config", "flowgate.yaml")
	keyFile = filepath.Join(root, "key.txt")
	os.MkdirAll(filepath.Dir(cfg), 0o755)
	os.WriteFile(keyFile, []byte("sk-upstream-test\n"), 0o600)
	os.WriteFile(cfg, []byte(fmt.Sprintf(`config_version: 2
services:
  gateway: {port: %d}
credentials:
  upstream:
    up: {file: ../key.txt}
litellm_base:
  model_list:
    - model_name: router-default
      litellm_params: {model: openai/m, api_base: %q, api_key_ref: up}
  litellm_settings:
    num_retries: 1
  general_settings: {master_key: sk-gateway-test}
profiles:
  balanced: {}
default_profile: balanced
`, port, up.URL+"/v1")), 0o600)
	return cfg, port, keyFile
}

func chatOK(port int) bool {
	req, _ := http.NewRequest("POST", fmt.Sprintf("http://127.0.0.1:%d/v1/chat/completions", port), strings.NewReader(`{"model":"router-default","messages":[{"role":"user","content":"hi"}]}`))
	req.Header.Set("Authorization", "Bearer sk-gateway-test")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == 200
}

func TestRestartThatCannotWorkLeavesTheRunningServiceServing(t *testing.T) {
	cfg, port, keyFile := gatewayProject(t)
	if r := runCLI(t, "--config", cfg, "service", "start", "gateway"); r.code != 0 {
		t.Fatalf("start: %+v", r)
	}
	t.Cleanup(func() { runCLI(t, "--config", cfg, "down") })
	st, _ := readStatus(t, cfg)
	pid, _ := servicePid(st, "gateway")
	good, _ := os.ReadFile(cfg)

	check := func(what string, r result, wantMsg string) {
		t.Helper()
		if r.code == 0 || !strings.Contains(r.stderr+r.stdout, wantMsg) {
			t.Fatalf("%s: want a failure naming %q, got %+v", what, wantMsg, r)
		}
		st, _ := readStatus(t, cfg)
		if now, _ := servicePid(st, "gateway"); now != pid || !chatOK(port) {
			t.Fatalf("%s: the running gateway (pid %d) was touched: now pid %d", what, pid, now)
		}
	}

	// A type error in the config.
	os.WriteFile(cfg, []byte(strings.Replace(string(good), "num_retries: 1", "num_retries: two", 1)), 0o600)
	check("type error", runCLI(t, "--config", cfg, "service", "restart", "gateway"), "num_retries")
	os.WriteFile(cfg, good, 0o600)

	// The upstream key file is gone.
	os.Rename(keyFile, keyFile+".moved")
	check("missing secret", runCLI(t, "--config", cfg, "service", "restart", "gateway"), "key.txt")
	os.Rename(keyFile+".moved", keyFile)

	// The new port is held by another program.
	ln, holder := listenOn(t)
	defer ln.Close()
	os.WriteFile(cfg, []byte(strings.Replace(string(good), fmt.Sprintf("port: %d", port), fmt.Sprintf("port: %d", holder), 1)), 0o600)
	check("port taken", runCLI(t, "--config", cfg, "service", "restart", "gateway"), fmt.Sprintf("port %d", holder))

	os.WriteFile(cfg, good, 0o600)
	if r := runCLI(t, "--config", cfg, "service", "restart", "gateway"); r.code != 0 || !chatOK(port) {
		t.Fatalf("a good restart: %+v", r)
	}
}

// listenOn holds a free loopback port, as another program would.
func listenOn(t *testing.T) (net.Listener, int) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln, ln.Addr().(*net.TCPAddr).Port
}

func TestConcurrentStartsShareOneSupervisor(t *testing.T) {
	cfg, gwPort, cpPort := stubProject(t)
	results := make(chan result, 3)
	for range 3 {
		go func() { results <- runCLI(t, "--config", cfg, "service", "start", "all") }()
	}
	for range 3 {
		if r := <-results; r.code != 0 {
			t.Fatalf("a concurrent start failed: %+v", r)
		}
	}
	t.Cleanup(func() { runCLI(t, "--config", cfg, "down") })
	if !serves(gwPort) || !serves(cpPort) {
		t.Fatal("services not serving after concurrent starts")
	}
	// One supervisor: a second one started in the race finds the lock held
	// and exits on its own.
	st, _ := readStatus(t, cfg)
	var pids []string
	waitFor(t, 10*time.Second, "one supervisor left", func() bool {
		out, _ := exec.Command("pgrep", "-f", "--", "--config "+cfg+" service run").Output()
		pids = strings.Fields(string(out))
		return len(pids) == 1
	})
	if pids[0] != fmt.Sprint(st.Supervisor.Pid) {
		t.Fatalf("want the supervisor pid %d running `service run`, got %v", st.Supervisor.Pid, pids)
	}
}
