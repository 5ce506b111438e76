package cli

import (
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/flowgate/flowgate/internal/clientkeys"
	"github.com/flowgate/flowgate/internal/config"
	"github.com/flowgate/flowgate/internal/router"
)

// keyRow is one line of `flowgate keys list --json`.
type keyRow struct {
	Name string `json:"name"`
	// Source is "store" (flowgate keys create) or "general_settings".
	Source    string     `json:"source"`
	Hint      string     `json:"hint,omitempty"`
	CreatedAt *time.Time `json:"created_at,omitempty"`
	clientkeys.Limits
}

func (a *app) keysCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "keys",
		Short: "Named client keys for a shared gateway: create, list, revoke",
		Long: `keys manages the named client keys a shared gateway accepts beside
general_settings' master_key and extra_keys. A key is stored only as its
SHA-256 hash in .router/secrets/client_keys.json (0600); create prints the
key once and never again. A running gateway picks up a created or revoked
key within a second, without a restart. The request log records each
request's key name (flowgate usage --by key).

Limits, all optional: --rpm requests per minute, --tpd tokens per UTC day,
--tokens-per-month tokens per UTC month, --budget spend in USD per UTC month
(priced from model_info), --aliases the models the key may use. A request
over a limit gets 429 with Retry-After, naming the key and the limit.`,
		Example: `  flowgate keys create alice --rpm 60 --budget 20
  flowgate keys list
  flowgate keys revoke alice`,
	}
	var lim clientkeys.Limits
	var aliases string
	create := &cobra.Command{
		Use:   "create NAME",
		Short: "Create a named key and print it once",
		Example: `  flowgate keys create alice
  flowgate keys create ci --rpm 60 --tpd 2000000 --budget 25 --aliases router-default,fast`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := a.load()
			if err != nil {
				return err
			}
			if aliases != "" {
				for _, s := range strings.Split(aliases, ",") {
					if s = strings.TrimSpace(s); s != "" {
						lim.Aliases = append(lim.Aliases, s)
					}
				}
			}
			return a.createKey(cfg, args[0], lim)
		},
	}
	create.Flags().Int64Var(&lim.RPM, "rpm", 0, "requests per minute (0: unlimited)")
	create.Flags().Int64Var(&lim.TPD, "tpd", 0, "tokens per UTC day, input and output (0: unlimited)")
	create.Flags().Int64Var(&lim.TokensPerMonth, "tokens-per-month", 0, "tokens per UTC month (0: unlimited)")
	create.Flags().Float64Var(&lim.BudgetUSD, "budget", 0, "spend in USD per UTC month, from model_info prices (0: unlimited)")
	create.Flags().StringVar(&aliases, "aliases", "", "comma-separated model aliases the key may use (default: all)")
	list := &cobra.Command{
		Use:     "list",
		Short:   "List the named keys and their limits (never the keys)",
		Example: "  flowgate keys list\n  flowgate keys list --json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := a.load()
			if err != nil {
				return err
			}
			return a.listKeys(cfg)
		},
	}
	revoke := &cobra.Command{
		Use:     "revoke NAME",
		Short:   "Revoke a named key (running gateways refuse it within a second)",
		Example: "  flowgate keys revoke alice",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := a.load()
			if err != nil {
				return err
			}
			return a.revokeKey(cfg, args[0])
		},
	}
	cmd.AddCommand(create, list, revoke)
	return cmd
}

// configKeys reads the active profile's general_settings key names and
// aliases; ok is false when the document cannot be resolved here (a key in
// an environment variable this shell lacks).
func configKeys(cfg *config.Config) (names, aliases []string, limits []clientkeys.Limits, ok bool) {
	doc, err := cfg.ProfileDocument(activeProfile(cfg))
	if err != nil {
		return nil, nil, nil, false
	}
	rc, err := router.Parse(doc, cfg.ResolveCredential)
	if err != nil {
		return nil, nil, nil, false
	}
	r := router.New(rc, nil, nil, nil)
	return rc.General.KeyNames, r.Visible(), rc.General.KeyLimits, true
}

