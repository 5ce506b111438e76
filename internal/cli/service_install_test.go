package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/flowgate/flowgate/internal/osservice"
)

// osServiceFixture points the service commands at a systemd manager whose
// unit folder is a temp folder and whose commands are recorded, and at a
// flowgate binary in a temp folder. running says whether a systemd user
// manager "runs". It returns the recorded command lines.
func osServiceFixture(t *testing.T, running bool) (*osservice.Manager, *[]string) {
	t.Helper()
	root := t.TempDir()
	self := filepath.Join(root, "bin", "flowgate")
	os.MkdirAll(filepath.Dir(self), 0o755)
	if err := os.WriteFile(self, []byte("#!/bin/sh\nexit 0\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("FLOWGATE_SELF", self)
	var cmds []string
	m := &osservice.Manager{Kind: osservice.Systemd, Dir: filepath.Join(root, "systemd", "user"),
		SystemdRuntimeDir: filepath.Join(root, "run", "systemd"),
		Run: func(_ context.Context, name string, args ...string) (string, error) {
			cmds = append(cmds, strings.Join(append([]string{name}, args...), " "))
			if len(args) > 1 && args[1] == "is-active" {
				return "active", nil
			}
			if len(args) > 1 && args[1] == "is-enabled" {
				return "enabled", nil
			}
			return "", nil
		}}
	if running {
		os.MkdirAll(m.SystemdRuntimeDir, 0o700)
	}
	old := newOSService
	newOSService = func() (*osservice.Manager, error) { return m, nil }
	t.Cleanup(func() { newOSService = old })
	return m, &cmds
}

// eventsNamed returns the events.log lines of one event, decoded.
func eventsNamed(t *testing.T, cfg, name string) []map[string]any {
	t.Helper()
	f, err := os.Open(filepath.Join(filepath.Dir(filepath.Dir(cfg)), ".router", "runtime", "events.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []map[string]any
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var ev map[string]any
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatalf("events.log line %q: %v", sc.Text(), err)
		}
		if ev["event"] == name {
			out = append(out, ev)
		}
	}
	return out
}

func TestServiceInstallWritesUnitEnablesItAndRecordsTheEvent(t *testing.T) {
	cfg := project(t)
	m, cmds := osServiceFixture(t, true)
	r := runCLI(t, "--config", cfg, "service", "install")
	if r.code != 0 {
		t.Fatalf("install: %+v", r)
	}
	want := []string{"systemctl --user daemon-reload", "systemctl --user enable --now flowgate.service"}
	if !reflect.DeepEqual(*cmds, want) {
		t.Fatalf("commands %q, want %q", *cmds, want)
	}
	if !strings.Contains(r.stdout, "path="+m.Path()) || !strings.Contains(r.stdout, "enabled and started") || !strings.Contains(r.stdout, "loginctl enable-linger") {
		t.Fatalf("stdout:\n%s", r.stdout)
	}
	unit, err := os.ReadFile(m.Path())
	if err != nil {
		t.Fatal(err)
	}
	root := filepath.Dir(filepath.Dir(cfg))
	for _, w := range []string{
		"ExecStart=" + os.Getenv("FLOWGATE_SELF") + " --config " + cfg + " service run\n",
		"WorkingDirectory=" + root + "\n",
		// two services stop one after another, 10 s grace each, plus margin
		"TimeoutStopSec=30\n",
	} {
		if !strings.Contains(string(unit), w) {
			t.Errorf("unit lacks %q:\n%s", w, unit)
		}
	}
	evs := eventsNamed(t, cfg, "service_install")
	if len(evs) != 1 || evs[0]["result"] != "success" || !strings.Contains(evs[0]["detail"].(string), m.Path()) {
		t.Fatalf("service_install events: %v", evs)
	}

	// The status line reports what the service manager says.
	if line := osServiceStatus(context.Background()).Line(); line != "os_service=systemd installed=yes enabled=yes active=yes path="+m.Path()+" config="+cfg {
		t.Fatalf("status line %q", line)
	}

	*cmds = nil
	r = runCLI(t, "--config", cfg, "service", "install")
	if r.code != 0 || !strings.Contains(r.stdout, " unchanged\n") {
		t.Fatalf("second install: %+v", r)
	}
	if !reflect.DeepEqual(*cmds, want) {
		t.Fatalf("second install commands %q, want %q", *cmds, want)
	}
}

func TestServiceInstallWithoutSystemdPrintsHowToEnableAndExitsZero(t *testing.T) {
	cfg := project(t)
	m, cmds := osServiceFixture(t, false)
	r := runCLI(t, "--config", cfg, "service", "install")
	if r.code != 0 {
		t.Fatalf("install: %+v", r)
	}
	if len(*cmds) != 0 {
		t.Fatalf("commands sent without a user manager: %q", *cmds)
	}
	for _, w := range []string{
		"not running as a user manager",
		"systemctl --user daemon-reload && systemctl --user enable --now flowgate.service",
		"loginctl enable-linger $USER",
	} {
		if !strings.Contains(r.stdout, w) {
			t.Errorf("stdout lacks %q:\n%s", w, r.stdout)
		}
	}
	if fi, err := os.Stat(m.Path()); err != nil || fi.Mode().Perm() != 0o644 {
		t.Fatalf("unit: %v %v", fi, err)
	}
	if line := osServiceStatus(context.Background()).Line(); !strings.HasPrefix(line, "os_service=systemd installed=yes enabled=no active=unknown ") {
		t.Fatalf("status line %q", line)
	}
}

func TestServiceInstallDryRunPrintsTheUnitAndChangesNothing(t *testing.T) {
	cfg := project(t)
	m, cmds := osServiceFixture(t, true)
	r := runCLI(t, "--config", cfg, "service", "install", "--dry-run")
	if r.code != 0 || !strings.Contains(r.stdout, "[Service]\n") || !strings.Contains(r.stdout, "ExecStart=") || !strings.Contains(r.stderr, "would write "+m.Path()) {
		t.Fatalf("dry run: %+v", r)
	}
	if _, err := os.Stat(m.Path()); !errors.Is(err, os.ErrNotExist) || len(*cmds) != 0 {
		t.Fatalf("dry run changed something: %v %q", err, *cmds)
	}

	r = runCLI(t, "--config", cfg, "--json", "service", "install", "--dry-run")
	var rep map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || r.code != 0 {
		t.Fatalf("dry run --json: %v %+v", err, r)
	}
	if rep["dry_run"] != true || rep["os_service"] != "systemd" || rep["path"] != m.Path() || rep["config"] != cfg ||
		!strings.Contains(rep["content"].(string), "KillMode=mixed") {
		t.Fatalf("dry run report %v", rep)
	}
}

func TestServiceInstallJSONHasStableFields(t *testing.T) {
	cfg := project(t)
	m, _ := osServiceFixture(t, true)
	r := runCLI(t, "--config", cfg, "--json", "service", "install")
	var rep map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || r.code != 0 {
		t.Fatalf("--json: %v %+v", err, r)
	}
	for _, k := range []string{"os_service", "path", "changed", "loaded", "commands", "dry_run", "executable", "config", "working_directory"} {
		if _, ok := rep[k]; !ok {
			t.Errorf("install --json lacks %q: %v", k, rep)
		}
	}
	if rep["path"] != m.Path() || rep["loaded"] != true || rep["executable"] != os.Getenv("FLOWGATE_SELF") {
		t.Fatalf("report %v", rep)
	}
}

func TestServiceInstallFromGoRunUsesTheInstalledCopy(t *testing.T) {
	cfg := project(t)
	m, _ := osServiceFixture(t, true)
	// A binary where go run leaves it: <tmp>/go-build123/b001/exe/flowgate.
	goRun := filepath.Join(t.TempDir(), "go-build123", "b001", "exe", "flowgate")
	os.MkdirAll(filepath.Dir(goRun), 0o755)
	os.WriteFile(goRun, []byte("#!/bin/sh\necho built by go run\n"), 0o755)
	t.Setenv("FLOWGATE_SELF", goRun)
	r := runCLI(t, "--config", cfg, "service", "install")
	if r.code != 0 {
		t.Fatalf("install: %+v", r)
	}
	copyPath := filepath.Join(filepath.Dir(filepath.Dir(cfg)), ".router", "runtime", "bin", "flowgate")
	if !strings.Contains(r.stderr, "go run") || !strings.Contains(r.stderr, copyPath) {
		t.Fatalf("install does not say it uses the installed copy:\n%s", r.stderr)
	}
	if data, err := os.ReadFile(copyPath); err != nil || !strings.Contains(string(data), "built by go run") {
		t.Fatalf("copy not installed: %v", err)
	}
	unit, _ := os.ReadFile(m.Path())
	if !strings.Contains(string(unit), "ExecStart="+copyPath+" --config ") {
		t.Fatalf("unit does not run the installed copy:\n%s", unit)
	}
}

func TestServiceUninstallRemovesTheUnitAndRecordsTheEvent(t *testing.T) {
	cfg := project(t)
	m, cmds := osServiceFixture(t, true)
	if r := runCLI(t, "--config", cfg, "service", "install"); r.code != 0 {
		t.Fatalf("install: %+v", r)
	}
	*cmds = nil
	r := runCLI(t, "--config", cfg, "service", "uninstall")
	if r.code != 0 || !strings.Contains(r.stdout, "removed") {
		t.Fatalf("uninstall: %+v", r)
	}
	want := []string{"systemctl --user disable --now flowgate.service", "systemctl --user daemon-reload"}
	if !reflect.DeepEqual(*cmds, want) {
		t.Fatalf("commands %q, want %q", *cmds, want)
	}
	if _, err := os.Stat(m.Path()); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("unit still there: %v", err)
	}
	r = runCLI(t, "--config", cfg, "service", "uninstall")
	if r.code != 0 || !strings.Contains(r.stdout, "not installed") {
		t.Fatalf("second uninstall: %+v", r)
	}
	evs := eventsNamed(t, cfg, "service_uninstall")
	if len(evs) != 2 || evs[0]["result"] != "success" || evs[1]["result"] != "not-installed" {
		t.Fatalf("service_uninstall events: %v", evs)
	}
}

func TestServiceInstallFailureExitsOneWithTheManagersMessage(t *testing.T) {
	cfg := project(t)
	m, _ := osServiceFixture(t, true)
	m.Run = func(_ context.Context, name string, args ...string) (string, error) {
		if len(args) > 1 && args[1] == "enable" {
			return "Failed to enable unit: Unit file flowgate.service is masked.", errors.New("exit status 1")
		}
		return "", nil
	}
	r := runCLI(t, "--config", cfg, "service", "install")
	if r.code != ExitFailed || !strings.Contains(r.stderr, "is masked") || !strings.Contains(r.stderr, "journalctl --user -u flowgate.service") {
		t.Fatalf("install: %+v", r)
	}
	evs := eventsNamed(t, cfg, "service_install")
	if len(evs) != 1 || evs[0]["result"] != "failed" {
		t.Fatalf("service_install events: %v", evs)
	}
}

func TestServiceInstallRejectsArguments(t *testing.T) {
	cfg := project(t)
	osServiceFixture(t, true)
	for _, args := range [][]string{{"service", "install", "extra"}, {"service", "uninstall", "extra"}, {"service", "install", "--nope"}} {
		if r := runCLI(t, append([]string{"--config", cfg}, args...)...); r.code != ExitUsage {
			t.Errorf("%q: exit %d, want %d (%s)", args, r.code, ExitUsage, r.stderr)
		}
	}
}
