package cli

import (
	"fmt"
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
			spec, err := clients.SpecFromConfig(cfg, showToken)
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
nothing is written on failure or with --dry-run. A settings.json that others
can read is narrowed to 0600 once it holds the gateway key. For Codex, apply
ends with the command that sets the variable Codex reads the key from.`,
		Example:   "  flowgate integration apply codex\n  flowgate integration apply claude-code --dry-run",
		Args:      cobra.ExactArgs(1),
		ValidArgs: integrationClients,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := a.load()
			if err != nil {
				return err
			}
			spec, err := clients.SpecFromConfig(cfg, true)
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
			next := ""
			if args[0] == "codex" {
				next = clients.CodexKeyReminder(cfg, spec)
			}
			if a.jsonOut {
				out := map[string]any{"client": args[0], "path": res.Path, "backup_path": res.BackupPath, "dry_run": res.DryRun, "changed": res.Changed, "created": res.Created, "diff": clients.RedactDiff(res.Diff, spec.Token)}
				if res.TightenedFrom != 0 {
					out["mode"], out["previous_mode"] = "0600", fmt.Sprintf("%04o", res.TightenedFrom)
				}
				if next != "" {
					out["env_key"], out["next"] = spec.EnvKey, next
				}
				return a.printJSON(out)
			}
			if dryRun {
				fmt.Fprintf(a.stdout, "planned_path=%s\nchanged=%t\n", res.Path, res.Changed)
				if res.TightenedFrom != 0 {
					fmt.Fprintf(a.stdout, "planned_mode=0600 (now %04o: the file holds the gateway key, so it would be made readable by you only)\n", res.TightenedFrom)
				}
				if res.Diff != "" {
					fmt.Fprint(a.stdout, clients.RedactDiff(res.Diff, spec.Token))
				}
				return nil
			}
			fmt.Fprintf(a.stdout, "saved_path=%s\nchanged=%t\n", res.Path, res.Changed)
			if res.BackupPath != "" {
				fmt.Fprintf(a.stdout, "backup_path=%s\n", res.BackupPath)
			}
			if res.TightenedFrom != 0 {
				fmt.Fprintf(a.stdout, "mode=0600 (was %04o: the file holds the gateway key, so it is now readable by you only)\n", res.TightenedFrom)
			}
			if next != "" {
				fmt.Fprintf(a.stdout, "next: %s\n", next)
			}
			return nil
		},
	}
	applyCmd.Flags().StringVar(&target, "target", "", "file to edit (default: the client's own settings file)")
	applyCmd.Flags().BoolVar(&dryRun, "dry-run", false, "show what would change and write nothing")
	cmd.AddCommand(printCmd, applyCmd)
	return cmd
}

// secretPath is a file under .router/secrets.
func secretPath(cfg *config.Config, name string) string {
	return filepath.Join(cfg.Paths.SecretsDir, name)
}
