package config

import (
	"net"
	"net/url"
	"strconv"
	"strings"
)

// CLIProxyAPIBase is the symbolic api_base of a model_list entry served by
// CLIProxyAPIPlus. ProfileDocument replaces it with CLIProxyURL(), so the
// routes follow services.cliproxyapi_plus.host and port: changing the port
// there is the only edit a port move needs.
const CLIProxyAPIBase = "cliproxy"

// CLIProxyURL is the OpenAI-style base URL the gateway uses to reach
// CLIProxyAPIPlus: http://HOST:PORT/v1 from services.cliproxyapi_plus, with a
// wildcard or empty host replaced by loopback.
func (c *Config) CLIProxyURL() string {
	svc := c.Services[ServiceCLIProxy]
	return "http://" + net.JoinHostPort(DialHost(svc.Host), strconv.Itoa(svc.Port)) + "/v1"
}

// DialHost is the address a local client connects to for a service that
// listens on host: a wildcard or empty host becomes loopback.
func DialHost(host string) string {
	switch strings.TrimSuffix(strings.TrimPrefix(host, "["), "]") {
	case "", "0.0.0.0":
		return "127.0.0.1"
	case "::", "::0":
		return "::1"
	}
	return strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
}

// resolveAddresses rewrites api_base: cliproxy in the model_list of a merged
// document (which DeepMerge made a private copy of) to CLIProxyURL.
func (c *Config) resolveAddresses(doc map[string]any) {
	list, _ := doc["model_list"].([]any)
	for _, e := range list {
		m, _ := e.(map[string]any)
		lp, _ := m["litellm_params"].(map[string]any)
		if s, ok := lp["api_base"].(string); ok && s == CLIProxyAPIBase {
			lp["api_base"] = c.CLIProxyURL()
		}
	}
}

// LoopbackPort returns the port of an http(s) URL whose host is a loopback
// or wildcard address (127.0.0.1, localhost, ::1, 0.0.0.0), the kind of
// api_base that names a service on this machine. ok is false for other URLs.
func LoopbackPort(raw string) (port int, ok bool) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return 0, false
	}
	h := u.Hostname()
	if h != "localhost" {
		ip := net.ParseIP(h)
		if ip == nil || !(ip.IsLoopback() || ip.IsUnspecified()) {
			return 0, false
		}
	}
	p := u.Port()
	if p == "" {
		if u.Scheme == "https" {
			return 443, true
		}
		return 80, true
	}
	n, err := strconv.Atoi(p)
	if err != nil {
		return 0, false
	}
	return n, true
}
