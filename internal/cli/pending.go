package cli

import (
	"context"
	"fmt"
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

func (a *app) authCommand() *cobra.Command { return pendingCmd("auth", "OAuth logins and credentials") }
func (a *app) gatewayCommand() *cobra.Command {
	return pendingCmd("gateway", "Run the built-in gateway")
}
func (a *app) bootstrapLiteLLMCommand() *cobra.Command {
	return pendingCmd("litellm", "Install the LiteLLM engine into a virtual environment")
}

type liteLLMState struct{}

func (liteLLMState) lines() []string { return []string{"litellm=not-installed"} }

func liteLLMStatus(cfg *config.Config) liteLLMState { return liteLLMState{} }

func validateGatewayDoc(cfg *config.Config, doc map[string]any) error { return nil }

func (a *app) reloadGateway(ctx context.Context, cfg *config.Config, profile string, timeout time.Duration) (string, uint64, error) {
	return "not-running", 0, nil
}

func liteLLMCommand(cfg *config.Config) ([]string, []string, error) {
	return nil, nil, fmt.Errorf("the litellm engine is not available in this build yet")
}

func liteLLMDoctor(cfg *config.Config) []Check {
	return []Check{{ID: "binary_litellm", Status: checkFail, Detail: "the litellm engine is not available in this build yet"}}
}
