package supervisor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Start starts spec's service unless it already runs, and waits until it is
// ready. It never returns before the outcome is known: on success the child
// answered its readiness probe; on failure nothing of the attempt is left
// running and Result.Error says what to do next. It emits service_start.
func (s *Supervisor) Start(ctx context.Context, spec Spec) Result {
	spec = spec.withDefaults()
	res := s.withLock(ctx, spec, ActionStart, func() Result { return s.startLocked(ctx, spec) })
	s.emit("service_start", res)
	return res
}

// withLock validates spec and runs fn under the service's lock.
func (s *Supervisor) withLock(ctx context.Context, spec Spec, action string, fn func() Result) Result {
	if err := spec.validate(); err != nil {
		return failed(spec.Name, action, err.Error())
	}
	unlock, err := s.lock(ctx, spec.Name, spec.ReadyTimeout+spec.StopTimeout+15*time.Second)
	if err != nil {
		return failed(spec.Name, action, err.Error())
	}
	defer unlock()
	return fn()
}

func failed(name, action, msg string) Result {
	return Result{Service: name, Action: action, Result: ResultFailed, Error: msg}
}

// startLocked is Start with the lock held.
func (s *Supervisor) startLocked(ctx context.Context, spec Spec) Result {
	res := Result{Service: spec.Name, Action: ActionStart}
	pidPath := s.PidPath(spec.Name)
	rec, err := readPidRecord(pidPath)
	if err != nil {
		return failed(spec.Name, ActionStart, err.Error())
	}
	if rec != nil {
		c := classify(rec)
		switch c.State {
		case StateRunning:
			res.Result, res.Pid = ResultAlreadyRunning, rec.Pid
			return res
		case StateStale:
			if err := moveStaleRecord(pidPath); err != nil {
				return failed(spec.Name, ActionStart, err.Error())
			}
			res.Note = fmt.Sprintf("moved stale pid file aside: %s", c.Note)
		case StateCrashed:
			if len(c.Leftovers) > 0 {
				// Orphans of our own crashed group (e.g. a grandchild still
				// holding the port): they are ours, stop them.
				if err := terminate(rec, false, spec.StopTimeout); err != nil {
					return failed(spec.Name, ActionStart, fmt.Sprintf("stopping leftovers of crashed pid %d: %v", rec.Pid, err))
				}
			}
			if err := removePidRecord(pidPath); err != nil {
				return failed(spec.Name, ActionStart, err.Error())
			}
			res.Note = fmt.Sprintf("previous pid %d had exited", rec.Pid)
		}
	}

	if h := FindPortHolder(spec.Host, spec.Port); h != nil {
		return failed(spec.Name, ActionStart, portInUseMessage(spec, h))
	}

	cmd, logFile, logStart, err := s.prepare(spec)
	if err != nil {
		return failed(spec.Name, ActionStart, err.Error())
	}
	spawnedAt := time.Now()
	err = cmd.Start()
	logFile.Close() // the child holds its own descriptor
	if err != nil {
		return failed(spec.Name, ActionStart, spawnErrorMessage(spec, err))
	}
	pid := cmd.Process.Pid
	// The child is not reaped before Wait, so its /proc entry exists even
	// if it already exited.
	info, statErr := readProc(pid)
	exited := make(chan struct{})
	var waitErr error
	// OnExit is reported once, and only for a child handed over as
	// started; the waiter and the hand-over below may race to it.
	var handedOver, reported atomic.Bool
	reportExit := func() {
		if s.OnExit != nil && reported.CompareAndSwap(false, true) {
			s.OnExit(exitInfo(spec.Name, pid, spawnedAt, cmd.ProcessState))
		}
	}
	go func() {
		waitErr = cmd.Wait()
		close(exited)
		if handedOver.Load() {
			reportExit()
		}
	}()
	newRec := &PidRecord{Pid: pid, Pgid: pid, StartTime: info.StartTime, Argv: spec.Args, Cwd: cmd.Dir, StartedAt: spawnedAt.UTC()}
	if statErr == nil {
		newRec.Pgid = info.Pgid
	}
	if statErr == nil {
		statErr = writePidRecord(pidPath, newRec)
	}
	if statErr != nil {
		s.abort(newRec, exited)
		return failed(spec.Name, ActionStart, fmt.Sprintf("recording pid %d: %v; the child was stopped, retry `flowgate service start %s`", pid, statErr, spec.Name))
	}

	readyIn, why := waitReady(ctx, spec, exited, spawnedAt)
	if why == "" && spec.ReadyLogLine != "" {
		s.waitLogLine(ctx, spec, logStart, exited)
		readyIn = time.Since(spawnedAt)
		if isClosed(exited) {
			why = whyExited
		}
	}
	if why == "" {
		why = foreignListener(spec, newRec)
	}
	if why == "" {
		handedOver.Store(true)
		if isClosed(exited) {
			reportExit()
		}
		res.Result, res.Pid, res.ReadyIn = ResultStarted, pid, readyIn
		return res
	}
	s.abort(newRec, exited)
	removePidRecord(pidPath)
	if isClosed(exited) && why == whyExited {
		why = exitDescription(waitErr) + " before becoming ready"
	}
	res = failed(spec.Name, ActionStart, "")
	res.Pid = pid
	res.LogTail = s.logTailSince(spec.Name, logStart, LogTailLines)
	res.Error = fmt.Sprintf("%s %s; %s", spec.Name, why, failureHint(spec, s.LogPath(spec.Name), res.LogTail))
	return res
}

