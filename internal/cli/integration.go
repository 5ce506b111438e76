package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/flowgate/flowgate/internal/clients"
	"github.com/flowgate/flowgate/internal/config"
	rt "github.com/flowgate/flowgate/internal/runtime"
)

var integrationClients = []string{"codex", "claude-code"}

func (a *app) integrationCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "integration",
		Short: "Print or apply Codex and Claude Code settings that point at the gateway",
		Example: `  flowgate integration print codex
  flowgate integration print claude-code
  flowgate integration apply codex --dry-run
  flowgate integration apply claude-code --target ~/.claude/settings.json`,
	}
	var showToken bool
	printCmd := &cobra.Command{
		Use:   "print codex|claude-code",
		Short: "Print the client settings snippet",
		Long: `print writes the settings a client needs: for Codex a config.toml provider
table (wire_api = "responses"), for Claude Code the ANTHROPIC_* variables
(ANTHROPIC_BASE_URL is the gateway root, without /v1). The gateway key is shown
as a placeholder unless --show-token, since this command may run where others
can see the screen.`,
		Example:   "  flowgate integration print codex\n  flowgate integration print claude-code --show-token",
		Args:      cobra.ExactArgs(1),
		ValidArgs: integrationClients,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := a.load()
			if err != nil {
				return err
			}
			spec, err := clientSpec(cfg, showToken)
			if err != nil {
				return err
			}
			var snippet string
			switch args[0] {
			case "codex":
				snippet = clients.PrintCodex(spec)
			case "claude-code":
				snippet = clients.PrintClaude(spec)
			default:
				return usage("unknown client %q; use codex or claude-code", args[0])
			}
			for _, w := range clients.CheckModels(spec) {
				fmt.Fprintf(a.stderr, "warning: %s\n", w)
			}
			if a.jsonOut {
				return a.printJSON(map[string]string{"client": args[0], "snippet": snippet})
			}
			fmt.Fprint(a.stdout, snippet)
			if !strings.HasSuffix(snippet, "\n") {
				fmt.Fprintln(a.stdout)
			}
			return nil
		},
	}
	printCmd.Flags().BoolVar(&showToken, "show-token", false, "print the real gateway key instead of a placeholder")

	var target string
	var dryRun bool
	applyCmd := &cobra.Command{
		Use:   "apply codex|claude-code",
		Short: "Merge the settings into the client's config file (backup kept, atomic write)",
		Long: `apply edits the client's own file: Codex ~/.codex/config.toml (or
$CODEX_HOME/config.toml) gets a flowgate provider and model, every other table
and provider untouched; Claude Code ~/.claude/settings.json gets the ANTHROPIC_*
variables in env, key order and every other key kept, and the gateway key as
ANTHROPIC_AUTH_TOKEN. The old file is backed up (0600) under a unique name;
nothing is written on failure or with --dry-run.`,
		Example:   "  flowgate integration apply codex\n  flowgate integration apply claude-code --dry-run",
		Args:      cobra.ExactArgs(1),
		ValidArgs: integrationClients,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := a.load()
			if err != nil {
				return err
			}
			spec, err := clientSpec(cfg, true)
			if err != nil {
				return err
			}
			path := target
			if path == "" {
				if args[0] == "codex" {
					path, err = clients.DefaultCodexPath()
				} else {
					path, err = clients.DefaultClaudePath()
				}
				if err != nil {
					return failed("finding the %s settings file: %v; pass --target PATH", args[0], err)
				}
			} else if path, err = clients.ResolveTarget(path); err != nil {
				return usage("--target: %v", err)
			}
			var res clients.Result
			switch args[0] {
			case "codex":
				res, err = clients.ApplyCodex(path, spec, dryRun)
			case "claude-code":
				res, err = clients.ApplyClaude(path, spec, dryRun)
			default:
				return usage("unknown client %q; use codex or claude-code", args[0])
			}
			layout := layoutOf(cfg)
			if err != nil {
				if !dryRun {
					_ = layout.Emit(rt.Event{Event: "integration_apply", Provider: args[0], Result: "failed", Detail: err.Error()})
				}
				return failed("integration apply %s: %v", args[0], err)
			}
			if !dryRun && res.Changed {
				_ = layout.Emit(rt.Event{Event: "integration_apply", Provider: args[0], Result: "success", Detail: "path=" + res.Path})
			}
			for _, w := range append(clients.CheckModels(spec), res.Warnings...) {
				fmt.Fprintf(a.stderr, "warning: %s\n", w)
			}
			if a.jsonOut {
				return a.printJSON(map[string]any{"client": args[0], "path": res.Path, "backup_path": res.BackupPath, "dry_run": res.DryRun, "changed": res.Changed, "created": res.Created, "diff": res.Diff})
			}
			if dryRun {
				fmt.Fprintf(a.stdout, "planned_path=%s\nchanged=%t\n", res.Path, res.Changed)
				if res.Diff != "" {
					fmt.Fprint(a.stdout, redactDiff(res.Diff, spec.Token))
				}
				return nil
			}
			fmt.Fprintf(a.stdout, "saved_path=%s\nchanged=%t\n", res.Path, res.Changed)
			if res.BackupPath != "" {
				fmt.Fprintf(a.stdout, "backup_path=%s\n", res.BackupPath)
			}
			return nil
		},
	}
	applyCmd.Flags().StringVar(&target, "target", "", "file to edit (default: the client's own settings file)")
	applyCmd.Flags().BoolVar(&dryRun, "dry-run", false, "show what would change and write nothing")
	cmd.AddCommand(printCmd, applyCmd)
	return cmd
}

func redactDiff(diff, token string) string {
	if token == "" {
		return diff
	}
	return strings.ReplaceAll(diff, token, "[gateway key]")
}

// clientSpec builds the client settings from the config: gateway address,
// integration models, the active profile's aliases, and the gateway key
// when withToken.
func clientSpec(cfg *config.Config, withToken bool) (clients.Spec, error) {
	gw := cfg.Services[config.ServiceGateway]
	in := cfg.Integration
	spec := clients.Spec{
		GatewayURL:   clients.GatewayURLFor(gw.Host, gw.Port),
		DefaultModel: in.DefaultModel, FastModel: in.FastModel,
		OpusModel: in.OpusModel, SonnetModel: in.SonnetModel, HaikuModel: in.HaikuModel,
		EnvKey: in.EnvKey,
	}
	st, _ := rt.ReadState(cfg.Paths.StateFile)
	profile := orDefault(st.CurrentProfile, cfg.DefaultProfile)
	if doc, err := cfg.ProfileDocument(profile); err == nil {
		spec.Aliases = config.Aliases(doc)
	}
	if withToken {
		spec.Token = gatewayKey(cfg)
	}
	return clients.Normalize(spec)
}

// gatewayKey is the key clients present to the gateway: the master key as
// configured (literal, os.environ/NAME or master_key_ref), or "" when none.
func gatewayKey(cfg *config.Config) string {
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

// secretPath is a file under .router/secrets.
func secretPath(cfg *config.Config, name string) string {
	return filepath.Join(cfg.Paths.SecretsDir, name)
}
