package cli

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/flowgate/flowgate/internal/config"
	"github.com/flowgate/flowgate/internal/osservice"
	rt "github.com/flowgate/flowgate/internal/runtime"
	"github.com/flowgate/flowgate/internal/supervisor"
)

type statusReport struct {
	CurrentProfile   string               `json:"current_profile"`
	UpdatedAt        string               `json:"updated_at"`
	GatewayEngine    string               `json:"gateway_engine"`
	Services         []supervisor.Status  `json:"services"`
	SecretIssues     int                  `json:"secret_permission_issues"`
	SecretIssuePaths []rt.PermissionIssue `json:"secret_permission_issue_paths"`
	Config           string               `json:"config"`
	CLIProxyConfig   string               `json:"cliproxyapi_plus_config"`
	Supervisor       supervisorSummary    `json:"supervisor"`
	OSService        osservice.Status     `json:"os_service"`
}

// supervisorSummary says whether a supervisor keeps the services up.
type supervisorSummary struct {
	Running   bool      `json:"running"`
	Pid       int       `json:"pid,omitempty"`
	StartedAt time.Time `json:"started_at,omitzero"`
	Note      string    `json:"note,omitempty"`
}

func (s supervisorSummary) String() string {
	if s.Running {
		return fmt.Sprintf("supervisor: running pid=%d (restarts services that exit)", s.Pid)
	}
	return "supervisor: not running (" + s.Note + ")"
}

func (a *app) statusCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "Show services, the active profile and secret permission issues (read-only)",
		Long: `status shows, per service, its state (running, stopped, crashed, stale pid),
pid, uptime, port and whether something else holds that port; the active profile
and when it was set; the gateway engine; and secret files with permissions wider
than 0600 (secret_permission_issues=N). It creates no files.`,
		Example: "  flowgate status\n  flowgate status --json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) (err error) {
			cfg, cfgErr := a.loadOps()
			if cfg == nil {
				return cfgErr
			}
			rep := buildStatus(cfg)
			rep.OSService = osServiceStatus(ctxOf(cmd))
			if cfgErr != nil {
				defer func() { err = &exitError{code: ExitUsage, err: cfgErr, quiet: true} }()
			}
			if a.jsonOut {
				if err := a.printJSON(rep); err != nil {
					return err
				}
				return rep.exit()
			}
			fmt.Fprintf(a.stdout, "current_profile=%s\nupdated_at=%s\ngateway_engine=%s\n", rep.CurrentProfile, rep.UpdatedAt, rep.GatewayEngine)
			for _, s := range rep.Services {
				fmt.Fprintln(a.stdout, s.String())
				if s.Note != "" {
					fmt.Fprintf(a.stdout, "  note: %s\n", s.Note)
				}
			}
			fmt.Fprintln(a.stdout, rep.Supervisor.String())
			fmt.Fprintln(a.stdout, rep.OSService.Line())
			fmt.Fprintf(a.stdout, "secret_permission_issues=%d\n", rep.SecretIssues)
			for _, i := range rep.SecretIssuePaths {
				fmt.Fprintf(a.stdout, "  %s %s (fix: %s)\n", i.ModeString, i.Path, i.Fix)
			}
			return rep.exit()
		},
	}
}

func buildStatus(cfg *config.Config) statusReport {
	st, _ := rt.ReadState(cfg.Paths.StateFile)
	rep := statusReport{
		CurrentProfile: orDefault(st.CurrentProfile, "unknown"),
		UpdatedAt:      "unknown",
		GatewayEngine:  cfg.Services[config.ServiceGateway].Engine,
		Config:         cfg.File,
		CLIProxyConfig: cfg.Services[config.ServiceCLIProxy].ConfigFile,
	}
	if !st.UpdatedAt.IsZero() {
		rep.UpdatedAt = st.UpdatedAt.UTC().Format(time.RFC3339)
	}
	sup := supervisorFor(cfg)
	ks, keeperAlive, kerr := supervisor.ReadKeeperState(keeperStatePath(layoutOf(cfg)))
	switch {
	case kerr != nil:
		rep.Supervisor.Note = kerr.Error()
	case keeperAlive:
		rep.Supervisor = supervisorSummary{Running: true, Pid: ks.Pid, StartedAt: ks.StartedAt}
	default:
		rep.Supervisor.Note = "services that exit are not restarted; `flowgate up` or `flowgate service start` starts it"
	}
	for _, name := range cfg.ServiceOrder {
		s, err := sup.Inspect(baseSpec(cfg, name))
		if err != nil {
			s = supervisor.Status{Service: name, State: "unknown", Note: err.Error()}
		}
		if k, ok := keeperView(ks, keeperAlive, name); ok {
			s.Keeper = &k
			if k.Desired && k.Note != "" && s.State != supervisor.StateRunning {
				s.Note = k.Note
			}
		}
		rep.Services = append(rep.Services, s)
	}
	rep.SecretIssuePaths = auditSecrets(cfg)
	rep.SecretIssues = len(rep.SecretIssuePaths)
	if rep.SecretIssuePaths == nil {
		rep.SecretIssuePaths = []rt.PermissionIssue{}
	}
	return rep
}

// auditSecrets checks every file that holds a secret: auth files, the
// secrets folder and the files the config names (SecretFilesToAudit).
func auditSecrets(cfg *config.Config) []rt.PermissionIssue {
	return rt.AuditSecrets(cfg.Paths.AuthDir, cfg.Paths.SecretsDir, cfg.SecretFilesToAudit())
}

// exit is 1 when a service crashed, has a stale pid file or is in a crash
// loop, as health does.
func (rep statusReport) exit() error {
	for _, s := range rep.Services {
		if s.Failing() {
			return silent(ExitFailed)
		}
	}
	return nil
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}
