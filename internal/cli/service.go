package cli

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/flowgate/flowgate/internal/config"
	"github.com/flowgate/flowgate/internal/supervisor"
)

func (a *app) serviceCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "service",
		Short: "Start, stop or restart services (all, gateway, cliproxyapi_plus)",
		Long: `service supervises FlowGate's children. all starts in dependency order
(cliproxyapi_plus before the gateway that routes to it) and stops in reverse.
A start waits until the service answers its readiness probe; a port held by
another process, a missing binary or a child that exits early is reported with
what to do next, and the other services are still handled.`,
		Example: `  flowgate service start all
  flowgate service restart gateway
  flowgate service stop all --json`,
	}
	for _, action := range []string{supervisor.ActionStart, supervisor.ActionStop, supervisor.ActionRestart} {
		action := action
		cmd.AddCommand(&cobra.Command{
			Use:     action + " [all|NAME]",
			Short:   action + " services (default all)",
			Example: fmt.Sprintf("  flowgate service %s\n  flowgate service %s gateway", action, action),
			Args:    cobra.MaximumNArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				load := a.load
				if action == supervisor.ActionStop {
					load = a.loadOps
				}
				cfg, err := load()
				if cfg == nil {
					return err
				}
				target := "all"
				if len(args) == 1 {
					target = args[0]
				}
				names, err := serviceNames(cfg, target)
				if err != nil {
					return err
				}
				results := a.runServices(cmd.Context(), cfg, action, names)
				return a.printResults(results)
			},
		})
	}
	cmd.AddCommand(a.serviceRunCommand())
	cmd.AddCommand(a.serviceInstallCommands()...)
	return cmd
}

// runServices performs action on names (dependency order; stop reverses)
// through the supervisor, which starts one when none runs: the supervisor
// is the parent of every service and restarts them when they exit. A stop
// with no supervisor running stops the services by their pid files.
// Services whose binary is missing fail with the install command and the
// others are still handled.
func (a *app) runServices(ctx context.Context, cfg *config.Config, action string, names []string) []supervisor.Result {
	if ctx == nil {
		ctx = context.Background()
	}
	layout := layoutOf(cfg)
	if err := layout.Ensure(); err != nil {
		return []supervisor.Result{{Service: "all", Action: action, Result: supervisor.ResultFailed, Error: err.Error()}}
	}
	stopping := action == supervisor.ActionStop || action == supervisor.ActionExit
	if !stopping && cfg.Services[config.ServiceGateway] != nil {
		// A newer flowgate than the installed copy: install it before the
		// supervisor starts the gateway from it.
		if _, err := installSelf(layout); err != nil {
			return []supervisor.Result{{Service: "all", Action: action, Result: supervisor.ResultFailed, Error: err.Error()}}
		}
	}
	kc, err := a.keeperFor(ctx, cfg, !stopping)
	if err == nil && kc == nil {
		sup := supervisorFor(cfg)
		var results []supervisor.Result
		for i := len(names) - 1; i >= 0; i-- {
			results = append(results, sup.Stop(ctx, baseSpec(cfg, names[i])))
		}
		return results
	}
	var results []supervisor.Result
	if err == nil {
		before, _, _ := supervisor.ReadKeeperState(keeperStatePath(layout))
		results, err = kc.Do(ctx, supervisor.Request{Action: action, Services: names, Env: os.Environ()})
		if err == nil && action == supervisor.ActionExit {
			// down returns once the supervisor is gone, so nothing is
			// left that could start a service again.
			waitKeeperGone(ctx, before, 10*time.Second)
		}
	}
	if err != nil {
		return []supervisor.Result{{Service: "all", Action: action, Result: supervisor.ResultFailed,
			Error: fmt.Sprintf("%v; see `flowgate logs supervisor`", err)}}
	}
	return results
}

func waitKeeperGone(ctx context.Context, st *supervisor.KeeperState, within time.Duration) {
	deadline := time.Now().Add(within)
	for st.Alive() && time.Now().Before(deadline) && ctx.Err() == nil {
		time.Sleep(20 * time.Millisecond)
	}
}

func (a *app) printResults(results []supervisor.Result) error {
	if a.jsonOut {
		if err := a.printJSON(map[string]any{"ok": supervisor.AllOK(results), "results": results}); err != nil {
			return err
		}
	} else {
		for _, r := range results {
			if r.OK() {
				fmt.Fprintln(a.stdout, r.String())
				continue
			}
			fmt.Fprintln(a.stderr, r.String())
			for _, l := range r.LogTail {
				fmt.Fprintf(a.stderr, "    | %s\n", l)
			}
		}
	}
	if !supervisor.AllOK(results) {
		return silent(ExitFailed)
	}
	return nil
}
