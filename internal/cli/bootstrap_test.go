package cli

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/flowgate/flowgate/internal/release"
)

// fakeRelease serves one CLIProxyAPIPlus release (the latest) the way the
// GitHub API and its download host do: release JSON, the archive for this
// platform holding bin as cli-proxy-api-plus, and checksums.txt.
func fakeRelease(t *testing.T, tag string, bin []byte) *httptest.Server {
	t.Helper()
	var buf bytes.Buffer
	gz, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	tw := tar.NewWriter(gz)
	tw.WriteHeader(&tar.Header{Name: "cli-proxy-api-plus", Mode: 0o755, Size: int64(len(bin)), Typeflag: tar.TypeReg})
	tw.Write(bin)
	tw.Close()
	gz.Close()
	archive := buf.Bytes()
	name := release.AssetName(tag, runtime.GOOS, runtime.GOARCH)
	h := sha256.Sum256(archive)
	sums := hex.EncodeToString(h[:]) + "  " + name + "\n"
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/repos/" + release.DefaultRepo + "/releases/latest", "/repos/" + release.DefaultRepo + "/releases/tags/" + tag:
			json.NewEncoder(w).Encode(release.Release{TagName: tag, Assets: []release.Asset{
				{Name: name, Size: int64(len(archive)), BrowserDownloadURL: srv.URL + "/dl/" + name},
				{Name: "checksums.txt", BrowserDownloadURL: srv.URL + "/dl/checksums.txt"},
			}})
		case "/dl/" + name:
			w.Write(archive)
		case "/dl/checksums.txt":
			io.WriteString(w, sums)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// installedCLIProxyProject is a project whose cliproxyapi_plus runs the
// installed binary (<runtime>/bin/CLIProxyAPIPlus, the default command) on a
// free port; the installed binary is a copy of this test binary, which serves
// HTTP there (FG_TEST_SERVE), recorded as version v6.8.16-0.
func installedCLIProxyProject(t *testing.T) (cfg string, port int, binPath string) {
	t.Helper()
	cfg = project(t)
	port = freePort(t)
	data, _ := os.ReadFile(cfg)
	body := strings.Replace(string(data), "    port: 8317\n    readiness_path: /\n",
		fmt.Sprintf("    port: %d\n    readiness_path: /\n    env:\n      FG_TEST_SERVE: 127.0.0.1:%d\n", port, port), 1)
	if body == string(data) {
		t.Fatal("template changed: cannot move cliproxyapi_plus to a free port")
	}
	os.WriteFile(cfg, []byte(body), 0o600)
	rtDir := filepath.Join(filepath.Dir(filepath.Dir(cfg)), ".router", "runtime")
	binPath = release.BinaryPath(rtDir)
	self, _ := os.Executable()
	copyFile(t, self, binPath)
	os.WriteFile(release.VersionFilePath(rtDir), []byte("v6.8.16-0\n"), 0o644)
	return cfg, port, binPath
}

func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Dir(dst), 0o755)
	if err := os.WriteFile(dst, data, 0o755); err != nil {
		t.Fatal(err)
	}
}

func get(t *testing.T, port int) (string, error) {
	t.Helper()
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(fmt.Sprintf("http://127.0.0.1:%d/", port))
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b), nil
}

func cliproxyStatus(t *testing.T, cfg string) (state string, pid int) {
	t.Helper()
	r := runCLI(t, "--config", cfg, "--json", "status")
	var st statusReport
	if err := json.Unmarshal([]byte(r.stdout), &st); err != nil {
		t.Fatalf("status --json: %v %q", err, r.stdout)
	}
	for _, s := range st.Services {
		if s.Service == "cliproxyapi_plus" {
			return string(s.State), s.Pid
		}
	}
	t.Fatal("status has no cliproxyapi_plus")
	return "", 0
}

// TestUpdateWhoseNewBinaryExitsAtOncePutsThePreviousBackAndRestartsIt: the
// new release's binary (a program that exits at once) does not become ready,
// so update puts the previous binary and version back, starts it again, says
// so and exits 1; the previous binary serves.
func TestUpdateWhoseNewBinaryExitsAtOncePutsThePreviousBackAndRestartsIt(t *testing.T) {
	truePath, err := exec.LookPath("true")
	if err != nil {
		t.Skip("no true(1) to stand in for a binary that exits at once")
	}
	exitsAtOnce, _ := os.ReadFile(truePath)
	cfg, port, binPath := installedCLIProxyProject(t)
	oldBin, _ := os.ReadFile(binPath)
	srv := fakeRelease(t, "v6.9.0-0", exitsAtOnce)
	if r := runCLI(t, "--config", cfg, "service", "start", "cliproxyapi_plus"); r.code != 0 {
		t.Fatalf("start: %+v", r)
	}
	t.Cleanup(func() { runCLI(t, "--config", cfg, "service", "stop", "all") })
	_, oldPid := cliproxyStatus(t, cfg)

	r := runCLI(t, "--config", cfg, "bootstrap", "update", "--yes", "--base-url", srv.URL)
	if r.code != ExitFailed {
		t.Fatalf("update onto a binary that exits must fail with 1: %+v", r)
	}
	for _, want := range []string{"v6.9.0-0 did not become ready", "v6.8.16-0 was put back and runs again", "logs cliproxyapi_plus"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	if !strings.Contains(r.stdout, "cliproxyapi_plus:rolled_back version=v6.8.16-0") || strings.Contains(r.stdout, "cliproxyapi_plus:updated") {
		t.Errorf("stdout: %s", r.stdout)
	}
	if strings.Count(r.stderr, "bootstrap update:") != 1 {
		t.Errorf("the command name must appear once:\n%s", r.stderr)
	}
	if got, _ := os.ReadFile(binPath); !bytes.Equal(got, oldBin) {
		t.Fatal("the previous binary is not back")
	}
	v, _ := os.ReadFile(filepath.Join(filepath.Dir(filepath.Dir(binPath)), "cliproxyapiplus.version"))
	if strings.TrimSpace(string(v)) != "v6.8.16-0" {
		t.Errorf("version file = %q", v)
	}
	state, pid := cliproxyStatus(t, cfg)
	if state != "running" || pid == 0 || pid == oldPid {
		t.Fatalf("after rollback: state %s pid %d (was %d)", state, pid, oldPid)
	}
	if body, err := get(t, port); err != nil || body != "ok" {
		t.Fatalf("the previous binary does not serve: %v %q", err, body)
	}
	entries, _ := os.ReadDir(filepath.Dir(binPath))
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("left behind: %s", e.Name())
		}
	}
	r = runCLI(t, "--config", cfg, "events", "-n", "20")
	if !strings.Contains(r.stdout, `"event": "bootstrap_update"`) || !strings.Contains(r.stdout, `"result": "rolled-back"`) {
		t.Errorf("events: %s", r.stdout)
	}
}

