package cli

import (
	"context"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/flowgate/flowgate/internal/config"
	"github.com/flowgate/flowgate/internal/release"
	rt "github.com/flowgate/flowgate/internal/runtime"
	"github.com/flowgate/flowgate/internal/supervisor"
)

func (a *app) bootstrapCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bootstrap",
		Short: "Install CLIProxyAPIPlus (download) and the LiteLLM engine (litellm)",
		Example: `  flowgate bootstrap download
  flowgate bootstrap download --cliproxy-version v6.8.16-0
  flowgate bootstrap status
  flowgate bootstrap update --yes`,
	}
	var opts release.Options
	var skipVerify bool
	addReleaseFlags := func(c *cobra.Command) {
		c.Flags().StringVar(&opts.Repo, "cliproxy-repo", release.DefaultRepo, "GitHub repository OWNER/NAME")
		c.Flags().StringVar(&opts.BaseURL, "base-url", release.DefaultBaseURL, "GitHub API base URL (a mirror, or a test server)")
		c.Flags().BoolVar(&skipVerify, "insecure-skip-verify", false, "install even when checksums.txt lacks the archive (a checksum mismatch is always refused)")
	}
	download := &cobra.Command{
		Use:   "download",
		Short: "Download CLIProxyAPIPlus into .router/runtime/bin, verified by sha256",
		Long: `download resolves the release, picks the archive for this OS and architecture,
verifies its sha256 against the release's checksums.txt, checks the extracted
binary runs on this platform and renames it into .router/runtime/bin/CLIProxyAPIPlus
(a running binary is never overwritten in place: a running cliproxyapi_plus
keeps the previous one until ` + "`flowgate service restart cliproxyapi_plus`" + `).
GITHUB_TOKEN is used when set. --json adds restart_needed.`,
		Example: "  flowgate bootstrap download\n  flowgate bootstrap download --cliproxy-version latest",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := a.load()
			if err != nil {
				return err
			}
			if err := layoutOf(cfg).Ensure(); err != nil {
				return err
			}
			o := a.releaseOptions(cfg, opts, skipVerify)
			running := cliproxyPid(cfg)
			res, err := release.Download(ctxOf(cmd), o)
			if err != nil {
				return failed("bootstrap download: %v", err)
			}
			if a.jsonOut {
				return a.printJSON(downloadReport{DownloadResult: res, RestartNeeded: running != 0})
			}
			for _, l := range res.Lines() {
				fmt.Fprintln(a.stdout, l)
			}
			if running != 0 {
				fmt.Fprintf(a.stderr, "cliproxyapi_plus still runs the previous binary (pid %d); to run %s, run: %s service restart %s\n",
					running, res.Version, flowgateCmd(cfg), config.ServiceCLIProxy)
			}
			return nil
		},
	}
	download.Flags().StringVar(&opts.Version, "cliproxy-version", release.DefaultVersion, "release tag, or latest")
	addReleaseFlags(download)

	status := &cobra.Command{
		Use:     "status",
		Short:   "Show installed versions of CLIProxyAPIPlus and LiteLLM",
		Example: "  flowgate bootstrap status --json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := a.load()
			if err != nil {
				return err
			}
			cp := release.InstalledStatus(cfg.Paths.RuntimeDir)
			ll := liteLLMStatus(cfg)
			if a.jsonOut {
				return a.printJSON(map[string]any{"cliproxyapi_plus": cp, "litellm": ll})
			}
			for _, l := range cp.Lines() {
				fmt.Fprintln(a.stdout, l)
			}
			for _, l := range ll.lines() {
				fmt.Fprintln(a.stdout, l)
			}
			return nil
		},
	}

	var yes bool
	update := &cobra.Command{
		Use:   "update",
		Short: "Install the latest CLIProxyAPIPlus release when newer; restart it if it runs, rolling back when the new one fails",
		Long: `update compares the installed version with the latest release. With --yes (or
after confirming on a terminal) it downloads and verifies the new binary before
touching anything, installs it, and restarts cliproxyapi_plus when it was
running. When the new binary does not become ready, the previous binary (and
its recorded version) is put back and started again, and update exits 1
saying so.

--json prints {"updated", "check", "installed", "restart", "rolled_back",
"rollback_restart", "error"}.`,
		Example: "  flowgate bootstrap update\n  flowgate bootstrap update --yes",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := a.load()
			if err != nil {
				return err
			}
			o := a.releaseOptions(cfg, opts, skipVerify)
			ctx := ctxOf(cmd)
			check, err := release.CheckUpdate(ctx, o)
			if err != nil {
				return failed("bootstrap update: %v", err)
			}
			if !check.UpdateAvailable {
				if a.jsonOut {
					return a.printJSON(map[string]any{"updated": false, "check": check})
				}
				fmt.Fprintf(a.stdout, "cliproxyapi_plus:up_to_date current=%s\n", check.Current)
				return nil
			}
			if !yes {
				if a.jsonOut || !isTerminal(os.Stdin) {
					if !a.jsonOut {
						for _, l := range check.Lines() {
							fmt.Fprintln(a.stdout, l)
						}
					}
					return usage("an update is available (%s -> %s); rerun with --yes to install it", check.Current, check.Latest)
				}
				fmt.Fprintf(a.stdout, "Update CLIProxyAPIPlus %s -> %s? [y/N] ", orDefault(check.Current, "unknown"), check.Latest)
				var answer string
				fmt.Fscanln(a.stdin, &answer)
				if answer != "y" && answer != "Y" && answer != "yes" {
					fmt.Fprintln(a.stdout, "cliproxyapi_plus:update_cancelled")
					return nil
				}
			}
			if err := layoutOf(cfg).Ensure(); err != nil {
				return err
			}
			o.Version = check.Latest
			rep := a.update(ctx, cfg, o)
			rep.Check = check
			if a.jsonOut {
				if err := a.printJSON(rep); err != nil {
					return err
				}
			} else {
				a.printUpdate(rep)
			}
			if rep.Error != "" {
				return silent(ExitFailed)
			}
			return nil
		},
	}
	update.Flags().BoolVarP(&yes, "yes", "y", false, "install without asking")
	addReleaseFlags(update)

	cmd.AddCommand(download, status, update, a.bootstrapLiteLLMCommand())
	return cmd
}

