package osservice

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// fakeManager records every command and answers from replies (keyed by the
// command line); a reply starting with "!" fails with that text.
type fakeManager struct {
	cmds    [][]string
	replies map[string]string
}

func (f *fakeManager) run(_ context.Context, name string, args ...string) (string, error) {
	cmd := append([]string{name}, args...)
	f.cmds = append(f.cmds, cmd)
	out := f.replies[strings.Join(cmd, " ")]
	if rest, ok := strings.CutPrefix(out, "!"); ok {
		return rest, errors.New("exit status 1")
	}
	return out, nil
}

func (f *fakeManager) lines() []string {
	var out []string
	for _, c := range f.cmds {
		out = append(out, strings.Join(c, " "))
	}
	return out
}

// systemdFixture is a manager whose unit folder and runtime folder are temp
// folders; running says whether a systemd user manager "runs".
func systemdFixture(t *testing.T, running bool) (*Manager, *fakeManager) {
	t.Helper()
	root := t.TempDir()
	f := &fakeManager{replies: map[string]string{}}
	m := &Manager{Kind: Systemd, Dir: filepath.Join(root, "config", "systemd", "user"), UID: 1000,
		SystemdRuntimeDir: filepath.Join(root, "run", "systemd"), Run: f.run}
	if running {
		if err := os.MkdirAll(m.SystemdRuntimeDir, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	return m, f
}

func testSpec(t *testing.T) Spec {
	t.Helper()
	root := t.TempDir()
	return Spec{
		Executable: filepath.Join(root, ".router", "runtime", "bin", "flowgate"),
		ConfigFile: filepath.Join(root, "config", "flowgate.yaml"),
		WorkDir:    root,
		PATH:       "/usr/local/bin:/usr/bin:/bin",
		LogFile:    filepath.Join(root, ".router", "runtime", "process-logs", "supervisor.log"),
	}
}

func assertCommands(t *testing.T, f *fakeManager, want ...string) {
	t.Helper()
	if got := f.lines(); !reflect.DeepEqual(got, want) {
		t.Fatalf("commands:\n got  %q\n want %q", got, want)
	}
}

func TestSystemdInstallWritesUnitAndEnablesIt(t *testing.T) {
	m, f := systemdFixture(t, true)
	s := testSpec(t)
	res, err := m.Install(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	assertCommands(t, f, "systemctl --user daemon-reload", "systemctl --user enable --now flowgate.service")
	if !res.Loaded || !res.Changed || res.ManualSteps != nil || res.Path != filepath.Join(m.Dir, "flowgate.service") {
		t.Fatalf("result %+v", res)
	}
	fi, err := os.Stat(res.Path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o644 {
		t.Errorf("unit mode %o, want 0644", fi.Mode().Perm())
	}
	data, _ := os.ReadFile(res.Path)
	for _, want := range []string{
		"ExecStart=" + s.Executable + " --config " + s.ConfigFile + " service run\n",
		"WorkingDirectory=" + s.WorkDir + "\n",
		`Environment="PATH=/usr/local/bin:/usr/bin:/bin"` + "\n",
		"Type=simple\n", "Restart=on-failure\n", "RestartSec=2\n", "KillMode=mixed\n",
		"TimeoutStopSec=30\n", "WantedBy=default.target\n",
	} {
		if !strings.Contains(string(data), want) {
			t.Errorf("unit lacks %q:\n%s", want, data)
		}
	}
}

func TestSystemdInstallTwiceChangesNothingAndLeavesNoTempFiles(t *testing.T) {
	m, f := systemdFixture(t, true)
	s := testSpec(t)
	if _, err := m.Install(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	first, _ := os.ReadFile(m.Path())
	fi1, _ := os.Stat(m.Path())
	f.cmds = nil
	res, err := m.Install(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	if res.Changed || !res.Loaded || res.Replaced != "" {
		t.Fatalf("second install: %+v", res)
	}
	// enable --now is idempotent; nothing restarts the running supervisor.
	assertCommands(t, f, "systemctl --user daemon-reload", "systemctl --user enable --now flowgate.service")
	second, _ := os.ReadFile(m.Path())
	fi2, _ := os.Stat(m.Path())
	if !bytes.Equal(first, second) || !os.SameFile(fi1, fi2) {
		t.Fatal("an unchanged unit was rewritten")
	}
	entries, _ := os.ReadDir(m.Dir)
	if len(entries) != 1 {
		t.Fatalf("unit folder holds %v, want only flowgate.service", entries)
	}
}

func TestSystemdInstallWithNewConfigRestartsTheRunningService(t *testing.T) {
	m, f := systemdFixture(t, true)
	s := testSpec(t)
	if _, err := m.Install(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	old := s.ConfigFile
	s.ConfigFile = filepath.Join(t.TempDir(), "other", "flowgate.yaml")
	s.StopTimeout = 45*time.Second + time.Millisecond
	f.cmds = nil
	res, err := m.Install(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	assertCommands(t, f, "systemctl --user daemon-reload", "systemctl --user try-restart flowgate.service", "systemctl --user enable --now flowgate.service")
	if !res.Changed || res.Replaced != old {
		t.Fatalf("result %+v, want changed and replaced=%s", res, old)
	}
	data, _ := os.ReadFile(m.Path())
	if !strings.Contains(string(data), "TimeoutStopSec=46\n") || !strings.Contains(string(data), s.ConfigFile) {
		t.Fatalf("unit not rewritten:\n%s", data)
	}
	if st := m.Inspect(context.Background()); st.Config != s.ConfigFile {
		t.Fatalf("Inspect config %q, want %q", st.Config, s.ConfigFile)
	}
}

func TestSystemdInstallWithoutUserManagerWritesUnitAndSaysHowToEnable(t *testing.T) {
	m, f := systemdFixture(t, false)
	res, err := m.Install(context.Background(), testSpec(t))
	if err != nil {
		t.Fatal(err)
	}
	assertCommands(t, f)
	if res.Loaded || !strings.Contains(res.Note, "not running as a user manager") {
		t.Fatalf("result %+v", res)
	}
	steps := strings.Join(res.ManualSteps, "\n")
	for _, want := range []string{"systemctl --user daemon-reload && systemctl --user enable --now flowgate.service", "loginctl enable-linger $USER"} {
		if !strings.Contains(steps, want) {
			t.Errorf("manual steps lack %q:\n%s", want, steps)
		}
	}
	if _, err := os.Stat(m.Path()); err != nil {
		t.Fatalf("unit not written: %v", err)
	}
}

func TestSystemdInstallWhenUserManagerDoesNotAnswerSaysHowToEnable(t *testing.T) {
	m, f := systemdFixture(t, true)
	f.replies["systemctl --user daemon-reload"] = "!Failed to connect to bus: No medium found"
	res, err := m.Install(context.Background(), testSpec(t))
	if err != nil {
		t.Fatal(err)
	}
	assertCommands(t, f, "systemctl --user daemon-reload")
	if res.Loaded || len(res.ManualSteps) == 0 || !strings.Contains(res.Note, "No medium found") {
		t.Fatalf("result %+v", res)
	}
}

func TestSystemdEnableFailureIsAnErrorNamingTheJournal(t *testing.T) {
	m, f := systemdFixture(t, true)
	f.replies["systemctl --user enable --now flowgate.service"] = "!Job for flowgate.service failed"
	_, err := m.Install(context.Background(), testSpec(t))
	if err == nil || !strings.Contains(err.Error(), "Job for flowgate.service failed") || !strings.Contains(err.Error(), "journalctl --user -u flowgate.service") {
		t.Fatalf("err = %v", err)
	}
}

func TestSystemdUninstallDisablesAndRemovesTheUnit(t *testing.T) {
	m, f := systemdFixture(t, true)
	if _, err := m.Install(context.Background(), testSpec(t)); err != nil {
		t.Fatal(err)
	}
	f.cmds = nil
	res, err := m.Uninstall(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	assertCommands(t, f, "systemctl --user disable --now flowgate.service", "systemctl --user daemon-reload")
	if !res.Removed {
		t.Fatalf("result %+v", res)
	}
	if _, err := os.Stat(m.Path()); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("unit still there: %v", err)
	}
	f.cmds = nil
	res, err = m.Uninstall(context.Background())
	if err != nil || res.Removed || !strings.Contains(res.Note, "not installed") {
		t.Fatalf("second uninstall: %+v, %v", res, err)
	}
	assertCommands(t, f)
}

func TestSystemdUninstallWithoutUserManagerRemovesUnitAndEnableLink(t *testing.T) {
	m, f := systemdFixture(t, false)
	if _, err := m.Install(context.Background(), testSpec(t)); err != nil {
		t.Fatal(err)
	}
	// What `systemctl --user enable` leaves behind.
	os.MkdirAll(filepath.Dir(m.wantsLink()), 0o755)
	if err := os.Symlink(m.Path(), m.wantsLink()); err != nil {
		t.Fatal(err)
	}
	if st := m.Inspect(context.Background()); !st.Installed || !st.Enabled || st.ManagerRunning {
		t.Fatalf("before: %+v", st)
	}
	if _, err := m.Uninstall(context.Background()); err != nil {
		t.Fatal(err)
	}
	assertCommands(t, f)
	for _, p := range []string{m.Path(), m.wantsLink()} {
		if _, err := os.Lstat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s still there", p)
		}
	}
}

func TestSystemdInspectReportsInstalledEnabledActive(t *testing.T) {
	m, f := systemdFixture(t, true)
	f.replies["systemctl --user is-active flowgate.service"] = "!inactive"
	st := m.Inspect(context.Background())
	if st.Installed || st.Enabled || st.Active || !strings.HasPrefix(st.Line(), "os_service=systemd installed=no enabled=no active=no path=") {
		t.Fatalf("before install: %+v %s", st, st.Line())
	}
	s := testSpec(t)
	if _, err := m.Install(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	f.replies["systemctl --user is-active flowgate.service"] = "active"
	f.replies["systemctl --user is-enabled flowgate.service"] = "enabled"
	st = m.Inspect(context.Background())
	want := "os_service=systemd installed=yes enabled=yes active=yes path=" + m.Path() + " config=" + s.ConfigFile
	if st.Line() != want {
		t.Fatalf("line %q, want %q", st.Line(), want)
	}
	f.replies["systemctl --user is-active flowgate.service"] = "!failed"
	f.replies["systemctl --user is-enabled flowgate.service"] = "!disabled"
	if st = m.Inspect(context.Background()); st.Active || st.Enabled || !st.ManagerRunning {
		t.Fatalf("failed and disabled: %+v", st)
	}
	f.replies["systemctl --user is-active flowgate.service"] = "!Failed to connect to bus: No medium found"
	if st = m.Inspect(context.Background()); st.ManagerRunning || !strings.Contains(st.Line(), " active=unknown ") {
		t.Fatalf("no bus: %+v %s", st, st.Line())
	}
}

func TestSpecWithRelativeOrMultilinePathsIsRejected(t *testing.T) {
	m, _ := systemdFixture(t, true)
	s := testSpec(t)
	s.ConfigFile = "config/flowgate.yaml"
	s.WorkDir = "/tmp/a\nExecStartPre=/bin/evil"
	_, err := m.Install(context.Background(), s)
	if err == nil || !strings.Contains(err.Error(), "config file") || !strings.Contains(err.Error(), "absolute") || !strings.Contains(err.Error(), "line break") {
		t.Fatalf("err = %v", err)
	}
	if _, statErr := os.Stat(m.Path()); !errors.Is(statErr, os.ErrNotExist) {
		t.Fatal("a rejected spec wrote a unit")
	}
}

// The unit must be one systemd accepts: systemd-analyze verify parses it,
// checks every key and that ExecStart names an executable file, so paths
// with a space, % and $ prove the quoting too.
func TestUnitPassesSystemdAnalyzeVerify(t *testing.T) {
	tool, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze not installed (Debian: apt-get install systemd); the unit file is not verified")
	}
	m, _ := systemdFixture(t, false)
	root := filepath.Join(t.TempDir(), "my project 100%$HOME")
	exe := filepath.Join(root, ".router", "runtime", "bin", "flowgate")
	if err := os.MkdirAll(filepath.Dir(exe), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(exe, []byte("#!/bin/sh\nexit 0\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	s := Spec{Executable: exe, ConfigFile: filepath.Join(root, "config", "flowgate.yaml"), WorkDir: root,
		PATH: `/usr/bin:/bin:/opt/a "b"\c%d`}
	if _, err := m.Install(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	// verify --user needs a runtime folder, even without a running manager.
	env := append(os.Environ(), "XDG_RUNTIME_DIR="+t.TempDir(), "HOME="+t.TempDir())
	cmd := exec.Command(tool, "--user", "verify", m.Path())
	cmd.Env = env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil || stderr.Len() != 0 {
		data, _ := os.ReadFile(m.Path())
		t.Fatalf("systemd-analyze verify: %v\n%s\nunit:\n%s", err, stderr.String(), data)
	}

	// The check is real: a unit whose executable is missing fails it.
	os.Remove(exe)
	cmd = exec.Command(tool, "--user", "verify", m.Path())
	cmd.Env = env
	if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "not executable") {
		t.Fatalf("systemd-analyze verify accepted a unit whose executable is missing: %v %s", err, out)
	}
}
