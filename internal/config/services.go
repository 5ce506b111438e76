package config

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

var serviceKeys = map[string]bool{
	"engine": true, "host": true, "port": true, "readiness_path": true, "health_path": true,
	"command": true, "config_file": true, "ready_timeout": true, "stop_timeout": true, "env": true,
	"restart": true, "log_max_bytes": true, "log_keep": true, "request_log": true, "capture": true,
	"ui_port": true,
}

func buildServices(c *collector, cfg *Config, v any) {
	cfg.Services = map[string]*Service{}
	m, ok := v.(map[string]any)
	if v != nil && !ok {
		c.add("services", "must be a mapping of service name to settings, got %s", typeName(v))
	}
	names := sortedKeys(m)
	for _, name := range names {
		if strings.HasPrefix(name, "_comment") {
			continue
		}
		base := join("services", name)
		raw := m[name]
		sm, isMap := raw.(map[string]any)
		if raw != nil && !isMap {
			c.add(base, "must be a mapping, got %s", typeName(raw))
			continue
		}
		cfg.Services[name] = buildService(c, cfg, name, base, sm)
	}
	for _, name := range []string{ServiceCLIProxy, ServiceGateway} {
		if cfg.Services[name] == nil {
			cfg.Services[name] = buildService(c, cfg, name, join("services", name), nil)
		}
	}
	// Dependency order: cliproxyapi_plus, extra services by name, gateway last.
	cfg.ServiceOrder = []string{ServiceCLIProxy}
	for _, n := range sortedServiceNames(cfg.Services) {
		if n != ServiceCLIProxy && n != ServiceGateway {
			cfg.ServiceOrder = append(cfg.ServiceOrder, n)
		}
	}
	cfg.ServiceOrder = append(cfg.ServiceOrder, ServiceGateway)

	gw, cp := cfg.Services[ServiceGateway], cfg.Services[ServiceCLIProxy]
	if gw.Port != 0 && gw.Port == cp.Port && gw.Host == cp.Host {
		c.add("services.gateway.port", "is %d, the same as services.cliproxyapi_plus.port; give each service its own port", gw.Port)
	}
	if gw.UIPort != 0 && gw.UIPort == cp.Port && gw.Host == cp.Host {
		c.add("services.gateway.ui_port", "is %d (the dashboard's port; default: services.gateway.port + 1), the same as services.cliproxyapi_plus.port; set ui_port to a free port, or ui_port: off", gw.UIPort)
	}
}