// downloadReport is `bootstrap download --json`: the installed binary, and
// whether a running cliproxyapi_plus still runs the previous one.
type downloadReport struct {
	*release.DownloadResult
	RestartNeeded bool `json:"restart_needed"`
}

// updateReport is `bootstrap update --json` after an update was attempted.
type updateReport struct {
	Updated bool                 `json:"updated"`
	Check   *release.UpdateCheck `json:"check"`
	// Installed is the new binary; nil when the download or its
	// verification failed (nothing was changed then).
	Installed *release.DownloadResult `json:"installed"`
	// Restart is the restart onto the new binary; nil when cliproxyapi_plus
	// was not running.
	Restart *supervisor.Result `json:"restart"`
	// RolledBack is true when the new binary did not become ready and the
	// previous one was put back; RollbackRestart is its start.
	RolledBack      bool               `json:"rolled_back"`
	RollbackRestart *supervisor.Result `json:"rollback_restart"`
	// Previous is the version that was installed before ("" when unknown).
	Previous string `json:"previous"`
	// Error says what failed and what to do next; "" on success.
	Error string `json:"error,omitempty"`
}

// update installs o.Version over the installed CLIProxyAPIPlus. Nothing is
// touched until the new binary is downloaded and verified; a running
// cliproxyapi_plus is then restarted onto it, and when that restart does not
// reach ready the previous binary is put back and restarted.
func (a *app) update(ctx context.Context, cfg *config.Config, o release.Options) *updateReport {
	rep := &updateReport{}
	layout := layoutOf(cfg)
	running := cliproxyPid(cfg) != 0
	prev, err := release.KeepPrevious(cfg.Paths.RuntimeDir)
	if err != nil {
		rep.Error = fmt.Sprintf("bootstrap update: %v; nothing was changed", err)
		return rep
	}
	if prev != nil {
		rep.Previous = prev.Version
	}
	discard := func() {
		if prev != nil {
			_ = prev.Discard()
		}
	}
	res, err := release.Download(ctx, o)
	if err != nil {
		discard()
		rep.Error = fmt.Sprintf("bootstrap update: %v; the installed binary is unchanged", err)
		return rep
	}
	rep.Installed = res
	if !running {
		discard()
		rep.Updated = true
		_ = layout.Emit(rt.Event{Event: "bootstrap_update", Service: config.ServiceCLIProxy, Result: "success", Detail: "version=" + res.Version})
		return rep
	}
	restart := a.runServices(ctx, cfg, supervisor.ActionRestart, []string{config.ServiceCLIProxy})[0]
	rep.Restart = &restart
	if restart.OK() {
		discard()
		rep.Updated = true
		_ = layout.Emit(rt.Event{Event: "bootstrap_update", Service: config.ServiceCLIProxy, Result: "success", Detail: "version=" + res.Version + " restarted"})
		return rep
	}
	if prev == nil {
		rep.Error = fmt.Sprintf("bootstrap update: %s %s did not become ready and there was no previous binary to put back; read `%s logs %s`",
			config.ServiceCLIProxy, res.Version, flowgateCmd(cfg), config.ServiceCLIProxy)
		_ = layout.Emit(rt.Event{Event: "bootstrap_update", Service: config.ServiceCLIProxy, Result: "failed", Detail: "version=" + res.Version + " not ready, nothing to roll back to"})
		return rep
	}
	if err := prev.Restore(); err != nil {
		rep.Error = fmt.Sprintf("bootstrap update: %s %s did not become ready, and %v; reinstall the previous release with `%s bootstrap download --cliproxy-version %s`, then `%s service restart %s`",
			config.ServiceCLIProxy, res.Version, err, flowgateCmd(cfg), orDefault(prev.Version, release.DefaultVersion), flowgateCmd(cfg), config.ServiceCLIProxy)
		_ = layout.Emit(rt.Event{Event: "bootstrap_update", Service: config.ServiceCLIProxy, Result: "failed", Detail: "version=" + res.Version + " not ready, restore failed"})
		return rep
	}
	rep.RolledBack = true
	back := a.runServices(ctx, cfg, supervisor.ActionRestart, []string{config.ServiceCLIProxy})[0]
	rep.RollbackRestart = &back
	prevName := orDefault(prev.Version, "the previous binary")
	if back.OK() {
		rep.Error = fmt.Sprintf("bootstrap update: %s %s did not become ready, so %s was put back and runs again; see `%s logs %s` for why the new one failed",
			config.ServiceCLIProxy, res.Version, prevName, flowgateCmd(cfg), config.ServiceCLIProxy)
	} else {
		rep.Error = fmt.Sprintf("bootstrap update: %s %s did not become ready; %s was put back but did not start either: read `%s logs %s`, then run `%s service start %s`",
			config.ServiceCLIProxy, res.Version, prevName, flowgateCmd(cfg), config.ServiceCLIProxy, flowgateCmd(cfg), config.ServiceCLIProxy)
	}
	_ = layout.Emit(rt.Event{Event: "bootstrap_update", Service: config.ServiceCLIProxy, Result: "rolled-back", Detail: "version=" + res.Version + " not ready; back to " + prevName})
	return rep
}

