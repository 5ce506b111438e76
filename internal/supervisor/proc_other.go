//go:build !linux

package supervisor

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// procInfo is what the supervisor needs to know about one live process.
// Without /proc (macOS, BSD) it comes from ps(1).
type procInfo struct {
	Pid       int
	State     byte
	Pgid      int
	Sid       int    // set equal to Pgid: ps cannot report session ids portably
	StartTime uint64 // process start, unix seconds (ps lstart)
	Exiting   bool
}

// Zombie reports whether the process has exited and waits to be reaped.
func (p procInfo) Zombie() bool { return p.State == 'Z' }

const psFormat = "pid=,stat=,pgid=,lstart="

func readProc(pid int) (procInfo, error) {
	out, err := exec.Command("ps", "-o", psFormat, "-p", strconv.Itoa(pid)).Output()
	if err != nil || strings.TrimSpace(string(out)) == "" {
		return procInfo{}, fmt.Errorf("process %d: %w", pid, os.ErrNotExist)
	}
	return parsePsLine(strings.TrimSpace(string(out)))
}

func parsePsLine(line string) (procInfo, error) {
	f := strings.Fields(line)
	if len(f) < 8 {
		return procInfo{}, fmt.Errorf("parsing ps output %q", line)
	}
	pid, err1 := strconv.Atoi(f[0])
	pgid, err2 := strconv.Atoi(f[2])
	start, err3 := time.ParseInLocation("Mon Jan 2 15:04:05 2006", strings.Join(f[3:8], " "), time.Local)
	if err1 != nil || err2 != nil || err3 != nil || f[1] == "" {
		return procInfo{}, fmt.Errorf("parsing ps output %q", line)
	}
	return procInfo{Pid: pid, State: f[1][0], Pgid: pgid, Sid: pgid, StartTime: uint64(start.Unix())}, nil
}

func processCommand(pid int) string {
	out, err := exec.Command("ps", "-o", "command=", "-p", strconv.Itoa(pid)).Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

func listProcs() []procInfo {
	out, err := exec.Command("ps", "-A", "-o", psFormat).Output()
	if err != nil {
		return nil
	}
	var procs []procInfo
	for _, line := range strings.Split(string(out), "\n") {
		if p, err := parsePsLine(strings.TrimSpace(line)); err == nil {
			procs = append(procs, p)
		}
	}
	return procs
}

// findListener cannot map sockets to processes without /proc; FindPortHolder
// falls back to a bind test and the message points at lsof.
func findListener(host string, port int) *PortHolder { return nil }
