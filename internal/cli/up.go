package cli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/flowgate/flowgate/internal/config"
	rt "github.com/flowgate/flowgate/internal/runtime"
	"github.com/flowgate/flowgate/internal/supervisor"
)

type upReport struct {
	Initialized bool                `json:"initialized"`
	Profile     string              `json:"profile"`
	Results     []supervisor.Result `json:"results"`
	Skipped     []string            `json:"skipped"`
	GatewayURL  string              `json:"gateway_url"`
	NextSteps   []string            `json:"next_steps"`
}

func (a *app) upCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "up",
		Short: "Init if needed, activate the default profile, start every installed service, print next steps",
		Long: `up is the one command to get FlowGate running: it writes the default config
when there is none (flowgate init), activates the default profile unless one is
active, starts every service whose binary is present in dependency order, waits
for readiness, and prints where the gateway listens and what is still missing,
with the command that fixes it. It is safe to run again.`,
		Example: "  flowgate up\n  go run ./cmd/flowgate up\n  flowgate --config config/flowgate.yaml up --json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			rep := &upReport{Skipped: []string{}, NextSteps: []string{}}
			if _, err := os.Stat(a.configPath); errors.Is(err, os.ErrNotExist) {
				if _, err := initProject(a.configPath, false); err != nil {
					return err
				}
				rep.Initialized = true
			}
			cfg, err := a.load()
			if err != nil {
				return err
			}
			st, _ := rt.ReadState(cfg.Paths.StateFile)
			rep.Profile = st.CurrentProfile
			if rep.Profile == "" || cfg.Profiles[rep.Profile] == nil {
				rep.Profile = cfg.DefaultProfile
			}
			if _, err := a.setProfile(ctxOf(cmd), cfg, rep.Profile, 30*time.Second); err != nil {
				return err
			}
			var toStart []string
			for _, name := range cfg.ServiceOrder {
				if _, err := startSpec(cfg, name); err != nil {
					var mb *missingBinary
					if errors.As(err, &mb) {
						rep.Skipped = append(rep.Skipped, name)
						rep.NextSteps = append(rep.NextSteps, fmt.Sprintf("%s is not installed (%s): run `%s`, then `%s service start %s`", name, mb.Path, mb.Fix, flowgateCmd(cfg), name))
						continue
					}
				}
				toStart = append(toStart, name)
			}
			rep.Results = a.runServices(ctxOf(cmd), cfg, supervisor.ActionStart, toStart)
			gw := cfg.Services[config.ServiceGateway]
			rep.GatewayURL = strings.TrimSuffix(supervisor.URLFor(gw.Host, gw.Port, ""), "/")
			if gatewayFailure(rep.Results) == "" {
				rep.NextSteps = append(rep.NextSteps, nextSteps(cfg)...)
			} else {
				rep.NextSteps = append(rep.NextSteps, fmt.Sprintf("fix what the gateway's failure above says, then run `%s up` again", flowgateCmd(cfg)))
			}
			if a.jsonOut {
				if err := a.printJSON(rep); err != nil {
					return err
				}
			} else {
				if rep.Initialized {
					fmt.Fprintf(a.stdout, "initialized %s\n", cfg.File)
				}
				fmt.Fprintf(a.stdout, "profile=%s\n", rep.Profile)
				for _, r := range rep.Results {
					fmt.Fprintln(a.stdout, r.String())
					for _, l := range r.LogTail {
						fmt.Fprintf(a.stdout, "    | %s\n", l)
					}
				}
				for _, s := range rep.Skipped {
					fmt.Fprintf(a.stdout, "%s: skipped (not installed)\n", s)
				}
				if gwErr := gatewayFailure(rep.Results); gwErr != "" {
					fmt.Fprintf(a.stdout, "\nFlowGate gateway is NOT running on %s: %s\n", rep.GatewayURL, gwErr)
				} else {
					fmt.Fprintf(a.stdout, "\nFlowGate gateway: %s (OpenAI: %s/v1, Anthropic: %s)\n", rep.GatewayURL, rep.GatewayURL, rep.GatewayURL)
				}
				fmt.Fprintln(a.stdout, "Next steps:")
				for _, s := range rep.NextSteps {
					fmt.Fprintf(a.stdout, "  - %s\n", s)
				}
			}
			if !supervisor.AllOK(rep.Results) {
				return silent(ExitFailed)
			}
			return nil
		},
	}
}

// gatewayFailure is the error of the gateway's start, if it failed.
func gatewayFailure(results []supervisor.Result) string {
	for _, r := range results {
		if r.Service == config.ServiceGateway && !r.OK() {
			return r.Error
		}
	}
	return ""
}

// nextSteps tells a new user what to do after up.
func nextSteps(cfg *config.Config) []string {
	c := flowgateCmd(cfg)
	steps := []string{}
	if files, _ := filepath.Glob(filepath.Join(cfg.Paths.AuthDir, "*.json")); len(files) == 0 {
		steps = append(steps, fmt.Sprintf("log in to a provider: `%s auth login codex` (or copilot), or import Codex CLI's login: `%s auth import-headless codex`", c, c))
	}
	steps = append(steps,
		fmt.Sprintf("point Claude Code at the gateway: `%s integration apply claude-code`", c),
		fmt.Sprintf("point Codex at the gateway: `%s integration apply codex` (then export %s=<gateway key from %s>)", c, cfg.Integration.EnvKey, secretPath(cfg, secretGatewayKey)),
		fmt.Sprintf("check everything: `%s health` and `%s doctor`", c, c),
	)
	return steps
}

func relOrAbs(p string) string {
	wd, err := os.Getwd()
	if err != nil {
		return p
	}
	if rel, err := filepath.Rel(wd, p); err == nil && !filepath.IsAbs(rel) && len(rel) < len(p) && rel[0] != '.' {
		return rel
	}
	return p
}

func (a *app) downCommand() *cobra.Command {
	return &cobra.Command{
		Use:     "down",
		Short:   "Stop every service (gateway first, then cliproxyapi_plus)",
		Example: "  flowgate down\n  flowgate down --json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := a.loadOps()
			if cfg == nil {
				return err
			}
			results := a.runServices(ctxOf(cmd), cfg, supervisor.ActionExit, cfg.ServiceOrder)
			return a.printResults(results)
		},
	}
}
