package config

import (
	"path/filepath"
	"sort"
	"strings"
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