// printUpdate prints an update report: data on stdout, failures on stderr.
func (a *app) printUpdate(rep *updateReport) {
	if rep.Installed != nil && !rep.RolledBack {
		fmt.Fprintf(a.stdout, "cliproxyapi_plus:updated version=%s\n", rep.Installed.Version)
	}
	printResult := func(r *supervisor.Result) {
		if r == nil {
			return
		}
		if r.OK() {
			fmt.Fprintln(a.stdout, r.String())
			return
		}
		fmt.Fprintln(a.stderr, r.String())
		for _, l := range r.LogTail {
			fmt.Fprintf(a.stderr, "    | %s\n", l)
		}
	}
	printResult(rep.Restart)
	if rep.RolledBack {
		fmt.Fprintf(a.stdout, "cliproxyapi_plus:rolled_back version=%s not_ready=%s\n", orDefault(rep.Previous, "unknown"), rep.Installed.Version)
	}
	printResult(rep.RollbackRestart)
	if rep.Error != "" {
		fmt.Fprintf(a.stderr, "flowgate: %s\n", rep.Error)
	}
}

// cliproxyPid is the pid of a running cliproxyapi_plus, or 0.
func cliproxyPid(cfg *config.Config) int {
	st, err := supervisorFor(cfg).Inspect(baseSpec(cfg, config.ServiceCLIProxy))
	if err != nil || st.State != supervisor.StateRunning {
		return 0
	}
	return st.Pid
}

// flowgateCmd is how to run flowgate on this config from the current folder.
func (a *app) releaseOptions(cfg *config.Config, o release.Options, skipVerify bool) release.Options {
	o.RuntimeDir = cfg.Paths.RuntimeDir
	o.InsecureSkipVerify = skipVerify
	o.Events = layoutOf(cfg).Emitter()
	if !a.jsonOut {
		o.Progress = a.stderr
	}
	return o
}

func ctxOf(cmd *cobra.Command) context.Context {
	if cmd.Context() != nil {
		return cmd.Context()
	}
	return context.Background()
}

// isTerminal reports whether f is a character device (an interactive terminal).
func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
