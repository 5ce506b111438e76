package cli

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/goccy/go-yaml"

	"github.com/flowgate/flowgate/internal/cliproxy"
	"github.com/flowgate/flowgate/internal/config"
	rt "github.com/flowgate/flowgate/internal/runtime"
)

// secretKeyNames are the keys whose string values are secrets, in
// FlowGate's gateway documents (LiteLLM's shape) and in CLIProxyAPIPlus's
// config.yaml.
var secretKeyNames = map[string]bool{
	"api_key": true, "master_key": true, "extra_keys": true, "key": true,
	"api-key": true, "api-keys": true, "secret-key": true,
}

// registerKnownSecrets makes every secret the config leads to known to the
// process-wide redactor (rt.RegisterSecrets), so that events, logs and
// error messages this process writes never show one, whatever its shape:
// credentials.upstream (files and environment variables), keys written in
// litellm_base and the profiles (literal or os.environ/NAME), the
// CLIProxyAPIPlus management password and the client and management keys
// in CLIProxyAPIPlus's config file. It only reads; a secret it cannot read
// is skipped (the command that needs it reports that).
func registerKnownSecrets(cfg *config.Config) {
	if cfg == nil {
		return
	}
	var secrets []string
	for name, cred := range cfg.Credentials.Upstream {
		if v, err := cred.Resolve(name); err == nil {
			secrets = append(secrets, v)
		}
	}
	secrets = collectSecrets(secrets, cfg.LiteLLMBase, false)
	for _, p := range cfg.Profiles {
		secrets = collectSecrets(secrets, p, false)
	}
	if data, err := os.ReadFile(filepath.Join(cfg.Paths.SecretsDir, cliproxy.ManagementPasswordFile)); err == nil {
		secrets = append(secrets, strings.TrimSpace(string(data)))
	}
	if cp := cfg.Services[config.ServiceCLIProxy]; cp != nil && cp.ConfigFile != "" {
		if data, err := os.ReadFile(cp.ConfigFile); err == nil {
			var y map[string]any
			if yaml.Unmarshal(data, &y) == nil {
				secrets = collectSecrets(secrets, y, false)
			}
		}
	}
	rt.RegisterSecrets(secrets...)
}

// collectSecrets appends the string values found under secretKeyNames in
// v (in = v is such a value). os.environ/NAME stands for NAME's value; a
// bcrypt hash (CLIProxyAPIPlus rewrites its management key so) is no
// secret.
func collectSecrets(out []string, v any, in bool) []string {
	switch tv := v.(type) {
	case map[string]any:
		for k, e := range tv {
			out = collectSecrets(out, e, in || secretKeyNames[k])
		}
	case []any:
		for _, e := range tv {
			out = collectSecrets(out, e, in)
		}
	case string:
		if !in {
			return out
		}
		if name, ok := strings.CutPrefix(tv, "os.environ/"); ok {
			return append(out, os.Getenv(name))
		}
		if !strings.HasPrefix(tv, "$2a$") && !strings.HasPrefix(tv, "$2b$") {
			return append(out, tv)
		}
	}
	return out
}
