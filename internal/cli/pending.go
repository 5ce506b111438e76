package cli

import (
	"context"
	"time"

	"github.com/spf13/cobra"

	"github.com/flowgate/flowgate/internal/config"
)

func pendingCmd(use, short string) *cobra.Command {
	return &cobra.Command{
		Use:   use,
		Short: short,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return failed("%s is not available in this build yet", cmd.CommandPath())
		},
	}
}

func (a *app) statusCommand() *cobra.Command {
	return pendingCmd("status", "Show services, profile and secret permission issues")
}
func (a *app) healthCommand() *cobra.Command {
	return pendingCmd("health", "Check liveness and readiness of every service")
}
func (a *app) doctorCommand() *cobra.Command {
	return pendingCmd("doctor", "Run preflight checks with fixes")
}
func (a *app) serviceCommand() *cobra.Command {
	return pendingCmd("service", "Start, stop or restart services")
}
func (a *app) authCommand() *cobra.Command { return pendingCmd("auth", "OAuth logins and credentials") }
func (a *app) bootstrapCommand() *cobra.Command {
	return pendingCmd("bootstrap", "Download CLIProxyAPIPlus and set up LiteLLM")
}
func (a *app) integrationCommand() *cobra.Command {
	return pendingCmd("integration", "Print or apply Codex and Claude Code settings")
}
func (a *app) gatewayCommand() *cobra.Command {
	return pendingCmd("gateway", "Run the built-in gateway")
}
func (a *app) upCommand() *cobra.Command {
	return pendingCmd("up", "Init if needed and start everything")
}
func (a *app) downCommand() *cobra.Command { return pendingCmd("down", "Stop everything") }
func (a *app) logsCommand() *cobra.Command { return pendingCmd("logs", "Tail process logs") }

func validateGatewayDoc(cfg *config.Config, doc map[string]any) error { return nil }

func (a *app) reloadGateway(ctx context.Context, cfg *config.Config, profile string, timeout time.Duration) (string, uint64, error) {
	return "not-running", 0, nil
}
