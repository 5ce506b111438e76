package clients

import (
	"fmt"
	"os"
	"strings"

	"github.com/flowgate/flowgate/internal/config"
	"github.com/flowgate/flowgate/internal/runtime"
)

// SpecFromConfig builds the client settings from the config: gateway address,
// integration models, the active profile's aliases, and the gateway key
// when withToken.
func SpecFromConfig(cfg *config.Config, withToken bool) (Spec, error) {
	gw := cfg.Services[config.ServiceGateway]
	in := cfg.Integration
	spec := Spec{
		GatewayURL:   GatewayURLFor(gw.Host, gw.Port),
		DefaultModel: in.DefaultModel, FastModel: in.FastModel,
		OpusModel: in.OpusModel, SonnetModel: in.SonnetModel, HaikuModel: in.HaikuModel,
		EnvKey: in.EnvKey,
	}
	st, _ := runtime.ReadState(cfg.Paths.StateFile)
	profile := st.CurrentProfile
	if profile == "" {
		profile = cfg.DefaultProfile
	}
	if doc, err := cfg.ProfileDocument(profile); err == nil {
		spec.Aliases = config.Aliases(doc)
	}
	if withToken {
		spec.Token = cfg.GatewayKey()
	}
	return Normalize(spec)
}

// CodexKeyReminder tells how to set the variable Codex reads the gateway key
// from (model_providers.flowgate.env_key), pointing at where the key is kept
// rather than printing it.
func CodexKeyReminder(cfg *config.Config, spec Spec) string {
	v := spec.EnvKey
	if spec.Token != "" && os.Getenv(v) == spec.Token {
		return fmt.Sprintf("Codex reads the gateway key from $%s, which this shell already sets to it; keep it in your shell profile", v)
	}
	var value string
	gs, _ := cfg.LiteLLMBase["general_settings"].(map[string]any)
	ref, _ := gs["master_key_ref"].(string)
	literal, _ := gs["master_key"].(string)
	cred, hasCred := cfg.Credentials.Upstream[ref]
	envName, fromEnv := strings.CutPrefix(literal, "os.environ/")
	switch {
	case ref != "" && hasCred && cred.File != "":
		value = `"$(cat ` + runtime.ShellQuote(cred.File) + `)"`
	case ref != "" && hasCred && cred.Env != "":
		value = `"$` + cred.Env + `"`
	case fromEnv:
		value = `"$` + envName + `"`
	case literal != "":
		value = "<general_settings.master_key in " + cfg.File + ">"
	default:
		return fmt.Sprintf("Codex needs $%s set even though the gateway has no key: export %s=flowgate (in your shell profile too)", v, v)
	}
	return fmt.Sprintf("Codex reads the gateway key from $%s; set it where you run codex (and in your shell profile): export %s=%s", v, v, value)
}

// RedactDiff replaces the gateway key in a settings diff.
func RedactDiff(diff, token string) string {
	if token == "" {
		return diff
	}
	return strings.ReplaceAll(diff, token, "[gateway key]")
}
