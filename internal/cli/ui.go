package cli

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/flowgate/flowgate/internal/cliproxy"
	"github.com/flowgate/flowgate/internal/config"
	"github.com/flowgate/flowgate/internal/supervisor"
	"github.com/flowgate/flowgate/internal/ui"
)

// openDashboard opens url in the desktop's browser and reports whether it
// did; tests replace it.
var openDashboard = func(url string) (bool, error) {
	if !cliproxy.HasDisplay() {
		return false, nil
	}
	return true, cliproxy.OpenBrowser(url)
}

// dashboardBase is where the running gateway serves its dashboard: the
// gateway's host, on services.gateway.ui_port (default: the port after the
// gateway's own). A dashboard turned off, or a gateway run by LiteLLM, has
// none: that is a usage error saying what to set.
func dashboardBase(cfg *config.Config) (string, error) {
	gw := cfg.Services[config.ServiceGateway]
	if gw.Engine != config.EngineBuiltin {
		return "", usage("the dashboard is part of the builtin gateway, and services.gateway.engine is %s in %s; set engine: builtin to use it", gw.Engine, cfg.File)
	}
	if gw.UIPort == 0 {
		return "", usage("the dashboard is off (services.gateway.ui_port: off in %s); set ui_port to a port, or remove it for the default (the gateway port + 1), then run `flowgate service restart gateway`", cfg.File)
	}
	return strings.TrimSuffix(supervisor.URLFor(gw.Host, gw.UIPort, "/"), "/"), nil
}

// uiResult is `flowgate ui --json`. The field names are stable.
type uiResult struct {
	// URL is the one-time sign-in link (its token is in the fragment).
	URL string `json:"url"`
	// Home is the dashboard without a token.
	Home      string `json:"home"`
	ExpiresIn int    `json:"expires_in_seconds"`
	// Opened is true when a browser was asked to open URL.
	Opened bool `json:"opened"`
}

func (a *app) uiCommand() *cobra.Command {
	var noOpen bool
	var base string
	cmd := &cobra.Command{
		Use:   "ui",
		Short: "Open the gateway's dashboard in the browser, signed in",
		Long: `ui asks the running gateway's dashboard for a one-time sign-in link (with
the gateway key from the config, which it never prints) and opens it in the
browser (open on macOS, xdg-open elsewhere). The link works once, within
two minutes; its token sits in the URL's fragment, which browsers never send to
a server, so it appears in no request line or log. Without a display (over
ssh) or with --no-open the link is printed instead; forward the port first
(ssh -L) to open it on your own machine.

The dashboard is read-only: services, CLIProxyAPIPlus accounts, aliases and
their deployments, live recent requests, latency and token charts, usage by
alias and day. It listens on services.gateway.ui_port, by default the port
after the gateway's (` + "`--url`" + ` overrides).`,
		Example: "  flowgate ui\n  flowgate ui --no-open\n  flowgate ui --url http://127.0.0.1:4001 --json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := a.load()
			if err != nil {
				return err
			}
			if base == "" {
				if base, err = dashboardBase(cfg); err != nil {
					return err
				}
			} else if !strings.HasPrefix(base, "http://") && !strings.HasPrefix(base, "https://") {
				return usage("--url %q: give the dashboard's address as http://HOST:PORT", base)
			}
			key := cfg.GatewayKey()
			if key == "" {
				return usage("the gateway has no key, so its dashboard stays locked: set general_settings.master_key_ref (or master_key) in %s, then restart the gateway with `flowgate service restart gateway`", cfg.File)
			}
			link, err := ui.RequestLink(cmd.Context(), base, key)
			switch {
			case errors.Is(err, ui.ErrKeyRefused):
				return failed("the dashboard at %s refused the gateway key from %s: the running gateway has another key; restart it to load the config (`flowgate service restart gateway`)", base, cfg.File)
			case err != nil:
				return failed("asking the dashboard at %s for a sign-in link: %v\nIs the gateway running? `flowgate status` shows it, `flowgate up` starts it", base, err)
			}
			res := uiResult{URL: link.URL, Home: link.Home, ExpiresIn: int(link.ExpiresIn / time.Second)}
			if !noOpen {
				opened, err := openDashboard(link.URL)
				if err != nil {
					fmt.Fprintf(a.stderr, "warning: could not open a browser (%v); open the link below instead\n", err)
				}
				res.Opened = opened && err == nil
			}
			if a.jsonOut {
				return a.printJSON(res)
			}
			if res.Opened {
				fmt.Fprintf(a.stdout, "Opened the dashboard in your browser: %s\n", link.Home)
				return nil
			}
			fmt.Fprintf(a.stdout, "Open this link to sign in to the dashboard (it works once, within %s):\n%s\n", minutes(link.ExpiresIn), link.URL)
			return nil
		},
	}
	cmd.Flags().BoolVar(&noOpen, "no-open", false, "print the sign-in link instead of opening a browser")
	cmd.Flags().StringVar(&base, "url", "", "the dashboard's address, http://HOST:PORT (default: the gateway's host and services.gateway.ui_port)")
	return cmd
}

// minutes writes d as "2 minutes" (or seconds under a minute).
func minutes(d time.Duration) string {
	if d < time.Minute {
		return fmt.Sprintf("%d seconds", int(d.Seconds()))
	}
	if d < 2*time.Minute {
		return "a minute"
	}
	return fmt.Sprintf("%d minutes", int(d.Minutes()))
}
