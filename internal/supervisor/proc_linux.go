//go:build linux

package supervisor

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// procInfo is what the supervisor needs to know about one live process.
type procInfo struct {
	Pid       int
	State     byte   // R, S, D, Z, T, ...
	Pgid      int    // process group id
	Sid       int    // session id
	StartTime uint64 // clock ticks after boot (/proc/<pid>/stat field 22)
	// Exiting is set for a zombie main thread whose other threads are still
	// tearing down: its descriptors (and listening sockets) are not closed
	// yet, so it does not count as dead.
	Exiting bool
}

// Zombie reports whether the process has fully exited and only waits to be
// reaped. Zombies count as dead.
func (p procInfo) Zombie() bool { return (p.State == 'Z' || p.State == 'X') && !p.Exiting }

// readProc reads /proc/<pid>/stat. It returns os.ErrNotExist (wrapped) when
// the process does not exist.
func readProc(pid int) (procInfo, error) {
	data, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return procInfo{}, err
	}
	p, err := parseStat(pid, data)
	if err == nil && (p.State == 'Z' || p.State == 'X') {
		if tasks, err := os.ReadDir(filepath.Join("/proc", strconv.Itoa(pid), "task")); err == nil && len(tasks) > 1 {
			p.Exiting = true
		}
	}
	return p, err
}

// parseStat parses the content of /proc/<pid>/stat. The command name (field
// 2) may contain spaces and parentheses, so fields are counted after the last
// closing parenthesis.
func parseStat(pid int, data []byte) (procInfo, error) {
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return procInfo{}, fmt.Errorf("parsing /proc/%d/stat: no command name", pid)
	}
	fields := strings.Fields(string(data[i+1:]))
	// fields[0] is field 3 (state); field N is fields[N-3].
	if len(fields) < 20 {
		return procInfo{}, fmt.Errorf("parsing /proc/%d/stat: only %d fields", pid, len(fields)+2)
	}
	pgid, err1 := strconv.Atoi(fields[2])
	sid, err2 := strconv.Atoi(fields[3])
	start, err3 := strconv.ParseUint(fields[19], 10, 64)
	if err1 != nil || err2 != nil || err3 != nil || len(fields[0]) != 1 {
		return procInfo{}, fmt.Errorf("parsing /proc/%d/stat: malformed fields", pid)
	}
	return procInfo{Pid: pid, State: fields[0][0], Pgid: pgid, Sid: sid, StartTime: start}, nil
}

// processCommand returns the command line of pid joined by spaces, or its
// short name when the command line is unreadable (kernel threads, zombies).
func processCommand(pid int) string {
	data, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "cmdline"))
	if err == nil && len(data) > 0 {
		return strings.TrimSpace(strings.ReplaceAll(string(bytes.TrimRight(data, "\x00")), "\x00", " "))
	}
	comm, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "comm"))
	if err == nil {
		return strings.TrimSpace(string(comm))
	}
	return ""
}

// listProcs returns every process visible in /proc. Processes that vanish
// while being read are skipped.
func listProcs() []procInfo {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var out []procInfo
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid <= 0 {
			continue
		}
		if p, err := readProc(pid); err == nil {
			out = append(out, p)
		}
	}
	return out
}
