package osservice

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"

	"howett.net/plist"
)

// launchdJob is the agent plist. KeepAlive{SuccessfulExit=false} restarts
// the supervisor when it exits with an error or a signal, and not after a
// clean stop; ExitTimeOut is the grace between SIGTERM and SIGKILL.
type launchdJob struct {
	Label                string            `plist:"Label"`
	ProgramArguments     []string          `plist:"ProgramArguments"`
	WorkingDirectory     string            `plist:"WorkingDirectory"`
	EnvironmentVariables map[string]string `plist:"EnvironmentVariables,omitempty"`
	RunAtLoad            bool              `plist:"RunAtLoad"`
	KeepAlive            launchdKeepAlive  `plist:"KeepAlive"`
	ExitTimeOut          int               `plist:"ExitTimeOut"`
	StandardOutPath      string            `plist:"StandardOutPath,omitempty"`
	StandardErrorPath    string            `plist:"StandardErrorPath,omitempty"`
}

type launchdKeepAlive struct {
	SuccessfulExit bool `plist:"SuccessfulExit"`
}

func renderPlist(s Spec) ([]byte, error) {
	job := launchdJob{
		Label:             Label,
		ProgramArguments:  s.Args(),
		WorkingDirectory:  s.WorkDir,
		RunAtLoad:         true,
		KeepAlive:         launchdKeepAlive{SuccessfulExit: false},
		ExitTimeOut:       s.stopSeconds(),
		StandardOutPath:   s.LogFile,
		StandardErrorPath: s.LogFile,
	}
	if s.PATH != "" {
		job.EnvironmentVariables = map[string]string{"PATH": s.PATH}
	}
	data, err := plist.MarshalIndent(job, plist.XMLFormat, "\t")
	if err != nil {
		return nil, fmt.Errorf("rendering the launchd plist: %w", err)
	}
	return append(data, '\n'), nil
}

// plistConfig reads the config path back from an installed plist.
func plistConfig(data []byte) string {
	var job launchdJob
	if _, err := plist.Unmarshal(data, &job); err != nil {
		return ""
	}
	for i, a := range job.ProgramArguments {
		if a == "--config" && i+1 < len(job.ProgramArguments) {
			return job.ProgramArguments[i+1]
		}
	}
	return ""
}

// domain is the user's GUI login session, where agents run.
func (m *Manager) domain() string { return fmt.Sprintf("gui/%d", m.UID) }

// target names the FlowGate job in that domain.
func (m *Manager) target() string { return m.domain() + "/" + Label }

// loaded asks launchd whether the job is loaded and returns its description.
func (m *Manager) loaded(ctx context.Context, cmds *[][]string) (bool, string, error) {
	out, err := m.run(ctx, cmds, "launchctl", "print", m.target())
	if err != nil {
		if errors.Is(err, exec.ErrNotFound) {
			return false, "", errors.New("launchctl was not found on PATH")
		}
		return false, out, nil
	}
	return true, out, nil
}

func (m *Manager) installLaunchd(ctx context.Context, res *InstallResult, existed bool) error {
	isLoaded, _, err := m.loaded(ctx, &res.Commands)
	if err != nil {
		return fmt.Errorf("%w; the agent is written to %s; load it with `launchctl bootstrap %s %s`", err, res.Path, m.domain(), res.Path)
	}
	if isLoaded && res.Changed {
		// launchd keeps the job it loaded; replace it to use the new file.
		if _, err := m.run(ctx, &res.Commands, "launchctl", "bootout", m.target()); err != nil {
			return fmt.Errorf("unloading the previous agent: %w; run `launchctl bootout %s`, then install again", err, m.target())
		}
	}
	// A job disabled earlier (launchctl disable) would not start at login.
	if _, err := m.run(ctx, &res.Commands, "launchctl", "enable", m.target()); err != nil {
		return fmt.Errorf("enabling %s: %w", Label, err)
	}
	if !isLoaded || res.Changed {
		if _, err := m.run(ctx, &res.Commands, "launchctl", "bootstrap", m.domain(), res.Path); err != nil {
			return fmt.Errorf("loading %s: %w; check the supervisor log named in the plist (StandardErrorPath)", res.Path, err)
		}
	}
	res.Loaded = true
	return nil
}

func (m *Manager) uninstallLaunchd(ctx context.Context, res *UninstallResult) error {
	_, statErr := os.Stat(res.Path)
	installed := statErr == nil
	isLoaded, _, err := m.loaded(ctx, &res.Commands)
	if err != nil {
		return err
	}
	if isLoaded {
		if _, err := m.run(ctx, &res.Commands, "launchctl", "bootout", m.target()); err != nil {
			return fmt.Errorf("unloading %s: %w; run `launchctl bootout %s`, then uninstall again", Label, err, m.target())
		}
	}
	if err := os.Remove(res.Path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("removing %s: %w; check the folder's permissions", res.Path, err)
	}
	res.Removed = installed
	if !installed && !isLoaded {
		res.Note = "not installed; nothing to remove"
	}
	return nil
}

var (
	launchdRunning  = regexp.MustCompile(`(?m)^\s*state = running\s*$`)
	launchdDisabled = regexp.MustCompile(`"` + regexp.QuoteMeta(Label) + `"\s*=>\s*(disabled|true)`)
)

func (m *Manager) inspectLaunchd(ctx context.Context, st *Status) {
	isLoaded, out, err := m.loaded(ctx, nil)
	if err != nil {
		st.Error = err.Error()
		return
	}
	st.ManagerRunning = true
	st.Active = isLoaded && launchdRunning.MatchString(out)
	if !st.Installed {
		return
	}
	disabled, _ := m.run(ctx, nil, "launchctl", "print-disabled", m.domain())
	// An agent in LaunchAgents loads at login unless it was disabled.
	st.Enabled = !launchdDisabled.MatchString(disabled)
}
