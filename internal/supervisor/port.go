package supervisor

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"syscall"
)

// PortHolder names the process listening on a TCP port, as far as the OS can
// tell. Pid is 0 when the socket was found but its owner could not be read
// (for example a process of another user).
type PortHolder struct {
	Pid     int    `json:"pid,omitempty"`
	Command string `json:"command,omitempty"`
	// Addr is the listening address, for example 127.0.0.1:4000 or [::]:4000.
	Addr string `json:"addr,omitempty"`
}

// String renders the holder for messages: `pid 123 (python3 -m http.server)`.
func (h *PortHolder) String() string {
	if h == nil {
		return "unknown process"
	}
	if h.Pid == 0 {
		return "a process flowgate cannot identify (another user?)"
	}
	if h.Command == "" {
		return fmt.Sprintf("pid %d", h.Pid)
	}
	return fmt.Sprintf("pid %d (%s)", h.Pid, h.Command)
}

// LsofCommand is the runbook's command to see who listens on port.
func LsofCommand(port int) string {
	return fmt.Sprintf("lsof -nP -iTCP:%d -sTCP:LISTEN", port)
}

// FindPortHolder reports who listens on host:port. It returns nil when
// nobody does. Where the OS exposes socket owners (/proc on Linux) the holder
// carries a pid and command; elsewhere a bind test tells only that the port
// is taken. An empty host means 127.0.0.1.
func FindPortHolder(host string, port int) *PortHolder {
	if port <= 0 {
		return nil
	}
	if h := findListener(host, port); h != nil {
		return h
	}
	if bindFails(host, port) {
		return &PortHolder{Addr: net.JoinHostPort(dialHost(host), strconv.Itoa(port))}
	}
	return nil
}

// bindFails reports whether binding host:port fails because the address is
// in use. Any other bind error (for example an address not on this host) is
// not a conflict.
func bindFails(host string, port int) bool {
	ln, err := net.Listen("tcp", net.JoinHostPort(bindHost(host), strconv.Itoa(port)))
	if err != nil {
		return errors.Is(err, syscall.EADDRINUSE)
	}
	ln.Close()
	return false
}

// bindHost is the address to test-bind: the configured host, or 127.0.0.1.
func bindHost(host string) string {
	if host == "" {
		return "127.0.0.1"
	}
	return host
}

// dialHost is the address to connect to for a service bound to host:
// wildcard addresses are reached through the loopback address.
func dialHost(host string) string {
	switch host {
	case "", "0.0.0.0":
		return "127.0.0.1"
	case "::", "[::]":
		return "::1"
	}
	return host
}

// URLFor builds http://host:port/path for a probe, bracketing IPv6 hosts
// and replacing wildcard hosts (0.0.0.0, ::) by loopback.
func URLFor(host string, port int, path string) string {
	if path == "" || path[0] != '/' {
		path = "/" + path
	}
	return "http://" + net.JoinHostPort(dialHost(host), strconv.Itoa(port)) + path
}
