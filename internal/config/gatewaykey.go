package config

import (
	"os"
	"strings"
)

// GatewayKey is the key clients present to the gateway: the master key as
// configured (literal, os.environ/NAME or master_key_ref), or "" when none.
func (cfg *Config) GatewayKey() string {
	gs, _ := cfg.LiteLLMBase["general_settings"].(map[string]any)
	if gs == nil {
		return ""
	}
	if ref, ok := gs["master_key_ref"].(string); ok && ref != "" {
		v, err := cfg.ResolveCredential(ref)
		if err == nil {
			return v
		}
		return ""
	}
	if k, ok := gs["master_key"].(string); ok {
		if name, isEnv := strings.CutPrefix(k, "os.environ/"); isEnv {
			return os.Getenv(name)
		}
		return k
	}
	return ""
}
