package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/flowgate/flowgate/bench/internal/procmem"
)

// clkTck is USER_HZ, the unit of utime/stime in /proc/PID/stat (100 on
// every Linux build Go supports).
const clkTck = 100

// procSample is a process group's CPU and memory at one instant.
type procSample struct {
	CPUTicks uint64 // utime+stime summed over the group
	RSSKB    uint64 // VmRSS summed
	HWMKB    uint64 // VmHWM summed
	Procs    int
}

func (p procSample) cpuSeconds() float64 { return float64(p.CPUTicks) / clkTck }

// groupPids lists the live processes whose process group is pgid.
func groupPids(pgid int) []int {
	if pgid <= 0 {
		return nil
	}
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var out []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if pid == pgid {
			out = append(out, pid)
			continue
		}
		st, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		f := statFields(st)
		if len(f) > 3 && f[3] == strconv.Itoa(pgid) {
			out = append(out, pid)
		}
	}
	return out
}

// statFields splits /proc/PID/stat after the parenthesised command name;
// with an empty f[0], field N of proc(5) is f[N-2] (f[1] is the state).
func statFields(st []byte) []string {
	i := bytes.LastIndexByte(st, ')')
	if i < 0 {
		return nil
	}
	return append([]string{""}, strings.Fields(string(st[i+1:]))...)
}

// sampleGroup reads CPU and memory of every process in the group.
func sampleGroup(pgid int) procSample { return samplePids(groupPids(pgid)) }

// sampleGroupPid reads one process.
func sampleGroupPid(pid int) procSample {
	var s procSample
	st, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return s
	}
	f := statFields(st)
	// proc(5): utime is field 14, stime 15.
	if len(f) < 14 {
		return s
	}
	u, _ := strconv.ParseUint(f[12], 10, 64)
	sy, _ := strconv.ParseUint(f[13], 10, 64)
	s.CPUTicks = u + sy
	s.Procs = 1
	s.RSSKB, s.HWMKB = procmem.KB(pid)
	return s
}

// resetPeak resets VmHWM of every process in the group (proc(5) clear_refs 5).
func resetPeak(pgid int) {
	for _, pid := range groupPids(pgid) {
		procmem.ResetPeak(pid)
	}
}

// child is a started process in its own process group.
type child struct {
	cmd     *exec.Cmd
	pgid    int
	started time.Time
	exited  chan struct{}
	logPath string
}

func startChild(argv, env []string, dir, logPath string) (*child, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = env
	cmd.Dir = dir
	var logf *os.File
	if logPath != "" {
		var err error
		if logf, err = os.Create(logPath); err != nil {
			return nil, err
		}
		cmd.Stdout, cmd.Stderr = logf, logf
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	c := &child{cmd: cmd, exited: make(chan struct{}), logPath: logPath}
	c.started = time.Now()
	if err := cmd.Start(); err != nil {
		if logf != nil {
			logf.Close()
		}
		return nil, err
	}
	c.pgid = cmd.Process.Pid
	go func() {
		_ = cmd.Wait()
		if logf != nil {
			logf.Close()
		}
		close(c.exited)
	}()
	return c, nil
}

// stop sends SIGTERM to the group, waits up to grace, then SIGKILLs.
func (c *child) stop(grace time.Duration) {
	if c == nil {
		return
	}
	_ = syscall.Kill(-c.pgid, syscall.SIGTERM)
	select {
	case <-c.exited:
	case <-time.After(grace):
		_ = syscall.Kill(-c.pgid, syscall.SIGKILL)
		<-c.exited
	}
	// Children of the group leader (uvicorn workers) may outlive it.
	_ = syscall.Kill(-c.pgid, syscall.SIGKILL)
}

func (c *child) logTail(n int) string {
	b, _ := os.ReadFile(c.logPath)
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}

var errExited = errors.New("process exited before it was ready")

// waitReady polls url every poll until it answers 200; it returns the time
// from exec to that first 200.
func (c *child) waitReady(ctx context.Context, url string, poll, timeout time.Duration) (time.Duration, error) {
	hc := &http.Client{Timeout: time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	deadline := time.Now().Add(timeout)
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := hc.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return time.Since(c.started), nil
			}
		}
		select {
		case <-c.exited:
			return 0, fmt.Errorf("%w (log %s): %s", errExited, c.logPath, strings.TrimSpace(c.logTail(1500)))
		case <-ctx.Done():
			return 0, ctx.Err()
		default:
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("not ready on %s within %s (log %s)", url, timeout, c.logPath)
		}
		time.Sleep(poll)
	}
}