// TestUpdateOfARunningServiceRestartsItOnTheNewBinary: a new binary that
// serves replaces the running one; nothing is kept aside afterwards.
func TestUpdateOfARunningServiceRestartsItOnTheNewBinary(t *testing.T) {
	cfg, port, binPath := installedCLIProxyProject(t)
	newBin, _ := os.ReadFile(binPath)
	newBin = append(newBin, []byte("\x00new build")...) // still the same program, different bytes
	srv := fakeRelease(t, "v6.9.0-0", newBin)
	if r := runCLI(t, "--config", cfg, "service", "start", "cliproxyapi_plus"); r.code != 0 {
		t.Fatalf("start: %+v", r)
	}
	t.Cleanup(func() { runCLI(t, "--config", cfg, "service", "stop", "all") })
	_, oldPid := cliproxyStatus(t, cfg)
	r := runCLI(t, "--config", cfg, "--json", "bootstrap", "update", "--yes", "--base-url", srv.URL)
	if r.code != 0 {
		t.Fatalf("update: %+v", r)
	}
	var rep updateReport
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("%v: %s", err, r.stdout)
	}
	if !rep.Updated || rep.RolledBack || rep.Restart == nil || !rep.Restart.OK() || rep.Previous != "v6.8.16-0" || rep.Installed.Version != "v6.9.0-0" {
		t.Fatalf("report %s", r.stdout)
	}
	if got, _ := os.ReadFile(binPath); !bytes.Equal(got, newBin) {
		t.Fatal("the new binary is not installed")
	}
	if state, pid := cliproxyStatus(t, cfg); state != "running" || pid == oldPid {
		t.Fatalf("state %s pid %d (was %d)", state, pid, oldPid)
	}
	if body, err := get(t, port); err != nil || body != "ok" {
		t.Fatalf("not serving after the update: %v %q", err, body)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(binPath), ".CLIProxyAPIPlus.previous")); err == nil {
		t.Error("the previous binary was kept after a good update")
	}
}

// TestDownloadOverARunningServiceSaysToRestartIt: the running process keeps
// the old binary, and download says which command makes it use the new one.
func TestDownloadOverARunningServiceSaysToRestartIt(t *testing.T) {
	cfg, _, binPath := installedCLIProxyProject(t)
	newBin, _ := os.ReadFile(binPath)
	srv := fakeRelease(t, "v6.9.0-0", append(newBin, 0))
	r := runCLI(t, "--config", cfg, "bootstrap", "download", "--cliproxy-version", "v6.9.0-0", "--base-url", srv.URL)
	if r.code != 0 || strings.Contains(r.stderr, "restart") {
		t.Fatalf("download with nothing running: %+v", r)
	}
	if r := runCLI(t, "--config", cfg, "service", "start", "cliproxyapi_plus"); r.code != 0 {
		t.Fatalf("start: %+v", r)
	}
	t.Cleanup(func() { runCLI(t, "--config", cfg, "service", "stop", "all") })
	r = runCLI(t, "--config", cfg, "bootstrap", "download", "--cliproxy-version", "v6.9.0-0", "--base-url", srv.URL)
	if r.code != 0 || !strings.Contains(r.stderr, "still runs the previous binary") || !strings.Contains(r.stderr, "service restart cliproxyapi_plus") {
		t.Fatalf("download over a running service: %+v", r)
	}
	r = runCLI(t, "--config", cfg, "--json", "bootstrap", "download", "--cliproxy-version", "v6.9.0-0", "--base-url", srv.URL)
	var rep map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || rep["restart_needed"] != true || rep["version"] != "v6.9.0-0" {
		t.Fatalf("download --json: %v %s", err, r.stdout)
	}
}

func TestBootstrapLiteLLMErrorNamesTheCommandOnce(t *testing.T) {
	cfg := project(t)
	r := runCLI(t, "--config", cfg, "bootstrap", "litellm", "--python", "/nonexistent/python3", "--venv", filepath.Join(t.TempDir(), "venv"))
	if r.code != ExitFailed || strings.Count(r.stderr, "bootstrap litellm") != 1 || !strings.Contains(r.stderr, "python3-venv") {
		t.Fatalf("got %+v", r)
	}
}