const whyExited = "exited"

// foreignListener guards against a readiness answer that came from someone
// else: when the OS names the process listening on Port and it is not in
// the child's group, the start failed.
func foreignListener(spec Spec, rec *PidRecord) string {
	if spec.Port <= 0 {
		return ""
	}
	h := findListener(spec.Host, spec.Port)
	if h == nil || h.Pid == 0 {
		return ""
	}
	if p, err := readProc(h.Pid); err == nil && isMember(rec, p) {
		return ""
	}
	return fmt.Sprintf("answered readiness, but port %d is held by %s, not by the new child", spec.Port, h)
}

// prepare rotates and opens the log and builds the command.
func (s *Supervisor) prepare(spec Spec) (*exec.Cmd, *os.File, int64, error) {
	if err := os.MkdirAll(s.LogDir, 0o700); err != nil {
		return nil, nil, 0, fmt.Errorf("creating log folder: %w", err)
	}
	logPath := s.LogPath(spec.Name)
	if err := rotateLog(logPath, spec.LogMaxBytes, spec.LogKeep); err != nil {
		return nil, nil, 0, err
	}
	f, err := os.OpenFile(logPath, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, nil, 0, fmt.Errorf("opening log of %s: %w", spec.Name, err)
	}
	fmt.Fprintf(f, "--- flowgate: starting %s (%s) at %s ---\n", spec.Name, filepath.Base(spec.Args[0]), time.Now().UTC().Format(time.RFC3339))
	offset, _ := f.Seek(0, 1)
	cmd := exec.Command(spec.Args[0], spec.Args[1:]...)
	cmd.Dir = spec.Cwd
	if cmd.Dir == "" {
		cmd.Dir, _ = os.Getwd()
	}
	base := spec.BaseEnv
	if base == nil {
		base = os.Environ()
	}
	cmd.Env = append(append([]string{}, base...), spec.Env...)
	cmd.Stdin = nil // /dev/null
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	return cmd, f, offset, nil
}

