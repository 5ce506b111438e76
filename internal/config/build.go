package config

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

var topLevelKeys = map[string]bool{
	"config_version": true, "paths": true, "services": true, "credentials": true,
	"litellm_base": true, "profiles": true, "default_profile": true, "auth": true,
	"secret_files": true, "integration": true,
}

// build migrates legacy keys and turns the raw document into a Config,
// collecting every problem instead of stopping at the first.
func build(file string, top map[string]any) (*Config, *collector) {
	c := &collector{}
	cfg := &Config{File: file, Dir: filepath.Dir(file), ConfigVersion: 2}
	migrate(top, cfg)

	for _, k := range sortedKeys(top) {
		if strings.HasPrefix(k, "_comment") {
			continue
		}
		if !topLevelKeys[k] {
			c.add(k, "unknown top-level key; known keys are %s", strings.Join(knownTop(), ", "))
		}
	}
	if v, ok := top["config_version"]; ok {
		n, isInt := asInt(v)
		switch {
		case !isInt:
			c.add("config_version", "must be the number 2, got %s", typeName(v))
		case n != 1 && n != 2:
			c.add("config_version", "unsupported version %d; this FlowGate reads versions 1 and 2", n)
		default:
			cfg.ConfigVersion = 2
		}
	}

	buildPaths(c, cfg, top["paths"])
	buildServices(c, cfg, top["services"])
	buildCredentials(c, cfg, top["credentials"])
	buildAuth(c, cfg, top["auth"])
	buildSecretFiles(c, cfg, top["secret_files"])
	buildIntegration(c, cfg, top["integration"])

	switch b := top["litellm_base"].(type) {
	case map[string]any:
		cfg.LiteLLMBase = b
	case nil:
		if _, present := top["litellm_base"]; present {
			c.add("litellm_base", "must be a mapping with model_list, router_settings, litellm_settings")
		} else {
			c.add("litellm_base", "is required: it holds model_list (the aliases clients ask for) and router settings")
		}
	default:
		c.add("litellm_base", "must be a mapping, got %s", typeName(b))
	}
	switch p := top["profiles"].(type) {
	case map[string]any:
		cfg.Profiles = map[string]map[string]any{}
		for _, name := range sortedKeys(p) {
			m, ok := p[name].(map[string]any)
			if !ok {
				if p[name] == nil {
					m = map[string]any{}
				} else {
					c.add(join("profiles", name), "must be a mapping (an overlay on litellm_base), got %s", typeName(p[name]))
					continue
				}
			}
			cfg.Profiles[name] = m
		}
		if len(p) == 0 {
			c.add("profiles", "must define at least one profile (for example reliability, balanced, cost)")
		}
	case nil:
		c.add("profiles", "is required: define at least one profile (for example reliability, balanced, cost)")
	default:
		c.add("profiles", "must be a mapping of profile name to overlay, got %s", typeName(p))
	}
	if v, ok := top["default_profile"]; ok {
		s, isStr := v.(string)
		if !isStr || s == "" {
			c.add("default_profile", "must be a profile name")
		} else if cfg.Profiles != nil && cfg.Profiles[s] == nil {
			c.add("default_profile", "names profile %q, which is not defined; profiles: %s", s, strings.Join(profileNames(cfg), ", "))
		} else {
			cfg.DefaultProfile = s
		}
	}
	if cfg.DefaultProfile == "" && len(cfg.Profiles) > 0 {
		if _, ok := cfg.Profiles["balanced"]; ok {
			cfg.DefaultProfile = "balanced"
		} else {
			cfg.DefaultProfile = profileNames(cfg)[0]
		}
	}
	if cfg.LiteLLMBase != nil && cfg.Profiles != nil {
		crossCheck(c, cfg)
	}
	return cfg, c
}

