package cli

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

func (a *app) logsCommand() *cobra.Command {
	var follow bool
	var n int
	cmd := &cobra.Command{
		Use:   "logs [NAME]",
		Short: "Show process logs from .router/runtime/process-logs (default gateway)",
		Long: `logs prints the last N lines of a service's log (stdout and stderr of the
child). -f keeps following it across rotations until interrupted.`,
		Example: "  flowgate logs\n  flowgate logs cliproxyapi_plus -n 100\n  flowgate logs gateway -f",
		Args:    cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := a.load()
			if err != nil {
				return err
			}
			name := "gateway"
			if len(args) == 1 {
				name = args[0]
			}
			if _, ok := cfg.Services[name]; !ok {
				names, _ := serviceNames(cfg, "all")
				return usage("unknown service %q; services: %v", name, names)
			}
			sup := supervisorFor(cfg)
			if follow {
				ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
				defer stop()
				return sup.FollowLog(ctx, name, n, a.stdout)
			}
			lines, err := sup.TailLog(name, n)
			if err != nil {
				return failed("reading %s: %v", sup.LogPath(name), err)
			}
			if len(lines) == 0 {
				fmt.Fprintf(a.stderr, "no log yet at %s; start the service with `flowgate service start %s`\n", sup.LogPath(name), name)
			}
			for _, l := range lines {
				fmt.Fprintln(a.stdout, l)
			}
			return nil
		},
	}
	cmd.Flags().BoolVarP(&follow, "follow", "f", false, "keep printing new lines")
	cmd.Flags().IntVarP(&n, "lines", "n", 50, "how many of the last lines to show")
	return cmd
}
