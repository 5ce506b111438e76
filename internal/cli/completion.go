package cli

import (
	"strings"

	"github.com/spf13/cobra"

	"github.com/flowgate/flowgate/internal/cliproxy"
	"github.com/flowgate/flowgate/internal/config"
)

// completionExample is shown by `flowgate completion --help`.
const completionExample = `  source <(flowgate completion bash)                      # this shell
  flowgate completion bash > ~/.local/share/bash-completion/completions/flowgate
  flowgate completion zsh > "${fpath[1]}/_flowgate"
  flowgate completion fish > ~/.config/fish/completions/flowgate.fish
  flowgate completion powershell | Out-String | Invoke-Expression`

// argCompleters names, by command path below the root, what the command's
// first argument is. The values come from the config the command line names
// (--config), read without printing anything.
var argCompleters = map[string]func(cfg *config.Config) []string{
	"service start":   serviceTargets,
	"service stop":    serviceTargets,
	"service restart": serviceTargets,
	"logs":            func(cfg *config.Config) []string { return cfg.ServiceOrder },
	"profile set":     func(cfg *config.Config) []string { return cfg.ProfileNames() },
	"profile show":    func(cfg *config.Config) []string { return cfg.ProfileNames() },
	"auth login":      providerNames,
}

// configFreeCompleters are used when the config cannot be read.
var configFreeCompleters = map[string]func() []string{
	"service start":   func() []string { return []string{"all", config.ServiceCLIProxy, config.ServiceGateway} },
	"service stop":    func() []string { return []string{"all", config.ServiceCLIProxy, config.ServiceGateway} },
	"service restart": func() []string { return []string{"all", config.ServiceCLIProxy, config.ServiceGateway} },
	"logs":            func() []string { return []string{config.ServiceCLIProxy, config.ServiceGateway} },
	"auth login": func() []string {
		var out []string
		for _, p := range cliproxy.Providers() {
			out = append(out, p.Name)
		}
		return out
	},
}

func serviceTargets(cfg *config.Config) []string {
	return append([]string{"all"}, cfg.ServiceOrder...)
}

// addCompletions gives the commands of argCompleters their argument
// completion, the completion command its examples, and every other leaf
// without completion of its own "no file names" (none of them takes a file
// as an argument). Clients (integration print|apply) complete from their
// ValidArgs.
func (a *app) addCompletions(root *cobra.Command) {
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			walk(sub)
		}
		if c.Name() == "completion" && c.Parent() == root && c.Example == "" {
			c.Example = completionExample
		}
		if c.HasSubCommands() || c.ValidArgsFunction != nil || len(c.ValidArgs) > 0 {
			return
		}
		path := strings.TrimPrefix(strings.TrimPrefix(c.CommandPath(), root.Name()), " ")
		fromConfig, fallback := argCompleters[path], configFreeCompleters[path]
		if fromConfig == nil {
			c.ValidArgsFunction = cobra.NoFileCompletions
			return
		}
		c.ValidArgsFunction = func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
			if len(args) > 0 {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			var names []string
			if cfg, err := config.Load(a.configPath); err == nil {
				names = fromConfig(cfg)
			} else if fallback != nil {
				names = fallback()
			}
			var out []cobra.Completion
			for _, n := range names {
				if strings.HasPrefix(n, toComplete) {
					out = append(out, n)
				}
			}
			return out, cobra.ShellCompDirectiveNoFileComp
		}
	}
	walk(root)
}
