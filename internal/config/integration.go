package config

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
