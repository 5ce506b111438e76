package cli

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/flowgate/flowgate/internal/cliproxy"
	"github.com/flowgate/flowgate/internal/config"
	rt "github.com/flowgate/flowgate/internal/runtime"
	"github.com/flowgate/flowgate/internal/supervisor"
)

func (a *app) authCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "auth",
		Short: "Log in to Codex and GitHub Copilot through CLIProxyAPIPlus, import a Codex CLI login, check credentials",
		Example: `  flowgate auth list
  flowgate auth status
  flowgate auth login codex --timeout 30 --poll-interval 2
  flowgate auth login copilot --no-browser
  flowgate auth import-headless codex --source ~/.codex/auth.json`,
	}
	cmd.AddCommand(a.authListCommand(), a.authStatusCommand(), a.authLoginCommand(), a.authImportCommand())
	return cmd
}

// providerNames lists configured providers plus the ones FlowGate knows.
func providerNames(cfg *config.Config) []string {
	seen := map[string]bool{}
	for n := range cfg.Auth.Providers {
		seen[n] = true
	}
	for _, p := range cliproxy.Providers() {
		seen[p.Name] = true
	}
	out := make([]string, 0, len(seen))
	for n := range seen {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

func (a *app) authListCommand() *cobra.Command {
	return &cobra.Command{
		Use:     "list",
		Short:   "List providers and which login methods each supports",
		Example: "  flowgate auth list\n  flowgate auth list --json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := a.load()
			if err != nil {
				return err
			}
			type row struct {
				cliproxy.Provider
				Configured bool `json:"configured"`
			}
			var rows []row
			var oauth, headless []string
			for _, name := range providerNames(cfg) {
				p, known := cliproxy.LookupProvider(name)
				if !known {
					p = cliproxy.Provider{Name: name}
				}
				if c, ok := cfg.Auth.Providers[name]; ok {
					if c.AuthURLEndpoint != "" {
						p.AuthURLEndpoint = c.AuthURLEndpoint
					}
					if c.StatusEndpoint != "" {
						p.StatusEndpoint = c.StatusEndpoint
					}
					p.OAuth = p.OAuth || (c.AuthURLEndpoint != "" && c.StatusEndpoint != "")
				}
				_, configured := cfg.Auth.Providers[name]
				rows = append(rows, row{p, configured})
				if p.OAuth {
					oauth = append(oauth, name)
				}
				if p.HeadlessImport {
					headless = append(headless, name)
				}
			}
			if a.jsonOut {
				return a.printJSON(map[string]any{"providers": rows})
			}
			for _, r := range rows {
				fmt.Fprintf(a.stdout, "provider=%s oauth_login=%s headless_import=%s device_flow=%s configured=%s auth_url_endpoint=%s\n",
					r.Name, yesNo(r.OAuth), yesNo(r.HeadlessImport), yesNo(r.DeviceFlow), yesNo(r.Configured), orDefault(r.AuthURLEndpoint, "none"))
			}
			fmt.Fprintf(a.stdout, "oauth_providers=%s\nheadless_import_providers=%s\n", orDefault(strings.Join(oauth, ","), "none"), orDefault(strings.Join(headless, ","), "none"))
			return nil
		},
	}
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// managementClient is a client for the running CLIProxyAPIPlus, or nil with
// the reason when it does not run.
func managementClient(cfg *config.Config) (*cliproxy.Client, error) {
	svc := cfg.Services[config.ServiceCLIProxy]
	pw, err := cliproxy.EnsureManagementPassword(cfg.Paths.SecretsDir)
	if err != nil {
		return nil, err
	}
	return cliproxy.NewClient(svc.Host, svc.Port, pw), nil
}

func (a *app) authStatusCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "Show each account: provider, account, plan, expiry, and CLIProxyAPIPlus's view (loaded, status, disabled, quota)",
		Long: `status lists every account: the credential files in the auths folder (provider,
account, plan, expiry) and, when FlowGate runs CLIProxyAPIPlus, the account as
its management API (GET /v0/management/auth-files) reports it: loaded, status
and status_message (unauthorized, payment_required, quota exhausted), disabled,
unavailable and next_retry_after (its quota state). Accounts CLIProxyAPIPlus
loads from elsewhere are listed too. A login= line per provider an alias routes
to says whether its login is usable and what to run if not. It also counts
secret files with permissions wider than 0600.

--json fields per credential: file, path, provider, type, account, account_id,
plan, expires, expired, disabled, mode, loaded, status, status_message,
unavailable, next_retry_after, elsewhere, problem.`,
		Example: "  flowgate auth status\n  flowgate auth status --json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := a.load()
			if err != nil {
				return err
			}
			var client *cliproxy.Client
			st, _ := supervisorFor(cfg).Inspect(baseSpec(cfg, config.ServiceCLIProxy))
			if st.State == supervisor.StateRunning {
				if client, err = managementClient(cfg); err != nil {
					return failed("%v", err)
				}
			}
			res, err := cliproxy.Status(ctxOf(cmd), cfg.Paths.AuthDir, client, time.Now())
			if err != nil {
				return failed("auth status: %v", err)
			}
			issues := auditSecrets(cfg)
			routes := routedProviders(cfg)
			providers := make([]string, 0, len(routes))
			for p := range routes {
				providers = append(providers, p)
			}
			logins := res.Logins(providers)
			if a.jsonOut {
				return a.printJSON(map[string]any{"default_auth_dir": cfg.Paths.AuthDir, "status": res, "logins": logins, "secret_permission_issues": len(issues), "secret_permission_issue_paths": issues})
			}
			fmt.Fprintf(a.stdout, "default_auth_dir=%s\n", cfg.Paths.AuthDir)
			for _, l := range res.Lines() {
				if strings.HasPrefix(l, "secret_permission_issues=") {
					continue
				}
				fmt.Fprintln(a.stdout, l)
			}
			for _, l := range logins {
				line := fmt.Sprintf("login=%s state=%s aliases=%s", l.Provider, l.State, strings.Join(routes[l.Provider], ","))
				if p := l.Problem(); p != "" {
					line += " problem=" + strconv.Quote(p)
				}
				fmt.Fprintln(a.stdout, line)
			}
			fmt.Fprintf(a.stdout, "secret_permission_issues=%d\n", len(issues))
			for _, i := range issues {
				fmt.Fprintf(a.stdout, "  %s %s (fix: %s)\n", i.ModeString, i.Path, i.Fix)
			}
			return nil
		},
	}
}

