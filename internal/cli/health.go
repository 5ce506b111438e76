package cli

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/flowgate/flowgate/internal/config"
	"github.com/flowgate/flowgate/internal/supervisor"
)

type healthLine struct {
	Service   string                 `json:"service"`
	Liveness  bool                   `json:"liveness_ok"`
	State     supervisor.State       `json:"state"`
	Pid       int                    `json:"pid,omitempty"`
	Readiness supervisor.ProbeResult `json:"readiness"`
	Hint      string                 `json:"hint,omitempty"`
}

func (a *app) healthCommand() *cobra.Command {
	var timeout time.Duration
	var probe bool
	cmd := &cobra.Command{
		Use:   "health",
		Short: "Check liveness and readiness of every service; exit 1 when anything is not ready",
		Long: `health checks each service's liveness (its process is alive and still the one
FlowGate started) and readiness (HTTP GET of its readiness_path; only 2xx is
ready). A readiness=fail line says why (connection refused, status code,
timeout) and what to look at. For a ready builtin gateway it also lists each
deployment: healthy, cooling until when, or auth_failed since when (the
upstream refused its credential), with its last error; --probe makes a minimal
real request to each upstream.

It also fails, with an auth: line naming the command that fixes it, when an
alias routes through CLIProxyAPIPlus to a provider whose login is missing,
expired or rejected (from CLIProxyAPIPlus's account list when it runs, else
the files in the auths folder, and the gateway's auth_failed deployments).`,
		Example: "  flowgate health\n  flowgate health --probe\n  flowgate health --json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := a.load()
			if err != nil {
				return err
			}
			lines := checkHealth(cmd.Context(), cfg, timeout)
			ok := true
			gatewayReady := false
			for _, l := range lines {
				ok = ok && l.Liveness && l.Readiness.OK
				if l.Service == config.ServiceGateway {
					gatewayReady = l.Liveness && l.Readiness.OK
				}
			}
			var deps *gatewayHealth
			var depErr error
			if gatewayReady && cfg.Services[config.ServiceGateway].Engine == config.EngineBuiltin {
				deps, depErr = fetchDeployments(ctxOf(cmd), cfg, probe)
			}
			var authProblems []loginFinding
			for _, f := range checkLogins(ctxOf(cmd), cfg, managementClientIfRunning(cfg), deps) {
				if f.Problem != "" {
					authProblems = append(authProblems, f)
				}
			}
			ok = ok && len(authProblems) == 0
			if a.jsonOut {
				out := map[string]any{"ok": ok, "services": lines, "auth": authProblems}
				if authProblems == nil {
					out["auth"] = []loginFinding{}
				}
				if deps != nil {
					out["gateway_deployments"] = deps.Deployments
					out["gateway_warnings"] = append([]string{}, deps.Warnings...)
				}
				if err := a.printJSON(out); err != nil {
					return err
				}
			} else {
				for _, l := range lines {
					live, ready := "ok", "ok"
					if !l.Liveness {
						live = "fail"
					}
					if !l.Readiness.OK {
						ready = "fail"
					}
					code := "n/a"
					if l.Readiness.Code != 0 {
						code = fmt.Sprint(l.Readiness.Code)
					}
					fmt.Fprintf(a.stdout, "%s: liveness=%s readiness=%s state=%s readiness_code=%s readiness_error=%s readiness_url=%s\n",
						l.Service, live, ready, l.State, code, orDefault(errKind(l.Readiness), "none"), l.Readiness.URL)
					if l.Hint != "" {
						fmt.Fprintf(a.stdout, "  hint: %s\n", l.Hint)
					}
					if l.Service == config.ServiceGateway && deps != nil {
						for _, d := range deps.Deployments {
							fmt.Fprintln(a.stdout, d.line())
						}
						for _, w := range deps.Warnings {
							fmt.Fprintf(a.stdout, "  warning: %s\n", w)
						}
					}
					if l.Service == config.ServiceGateway && depErr != nil {
						fmt.Fprintf(a.stdout, "  deployments: unavailable (%v)\n", depErr)
					}
				}
				for _, f := range authProblems {
					fmt.Fprintf(a.stdout, "auth: %s\n  routes: %s\n", f.Problem, strings.Join(f.Aliases, ", "))
				}
			}
			if !ok {
				return silent(ExitFailed)
			}
			return nil
		},
	}
	cmd.Flags().DurationVar(&timeout, "timeout", 2*time.Second, "per-probe timeout")
	cmd.Flags().BoolVar(&probe, "probe", false, "also send a minimal real request to every upstream deployment")
	return cmd
}

