package supervisor

import (
	"fmt"
	"path/filepath"
	"time"

	"github.com/flowgate/flowgate/internal/runtime"
)

// Defaults applied to zero Spec fields.
const (
	DefaultReadyTimeout = 15 * time.Second
	DefaultStopTimeout  = 10 * time.Second
	DefaultLogMaxBytes  = 10 << 20
	DefaultLogKeep      = 3
	// DefaultSettle is how long a child without a readiness URL or port
	// must stay alive to count as started.
	DefaultSettle = 500 * time.Millisecond
	// LogTailLines is how many log lines a failed start reports.
	LogTailLines = 20
)

// Spec describes one supervised service. The CLI builds it from
// `services.<name>` of the config.
type Spec struct {
	// Name is the service key (gateway, cliproxyapi_plus, litellm). It names
	// the pid, lock and log files. Required.
	Name string
	// Args is the command: Args[0] is the executable (resolved via PATH when
	// it has no slash), run directly without a shell. Required.
	Args []string
	// Cwd is the working directory. Default: the caller's working directory.
	Cwd string
	// Env holds extra KEY=VALUE entries appended to the inherited
	// environment (later entries win). Default: none.
	Env []string
	// BaseEnv replaces the inherited environment when not nil: the keeper
	// starts children with the environment of the command that asked for
	// them, not its own. Default: this process's environment.
	BaseEnv []string
	// Host is the address the service listens on. Default: 127.0.0.1.
	Host string
	// Port is the TCP port the service listens on; 0 means none. When set,
	// start refuses to run while another process listens on it.
	Port int
	// ReadinessURL is probed with HTTP GET after spawn; only a 2xx answer
	// means ready. Default: none; then an open Port means ready, and without
	// a Port the child only has to stay alive for DefaultSettle.
	ReadinessURL string
	// ReadyLogLine, when set, is a line the child writes to its log once it
	// has really finished starting (CLIProxyAPIPlus answers its readiness
	// path a moment before it has loaded its models). After the readiness
	// probe passes, start waits up to ReadyLogWait for it; a child that
	// never writes it still counts as started. Default: none.
	ReadyLogLine string
	// ReadyLogWait bounds the wait for ReadyLogLine. Default: 5s.
	ReadyLogWait time.Duration
	// ReadyTimeout bounds the readiness wait. Default: 15s.
	ReadyTimeout time.Duration
	// StopTimeout is the grace period between SIGTERM and SIGKILL.
	// Default: 10s.
	StopTimeout time.Duration
	// LogMaxBytes rotates NAME.log when it is larger: at start, and while
	// the service runs (the keeper checks every tick). Default: 10 MiB.
	LogMaxBytes int64
	// LogKeep is how many rotated logs (NAME.log.1..N) are kept. Default: 3.
	LogKeep int
}

func (s Spec) withDefaults() Spec {
	if s.Host == "" {
		s.Host = "127.0.0.1"
	}
	if s.ReadyTimeout <= 0 {
		s.ReadyTimeout = DefaultReadyTimeout
	}
	if s.StopTimeout <= 0 {
		s.StopTimeout = DefaultStopTimeout
	}
	if s.LogMaxBytes <= 0 {
		s.LogMaxBytes = DefaultLogMaxBytes
	}
	if s.ReadyLogWait <= 0 {
		s.ReadyLogWait = 5 * time.Second
	}
	if s.LogKeep <= 0 {
		s.LogKeep = DefaultLogKeep
	}
	return s
}

func (s Spec) validate() error {
	if s.Name == "" || filepath.Base(s.Name) != s.Name || s.Name == "." || s.Name == ".." {
		return fmt.Errorf("service name %q is not a plain file name; fix the key under services in the config", s.Name)
	}
	if len(s.Args) == 0 || s.Args[0] == "" {
		return fmt.Errorf("services.%s.command.args is empty; set the command to run", s.Name)
	}
	if s.Port < 0 || s.Port > 65535 {
		return fmt.Errorf("services.%s.port: must be 1-65535", s.Name)
	}
	return nil
}

// Supervisor runs services with their pid files in PidDir and their logs in
// LogDir (normally .router/runtime/pids and .router/runtime/process-logs).
// The zero value of Emit drops events. A Supervisor holds no state of its
// own; it is safe to use from several goroutines and processes at once.
type Supervisor struct {
	PidDir string
	LogDir string
	Emit   runtime.Emitter
	// OnExit, when set, is called (from another goroutine) each time a
	// child this Supervisor started exits after it was reported started.
	// The keeper uses it to learn exit codes and signals at once.
	OnExit func(ExitInfo)
}

// ExitInfo is how a started child ended.
type ExitInfo struct {
	Service string
	Pid     int
	// StartedAt is when the child was spawned; At when it was reaped.
	StartedAt time.Time
	At        time.Time
	// Code is the exit status, -1 when a signal ended it.
	Code int
	// Signal names the signal that ended it (SIGKILL), empty otherwise.
	Signal string
}

// String is `exit status 1` or `killed by SIGKILL`.
func (e ExitInfo) String() string {
	if e.Signal != "" {
		return "killed by " + e.Signal
	}
	return fmt.Sprintf("exit status %d", e.Code)
}

// PidPath is the pid file of service name.
func (s *Supervisor) PidPath(name string) string { return filepath.Join(s.PidDir, name+".pid") }

// LogPath is the current log file of service name.
func (s *Supervisor) LogPath(name string) string { return filepath.Join(s.LogDir, name+".log") }

func (s *Supervisor) lockPath(name string) string { return filepath.Join(s.PidDir, name+".lock") }
