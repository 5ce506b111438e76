package supervisor

import (
	"context"
	"fmt"
	"syscall"
	"time"
)

// killWait bounds the wait for a group to vanish after SIGKILL.
const killWait = 5 * time.Second

// Stop stops spec's service: SIGTERM to its whole process group, up to
// StopTimeout for it to exit, then SIGKILL to the group. A pid file naming a
// different live process (stale) is moved aside and that process is left
// untouched. It emits service_stop.
func (s *Supervisor) Stop(ctx context.Context, spec Spec) Result {
	spec = spec.withDefaults()
	res := s.withLock(ctx, spec, ActionStop, func() Result { return s.stopLocked(spec) })
	s.emit("service_stop", res)
	return res
}

// Restart stops the service (if it runs) and starts it again with the same
// checks as Start, holding the service's lock throughout. It emits
// service_restart.
func (s *Supervisor) Restart(ctx context.Context, spec Spec) Result {
	spec = spec.withDefaults()
	res := s.withLock(ctx, spec, ActionRestart, func() Result { return s.restartLocked(ctx, spec) })
	s.emit("service_restart", res)
	return res
}

func (s *Supervisor) restartLocked(ctx context.Context, spec Spec) Result {
	// A port another program holds would fail the start after the stop:
	// check first, so that a restart never leaves less running than before.
	if h := s.foreignPortHolder(spec); h != nil {
		return failed(spec.Name, ActionRestart, portInUseMessage(spec, h)+"; the running "+spec.Name+" was left as it is")
	}
	stopped := s.stopLocked(spec)
	if !stopped.OK() {
		stopped.Action = ActionRestart
		return stopped
	}
	res := s.startLocked(ctx, spec)
	res.Action = ActionRestart
	if res.Result == ResultStarted {
		res.Result = ResultRestarted
	}
	if stopped.Result == ResultStopped {
		res.Note = joinNotes(fmt.Sprintf("was pid %d", stopped.Pid), res.Note)
	} else {
		res.Note = joinNotes(stopped.Note, res.Note)
	}
	return res
}

// foreignPortHolder is the process listening on spec's port when it is not
// the service itself.
func (s *Supervisor) foreignPortHolder(spec Spec) *PortHolder {
	h := FindPortHolder(spec.Host, spec.Port)
	if h == nil {
		return nil
	}
	rec, err := readPidRecord(s.PidPath(spec.Name))
	if err != nil || rec == nil {
		return h
	}
	if ownsPort(rec, classify(rec), h) {
		return nil
	}
	return h
}

func joinNotes(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + "; " + b
}

// stopLocked is Stop with the lock held.
func (s *Supervisor) stopLocked(spec Spec) Result {
	res := Result{Service: spec.Name, Action: ActionStop, Result: ResultNotRunning}
	pidPath := s.PidPath(spec.Name)
	rec, err := readPidRecord(pidPath)
	if err != nil {
		return failed(spec.Name, ActionStop, err.Error())
	}
	if rec == nil {
		return res
	}
	c := classify(rec)
	res.Pid = rec.Pid
	switch c.State {
	case StateStale:
		if err := moveStaleRecord(pidPath); err != nil {
			return failed(spec.Name, ActionStop, err.Error())
		}
		res.Result = ResultStale
		res.Note = c.Note + "; pid file moved to " + pidPath + ".stale"
		return res
	case StateCrashed:
		res.Note = fmt.Sprintf("pid %d had already exited; removed its pid file", rec.Pid)
		if len(c.Leftovers) > 0 {
			if err := terminate(rec, false, spec.StopTimeout); err != nil {
				return failed(spec.Name, ActionStop, fmt.Sprintf("stopping leftovers of pid %d: %v", rec.Pid, err))
			}
			res.Note += fmt.Sprintf(" and stopped %d leftover process(es) of its group", len(c.Leftovers))
		}
	case StateRunning:
		if err := terminate(rec, true, spec.StopTimeout); err != nil {
			return failed(spec.Name, ActionStop, err.Error())
		}
		res.Result = ResultStopped
	}
	if err := removePidRecord(pidPath); err != nil {
		return failed(spec.Name, ActionStop, err.Error())
	}
	if h := FindPortHolder(spec.Host, spec.Port); h != nil {
		res.Note = joinNotes(res.Note, fmt.Sprintf("port %d is still held by %s; check with `%s`", spec.Port, h, LsofCommand(spec.Port)))
	}
	return res
}

// terminate stops rec's process group: SIGTERM, up to grace for every
// verified member to exit, then SIGKILL. With leaderAlive the leader was
// just verified, so its group id cannot belong to anyone else and the group
// is signalled as a whole; otherwise only verified members are signalled,
// one by one. A zero grace goes straight to SIGKILL.
func terminate(rec *PidRecord, leaderAlive bool, grace time.Duration) error {
	signal := func(sig syscall.Signal) {
		if leaderAlive {
			syscall.Kill(-rec.Pgid, sig)
			return
		}
		for _, pid := range groupMembers(rec) {
			syscall.Kill(pid, sig)
		}
	}
	if grace > 0 {
		signal(syscall.SIGTERM)
		if waitGone(rec, grace) {
			return nil
		}
	}
	signal(syscall.SIGKILL)
	if waitGone(rec, killWait) {
		return nil
	}
	left := groupMembers(rec)
	return fmt.Errorf("process group %d still has %d live process(es) after SIGKILL (pid %v); check with `ps -o pid,stat,args -g %d` and retry the stop", rec.Pgid, len(left), left, rec.Pgid)
}

// waitGone polls until no verified member of rec's group is alive.
func waitGone(rec *PidRecord, within time.Duration) bool {
	deadline := time.Now().Add(within)
	delay := 5 * time.Millisecond
	for {
		if len(groupMembers(rec)) == 0 {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(min(delay, max(time.Until(deadline), time.Millisecond)))
		delay = min(delay*2, 100*time.Millisecond)
	}
}

// StartAll starts specs in the given (dependency) order. A failure does not
// stop the remaining services from being started.
func (s *Supervisor) StartAll(ctx context.Context, specs []Spec) []Result {
	out := make([]Result, 0, len(specs))
	for _, spec := range specs {
		out = append(out, s.Start(ctx, spec))
	}
	return out
}

// StopAll stops specs in reverse order (dependents first). Results come back
// in the order the services were handled. A failure does not stop the
// remaining services from being stopped.
func (s *Supervisor) StopAll(ctx context.Context, specs []Spec) []Result {
	out := make([]Result, 0, len(specs))
	for i := len(specs) - 1; i >= 0; i-- {
		out = append(out, s.Stop(ctx, specs[i]))
	}
	return out
}

// RestartAll restarts specs one by one in the given order.
func (s *Supervisor) RestartAll(ctx context.Context, specs []Spec) []Result {
	out := make([]Result, 0, len(specs))
	for _, spec := range specs {
		out = append(out, s.Restart(ctx, spec))
	}
	return out
}
