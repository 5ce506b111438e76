package config

import "strings"

// buildUIPort reads services.gateway.ui_port: a port, or off (false) for no
// dashboard. Without it the dashboard listens on the gateway's port + 1.
func buildUIPort(c *collector, base string, gatewayPort int, m map[string]any) int {
	path := join(base, "ui_port")
	v, ok := m["ui_port"]
	if !ok {
		if gatewayPort >= 65535 {
			c.add(path, "the dashboard's default port is services.gateway.port + 1, past 65535; set ui_port to a free port, or ui_port: off")
			return 0
		}
		return gatewayPort + 1
	}
	if b, isBool := v.(bool); isBool && !b {
		return 0 // YAML 1.1 readers turn a bare off into false
	}
	if s, isStr := v.(string); isStr && strings.EqualFold(strings.TrimSpace(s), "off") {
		return 0
	}
	n, isInt := asInt(v)
	switch {
	case !isInt || n < 1 || n > 65535:
		c.add(path, "must be a port from 1 to 65535, or off to turn the dashboard off; got %v", v)
		return 0
	case int(n) == gatewayPort:
		c.add(path, "is %d, the gateway's own port (services.gateway.port); give the dashboard another port, or ui_port: off", n)
		return 0
	}
	return int(n)
}
