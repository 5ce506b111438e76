package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/flowgate/flowgate/internal/config"
	"github.com/flowgate/flowgate/internal/osservice"
	rt "github.com/flowgate/flowgate/internal/runtime"
	"github.com/flowgate/flowgate/internal/supervisor"
)

// newOSService finds this system's service manager; tests replace it with
// one whose commands are recorded instead of run.
var newOSService = osservice.Detect

// serviceInstallReport is the --json output of service install.
type serviceInstallReport struct {
	*osservice.InstallResult
	DryRun     bool   `json:"dry_run"`
	Executable string `json:"executable"`
	Config     string `json:"config"`
	WorkDir    string `json:"working_directory"`
	// Content is the file install writes; only with --dry-run.
	Content string `json:"content,omitempty"`
}

func (a *app) serviceInstallCommands() []*cobra.Command {
	var dryRun bool
	install := &cobra.Command{
		Use:   "install",
		Short: "Start FlowGate at login: install a systemd user unit (Linux) or launchd agent (macOS)",
		Long: `install registers the FlowGate supervisor with the operating system's service
manager, which then starts every service at login and restarts the supervisor
if it dies: a systemd user unit (~/.config/systemd/user/flowgate.service) on
Linux, a launchd agent (~/Library/LaunchAgents/dev.flowgate.plist) on macOS.
The service runs "flowgate --config <this config> service run" in the project
folder with the PATH of this shell. Run it again after moving the project or
the binary; it is safe to repeat. Where systemd does not run as a user manager
(containers, CI) the unit is written and the commands that enable it are shown.`,
		Example: `  flowgate service install
  flowgate service install --dry-run
  flowgate --config config/flowgate.yaml service install --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := a.load()
			if err != nil {
				return err
			}
			m, err := newOSService()
			if err != nil {
				return failed("%w", err)
			}
			return a.installOSService(ctxOf(cmd), cfg, m, dryRun)
		},
	}
	install.Flags().BoolVar(&dryRun, "dry-run", false, "print the file install would write and change nothing")

	uninstall := &cobra.Command{
		Use:   "uninstall",
		Short: "Stop starting FlowGate at login: stop, disable and remove the OS service",
		Long: `uninstall stops the OS-managed FlowGate supervisor (which stops its
services), disables it and removes the unit or plist that install wrote.
Running it when nothing is installed is not an error.`,
		Example: "  flowgate service uninstall\n  flowgate service uninstall --json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := a.load()
			if err != nil {
				return err
			}
			m, err := newOSService()
			if err != nil {
				return failed("%w", err)
			}
			return a.uninstallOSService(ctxOf(cmd), cfg, m)
		},
	}
	return []*cobra.Command{install, uninstall}
}

func (a *app) installOSService(ctx context.Context, cfg *config.Config, m *osservice.Manager, dryRun bool) error {
	layout := layoutOf(cfg)
	exe, fromGoRun, err := serviceExecutable(layout, dryRun)
	if err != nil {
		return failed("%w", err)
	}
	spec := osServiceSpec(cfg, exe)
	rep := &serviceInstallReport{DryRun: dryRun, Executable: exe, Config: spec.ConfigFile, WorkDir: spec.WorkDir}
	if fromGoRun {
		fmt.Fprintf(a.stderr, "note: this flowgate runs from go run's temporary build; the service uses the installed copy %s (run install again after rebuilding)\n", exe)
	}
	if dryRun {
		data, err := m.Render(spec)
		if err != nil {
			return failed("rendering the %s service file: %w", m.Kind, err)
		}
		if a.jsonOut {
			rep.InstallResult = &osservice.InstallResult{Kind: m.Kind, Path: m.Path(), Commands: [][]string{}}
			rep.Content = string(data)
			return a.printJSON(rep)
		}
		fmt.Fprintf(a.stderr, "would write %s:\n", m.Path())
		_, err = a.stdout.Write(data)
		return err
	}
	if err := layout.Ensure(); err != nil {
		return failed("%w", err)
	}
	res, err := m.Install(ctx, spec)
	if err != nil {
		_ = layout.Emit(rt.Event{Event: "service_install", Result: "failed", Detail: string(m.Kind) + ": " + err.Error()})
		if res == nil {
			return failed("installing the %s service: %w", m.Kind, err)
		}
		return failed("installing the %s service: %w; the file is written to %s, remove it with `flowgate service uninstall`", m.Kind, err, res.Path)
	}
	detail := fmt.Sprintf("%s %s config=%s", m.Kind, res.Path, spec.ConfigFile)
	if !res.Loaded {
		detail += " enabled=no: " + res.Note
	}
	_ = layout.Emit(rt.Event{Event: "service_install", Result: "success", Detail: detail})
	rep.InstallResult = res
	if a.jsonOut {
		return a.printJSON(rep)
	}
	state := "written"
	if !res.Changed {
		state = "unchanged"
	}
	fmt.Fprintf(a.stdout, "os_service=%s path=%s %s\n", res.Kind, res.Path, state)
	fmt.Fprintf(a.stdout, "runs: %s\n  in %s\n", strings.Join(spec.Args(), " "), spec.WorkDir)
	if res.Replaced != "" {
		fmt.Fprintf(a.stderr, "note: replaced the service that ran %s\n", res.Replaced)
	}
	if !res.Loaded {
		fmt.Fprintf(a.stdout, "not enabled: %s\nto enable it where systemd runs as your user manager:\n", res.Note)
		for _, s := range res.ManualSteps {
			fmt.Fprintf(a.stdout, "  %s\n", s)
		}
		return nil
	}
	fmt.Fprintln(a.stdout, "enabled and started: FlowGate now starts at login and is restarted if it dies")
	switch res.Kind {
	case osservice.Systemd:
		fmt.Fprintf(a.stdout, "check: systemctl --user status %s; supervisor log: journalctl --user -u %s\n", osservice.UnitName, osservice.UnitName)
		fmt.Fprintln(a.stdout, "to start it at boot without a login: loginctl enable-linger $USER")
	case osservice.Launchd:
		fmt.Fprintf(a.stdout, "check: launchctl print gui/%d/%s; supervisor log: %s\n", m.UID, osservice.Label, spec.LogFile)
	}
	return nil
}

func (a *app) uninstallOSService(ctx context.Context, cfg *config.Config, m *osservice.Manager) error {
	layout := layoutOf(cfg)
	res, err := m.Uninstall(ctx)
	if err != nil {
		_ = layout.Emit(rt.Event{Event: "service_uninstall", Result: "failed", Detail: string(m.Kind) + ": " + err.Error()})
		return failed("uninstalling the %s service: %w", m.Kind, err)
	}
	result := "success"
	if !res.Removed {
		result = "not-installed"
	}
	_ = layout.Emit(rt.Event{Event: "service_uninstall", Result: result, Detail: string(m.Kind) + " " + res.Path})
	if a.jsonOut {
		return a.printJSON(res)
	}
	if !res.Removed {
		fmt.Fprintf(a.stdout, "os_service=%s path=%s not installed; nothing to remove\n", res.Kind, res.Path)
		return nil
	}
	fmt.Fprintf(a.stdout, "os_service=%s path=%s removed; FlowGate no longer starts at login\n", res.Kind, res.Path)
	if res.Note != "" {
		fmt.Fprintf(a.stderr, "note: %s\n", res.Note)
	}
	return nil
}

// osServiceSpec is what the OS service manager runs for cfg. The working
// directory is the project root, the folder every service runs in by
// default (the parent of the config folder).
func osServiceSpec(cfg *config.Config, exe string) osservice.Spec {
	budget := time.Duration(0)
	for _, name := range cfg.ServiceOrder {
		// Services stop one after another, each within its grace period.
		if d := cfg.Services[name].StopTimeout; d > 0 {
			budget += d
		} else {
			budget += supervisor.DefaultStopTimeout
		}
	}
	return osservice.Spec{
		Executable:  exe,
		ConfigFile:  cfg.File,
		WorkDir:     filepath.Dir(cfg.Dir),
		PATH:        os.Getenv("PATH"),
		LogFile:     filepath.Join(layoutOf(cfg).LogDir(), "supervisor.log"),
		StopTimeout: budget + 10*time.Second,
	}
}

// serviceExecutable is the flowgate binary the OS service runs. go run's
// build lives in a temporary folder that is deleted when go run exits, so
// then the copy in <runtime_dir>/bin is used (installed unless dryRun).
func serviceExecutable(l rt.Layout, dryRun bool) (path string, fromGoRun bool, err error) {
	self, err := selfExecutable()
	if err != nil {
		return "", false, fmt.Errorf("finding the flowgate binary: %w", err)
	}
	if !isTemporaryBuild(self) {
		if !filepath.IsAbs(self) {
			if self, err = filepath.Abs(self); err != nil {
				return "", false, err
			}
		}
		return self, false, nil
	}
	if dryRun {
		return filepath.Join(l.BinDir(), selfBinaryName), true, nil
	}
	if err := os.MkdirAll(l.RuntimeDir, 0o755); err != nil {
		return "", true, fmt.Errorf("creating %s: %w", l.RuntimeDir, err)
	}
	path, err = installSelf(l)
	if err != nil {
		return "", true, fmt.Errorf("%w; or install flowgate with `go install ./cmd/flowgate` and run install from that binary", err)
	}
	return path, true, nil
}

// isTemporaryBuild says whether exe is a go run (or go test) build: a file
// under a go-build* folder of the temporary directory.
func isTemporaryBuild(exe string) bool {
	for _, part := range strings.Split(filepath.ToSlash(exe), "/") {
		if strings.HasPrefix(part, "go-build") {
			return true
		}
	}
	return false
}

// osServiceStatus is whether FlowGate is installed as an OS service and
// what the service manager says about it; `status` prints its Line(). It
// runs at most two quick queries and changes nothing.
func osServiceStatus(ctx context.Context) osservice.Status {
	m, err := newOSService()
	if err != nil {
		st := osservice.Status{}
		if !errors.Is(err, osservice.ErrUnsupported) {
			st.Error = err.Error()
		}
		return st
	}
	return m.Inspect(ctx)
}
