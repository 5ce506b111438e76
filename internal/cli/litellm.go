package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/flowgate/flowgate/internal/config"
	"github.com/flowgate/flowgate/internal/litellm"
	rt "github.com/flowgate/flowgate/internal/runtime"
)

func (a *app) bootstrapLiteLLMCommand() *cobra.Command {
	var o litellm.BootstrapOptions
	cmd := &cobra.Command{
		Use:   "litellm",
		Short: "Install the LiteLLM engine (a pinned litellm[proxy] in a venv) and its runner",
		Long: `litellm creates a Python virtual environment with python3 -m venv, installs
a pinned litellm[proxy] with pip (pip's own output goes to a log file) and
writes .router/runtime/bin/litellm, a runner that works wherever the runtime
folder lives. Set services.gateway.engine: litellm to use it. An existing venv
with the same version is reused.`,
		Example: "  flowgate bootstrap litellm\n  flowgate bootstrap litellm --version " + litellm.DefaultVersion + " --venv ~/.cache/flowgate/litellm-venv",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := a.load()
			if err != nil {
				return err
			}
			layout := layoutOf(cfg)
			if err := layout.Ensure(); err != nil {
				return err
			}
			o.RuntimeDir = cfg.Paths.RuntimeDir
			if !a.jsonOut {
				o.Progress = a.stderr
			}
			res, err := litellm.Bootstrap(ctxOf(cmd), o)
			if err != nil {
				_ = layout.Emit(rt.Event{Event: "bootstrap_litellm", Result: "failed", Detail: err.Error()})
				return failed("bootstrap litellm: %v", err)
			}
			_ = layout.Emit(rt.Event{Event: "bootstrap_litellm", Result: "success", Detail: "version=" + res.Version})
			if a.jsonOut {
				return a.printJSON(res)
			}
			fmt.Fprintf(a.stdout, "litellm=%s\nlitellm_version=%s\nlitellm_venv=%s\nlog=%s\n", res.Runner, res.Version, res.VenvDir, res.LogPath)
			if cfg.Services[config.ServiceGateway].Engine != config.EngineLiteLLM {
				fmt.Fprintf(a.stderr, "note: services.gateway.engine is %s; set it to litellm in %s to run LiteLLM\n", cfg.Services[config.ServiceGateway].Engine, cfg.File)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&o.Version, "version", litellm.DefaultVersion, "litellm release to install")
	cmd.Flags().StringVar(&o.VenvDir, "venv", "", "virtual environment folder (default .router/runtime/litellm-venv)")
	cmd.Flags().StringVar(&o.Python, "python", "python3", "Python interpreter that creates the venv")
	return cmd
}

type liteLLMState struct{ litellm.StatusInfo }

func (s liteLLMState) lines() []string {
	if !s.Installed {
		return []string{"litellm=not-installed reason=" + quoteIfSpace(s.Reason)}
	}
	return []string{fmt.Sprintf("litellm=%s version=%s venv=%s", s.Runner, s.Version, s.VenvDir)}
}

func quoteIfSpace(s string) string {
	if strings.ContainsAny(s, " \t") {
		return fmt.Sprintf("%q", s)
	}
	return s
}

func liteLLMStatus(cfg *config.Config) liteLLMState {
	return liteLLMState{litellm.Status(cfg.Paths.RuntimeDir)}
}

func liteLLMCreds(cfg *config.Config) map[string]litellm.CredentialSource {
	out := map[string]litellm.CredentialSource{}
	for name, c := range cfg.Credentials.Upstream {
		out[name] = litellm.CredentialSource{File: c.File, Env: c.Env}
	}
	return out
}

// liteLLMGatewayKey says where the gateway key comes from, as configured in
// general_settings (master_key_ref, os.environ/NAME or a literal).
func liteLLMGatewayKey(cfg *config.Config) litellm.CredentialSource {
	gs, _ := cfg.LiteLLMBase["general_settings"].(map[string]any)
	if ref, ok := gs["master_key_ref"].(string); ok && ref != "" {
		c := cfg.Credentials.Upstream[ref]
		return litellm.CredentialSource{File: c.File, Env: c.Env}
	}
	if k, ok := gs["master_key"].(string); ok && k != "" {
		if name, isEnv := strings.CutPrefix(k, "os.environ/"); isEnv {
			return litellm.CredentialSource{Env: name}
		}
		return litellm.CredentialSource{Value: k}
	}
	return litellm.CredentialSource{}
}

// writeLiteLLMConfig generates LiteLLM's config for doc into the active
// config path and returns the child's environment.
func writeLiteLLMConfig(cfg *config.Config, doc map[string]any) ([]string, error) {
	data, env, _, err := litellm.Generate(doc, liteLLMCreds(cfg), liteLLMGatewayKey(cfg))
	if err != nil {
		return nil, fmt.Errorf("generating the LiteLLM config: %w", err)
	}
	if err := litellm.WriteConfig(cfg.Paths.ActiveConfig, data); err != nil {
		return nil, err
	}
	return env, nil
}

// liteLLMCommand is the gateway service's command and environment when the
// engine is litellm: the config is regenerated from the active profile.
func liteLLMCommand(cfg *config.Config) ([]string, []string, error) {
	runner := litellm.RunnerPath(cfg.Paths.RuntimeDir)
	st := litellm.Status(cfg.Paths.RuntimeDir)
	if !st.Installed {
		return nil, nil, &missingBinary{Path: runner, Fix: "flowgate --config " + cfg.File + " bootstrap litellm"}
	}
	state, _ := rt.ReadState(cfg.Paths.StateFile)
	doc, err := cfg.ProfileDocument(orDefault(state.CurrentProfile, cfg.DefaultProfile))
	if err != nil {
		return nil, nil, err
	}
	env, err := writeLiteLLMConfig(cfg, doc)
	if err != nil {
		return nil, nil, err
	}
	gw := cfg.Services[config.ServiceGateway]
	return litellm.Command(cfg.Paths.RuntimeDir, cfg.Paths.ActiveConfig, gw.Host, gw.Port), env, nil
}
