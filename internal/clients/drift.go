package clients

import (
	"encoding/json"
	"fmt"

	"github.com/pelletier/go-toml/v2"
)

// ClaudeSettings is what Claude Code's settings.json holds of the FlowGate
// integration (the env object ApplyClaude writes).
type ClaudeSettings struct {
	// Path is the file read, symlinks resolved; Exists is false when there is none.
	Path   string
	Exists bool
	// BaseURL is env.ANTHROPIC_BASE_URL ("" when unset).
	BaseURL string
	// Token is env.ANTHROPIC_AUTH_TOKEN ("" when unset). Compare it, never print it.
	Token string
}

// ReadClaude reads the FlowGate-related settings from a Claude Code
// settings.json. A missing file is not an error.
func ReadClaude(path string) (ClaudeSettings, error) {
	real, data, _, exists, err := readTarget(path)
	s := ClaudeSettings{Path: real, Exists: exists}
	if err != nil || !exists {
		return s, err
	}
	var doc struct {
		Env map[string]any `json:"env"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return s, jsonError(real, data, err)
	}
	s.BaseURL, _ = doc.Env[EnvAnthropicBaseURL].(string)
	s.Token, _ = doc.Env[EnvAnthropicAuthToken].(string)
	return s, nil
}

// CodexSettings is what Codex's config.toml holds of the FlowGate
// integration (what ApplyCodex writes).
type CodexSettings struct {
	// Path is the file read, symlinks resolved; Exists is false when there is none.
	Path   string
	Exists bool
	// Provider is the top-level model_provider ("" when unset).
	Provider string
	// HasFlowGate is true when [model_providers.flowgate] exists; BaseURL
	// and EnvKey are its base_url and env_key.
	HasFlowGate     bool
	BaseURL, EnvKey string
}

// ReadCodex reads the FlowGate-related settings from a Codex config.toml.
// A missing file is not an error.
func ReadCodex(path string) (CodexSettings, error) {
	real, data, _, exists, err := readTarget(path)
	s := CodexSettings{Path: real, Exists: exists}
	if err != nil || !exists {
		return s, err
	}
	var doc map[string]any
	if err := toml.Unmarshal(data, &doc); err != nil {
		return s, tomlError(real, err)
	}
	s.Provider, _ = doc["model_provider"].(string)
	providers, _ := doc["model_providers"].(map[string]any)
	if fg, ok := providers[CodexProviderID].(map[string]any); ok {
		s.HasFlowGate = true
		s.BaseURL, _ = fg["base_url"].(string)
		s.EnvKey, _ = fg["env_key"].(string)
	}
	return s, nil
}

// ClaudeDrift lists how Claude Code settings applied earlier disagree with
// spec (the gateway as configured now): another gateway address, or a token
// that is not the gateway key. Settings that were never applied (no
// ANTHROPIC_BASE_URL) are not drift. Messages never contain a token.
func ClaudeDrift(spec Spec, s ClaudeSettings) []string {
	spec = bestEffort(spec)
	if !s.Exists || s.BaseURL == "" {
		return nil
	}
	var out []string
	if got, err := NormalizeGatewayURL(s.BaseURL); err != nil || got != spec.GatewayURL {
		out = append(out, fmt.Sprintf("env.%s in %s is %s, but the gateway is at %s", EnvAnthropicBaseURL, s.Path, s.BaseURL, spec.GatewayURL))
	}
	if spec.hasRealToken() {
		switch s.Token {
		case "":
			out = append(out, fmt.Sprintf("env.%s in %s is not set, but the gateway requires its key", EnvAnthropicAuthToken, s.Path))
		case TokenPlaceholder:
			out = append(out, fmt.Sprintf("env.%s in %s is still the placeholder %q, not the gateway key", EnvAnthropicAuthToken, s.Path, TokenPlaceholder))
		case spec.Token:
		default:
			out = append(out, fmt.Sprintf("env.%s in %s is not the current gateway key (an old or different key)", EnvAnthropicAuthToken, s.Path))
		}
	}
	return out
}

// CodexDrift lists how the Codex flowgate provider applied earlier disagrees
// with spec: another base_url or env_key. A config without the flowgate
// provider was never applied and is not drift.
func CodexDrift(spec Spec, s CodexSettings) []string {
	spec = bestEffort(spec)
	if !s.Exists || !s.HasFlowGate {
		return nil
	}
	var out []string
	if want := spec.GatewayURL + "/v1"; s.BaseURL != want {
		out = append(out, fmt.Sprintf("model_providers.%s.base_url in %s is %q, but the gateway is at %s", CodexProviderID, s.Path, s.BaseURL, want))
	}
	if s.EnvKey != spec.EnvKey {
		out = append(out, fmt.Sprintf("model_providers.%s.env_key in %s is %q, but integration.env_key is %q", CodexProviderID, s.Path, s.EnvKey, spec.EnvKey))
	}
	return out
}
