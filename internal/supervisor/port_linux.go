//go:build linux

package supervisor

import (
	"bufio"
	"encoding/hex"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// listenSocket is one LISTEN row of /proc/net/tcp{,6}.
type listenSocket struct {
	IP    net.IP
	Port  int
	Inode string
}

// findListener looks up a LISTEN socket on port whose address overlaps host
// in /proc/net/tcp and /proc/net/tcp6, then the process owning its inode.
func findListener(host string, port int) *PortHolder {
	want := net.ParseIP(strings.Trim(bindHost(host), "[]"))
	var found *listenSocket
	for _, file := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		for _, s := range readListenSockets(file) {
			if s.Port != port || !addrOverlaps(s.IP, want) {
				continue
			}
			s := s
			found = &s
			break
		}
		if found != nil {
			break
		}
	}
	if found == nil {
		return nil
	}
	h := &PortHolder{Addr: net.JoinHostPort(found.IP.String(), strconv.Itoa(port))}
	if pid := socketOwner(found.Inode); pid > 0 {
		h.Pid = pid
		h.Command = processCommand(pid)
	}
	return h
}

// addrOverlaps reports whether a listener on ip conflicts with binding want.
// A nil want (a host name) matches every listener on the port.
func addrOverlaps(ip, want net.IP) bool {
	if want == nil || ip.IsUnspecified() || want.IsUnspecified() {
		return true
	}
	return ip.Equal(want)
}

// readListenSockets parses the LISTEN rows (state 0A) of a /proc/net/tcp file.
func readListenSockets(path string) []listenSocket {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []listenSocket
	sc := bufio.NewScanner(f)
	sc.Scan() // header
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 10 || fields[3] != "0A" {
			continue
		}
		ip, port, ok := parseProcAddr(fields[1])
		if !ok {
			continue
		}
		out = append(out, listenSocket{IP: ip, Port: port, Inode: fields[9]})
	}
	return out
}

// parseProcAddr decodes "0100007F:0FA0": the address is hex in host byte
// order per 32-bit word (little-endian on the machines we run on), the port
// hex big-endian.
func parseProcAddr(s string) (net.IP, int, bool) {
	hostHex, portHex, ok := strings.Cut(s, ":")
	if !ok {
		return nil, 0, false
	}
	port, err := strconv.ParseUint(portHex, 16, 16)
	if err != nil {
		return nil, 0, false
	}
	raw, err := hex.DecodeString(hostHex)
	if err != nil || (len(raw) != 4 && len(raw) != 16) {
		return nil, 0, false
	}
	ip := make(net.IP, len(raw))
	for w := 0; w < len(raw); w += 4 {
		ip[w], ip[w+1], ip[w+2], ip[w+3] = raw[w+3], raw[w+2], raw[w+1], raw[w]
	}
	return ip, int(port), true
}

// socketOwner finds the pid with a descriptor on socket inode, or 0.
func socketOwner(inode string) int {
	if inode == "" || inode == "0" {
		return 0
	}
	target := "socket:[" + inode + "]"
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		fdDir := filepath.Join("/proc", e.Name(), "fd")
		fds, err := os.ReadDir(fdDir)
		if err != nil {
			continue
		}
		for _, fd := range fds {
			if link, err := os.Readlink(filepath.Join(fdDir, fd.Name())); err == nil && link == target {
				return pid
			}
		}
	}
	return 0
}
