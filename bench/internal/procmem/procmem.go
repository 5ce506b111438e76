// Package procmem reads a process's memory from /proc for the benchmark and
// the soak.
package procmem

import (
	"bufio"
	"os"
	"strconv"
	"strings"
)

// KB returns pid's resident set now (VmRSS) and its peak (VmHWM) in KiB;
// zeros when the process is gone or /proc is not there.
func KB(pid int) (rss, hwm uint64) {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		var dst *uint64
		switch {
		case strings.HasPrefix(line, "VmRSS:"):
			dst = &rss
		case strings.HasPrefix(line, "VmHWM:"):
			dst = &hwm
		default:
			continue
		}
		if fs := strings.Fields(line); len(fs) >= 2 {
			*dst, _ = strconv.ParseUint(fs[1], 10, 64)
		}
	}
	return rss, hwm
}

// ResetPeak restarts pid's VmHWM from its current RSS (proc(5), clear_refs 5).
func ResetPeak(pid int) {
	_ = os.WriteFile("/proc/"+strconv.Itoa(pid)+"/clear_refs", []byte("5"), 0)
}