func (a *app) authLoginCommand() *cobra.Command {
	var timeout, interval float64
	var noBrowser bool
	cmd := &cobra.Command{
		Use:   "login PROVIDER",
		Short: "Log in to codex or copilot through the running CLIProxyAPIPlus",
		Long: `login starts the provider's OAuth flow in CLIProxyAPIPlus, prints login_url=
(and for Copilot user_code= to type), opens a browser when there is a display,
and waits until CLIProxyAPIPlus has saved the new credential. For Codex, when
the browser's redirect to localhost:1455 cannot reach this machine, paste the
final URL from the address bar here. Success prints oauth_status=success and the
saved file, and logs an oauth_login event.`,
		Example: "  flowgate auth login codex\n  flowgate auth login copilot --timeout 300 --no-browser",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := a.load()
			if err != nil {
				return err
			}
			name := args[0]
			layout := layoutOf(cfg)
			known := map[string]bool{}
			for _, n := range providerNames(cfg) {
				known[n] = true
			}
			if !known[name] {
				_ = layout.Emit(rt.Event{Event: "oauth_login", Provider: name, Result: "failed", Detail: "provider-not-configured"})
				return usage("OAuth provider not configured: %s; available=%s", name, strings.Join(providerNames(cfg), ","))
			}
			if timeout <= 0 || interval <= 0 {
				return usage("--timeout and --poll-interval must be positive seconds")
			}
			if err := layout.Ensure(); err != nil {
				return err
			}
			client, err := managementClient(cfg)
			if err != nil {
				return failed("%v", err)
			}
			pc := cfg.Auth.Providers[name]
			res, err := client.Login(ctxOf(cmd), cliproxy.LoginOptions{
				Provider:        name,
				AuthURLEndpoint: pc.AuthURLEndpoint,
				StatusEndpoint:  pc.StatusEndpoint,
				Timeout:         time.Duration(timeout * float64(time.Second)),
				PollInterval:    time.Duration(interval * float64(time.Second)),
				NoBrowser:       noBrowser,
				Out:             a.stdout,
				Prompt:          a.stderr,
				In:              a.stdin,
				Events:          layout.Emitter(),
			})
			if err != nil {
				return failed("OAuth login failed: %v", err)
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
	cmd.Flags().Float64Var(&timeout, "timeout", 120, "seconds to wait for the login to finish")
	cmd.Flags().Float64Var(&interval, "poll-interval", 2, "seconds between status polls")
	cmd.Flags().BoolVar(&noBrowser, "no-browser", false, "print the login URL without opening a browser")
	return cmd
}

func (a *app) authImportCommand() *cobra.Command {
	var source, dest string
	cmd := &cobra.Command{
		Use:   "import-headless codex",
		Short: "Import Codex CLI's login (~/.codex/auth.json) as a CLIProxyAPIPlus credential",
		Long: `import-headless converts Codex CLI's auth.json ($CODEX_HOME/auth.json or
~/.codex/auth.json) into CLIProxyAPIPlus's codex credential format, named as
CLIProxyAPIPlus names it, written atomically at 0600 into the auths folder. It
never overwrites another account's file. The refresh token is then shared by
both tools; see the warning it prints.`,
		Example: "  flowgate auth import-headless codex\n  flowgate auth import-headless codex --source /mnt/laptop/.codex/auth.json",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := a.load()
			if err != nil {
				return err
			}
			p, ok := cliproxy.LookupProvider(args[0])
			if !ok || !p.HeadlessImport {
				return usage("headless import not supported for provider=%s; supported=codex", args[0])
			}
			if dest == "" {
				dest = cfg.Paths.AuthDir
			}
			layout := layoutOf(cfg)
			res, err := cliproxy.ImportHeadless(cliproxy.ImportOptions{Provider: args[0], Source: source, DestDir: dest, Events: layout.Emitter()})
			if err != nil {
				return failed("headless import failed: %v", err)
			}
			if res.Warning != "" {
				fmt.Fprintf(a.stderr, "warning: %s\n", res.Warning)
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
	cmd.Flags().StringVar(&source, "source", "", "Codex CLI auth.json (default $CODEX_HOME/auth.json or ~/.codex/auth.json)")
	cmd.Flags().StringVar(&dest, "dest-dir", "", "auths folder (default paths.auth_dir, .router/auths)")
	return cmd
}
