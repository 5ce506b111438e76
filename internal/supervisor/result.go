package supervisor

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Actions.
const (
	ActionStart   = "start"
	ActionStop    = "stop"
	ActionRestart = "restart"
)

// Result values.
const (
	// ResultStarted: spawned and ready (start).
	ResultStarted = "started"
	// ResultRestarted: stopped (if running) and started again, ready.
	ResultRestarted = "restarted"
	// ResultAlreadyRunning: start found a live instance and left it alone.
	ResultAlreadyRunning = "already-running"
	// ResultStopped: the process group was stopped.
	ResultStopped = "stopped"
	// ResultNotRunning: stop found nothing to stop (a crashed record is cleaned up).
	ResultNotRunning = "not-running"
	// ResultStale: stop found a pid file naming a different live process; that
	// process was left untouched and the record moved aside.
	ResultStale = "stale"
	// ResultFailed: the action failed; Error says why and what to do next.
	ResultFailed = "failed"
)

// Result is the outcome of one action on one service. String renders the
// one-line form the CLI prints; json.Marshal gives stable snake_case fields
// (ready_in_ms in milliseconds).
type Result struct {
	Service string
	Action  string
	Result  string
	// Pid is the service's pid after the action (0 when none). For stop it
	// is the pid that was stopped.
	Pid int
	// ReadyIn is the time from spawn to the first 2xx readiness answer.
	ReadyIn time.Duration
	// Error says what went wrong and what to do next. Empty on success.
	Error string
	// Note is extra information on success, e.g. a stale record moved aside.
	Note string
	// LogTail holds the last lines of the child's log when a start failed.
	LogTail []string
}

// OK reports whether the action reached its goal (exit code 0 for the CLI).
func (r Result) OK() bool { return r.Result != ResultFailed }

// String renders `gateway: started pid=123 ready in 41ms` and friends. The
// log tail is not included; print LogTail below it.
func (r Result) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: ", r.Service)
	switch r.Result {
	case ResultStarted, ResultRestarted:
		fmt.Fprintf(&b, "%s pid=%d ready in %s", r.Result, r.Pid, roundDuration(r.ReadyIn))
	case ResultAlreadyRunning:
		fmt.Fprintf(&b, "already running pid=%d", r.Pid)
	case ResultStopped:
		fmt.Fprintf(&b, "stopped pid=%d", r.Pid)
	case ResultNotRunning:
		b.WriteString("not running")
	case ResultStale:
		fmt.Fprintf(&b, "stale pid file (pid=%d is another process, left untouched)", r.Pid)
	case ResultFailed:
		fmt.Fprintf(&b, "%s failed: %s", r.Action, r.Error)
	default:
		b.WriteString(r.Result)
	}
	if r.Note != "" {
		fmt.Fprintf(&b, " (%s)", r.Note)
	}
	return b.String()
}

func roundDuration(d time.Duration) time.Duration {
	switch {
	case d >= time.Second:
		return d.Round(10 * time.Millisecond)
	case d >= time.Millisecond:
		return d.Round(time.Millisecond)
	}
	return d.Round(time.Microsecond)
}

type resultJSON struct {
	Service   string   `json:"service"`
	Action    string   `json:"action"`
	Result    string   `json:"result"`
	Pid       int      `json:"pid,omitempty"`
	ReadyInMs float64  `json:"ready_in_ms,omitempty"`
	Error     string   `json:"error,omitempty"`
	Note      string   `json:"note,omitempty"`
	LogTail   []string `json:"log_tail,omitempty"`
}

// MarshalJSON encodes the stable field names used by `--json`.
func (r Result) MarshalJSON() ([]byte, error) {
	return json.Marshal(resultJSON{
		Service: r.Service, Action: r.Action, Result: r.Result, Pid: r.Pid,
		ReadyInMs: float64(r.ReadyIn.Microseconds()) / 1000,
		Error:     r.Error, Note: r.Note, LogTail: r.LogTail,
	})
}

// UnmarshalJSON is the inverse of MarshalJSON.
func (r *Result) UnmarshalJSON(data []byte) error {
	var j resultJSON
	if err := json.Unmarshal(data, &j); err != nil {
		return err
	}
	*r = Result{
		Service: j.Service, Action: j.Action, Result: j.Result, Pid: j.Pid,
		ReadyIn: time.Duration(j.ReadyInMs * float64(time.Millisecond)),
		Error:   j.Error, Note: j.Note, LogTail: j.LogTail,
	}
	return nil
}

// AllOK reports whether every result is OK.
func AllOK(results []Result) bool {
	for _, r := range results {
		if !r.OK() {
			return false
		}
	}
	return true
}
