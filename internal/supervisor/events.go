package supervisor

import (
	"fmt"

	"github.com/flowgate/flowgate/internal/runtime"
)

// emit records the outcome of an action as an event. Results map to
// success, failed, already-running, not-running or stale-pid; the detail is
// `pid=N` or the (secret-free) error text.
func (s *Supervisor) emit(event string, r Result) {
	ev := runtime.Event{Event: event, Service: r.Service}
	switch r.Result {
	case ResultStarted, ResultRestarted, ResultStopped:
		ev.Result = "success"
	case ResultAlreadyRunning:
		ev.Result = "already-running"
	case ResultNotRunning:
		ev.Result = "not-running"
	case ResultStale:
		ev.Result = "stale-pid"
	default:
		ev.Result = "failed"
	}
	if r.Pid != 0 {
		ev.Detail = fmt.Sprintf("pid=%d", r.Pid)
	}
	if r.Result == ResultFailed {
		msg := r.Error
		if len(msg) > 300 {
			msg = msg[:300] + "..."
		}
		if ev.Detail != "" {
			msg = ev.Detail + " " + msg
		}
		ev.Detail = msg
	}
	s.Emit.Emit(ev)
}
