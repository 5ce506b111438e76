package osservice

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	rt "github.com/flowgate/flowgate/internal/runtime"
)

// configComment marks the line of the unit that names the config file, so
// that status can say which project the installed service runs.
const configComment = "# Config: "

// renderUnit is the systemd user unit. KillMode=mixed sends SIGTERM only to
// the supervisor, which stops its children itself; SIGKILL after
// TimeoutStopSec still reaches every process left. StartLimit* stops a
// supervisor that cannot start at all after 5 tries in a minute.
func renderUnit(s Spec) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# FlowGate supervisor, written by `flowgate service install`; removed by\n")
	fmt.Fprintf(&b, "# `flowgate service uninstall`. Edits are replaced by the next install.\n")
	fmt.Fprintf(&b, "%s%s\n\n", configComment, s.ConfigFile)
	b.WriteString("[Unit]\n")
	b.WriteString("Description=FlowGate local LLM gateway and its services\n")
	b.WriteString("StartLimitIntervalSec=60\n")
	b.WriteString("StartLimitBurst=5\n\n")
	b.WriteString("[Service]\n")
	b.WriteString("Type=simple\n")
	args := s.Args()
	quoted := make([]string, len(args))
	for i, a := range args {
		quoted[i] = execQuote(a, i > 0)
	}
	fmt.Fprintf(&b, "ExecStart=%s\n", strings.Join(quoted, " "))
	fmt.Fprintf(&b, "WorkingDirectory=%s\n", specifierEscape(s.WorkDir))
	if s.PATH != "" {
		fmt.Fprintf(&b, "Environment=%s\n", envQuote("PATH="+s.PATH))
	}
	b.WriteString("Restart=on-failure\n")
	b.WriteString("RestartSec=2\n")
	b.WriteString("KillMode=mixed\n")
	fmt.Fprintf(&b, "TimeoutStopSec=%d\n\n", s.stopSeconds())
	b.WriteString("[Install]\n")
	b.WriteString("WantedBy=default.target\n")
	return b.Bytes()
}

// specifierEscape doubles % so systemd does not expand specifiers (%h, %u).
func specifierEscape(s string) string { return strings.ReplaceAll(s, "%", "%%") }

func plainWord(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("/._-+,:=@", r)) {
			return false
		}
	}
	return true
}

// execQuote quotes one ExecStart word: specifiers (%) are escaped, words
// with characters other than plain path ones are double-quoted with C-style
// escapes, and in arguments (not the executable, which systemd does not
// expand) $ is escaped as $$.
func execQuote(s string, arg bool) string {
	if plainWord(s) {
		return s
	}
	pairs := []string{`\`, `\\`, `"`, `\"`, "%", "%%"}
	if arg {
		pairs = append(pairs, "$", "$$")
	}
	return `"` + strings.NewReplacer(pairs...).Replace(s) + `"`
}

// envQuote quotes one Environment= assignment. systemd does not expand $ in
// Environment=, but it does expand specifiers.
func envQuote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "%", "%%")
	return `"` + r.Replace(s) + `"`
}

// unitConfig reads the config path back from an installed unit.
func unitConfig(data []byte) string {
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), configComment); ok {
			return v
		}
	}
	return ""
}

func writeFile(path string, data []byte) error {
	if err := rt.WriteFileAtomic(path, data, 0o644); err != nil {
		return fmt.Errorf("%w; check that %s is writable", err, filepath.Dir(path))
	}
	return nil
}

// userManagerRunning says whether a systemd user manager runs for this
// user. In containers and CI it usually does not, and every `systemctl
// --user` would fail with "Failed to connect to bus".
func (m *Manager) userManagerRunning() bool {
	fi, err := os.Stat(m.SystemdRuntimeDir)
	return err == nil && fi.IsDir()
}

// wantsLink is the symlink `systemctl --user enable` creates.
func (m *Manager) wantsLink() string {
	return filepath.Join(m.Dir, "default.target.wants", UnitName)
}

