// Package runtime owns the .router tree: its layout, state.json, the events
// log, the lock that serialises state-changing commands, and the audit of
// secret file permissions.
package runtime

import (
	"fmt"
	"os"
	"path/filepath"
)

// Layout names every runtime location. Build it from the config's paths.
type Layout struct {
	RuntimeDir string // .router/runtime
	StateFile  string // .router/runtime/state.json
	EventsLog  string // .router/runtime/events.log
	AuthDir    string // .router/auths (0700)
	SecretsDir string // .router/secrets (0700)
}

// PidDir is where pid files live.
func (l Layout) PidDir() string { return filepath.Join(l.RuntimeDir, "pids") }

// LogDir is where process logs live.
func (l Layout) LogDir() string { return filepath.Join(l.RuntimeDir, "process-logs") }

// BinDir holds downloaded and generated executables.
func (l Layout) BinDir() string { return filepath.Join(l.RuntimeDir, "bin") }

// LockFile serialises state-changing commands.
func (l Layout) LockFile() string { return filepath.Join(l.RuntimeDir, ".lock") }

// Ensure creates the tree for a state-changing command. Read-only commands
// never call it, so they create nothing.
func (l Layout) Ensure() error {
	for _, d := range []struct {
		path string
		mode os.FileMode
	}{
		{l.RuntimeDir, 0o755}, {l.PidDir(), 0o755}, {l.LogDir(), 0o755}, {l.BinDir(), 0o755},
		{filepath.Dir(l.StateFile), 0o755}, {filepath.Dir(l.EventsLog), 0o755},
		{l.AuthDir, 0o700}, {l.SecretsDir, 0o700},
	} {
		if err := os.MkdirAll(d.path, d.mode); err != nil {
			return fmt.Errorf("creating %s: %w; check that the folder is writable", d.path, err)
		}
	}
	for _, d := range []string{l.AuthDir, l.SecretsDir} {
		if err := os.Chmod(d, 0o700); err != nil {
			return fmt.Errorf("restricting %s to 0700: %w", d, err)
		}
	}
	return nil
}

// Emit appends ev to the events log. Failing to log never fails the command;
// the error is returned for callers that want to warn.
func (l Layout) Emit(ev Event) error {
	return AppendEvent(l.EventsLog, ev)
}

// Emitter returns an Emitter that appends to the events log.
func (l Layout) Emitter() Emitter {
	return func(ev Event) { _ = l.Emit(ev) }
}
