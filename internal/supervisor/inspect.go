package supervisor

import (
	"errors"
	"fmt"
	"os"
	"time"
)

// State is what Inspect finds for a service.
type State string

const (
	// StateRunning: the pid file names a live process with the recorded
	// start time.
	StateRunning State = "running"
	// StateStopped: no pid file.
	StateStopped State = "stopped"
	// StateCrashed: a pid file whose process is gone (or a zombie).
	StateCrashed State = "crashed"
	// StateStale: the pid file's pid now belongs to a different live process
	// (or cannot be verified). That process is never signalled.
	StateStale State = "stale"
)

// Status is the read-only view of one service for `flowgate status`.
type Status struct {
	Service   string        `json:"service"`
	State     State         `json:"state"`
	Pid       int           `json:"pid,omitempty"`
	Pgid      int           `json:"pgid,omitempty"`
	StartedAt time.Time     `json:"started_at,omitzero"`
	Uptime    time.Duration `json:"-"`
	UptimeSec float64       `json:"uptime_s,omitempty"`
	Host      string        `json:"host,omitempty"`
	Port      int           `json:"port,omitempty"`
	// PortHolder is set when a process outside the service's group listens
	// on Port.
	PortHolder *PortHolder `json:"port_holder,omitempty"`
	// Note explains a crashed or stale state and what to do about it.
	Note    string `json:"note,omitempty"`
	PidFile string `json:"pid_file"`
	LogFile string `json:"log_file"`
	// Keeper is how the supervisor sees the service (restarting, crash
	// loop), when a supervisor keeps it.
	Keeper *KeptStatus `json:"supervisor,omitempty"`
}

// Failing reports whether the service needs attention: it crashed, its pid
// file is stale, or the supervisor is restarting it or gave up.
func (st Status) Failing() bool {
	if st.Keeper != nil && st.Keeper.Desired && (st.Keeper.State == KeepCrashLoop || st.Keeper.State == KeepBackoff) {
		return true
	}
	return st.State == StateCrashed || st.State == StateStale
}

// String renders one line for `status`: `gateway: running pid=123 up 5m3s port=4000`.
func (st Status) String() string {
	s := fmt.Sprintf("%s: %s", st.Service, st.State)
	if st.Pid != 0 {
		s += fmt.Sprintf(" pid=%d", st.Pid)
	}
	if st.State == StateRunning {
		s += fmt.Sprintf(" up %s", st.Uptime.Round(time.Second))
	}
	if st.Port != 0 {
		s += fmt.Sprintf(" port=%d", st.Port)
	}
	if st.PortHolder != nil {
		s += fmt.Sprintf(" port-held-by=%q", st.PortHolder.String())
	}
	if st.Note != "" {
		s += " (" + st.Note + ")"
	}
	return s
}

// Inspect reports the state of spec's service without changing anything: it
// takes no lock and creates no files or folders.
func (s *Supervisor) Inspect(spec Spec) (Status, error) {
	spec = spec.withDefaults()
	st := Status{
		Service: spec.Name, State: StateStopped, Host: spec.Host, Port: spec.Port,
		PidFile: s.PidPath(spec.Name), LogFile: s.LogPath(spec.Name),
	}
	if err := spec.validate(); err != nil {
		return st, err
	}
	rec, err := readPidRecord(st.PidFile)
	if err != nil {
		return st, err
	}
	var c classification
	if rec != nil {
		c = classify(rec)
		st.State, st.Note = c.State, c.Note
		st.Pid, st.Pgid = rec.Pid, rec.Pgid
		if c.State == StateRunning {
			st.StartedAt = rec.StartedAt
			if !rec.StartedAt.IsZero() {
				st.Uptime = time.Since(rec.StartedAt)
				st.UptimeSec = st.Uptime.Seconds()
			}
		}
		if c.State == StateCrashed {
			st.Note = fmt.Sprintf("pid %d has exited; see `flowgate logs %s`, then run `flowgate service start %s`", rec.Pid, spec.Name, spec.Name)
			if n := len(c.Leftovers); n > 0 {
				st.Note = fmt.Sprintf("pid %d has exited but %d process(es) of its group still run (pid %d); run `flowgate service stop %s`", rec.Pid, n, c.Leftovers[0], spec.Name)
			}
		}
	}
	if h := FindPortHolder(spec.Host, spec.Port); h != nil && !ownsPort(rec, c, h) {
		st.PortHolder = h
	}
	return st, nil
}

// ownsPort reports whether holder belongs to the service's own process group.
func ownsPort(rec *PidRecord, c classification, h *PortHolder) bool {
	if rec == nil || (c.State != StateRunning && len(c.Leftovers) == 0) {
		return false
	}
	if h.Pid == 0 {
		// Unidentifiable holder while our service runs: most likely ours.
		return c.State == StateRunning
	}
	p, err := readProc(h.Pid)
	return err == nil && isMember(rec, p)
}

// classification is the verdict on a pid record.
type classification struct {
	State State
	Note  string
	// Leftovers are live members of the recorded process group other than
	// the leader (for a crashed leader: orphans that may hold the port).
	Leftovers []int
}

// classify checks rec against the live process table.
func classify(rec *PidRecord) classification {
	p, err := readProc(rec.Pid)
	alive := err == nil && !p.Zombie()
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		// Unreadable /proc entry: we cannot verify, so do not trust it.
		return classification{State: StateStale, Note: fmt.Sprintf("cannot verify pid %d: %v; it is left untouched", rec.Pid, err)}
	}
	if rec.StartTime == 0 {
		if !alive {
			return classification{State: StateCrashed}
		}
		return classification{State: StateStale, Note: fmt.Sprintf("pid file has no start time (older flowgate); pid %d is left untouched: stop it yourself if it is the service, then remove the pid file", rec.Pid)}
	}
	if alive && p.StartTime != rec.StartTime {
		return classification{State: StateStale, Note: fmt.Sprintf("pid %d now belongs to another process (%s); it is left untouched", rec.Pid, processCommand(rec.Pid))}
	}
	c := classification{State: StateCrashed}
	if alive {
		c.State = StateRunning
	}
	for _, m := range groupMembers(rec) {
		if m != rec.Pid {
			c.Leftovers = append(c.Leftovers, m)
		}
	}
	return c
}

// isMember reports whether p belongs to rec's process group: same group and
// session (the leader ran setsid) and started no earlier than the leader, so
// a later group that reuses the number is not mistaken for ours.
func isMember(rec *PidRecord, p procInfo) bool {
	return rec.Pgid > 0 && rec.StartTime > 0 && p.Pgid == rec.Pgid && p.Sid == rec.Pgid &&
		p.StartTime >= rec.StartTime && !p.Zombie()
}

// groupMembers lists the live, verified members of rec's process group.
func groupMembers(rec *PidRecord) []int {
	if rec.Pgid <= 0 || rec.StartTime == 0 {
		return nil
	}
	var out []int
	for _, p := range listProcs() {
		if isMember(rec, p) {
			out = append(out, p.Pid)
		}
	}
	return out
}
