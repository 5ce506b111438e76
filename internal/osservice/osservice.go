// Package osservice registers the FlowGate supervisor with the operating
// system's per-user service manager, so that FlowGate starts at login and is
// restarted if it dies: a systemd user unit on Linux, a launchd agent on
// macOS. The manager runs `<flowgate> --config <config> service run` in the
// foreground; that supervisor starts, restarts and stops the children.
//
// Every command sent to the service manager goes through a Runner, so tests
// check the exact commands without a running systemd or launchd.
package osservice

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// Kind names a service manager.
type Kind string

const (
	// Systemd is a systemd user unit (Linux).
	Systemd Kind = "systemd"
	// Launchd is a launchd agent in the user's GUI domain (macOS).
	Launchd Kind = "launchd"
)

const (
	// UnitName is the systemd user unit FlowGate installs.
	UnitName = "flowgate.service"
	// Label is the launchd job label; the plist is <Label>.plist.
	Label = "dev.flowgate"
	// DefaultStopTimeout is the least time the service manager grants the
	// supervisor to stop its children after SIGTERM before it kills them.
	DefaultStopTimeout = 30 * time.Second
)

// ErrUnsupported is returned by Detect on systems without a supported
// per-user service manager.
var ErrUnsupported = errors.New("starting at login is supported on Linux (systemd) and macOS (launchd) only; start FlowGate with `flowgate up` instead")

// Spec is what the service manager runs.
type Spec struct {
	// Executable is the absolute path of a flowgate binary that stays in
	// place (not go run's temporary build).
	Executable string
	// ConfigFile is the absolute path of flowgate.yaml.
	ConfigFile string
	// WorkDir is the folder the service runs in (the project root).
	WorkDir string
	// PATH is the search path the supervisor and its children see; the
	// service manager's own PATH is minimal, so install copies the user's.
	PATH string
	// LogFile receives the supervisor's stdout and stderr under launchd
	// (systemd sends them to the journal).
	LogFile string
	// StopTimeout is how long the manager waits after SIGTERM before it
	// kills what is left. Default (and minimum): DefaultStopTimeout.
	StopTimeout time.Duration
}

// Args is the command line the service manager runs.
func (s Spec) Args() []string {
	return []string{s.Executable, "--config", s.ConfigFile, "service", "run"}
}

func (s Spec) stopSeconds() int {
	d := s.StopTimeout
	if d < DefaultStopTimeout {
		d = DefaultStopTimeout
	}
	return int((d + time.Second - 1) / time.Second)
}