// EnableSteps are the commands that enable the unit by hand once a systemd
// user manager runs, and keep it running without a login.
func EnableSteps() []string {
	return []string{
		"systemctl --user daemon-reload && systemctl --user enable --now " + UnitName,
		"loginctl enable-linger $USER    # optional: start at boot, without a login",
	}
}

func (m *Manager) installSystemd(ctx context.Context, res *InstallResult, existed bool) error {
	manual := func(why string) error {
		res.Note = why
		res.ManualSteps = EnableSteps()
		return nil
	}
	if !m.userManagerRunning() {
		return manual(fmt.Sprintf("systemd is not running as a user manager here (no %s); the unit is written but not enabled", m.SystemdRuntimeDir))
	}
	if _, err := m.run(ctx, &res.Commands, "systemctl", "--user", "daemon-reload"); err != nil {
		return manual(fmt.Sprintf("the systemd user manager did not answer (%v); the unit is written but not enabled", err))
	}
	if existed && res.Changed {
		// A running supervisor keeps its old command line until restarted;
		// try-restart leaves a stopped one stopped for enable --now.
		if _, err := m.run(ctx, &res.Commands, "systemctl", "--user", "try-restart", UnitName); err != nil {
			return fmt.Errorf("restarting %s with the new unit: %w; see `journalctl --user -u %s`", UnitName, err, UnitName)
		}
	}
	if _, err := m.run(ctx, &res.Commands, "systemctl", "--user", "enable", "--now", UnitName); err != nil {
		return fmt.Errorf("enabling %s: %w; see `journalctl --user -u %s`", UnitName, err, UnitName)
	}
	res.Loaded = true
	return nil
}

func (m *Manager) uninstallSystemd(ctx context.Context, res *UninstallResult) error {
	path := res.Path
	_, statErr := os.Stat(path)
	installed := statErr == nil
	running := m.userManagerRunning()
	if installed && running {
		if _, err := m.run(ctx, &res.Commands, "systemctl", "--user", "disable", "--now", UnitName); err != nil {
			return fmt.Errorf("stopping and disabling %s: %w; stop it with `systemctl --user disable --now %s`, then run uninstall again", UnitName, err, UnitName)
		}
	}
	// Without a user manager, disable is removing the link enable made.
	if err := os.Remove(m.wantsLink()); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("removing %s: %w", m.wantsLink(), err)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("removing %s: %w; check the folder's permissions", path, err)
	}
	res.Removed = installed
	if !installed {
		res.Note = "not installed; nothing to remove"
		return nil
	}
	if running {
		if _, err := m.run(ctx, &res.Commands, "systemctl", "--user", "daemon-reload"); err != nil {
			res.Note = fmt.Sprintf("the unit is removed but systemd was not reloaded (%v); run `systemctl --user daemon-reload`", err)
		}
	}
	return nil
}

func (m *Manager) inspectSystemd(ctx context.Context, st *Status) {
	_, err := os.Lstat(m.wantsLink())
	st.Enabled = st.Installed && err == nil
	if !m.userManagerRunning() {
		return
	}
	// is-active exits non-zero for inactive and failed units, so its answer
	// counts, not its exit code; any other output means no manager answered.
	out, _ := m.run(ctx, nil, "systemctl", "--user", "is-active", UnitName)
	switch strings.TrimSpace(out) {
	case "active", "reloading", "refreshing":
		st.Active = true
		st.ManagerRunning = true
	case "inactive", "failed", "activating", "deactivating", "maintenance", "unknown":
		st.ManagerRunning = true
	default:
		return
	}
	if st.Installed {
		out, _ = m.run(ctx, nil, "systemctl", "--user", "is-enabled", UnitName)
		switch strings.TrimSpace(out) {
		case "enabled", "enabled-runtime", "linked", "alias":
			st.Enabled = true
		case "disabled", "masked", "masked-runtime", "static", "indirect":
			st.Enabled = false
		}
	}
}