// waitLogLine waits up to spec.ReadyLogWait for spec.ReadyLogLine in the
// log written since offset, or for the child to exit.
func (s *Supervisor) waitLogLine(ctx context.Context, spec Spec, offset int64, exited <-chan struct{}) {
	deadline := time.Now().Add(spec.ReadyLogWait)
	for time.Now().Before(deadline) && ctx.Err() == nil && !isClosed(exited) {
		if data, err := readFrom(s.LogPath(spec.Name), offset); err == nil && strings.Contains(string(data), spec.ReadyLogLine) {
			return
		}
		select {
		case <-exited:
		case <-ctx.Done():
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// readFrom reads path from offset to its end (at most 1 MiB).
func readFrom(path string, offset int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return nil, err
	}
	return io.ReadAll(io.LimitReader(f, 1<<20))
}

// waitReady polls until the child is ready, exits, or the timeout passes.
// It returns the time to readiness, or why it failed.
func waitReady(ctx context.Context, spec Spec, exited <-chan struct{}, began time.Time) (time.Duration, string) {
	deadline := began.Add(spec.ReadyTimeout)
	settle := min(DefaultSettle, spec.ReadyTimeout)
	delay := 10 * time.Millisecond
	last := ""
	for {
		if isClosed(exited) {
			return 0, whyExited
		}
		remaining := time.Until(deadline)
		switch {
		case spec.ReadinessURL != "":
			p := Probe(ctx, spec.ReadinessURL, min(time.Second, max(remaining, 50*time.Millisecond)))
			if p.OK {
				if isClosed(exited) {
					return 0, whyExited
				}
				return time.Since(began), ""
			}
			last = fmt.Sprintf(" (last probe of %s: %s)", spec.ReadinessURL, p)
		case spec.Port > 0:
			addr := net.JoinHostPort(dialHost(spec.Host), strconv.Itoa(spec.Port))
			c, err := net.DialTimeout("tcp", addr, min(time.Second, max(remaining, 50*time.Millisecond)))
			if err == nil {
				c.Close()
				return time.Since(began), ""
			}
			last = fmt.Sprintf(" (port %s not open)", addr)
		default:
			if time.Since(began) >= settle {
				return time.Since(began), ""
			}
		}
		if time.Now().After(deadline) {
			return 0, fmt.Sprintf("did not become ready within %s%s", spec.ReadyTimeout, last)
		}
		select {
		case <-exited:
		case <-ctx.Done():
			return 0, fmt.Sprintf("start was interrupted (%v)", ctx.Err())
		case <-time.After(min(delay, max(time.Until(deadline), time.Millisecond))):
		}
		delay = min(delay*2, 200*time.Millisecond)
	}
}

// abort kills the whole group of a child that failed to start and waits
// for the leader to be reaped.
func (s *Supervisor) abort(rec *PidRecord, exited <-chan struct{}) {
	syscall.Kill(-rec.Pgid, syscall.SIGKILL)
	if rec.StartTime > 0 {
		// Grandchildren may outlive the leader.
		terminate(rec, false, 0)
	}
	select {
	case <-exited:
	case <-time.After(5 * time.Second):
	}
}

func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

func (s *Supervisor) logTailSince(name string, offset int64, n int) []string {
	f, err := os.Open(s.LogPath(name))
	if err != nil {
		return nil
	}
	defer f.Close()
	lines, _ := tailFrom(f, offset, n)
	return lines
}

// exitInfo describes a reaped child.
func exitInfo(name string, pid int, started time.Time, ps *os.ProcessState) ExitInfo {
	e := ExitInfo{Service: name, Pid: pid, StartedAt: started, At: time.Now(), Code: -1}
	if ps == nil {
		return e
	}
	e.Code = ps.ExitCode()
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		e.Signal = signalName(ws.Signal())
	}
	return e
}

// signalName is SIGKILL rather than Go's "killed".
func signalName(sig syscall.Signal) string {
	if n := unix.SignalName(sig); n != "" {
		return n
	}
	return sig.String()
}

func exitDescription(err error) string {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return "was killed by " + ws.Signal().String()
		}
		return fmt.Sprintf("exited with status %d", ee.ExitCode())
	}
	if err == nil {
		return "exited with status 0"
	}
	return "exited (" + err.Error() + ")"
}

// portInUseMessage is the runbook's port-conflict advice.
func portInUseMessage(spec Spec, h *PortHolder) string {
	return fmt.Sprintf("port %d on %s is already in use by %s; check with `%s`, then stop that process or change services.%s.port in the config and run `flowgate service start %s`",
		spec.Port, spec.Host, h, LsofCommand(spec.Port), spec.Name, spec.Name)
}

func spawnErrorMessage(spec Spec, err error) string {
	switch {
	case errors.Is(err, exec.ErrNotFound), errors.Is(err, fs.ErrNotExist) && !dirMissing(spec.Cwd):
		return fmt.Sprintf("starting %s: %v; run `flowgate bootstrap download` or fix services.%s.command.args", spec.Name, err, spec.Name)
	case dirMissing(spec.Cwd):
		return fmt.Sprintf("starting %s: working directory %s does not exist; fix services.%s.command.cwd", spec.Name, spec.Cwd, spec.Name)
	case errors.Is(err, fs.ErrPermission):
		return fmt.Sprintf("starting %s: %v; make the binary executable (chmod 755) or fix services.%s.command.args", spec.Name, err, spec.Name)
	}
	return fmt.Sprintf("starting %s: %v", spec.Name, err)
}

func dirMissing(dir string) bool {
	if dir == "" {
		return false
	}
	fi, err := os.Stat(dir)
	return err != nil || !fi.IsDir()
}

// failureHint says what to do after a failed start, using the log tail.
func failureHint(spec Spec, logPath string, tail []string) string {
	joined := strings.ToLower(strings.Join(tail, "\n"))
	if strings.Contains(joined, "address already in use") || strings.Contains(joined, "bind:") {
		return fmt.Sprintf("its log says the port is taken: check with `%s`, stop that process or change services.%s.port", LsofCommand(spec.Port), spec.Name)
	}
	return fmt.Sprintf("see the log tail below or `flowgate logs %s` (%s)", spec.Name, logPath)
}