func sortedServiceNames(m map[string]*Service) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func buildService(c *collector, cfg *Config, name, base string, m map[string]any) *Service {
	s := &Service{Name: name, Host: "127.0.0.1", StopTimeout: 10 * time.Second, ReadyTimeout: 15 * time.Second,
		LogMaxBytes: DefaultLogMaxBytes, LogKeep: DefaultLogKeep}
	switch name {
	case ServiceGateway:
		s.Port, s.ReadinessPath, s.Engine = 4000, "/health/readiness", EngineBuiltin
	case ServiceCLIProxy:
		s.Port, s.ReadinessPath = 8317, "/"
		s.ConfigFile = filepath.Join(cfg.Dir, "cliproxyapi.yaml")
	default:
		s.ReadinessPath = "/"
	}
	for _, k := range sortedKeys(m) {
		if !serviceKeys[k] && !isGatewayLimitKey(k) && !strings.HasPrefix(k, "_comment") {
			c.add(join(base, k), "unknown key; known keys are capture, command, config_file, engine, env, host, log_keep, log_max_bytes, port, readiness_path, ready_timeout, request_log, restart, stop_timeout, ui_port, and for the gateway %s", strings.Join(gatewayLimitKeys, ", "))
		}
	}
	if v, ok := m["engine"]; ok {
		e, _ := v.(string)
		switch {
		case name != ServiceGateway:
			c.add(join(base, "engine"), "only services.gateway has an engine")
		case e == EngineBuiltin || e == EngineLiteLLM:
			s.Engine = e
		default:
			c.add(join(base, "engine"), "must be builtin or litellm, got %v", v)
		}
	}
	if v, ok := m["host"]; ok {
		if h, isStr := v.(string); isStr && h != "" {
			s.Host = h
		} else {
			c.add(join(base, "host"), "must be a host name or address such as 127.0.0.1, got %s", typeName(v))
		}
	}
	if v, ok := m["port"]; ok {
		n, isInt := asInt(v)
		if !isInt || n < 1 || n > 65535 {
			c.add(join(base, "port"), "must be a number from 1 to 65535, got %v", v)
		} else {
			s.Port = int(n)
		}
	}
	for _, key := range []string{"health_path", "readiness_path"} {
		if v, ok := m[key]; ok {
			p, isStr := v.(string)
			if !isStr || !strings.HasPrefix(p, "/") {
				c.add(join(base, key), "must be an HTTP path starting with /, got %v", v)
			} else {
				s.ReadinessPath = p
			}
		}
	}
	if s.Engine == EngineLiteLLM {
		s.ReadyTimeout = 120 * time.Second
	}
	for key, dst := range map[string]*time.Duration{"ready_timeout": &s.ReadyTimeout, "stop_timeout": &s.StopTimeout} {
		if v, ok := m[key]; ok {
			d, err := parseDuration(v)
			if err != nil {
				c.add(join(base, key), "%v", err)
			} else {
				*dst = d
			}
		}
	}
	if v, ok := m["log_max_bytes"]; ok {
		n, isInt := asInt(v)
		if !isInt || n < MinLogMaxBytes {
			c.add(join(base, "log_max_bytes"), "must be a whole number of bytes of at least %d (default %d, 10 MiB), got %v", MinLogMaxBytes, DefaultLogMaxBytes, v)
		} else {
			s.LogMaxBytes = n
		}
	}
	if v, ok := m["log_keep"]; ok {
		n, isInt := asInt(v)
		if !isInt || n < 1 || n > 100 {
			c.add(join(base, "log_keep"), "must be a whole number from 1 to 100 (default %d), got %v", DefaultLogKeep, v)
		} else {
			s.LogKeep = int(n)
		}
	}
	if v, ok := m["restart"]; ok {
		s.Restart = buildRestart(c, join(base, "restart"), v)
	}
	s.Limits = buildGatewayLimits(c, name, base, m)
	if v, ok := m["request_log"]; ok && gatewayOnly(c, name, base, "request_log") {
		s.RequestLog = buildRequestLog(c, join(base, "request_log"), v)
	}
	if v, ok := m["capture"]; ok && gatewayOnly(c, name, base, "capture") {
		s.Capture = buildCapture(c, join(base, "capture"), v)
	}
	if name == ServiceGateway {
		s.UIPort = buildUIPort(c, base, s.Port, m)
	} else if _, ok := m["ui_port"]; ok {
		gatewayOnly(c, name, base, "ui_port")
	}
	if v, ok := m["config_file"]; ok {
		if p, isStr := v.(string); isStr && p != "" {
			s.ConfigFile = resolvePath(cfg.Dir, p)
		} else {
			c.add(join(base, "config_file"), "must be a path string")
		}
	}
	if v, ok := m["env"]; ok {
		em, isMap := v.(map[string]any)
		if !isMap {
			c.add(join(base, "env"), "must be a mapping of variable name to value")
		}
		s.Env = map[string]string{}
		for _, k := range sortedKeys(em) {
			switch val := em[k].(type) {
			case string:
				s.Env[k] = val
			case nil:
				s.Env[k] = ""
			default:
				s.Env[k] = fmt.Sprint(val)
			}
		}
	}
	s.Command.Cwd = filepath.Dir(cfg.Dir)
	if v, ok := m["command"]; ok {
		cm, isMap := v.(map[string]any)
		if !isMap {
			c.add(join(base, "command"), "must be a mapping with args (a list of strings) and optional cwd")
		} else {
			if rawArgs, has := cm["args"]; has {
				list, isList := rawArgs.([]any)
				var args []string
				for i, a := range list {
					str, isStr := a.(string)
					if !isStr {
						c.add(index(join(base, "command.args"), i), "must be a string, got %s", typeName(a))
						continue
					}
					args = append(args, str)
				}
				if !isList || len(list) == 0 {
					c.add(join(base, "command.args"), "must be a non-empty list of strings (argv, no shell)")
				} else {
					s.Command.Args, s.CommandSet = args, true
				}
			}
			if rawCwd, has := cm["cwd"]; has {
				if p, isStr := rawCwd.(string); isStr && p != "" {
					s.Command.Cwd = resolvePath(cfg.Dir, p)
				} else {
					c.add(join(base, "command.cwd"), "must be a path string")
				}
			}
			for _, k := range sortedKeys(cm) {
				if k != "args" && k != "cwd" {
					c.add(join(base, "command."+k), "unknown key; known keys are args, cwd")
				}
			}
		}
	}
	if !s.CommandSet && name != ServiceGateway && name != ServiceCLIProxy {
		c.add(join(base, "command.args"), "is required for service %s (what to run)", name)
	}
	return s
}

// buildRestart reads services.NAME.restart: `never`, `always` (the
// defaults) or {backoff, max_backoff, max_exits, window}.
func buildRestart(c *collector, base string, v any) Restart {
	var r Restart
	switch val := v.(type) {
	case string:
		switch val {
		case "never":
			r.Never = true
		case "always":
		default:
			c.add(base, "must be never, always or a mapping with backoff, max_backoff, max_exits, window; got %q", val)
		}
		return r
	case map[string]any:
		for _, k := range sortedKeys(val) {
			switch k {
			case "backoff", "max_backoff", "window":
				d, err := parseDuration(val[k])
				if err != nil {
					c.add(join(base, k), "%v", err)
					continue
				}
				switch k {
				case "backoff":
					r.Backoff = d
				case "max_backoff":
					r.MaxBackoff = d
				default:
					r.Window = d
				}
			case "max_exits":
				n, ok := asInt(val[k])
				if !ok || n < 1 {
					c.add(join(base, k), "must be a whole number of at least 1, got %v", val[k])
					continue
				}
				r.MaxExits = int(n)
			default:
				if !strings.HasPrefix(k, "_comment") {
					c.add(join(base, k), "unknown key; known keys are backoff, max_backoff, max_exits, window")
				}
			}
		}
		return r
	}
	c.add(base, "must be never, always or a mapping with backoff, max_backoff, max_exits, window; got %s", typeName(v))
	return r
}

func parseDuration(v any) (time.Duration, error) {
	switch d := v.(type) {
	case string:
		dur, err := time.ParseDuration(d)
		if err != nil || dur <= 0 {
			return 0, fmt.Errorf("must be a duration such as 15s or 2m, got %q", d)
		}
		return dur, nil
	default:
		f, ok := asFloat(v)
		if !ok || f <= 0 {
			return 0, fmt.Errorf("must be a number of seconds or a duration such as 15s, got %v", v)
		}
		return time.Duration(f * float64(time.Second)), nil
	}
}