func (a *app) createKey(cfg *config.Config, name string, lim clientkeys.Limits) error {
	names, visible, _, ok := configKeys(cfg)
	if ok {
		for _, al := range lim.Aliases {
			if !contains(visible, al) {
				return usage("--aliases: %q is not a model alias of the active profile (have: %s)", al, strings.Join(visible, ", "))
			}
		}
	}
	path := clientkeys.Path(cfg.Paths.SecretsDir)
	secret, k, err := clientkeys.Create(path, name, lim, names)
	if err != nil {
		if errors.Is(err, clientkeys.ErrExists) || clientkeys.CheckName(name) != nil || strings.Contains(err.Error(), "negative") {
			return usage("%v", err)
		}
		return failed("%v", err)
	}
	if a.jsonOut {
		return a.printJSON(struct {
			Name string `json:"name"`
			Key  string `json:"key"`
			clientkeys.Limits
		}{k.Name, secret, k.Limits})
	}
	fmt.Fprintln(a.stdout, secret)
	fmt.Fprintf(a.stderr, "created key %s (%s); this is the only time it is shown: give it to its user now.\nA running gateway accepts it within a second; `flowgate keys revoke %s` withdraws it.\n", k.Name, limitsText(k.Limits), k.Name)
	return nil
}

func (a *app) listKeys(cfg *config.Config) error {
	stored, err := clientkeys.Load(clientkeys.Path(cfg.Paths.SecretsDir))
	if err != nil {
		return usage("%v", err)
	}
	rows := []keyRow{}
	for _, k := range stored {
		t := k.CreatedAt
		rows = append(rows, keyRow{Name: k.Name, Source: "store", Hint: k.Hint, CreatedAt: &t, Limits: k.Limits})
	}
	if names, _, limits, ok := configKeys(cfg); ok {
		for i, n := range names {
			rows = append(rows, keyRow{Name: n, Source: "general_settings", Limits: limits[i]})
		}
	}
	if a.jsonOut {
		return a.printJSON(rows)
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tSOURCE\tHINT\tCREATED\tLIMITS")
	for _, r := range rows {
		created := "-"
		if r.CreatedAt != nil {
			created = r.CreatedAt.UTC().Format("2006-01-02")
		}
		hint := r.Hint
		if hint == "" {
			hint = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.Name, r.Source, hint, created, limitsText(r.Limits))
	}
	return tw.Flush()
}

func (a *app) revokeKey(cfg *config.Config, name string) error {
	err := clientkeys.Revoke(clientkeys.Path(cfg.Paths.SecretsDir), name)
	if errors.Is(err, clientkeys.ErrUnknown) {
		if names, _, _, ok := configKeys(cfg); ok && contains(names, name) {
			return usage("key %s is set in general_settings (master_key or extra_keys), not created by `flowgate keys create`: remove it from the config, then `flowgate profile set` or restart the gateway", name)
		}
		return usage("%v", err)
	}
	if err != nil {
		return failed("%v", err)
	}
	if a.jsonOut {
		return a.printJSON(map[string]any{"ok": true, "revoked": name})
	}
	fmt.Fprintf(a.stdout, "revoked key %s; running gateways refuse it within a second\n", name)
	return nil
}

func limitsText(l clientkeys.Limits) string {
	var parts []string
	if l.RPM > 0 {
		parts = append(parts, fmt.Sprintf("rpm=%d", l.RPM))
	}
	if l.TPD > 0 {
		parts = append(parts, fmt.Sprintf("tpd=%d", l.TPD))
	}
	if l.TokensPerMonth > 0 {
		parts = append(parts, fmt.Sprintf("tokens_per_month=%d", l.TokensPerMonth))
	}
	if l.BudgetUSD > 0 {
		parts = append(parts, fmt.Sprintf("budget=$%.2f/month", l.BudgetUSD))
	}
	if len(l.Aliases) > 0 {
		parts = append(parts, "aliases="+strings.Join(l.Aliases, ","))
	}
	if len(parts) == 0 {
		return "unlimited"
	}
	return strings.Join(parts, " ")
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
