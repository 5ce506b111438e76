package config

import (
	"path/filepath"
	"strings"
)

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
