package cli

import (
	"context"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/flowgate/flowgate/internal/config"
	"github.com/flowgate/flowgate/internal/release"
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
(a running binary is never overwritten in place). GITHUB_TOKEN is used when set.`,
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
			res, err := release.Download(ctxOf(cmd), o)
			if err != nil {
				return failed("bootstrap download: %v", err)
			}
			if a.jsonOut {
				return a.printJSON(res)
			}
			for _, l := range res.Lines() {
				fmt.Fprintln(a.stdout, l)
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
		Short: "Install the latest CLIProxyAPIPlus release when newer, then restart the service if it runs",
		Long: `update compares the installed version with the latest release. With --yes (or
after confirming on a terminal) it installs the new binary and restarts
cliproxyapi_plus when it was running.`,
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
			res, err := release.Download(ctx, o)
			if err != nil {
				return failed("bootstrap update: %v", err)
			}
			var restarted *supervisor.Result
			spec := baseSpec(cfg, config.ServiceCLIProxy)
			if st, _ := supervisorFor(cfg).Inspect(spec); st.State == supervisor.StateRunning {
				rs := a.runServices(ctx, cfg, supervisor.ActionRestart, []string{config.ServiceCLIProxy})
				restarted = &rs[0]
			}
			if a.jsonOut {
				return a.printJSON(map[string]any{"updated": true, "check": check, "installed": res, "restart": restarted})
			}
			fmt.Fprintf(a.stdout, "cliproxyapi_plus:updated version=%s\n", res.Version)
			if restarted != nil {
				fmt.Fprintln(a.stdout, restarted.String())
				if !restarted.OK() {
					return silent(ExitFailed)
				}
			}
			return nil
		},
	}
	update.Flags().BoolVarP(&yes, "yes", "y", false, "install without asking")
	addReleaseFlags(update)

	cmd.AddCommand(download, status, update, a.bootstrapLiteLLMCommand())
	return cmd
}

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
