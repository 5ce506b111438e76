package config

import (
	"strings"
)

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
