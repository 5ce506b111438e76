package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/flowgate/flowgate/internal/config"
	"github.com/flowgate/flowgate/internal/doctor"
	"github.com/flowgate/flowgate/internal/supervisor"
)

// Check is one doctor finding.
type Check = doctor.Check

const (
	checkPass = doctor.Pass
	checkWarn = doctor.Warn
	checkFail = doctor.Fail
)

func (a *app) doctorCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "doctor",
		Short: "Run preflight checks, each pass/warn/fail with a one-line fix; exit 1 on any fail",
		Long: `doctor checks what FlowGate needs before and while it runs: the config, the
runtime tree, installed binaries, ports, secret file permissions, credential
references, aliases, settings the builtin engine ignores, CLIProxyAPIPlus's
own config and the OAuth endpoints it serves. It only reads; it creates nothing.`,
		Example: "  flowgate doctor\n  flowgate doctor --json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := a.load()
			if err != nil {
				return err
			}
			checks := runDoctor(cfg)
			ok := doctor.OK(checks)
			if a.jsonOut {
				if err := a.printJSON(map[string]any{"ok": ok, "checks": checks}); err != nil {
					return err
				}
			} else {
				for _, c := range checks {
					line := fmt.Sprintf("doctor:%s=%s", c.ID, c.Status)
					if c.Detail != "" {
						line += " " + c.Detail
					}
					fmt.Fprintln(a.stdout, line)
					if c.Fix != "" && c.Status != checkPass {
						fmt.Fprintf(a.stdout, "  fix: %s\n", c.Fix)
					}
				}
			}
			if !ok {
				return silent(ExitFailed)
			}
			return nil
		},
	}
}

// runDoctor runs doctor with this command layer's view of the services.
func runDoctor(cfg *config.Config) []Check {
	sup := supervisorFor(cfg)
	return doctor.Run(cfg, doctor.Probes{
		Inspect: func(name string) supervisor.Status {
			st, _ := sup.Inspect(baseSpec(cfg, name))
			return st
		},
		Logins:            func() []Check { return loginChecks(cfg) },
		Clients:           func() []Check { return clientDrift(cfg) },
		LiteLLMCreds:      liteLLMCreds(cfg),
		LiteLLMGatewayKey: liteLLMGatewayKey(cfg),
	})
}
