package osservice

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"howett.net/plist"
)

func launchdFixture(t *testing.T) (*Manager, *fakeManager) {
	t.Helper()
	f := &fakeManager{replies: map[string]string{
		// launchctl print of a job that is not loaded.
		"launchctl print gui/501/dev.flowgate": `!Bad request.
Could not find service "dev.flowgate" in domain for port`,
	}}
	return &Manager{Kind: Launchd, Dir: filepath.Join(t.TempDir(), "Library", "LaunchAgents"), UID: 501, Run: f.run}, f
}

func TestPlistIsAValidPropertyListWithTheAgentKeys(t *testing.T) {
	s := testSpec(t)
	s.PATH = `/usr/bin:/opt/<odd>&"dir"`
	m, _ := launchdFixture(t)
	data, err := m.Render(s)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), `<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">`) {
		t.Errorf("plist lacks the Apple DTD declaration:\n%s", data)
	}
	var got map[string]any
	format, err := plist.Unmarshal(data, &got)
	if err != nil {
		t.Fatalf("plist does not parse: %v\n%s", err, data)
	}
	if format != plist.XMLFormat {
		t.Fatalf("parsed as %s, want an XML property list", plist.FormatNames[format])
	}
	want := map[string]any{
		"Label":                "dev.flowgate",
		"ProgramArguments":     []any{s.Executable, "--config", s.ConfigFile, "service", "run"},
		"WorkingDirectory":     s.WorkDir,
		"EnvironmentVariables": map[string]any{"PATH": s.PATH},
		"RunAtLoad":            true,
		"KeepAlive":            map[string]any{"SuccessfulExit": false},
		"ExitTimeOut":          uint64(30),
		"StandardOutPath":      s.LogFile,
		"StandardErrorPath":    s.LogFile,
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("plist:\n got  %#v\n want %#v", got, want)
	}
	// On macOS, Apple's own parser must accept it too.
	if plutil, err := exec.LookPath("plutil"); err == nil {
		p := filepath.Join(t.TempDir(), "dev.flowgate.plist")
		os.WriteFile(p, data, 0o644)
		if out, err := exec.Command(plutil, "-lint", p).CombinedOutput(); err != nil {
			t.Fatalf("plutil -lint: %v %s", err, out)
		}
	}
}

func TestLaunchdInstallBootstrapsTheAgentOnce(t *testing.T) {
	m, f := launchdFixture(t)
	s := testSpec(t)
	res, err := m.Install(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	assertCommands(t, f,
		"launchctl print gui/501/dev.flowgate",
		"launchctl enable gui/501/dev.flowgate",
		"launchctl bootstrap gui/501 "+m.Path())
	if !res.Loaded || !res.Changed || res.Path != filepath.Join(m.Dir, "dev.flowgate.plist") {
		t.Fatalf("result %+v", res)
	}
	if fi, err := os.Stat(res.Path); err != nil || fi.Mode().Perm() != 0o644 {
		t.Fatalf("plist: %v %v", fi, err)
	}

	// Loaded and unchanged: bootstrap again would fail, so it is not sent.
	f.replies["launchctl print gui/501/dev.flowgate"] = "gui/501/dev.flowgate = {\n\tstate = running\n}"
	f.cmds = nil
	res, err = m.Install(context.Background(), s)
	if err != nil || res.Changed {
		t.Fatalf("second install: %+v %v", res, err)
	}
	assertCommands(t, f, "launchctl print gui/501/dev.flowgate", "launchctl enable gui/501/dev.flowgate")

	// Loaded and changed: the old job is replaced.
	s.PATH = "/opt/homebrew/bin:/usr/bin:/bin"
	f.cmds = nil
	if _, err = m.Install(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	assertCommands(t, f,
		"launchctl print gui/501/dev.flowgate",
		"launchctl bootout gui/501/dev.flowgate",
		"launchctl enable gui/501/dev.flowgate",
		"launchctl bootstrap gui/501 "+m.Path())
}

func TestLaunchdBootstrapFailureIsAnError(t *testing.T) {
	m, f := launchdFixture(t)
	f.replies["launchctl bootstrap gui/501 "+m.Path()] = "!Bootstrap failed: 5: Input/output error"
	_, err := m.Install(context.Background(), testSpec(t))
	if err == nil || !strings.Contains(err.Error(), "Input/output error") || !strings.Contains(err.Error(), m.Path()) {
		t.Fatalf("err = %v", err)
	}
}

func TestLaunchdInspectAndUninstall(t *testing.T) {
	m, f := launchdFixture(t)
	s := testSpec(t)
	if _, err := m.Install(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	f.replies["launchctl print gui/501/dev.flowgate"] = "gui/501/dev.flowgate = {\n\tactive count = 1\n\tstate = running\n}"
	f.replies["launchctl print-disabled gui/501"] = "disabled services = {\n\t\"com.other\" => disabled\n}"
	st := m.Inspect(context.Background())
	want := "os_service=launchd installed=yes enabled=yes active=yes path=" + m.Path() + " config=" + s.ConfigFile
	if st.Line() != want {
		t.Fatalf("line %q, want %q", st.Line(), want)
	}
	f.replies["launchctl print-disabled gui/501"] = "disabled services = {\n\t\"dev.flowgate\" => disabled\n}"
	if st = m.Inspect(context.Background()); st.Enabled {
		t.Fatalf("a disabled agent reported enabled: %+v", st)
	}

	f.cmds = nil
	res, err := m.Uninstall(context.Background())
	if err != nil || !res.Removed {
		t.Fatalf("uninstall: %+v %v", res, err)
	}
	assertCommands(t, f, "launchctl print gui/501/dev.flowgate", "launchctl bootout gui/501/dev.flowgate")
	if _, err := os.Stat(m.Path()); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("plist still there: %v", err)
	}
}