func knownTop() []string {
	out := make([]string, 0, len(topLevelKeys))
	for k := range topLevelKeys {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func profileNames(cfg *Config) []string {
	out := make([]string, 0, len(cfg.Profiles))
	for k := range cfg.Profiles {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// migrate rewrites legacy keys in place and notes each rewrite as a warning.
func migrate(top map[string]any, cfg *Config) {
	if v, ok := top["secrets"]; ok {
		if _, has := top["secret_files"]; !has {
			top["secret_files"] = v
			cfg.Warnings = append(cfg.Warnings, "secrets: renamed to secret_files (legacy key); update the config")
		} else {
			cfg.Warnings = append(cfg.Warnings, "secrets: ignored because secret_files is present; remove it")
		}
		delete(top, "secrets")
	}
	if v, ok := top["oauth"]; ok {
		auth, _ := top["auth"].(map[string]any)
		if auth == nil || auth["providers"] == nil {
			if auth == nil {
				auth = map[string]any{}
			}
			auth["providers"] = v
			top["auth"] = auth
			cfg.Warnings = append(cfg.Warnings, "oauth: moved to auth.providers (legacy key); update the config")
		} else {
			cfg.Warnings = append(cfg.Warnings, "oauth: ignored because auth.providers is present; remove it")
		}
		delete(top, "oauth")
	}
	services, _ := top["services"].(map[string]any)
	if services == nil {
		return
	}
	if v, ok := services["cliproxyapi"]; ok {
		if _, has := services[ServiceCLIProxy]; !has {
			services[ServiceCLIProxy] = v
			cfg.Warnings = append(cfg.Warnings, "services.cliproxyapi: renamed to services.cliproxyapi_plus (legacy key)")
		} else {
			cfg.Warnings = append(cfg.Warnings, "services.cliproxyapi: ignored because services.cliproxyapi_plus is present; remove it")
		}
		delete(services, "cliproxyapi")
	}
	if v, ok := services["litellm"]; ok {
		if _, has := services[ServiceGateway]; !has {
			m, _ := v.(map[string]any)
			if m != nil {
				if _, set := m["engine"]; !set {
					m["engine"] = EngineBuiltin
					if runsLiteLLM(m) {
						m["engine"] = EngineLiteLLM
					}
				}
			}
			services[ServiceGateway] = v
			cfg.Warnings = append(cfg.Warnings, "services.litellm: now services.gateway (legacy key); update the config")
		} else {
			cfg.Warnings = append(cfg.Warnings, "services.litellm: ignored because services.gateway is present; remove it")
		}
		delete(services, "litellm")
	}
}

func runsLiteLLM(svc map[string]any) bool {
	cmd, _ := svc["command"].(map[string]any)
	args, _ := cmd["args"].([]any)
	for _, a := range args {
		if s, ok := a.(string); ok && strings.Contains(strings.ToLower(filepath.Base(s)), "litellm") {
			return true
		}
	}
	return false
}

func buildPaths(c *collector, cfg *Config, v any) {
	m, ok := v.(map[string]any)
	if v != nil && !ok {
		c.add("paths", "must be a mapping, got %s", typeName(v))
	}
	get := func(key string) (string, bool) {
		raw, present := m[key]
		if !present {
			return "", false
		}
		s, isStr := raw.(string)
		if !isStr || strings.TrimSpace(s) == "" {
			c.add(join("paths", key), "must be a non-empty path string, got %s", typeName(raw))
			return "", false
		}
		return resolvePath(cfg.Dir, s), true
	}
	known := map[string]bool{"runtime_dir": true, "active_config": true, "state_file": true, "log_file": true, "auth_dir": true, "secrets_dir": true}
	for _, k := range sortedKeys(m) {
		if !known[k] && !strings.HasPrefix(k, "_comment") {
			c.add(join("paths", k), "unknown key; known keys are active_config, auth_dir, log_file, runtime_dir, secrets_dir, state_file")
		}
	}
	p := &cfg.Paths
	var ok2 bool
	if p.RuntimeDir, ok2 = get("runtime_dir"); !ok2 {
		p.RuntimeDir = resolvePath(cfg.Dir, "../.router/runtime")
	}
	root := filepath.Dir(p.RuntimeDir)
	if p.ActiveConfig, ok2 = get("active_config"); !ok2 {
		p.ActiveConfig = filepath.Join(p.RuntimeDir, "gateway.active.yaml")
	}
	if p.StateFile, ok2 = get("state_file"); !ok2 {
		p.StateFile = filepath.Join(p.RuntimeDir, "state.json")
	}
	if p.LogFile, ok2 = get("log_file"); !ok2 {
		p.LogFile = filepath.Join(p.RuntimeDir, "events.log")
	}
	if p.AuthDir, ok2 = get("auth_dir"); !ok2 {
		p.AuthDir = filepath.Join(root, "auths")
	}
	if p.SecretsDir, ok2 = get("secrets_dir"); !ok2 {
		p.SecretsDir = filepath.Join(root, "secrets")
	}
}

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

func buildCredentials(c *collector, cfg *Config, v any) {
	cfg.Credentials.Upstream = map[string]Credential{}
	if v == nil {
		return
	}
	m, ok := v.(map[string]any)
	if !ok {
		c.add("credentials", "must be a mapping with an upstream key, got %s", typeName(v))
		return
	}
	for _, k := range sortedKeys(m) {
		if k != "upstream" {
			c.add(join("credentials", k), "unknown key; the only key is upstream")
		}
	}
	up, ok := m["upstream"].(map[string]any)
	if m["upstream"] != nil && !ok {
		c.add("credentials.upstream", "must be a mapping of credential name to {file: PATH} or {env: VAR}")
		return
	}
	for _, name := range sortedKeys(up) {
		base := join("credentials.upstream", name)
		entry, isMap := up[name].(map[string]any)
		if !isMap {
			c.add(base, "must be a mapping with exactly one of file or env")
			continue
		}
		var cred Credential
		for _, k := range sortedKeys(entry) {
			s, isStr := entry[k].(string)
			switch k {
			case "file":
				if !isStr || strings.TrimSpace(s) == "" {
					c.add(join(base, "file"), "must be a non-empty path string")
				} else {
					cred.File = resolvePath(cfg.Dir, s)
				}
			case "env":
				if !isStr || strings.TrimSpace(s) == "" {
					c.add(join(base, "env"), "must be an environment variable name")
				} else {
					cred.Env = s
				}
			default:
				c.add(join(base, k), "unknown key; use file or env")
			}
		}
		if (cred.File == "") == (cred.Env == "") {
			if _, f := entry["file"]; !f || entry["env"] != nil {
				c.add(base, "must define exactly one of file or env")
			}
		}
		cfg.Credentials.Upstream[name] = cred
	}
}

func buildAuth(c *collector, cfg *Config, v any) {
	cfg.Auth.Providers = map[string]Provider{}
	if v == nil {
		return
	}
	m, ok := v.(map[string]any)
	if !ok {
		c.add("auth", "must be a mapping with a providers key, got %s", typeName(v))
		return
	}
	for _, k := range sortedKeys(m) {
		if k != "providers" {
			c.add(join("auth", k), "unknown key; the only key is providers")
		}
	}
	provs, ok := m["providers"].(map[string]any)
	if m["providers"] != nil && !ok {
		c.add("auth.providers", "must be a mapping of provider name to settings")
		return
	}
	for _, name := range sortedKeys(provs) {
		base := join("auth.providers", name)
		pm, isMap := provs[name].(map[string]any)
		if !isMap {
			if provs[name] == nil {
				cfg.Auth.Providers[name] = Provider{Method: "oauth"}
				continue
			}
			c.add(base, "must be a mapping (method, auth_url_endpoint, status_endpoint)")
			continue
		}
		p := Provider{Method: "oauth"}
		for _, k := range sortedKeys(pm) {
			s, isStr := pm[k].(string)
			if !isStr || s == "" {
				c.add(join(base, k), "must be a non-empty string")
				continue
			}
			switch k {
			case "method":
				p.Method = s
			case "auth_url_endpoint":
				p.AuthURLEndpoint = s
			case "status_endpoint":
				p.StatusEndpoint = s
			default:
				c.add(join(base, k), "unknown key; known keys are auth_url_endpoint, method, status_endpoint")
			}
		}
		cfg.Auth.Providers[name] = p
	}
}

func buildSecretFiles(c *collector, cfg *Config, v any) {
	if v == nil {
		return
	}
	list, ok := v.([]any)
	if !ok {
		c.add("secret_files", "must be a list of file paths, got %s", typeName(v))
		return
	}
	for i, item := range list {
		s, isStr := item.(string)
		if !isStr || s == "" {
			c.add(index("secret_files", i), "must be a file path string")
			continue
		}
		cfg.SecretFiles = append(cfg.SecretFiles, resolvePath(cfg.Dir, s))
	}
}

func buildIntegration(c *collector, cfg *Config, v any) {
	in := &cfg.Integration
	m, ok := v.(map[string]any)
	if v != nil && !ok {
		c.add("integration", "must be a mapping (default_model, fast_model, ...), got %s", typeName(v))
	}
	fields := map[string]*string{
		"default_model": &in.DefaultModel, "fast_model": &in.FastModel, "opus_model": &in.OpusModel,
		"sonnet_model": &in.SonnetModel, "haiku_model": &in.HaikuModel, "env_key": &in.EnvKey,
	}
	for _, k := range sortedKeys(m) {
		dst, known := fields[k]
		if !known {
			c.add(join("integration", k), "unknown key; known keys are default_model, env_key, fast_model, haiku_model, opus_model, sonnet_model")
			continue
		}
		s, isStr := m[k].(string)
		if !isStr || s == "" {
			c.add(join("integration", k), "must be a non-empty string")
			continue
		}
		*dst = s
		if cfg.integrationSet == nil {
			cfg.integrationSet = map[string]bool{}
		}
		cfg.integrationSet[k] = true
	}
	if in.DefaultModel == "" {
		in.DefaultModel = "router-default"
	}
	if in.FastModel == "" {
		in.FastModel = in.DefaultModel
	}
	if in.OpusModel == "" {
		in.OpusModel = in.DefaultModel
	}
	if in.SonnetModel == "" {
		in.SonnetModel = in.DefaultModel
	}
	if in.HaikuModel == "" {
		in.HaikuModel = in.FastModel
	}
	if in.EnvKey == "" {
		in.EnvKey = "OPENAI_API_KEY"
	}
}