// Validate reports every field a service file cannot carry.
func (s Spec) Validate() error {
	var problems []string
	for _, f := range []struct{ name, val string }{
		{"executable", s.Executable}, {"config file", s.ConfigFile}, {"working directory", s.WorkDir}, {"log file", s.LogFile},
	} {
		switch {
		case f.val == "" && f.name == "log file":
		case !filepath.IsAbs(f.val):
			problems = append(problems, fmt.Sprintf("%s %q must be an absolute path", f.name, f.val))
		case strings.ContainsAny(f.val, "\x00\n\r"):
			problems = append(problems, fmt.Sprintf("%s %q contains a line break; move it to a path without one", f.name, f.val))
		}
	}
	if strings.ContainsAny(s.PATH, "\x00\n\r") {
		problems = append(problems, "PATH contains a line break; fix the PATH variable and run install again")
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}

// Runner runs one service-manager command and returns its combined output.
// A non-zero exit is an error.
type Runner func(ctx context.Context, name string, args ...string) (string, error)

// ExecRunner runs the command for real.
func ExecRunner(ctx context.Context, name string, args ...string) (string, error) {
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// Manager installs, removes and inspects the FlowGate service of one kind.
type Manager struct {
	Kind Kind
	// Dir is the folder of the unit or plist: $XDG_CONFIG_HOME/systemd/user
	// (default ~/.config/systemd/user) or ~/Library/LaunchAgents.
	Dir string
	// UID is the user whose launchd GUI domain (gui/UID) is used.
	UID int
	// SystemdRuntimeDir exists while a systemd user manager runs:
	// $XDG_RUNTIME_DIR/systemd, default /run/user/UID/systemd.
	SystemdRuntimeDir string
	// Run sends commands to the service manager. Default: ExecRunner.
	Run Runner
}

// Detect returns the manager for this system and user.
func Detect() (*Manager, error) {
	uid := os.Getuid()
	switch runtime.GOOS {
	case "linux":
		cfgHome := os.Getenv("XDG_CONFIG_HOME")
		if cfgHome == "" || !filepath.IsAbs(cfgHome) {
			home, err := os.UserHomeDir()
			if err != nil {
				return nil, fmt.Errorf("finding the home folder for the systemd unit: %w; set HOME", err)
			}
			cfgHome = filepath.Join(home, ".config")
		}
		rtDir := os.Getenv("XDG_RUNTIME_DIR")
		if rtDir == "" {
			rtDir = filepath.Join("/run/user", fmt.Sprint(uid))
		}
		return &Manager{Kind: Systemd, Dir: filepath.Join(cfgHome, "systemd", "user"), UID: uid,
			SystemdRuntimeDir: filepath.Join(rtDir, "systemd"), Run: ExecRunner}, nil
	case "darwin":
		home, err := os.UserHomeDir()
		if err != nil {
			return nil, fmt.Errorf("finding the home folder for the launchd agent: %w; set HOME", err)
		}
		return &Manager{Kind: Launchd, Dir: filepath.Join(home, "Library", "LaunchAgents"), UID: uid, Run: ExecRunner}, nil
	}
	return nil, ErrUnsupported
}

// Path is the unit or plist file.
func (m *Manager) Path() string {
	if m.Kind == Launchd {
		return filepath.Join(m.Dir, Label+".plist")
	}
	return filepath.Join(m.Dir, UnitName)
}

// Render returns the file install writes for s.
func (m *Manager) Render(s Spec) ([]byte, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	switch m.Kind {
	case Systemd:
		return renderUnit(s), nil
	case Launchd:
		return renderPlist(s)
	}
	return nil, fmt.Errorf("unknown service manager %q", m.Kind)
}

// InstallResult says what install did.
type InstallResult struct {
	Kind Kind   `json:"os_service"`
	Path string `json:"path"`
	// Changed is false when the file already had this content.
	Changed bool `json:"changed"`
	// Replaced is the config file of a previous install that pointed at
	// another project, if any.
	Replaced string `json:"replaced_config,omitempty"`
	// Loaded is true when the service manager enabled and started it.
	Loaded bool `json:"loaded"`
	// Commands are the service-manager commands that were run.
	Commands [][]string `json:"commands"`
	// ManualSteps are commands for the user when the manager could not be
	// reached (systemd not running as a user manager).
	ManualSteps []string `json:"manual_steps,omitempty"`
	// Note explains why ManualSteps are needed.
	Note string `json:"note,omitempty"`
}

// UninstallResult says what uninstall did.
type UninstallResult struct {
	Kind     Kind       `json:"os_service"`
	Path     string     `json:"path"`
	Removed  bool       `json:"removed"`
	Commands [][]string `json:"commands"`
	Note     string     `json:"note,omitempty"`
}

// Status is what Inspect reports.
type Status struct {
	Kind Kind   `json:"os_service"`
	Path string `json:"path"`
	// Installed: the unit or plist file exists.
	Installed bool `json:"installed"`
	// Enabled: the manager starts it at login.
	Enabled bool `json:"enabled"`
	// Active: the manager runs it now.
	Active bool `json:"active"`
	// ManagerRunning is false when the service manager could not be asked
	// (systemd not running as a user manager); Active is then unknown.
	ManagerRunning bool `json:"manager_running"`
	// Config is the flowgate.yaml the installed service runs with.
	Config string `json:"config,omitempty"`
	// Error is set when the status could not be determined.
	Error string `json:"error,omitempty"`
}

// Line renders s as one key=value line for `flowgate status`.
func (s Status) Line() string {
	if s.Kind == "" {
		if s.Error != "" {
			return "os_service=unknown installed=unknown error=" + strconv.Quote(s.Error)
		}
		return "os_service=none installed=no"
	}
	active := yesNo(s.Active)
	if !s.ManagerRunning {
		active = "unknown"
	}
	line := fmt.Sprintf("os_service=%s installed=%s enabled=%s active=%s path=%s",
		s.Kind, yesNo(s.Installed), yesNo(s.Enabled), active, s.Path)
	if s.Config != "" {
		line += " config=" + s.Config
	}
	if s.Error != "" {
		line += " error=" + strconv.Quote(s.Error)
	}
	return line
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// Install writes the service file for s atomically (0644: it holds no
// secret) and has the manager enable and start it. Running it again with the
// same spec changes nothing; with a new spec it rewrites the file and
// restarts the service.
func (m *Manager) Install(ctx context.Context, s Spec) (*InstallResult, error) {
	data, err := m.Render(s)
	if err != nil {
		return nil, err
	}
	res := &InstallResult{Kind: m.Kind, Path: m.Path(), Commands: [][]string{}}
	old, readErr := os.ReadFile(res.Path)
	existed := readErr == nil
	if existed {
		if prev := m.configOf(old); prev != "" && prev != s.ConfigFile {
			res.Replaced = prev
		}
	}
	if !existed || string(old) != string(data) {
		if err := os.MkdirAll(m.Dir, 0o755); err != nil {
			return nil, fmt.Errorf("creating %s: %w; check that the folder is writable", m.Dir, err)
		}
		if err := writeFile(res.Path, data); err != nil {
			return nil, err
		}
		res.Changed = true
	}
	switch m.Kind {
	case Systemd:
		err = m.installSystemd(ctx, res, existed)
	case Launchd:
		err = m.installLaunchd(ctx, res, existed)
	}
	return res, err
}

// Uninstall stops and disables the service and removes its file. Nothing
// installed is not an error.
func (m *Manager) Uninstall(ctx context.Context) (*UninstallResult, error) {
	res := &UninstallResult{Kind: m.Kind, Path: m.Path(), Commands: [][]string{}}
	if m.Kind == Launchd {
		return res, m.uninstallLaunchd(ctx, res)
	}
	return res, m.uninstallSystemd(ctx, res)
}

// Inspect reports whether the service is installed, enabled and active. It
// changes nothing.
func (m *Manager) Inspect(ctx context.Context) Status {
	st := Status{Kind: m.Kind, Path: m.Path()}
	data, err := os.ReadFile(st.Path)
	switch {
	case err == nil:
		st.Installed = true
		st.Config = m.configOf(data)
	case !errors.Is(err, os.ErrNotExist):
		st.Error = err.Error()
	}
	if m.Kind == Launchd {
		m.inspectLaunchd(ctx, &st)
	} else {
		m.inspectSystemd(ctx, &st)
	}
	return st
}

func (m *Manager) configOf(data []byte) string {
	if m.Kind == Launchd {
		return plistConfig(data)
	}
	return unitConfig(data)
}

// run runs one command through the runner and records it.
func (m *Manager) run(ctx context.Context, cmds *[][]string, name string, args ...string) (string, error) {
	if cmds != nil {
		*cmds = append(*cmds, append([]string{name}, args...))
	}
	r := m.Run
	if r == nil {
		r = ExecRunner
	}
	out, err := r(ctx, name, args...)
	if err != nil {
		return out, &commandError{cmd: append([]string{name}, args...), out: strings.TrimSpace(out), err: err}
	}
	return out, nil
}

// commandError is a service-manager command that failed, with what it said.
type commandError struct {
	cmd []string
	out string
	err error
}

func (e *commandError) Error() string {
	msg := e.out
	if msg == "" {
		msg = e.err.Error()
	}
	return fmt.Sprintf("`%s` failed: %s", strings.Join(e.cmd, " "), msg)
}

func (e *commandError) Unwrap() error { return e.err }
