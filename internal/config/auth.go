package config

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