func errKind(p supervisor.ProbeResult) string {
	if p.OK {
		return ""
	}
	return p.Kind
}

func checkHealth(ctx context.Context, cfg *config.Config, timeout time.Duration) []healthLine {
	if ctx == nil {
		ctx = context.Background()
	}
	sup := supervisorFor(cfg)
	ks, keeperAlive, _ := supervisor.ReadKeeperState(keeperStatePath(layoutOf(cfg)))
	var lines []healthLine
	for _, name := range cfg.ServiceOrder {
		spec := baseSpec(cfg, name)
		st, _ := sup.Inspect(spec)
		l := healthLine{Service: name, State: st.State, Pid: st.Pid, Liveness: st.State == supervisor.StateRunning}
		l.Readiness = supervisor.Probe(ctx, spec.ReadinessURL, timeout)
		l.Hint = healthHint(cfg, name, st, l.Readiness)
		if k, ok := keeperView(ks, keeperAlive, name); ok && k.Desired && !l.Readiness.OK && k.Note != "" {
			// The supervisor knows more: it is restarting it, or gave up.
			l.Hint = k.Note
		}
		lines = append(lines, l)
	}
	return lines
}

// keeperView is how a live supervisor sees name.
func keeperView(ks *supervisor.KeeperState, alive bool, name string) (supervisor.KeptStatus, bool) {
	if ks == nil || !alive {
		return supervisor.KeptStatus{}, false
	}
	k, ok := ks.Services[name]
	return k, ok
}

func healthHint(cfg *config.Config, name string, st supervisor.Status, p supervisor.ProbeResult) string {
	logs := fmt.Sprintf("see `flowgate logs %s` (.router/runtime/process-logs/%s.log)", name, name)
	switch {
	case st.State == supervisor.StateRunning && p.OK:
		return ""
	case st.State == supervisor.StateStale:
		return "the pid file names another process; run `flowgate service restart " + name + "`"
	case st.State != supervisor.StateRunning && st.PortHolder != nil:
		// Starting it would fail: the port is taken. Name who holds it.
		port := cfg.Services[name].Port
		return fmt.Sprintf("port %d is held by %s, not started by FlowGate; stop that process (`%s` shows it) or change services.%s.port, then run `flowgate service start %s`",
			port, st.PortHolder, supervisor.LsofCommand(port), name, name)
	case st.State != supervisor.StateRunning && p.OK:
		return fmt.Sprintf("something not started by FlowGate answers on port %d; `%s` shows who", cfg.Services[name].Port, supervisor.LsofCommand(cfg.Services[name].Port))
	case st.State == supervisor.StateCrashed:
		return "the process died; " + logs + ", then `flowgate service start " + name + "`"
	case st.State == supervisor.StateStopped:
		return "not running; start it with `flowgate service start " + name + "`"
	case p.Kind == supervisor.ProbeStatus:
		return fmt.Sprintf("it answered %d on %s; check readiness_path (services.%s.readiness_path) and %s", p.Code, p.URL, name, logs)
	case p.Kind == supervisor.ProbeTimeout:
		return "it did not answer in time; it may be overloaded or stuck: " + logs
	default:
		return "it runs but does not answer on its port; " + logs
	}
}
