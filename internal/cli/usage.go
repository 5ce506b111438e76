package cli

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/flowgate/flowgate/internal/cliproxy"
	"github.com/flowgate/flowgate/internal/requestlog"
)

// usageReport is `flowgate usage --json`.
type usageReport struct {
	Since time.Time             `json:"since"`
	By    string                `json:"by"`
	Rows  []requestlog.UsageRow `json:"rows"`
	Total requestlog.UsageRow   `json:"total"`
	// CostIsEstimate is always true: costs come from model_info prices or
	// FlowGate's default list prices, not from a bill.
	CostIsEstimate bool `json:"cost_is_estimate"`
	// Accounts is what CLIProxyAPIPlus reports per subscription account;
	// omitted when it does not run. AccountsError says why it is missing.
	Accounts      []cliproxy.AccountUsage `json:"cliproxy_accounts,omitempty"`
	AccountsError string                  `json:"cliproxy_accounts_error,omitempty"`
}

func (a *app) usageCommand() *cobra.Command {
	var since, by string
	cmd := &cobra.Command{
		Use:   "usage",
		Short: "Tokens, cache-hit ratio and estimated cost from the request log, per alias, deployment, key or day",
		Long: `usage sums the gateway's request log (.router/runtime/requests.db) since a time:
requests, errors, tokens (input without cache, output, cache read, cache
write), the cache-hit ratio (cache read / all input tokens) and the ESTIMATED
cost. Prices come from each deployment's model_info (input_cost_per_million,
output_cost_per_million, cache_read_cost_per_million,
cache_write_cost_per_million; LiteLLM's *_cost_per_token keys work too),
else FlowGate's list prices of well-known models (Claude, GPT, o-series,
Gemini); a model with neither costs 0. The cost of a request is computed
with the prices in force when it was served.

When CLIProxyAPIPlus runs, usage also shows what it counted per subscription
account (its management API /v0/management/usage; it counts only with
usage-statistics-enabled: true in its config, and forgets on restart).

--since takes a duration (90m, 24h, 7d). --by is alias, deployment, key or day (UTC).`,
		Example: "  flowgate usage\n  flowgate usage --since 7d --by day\n  flowgate usage --by deployment --json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			d, err := parseSince(since)
			if err != nil {
				return usage("--since %q: %v", since, err)
			}
			if !validDimension(by) {
				return usage("--by %q: must be one of %s", by, strings.Join(requestlog.Dimensions, ", "))
			}
			cfg, err := a.load()
			if err != nil {
				return err
			}
			r, err := a.openRequestLog()
			if err != nil {
				return err
			}
			defer r.Close()
			rep := usageReport{Since: time.Now().Add(-d).UTC().Truncate(time.Second), By: by, CostIsEstimate: true}
			rep.Rows, rep.Total, err = r.Usage(ctxOf(cmd), rep.Since, by)
			if err != nil {
				return failed("%v", err)
			}
			if rep.Rows == nil {
				rep.Rows = []requestlog.UsageRow{}
			}
			if c := managementClientIfRunning(cfg); c != nil {
				ctx, cancel := context.WithTimeout(ctxOf(cmd), 5*time.Second)
				rep.Accounts, err = c.Usage(ctx, rep.Since)
				cancel()
				if err != nil {
					rep.AccountsError = err.Error()
				}
			}
			if a.jsonOut {
				return a.printJSON(rep)
			}
			a.printUsage(rep)
			return nil
		},
	}
	cmd.Flags().StringVar(&since, "since", "24h", "how far back: a duration such as 90m, 24h or 7d")
	cmd.Flags().StringVar(&by, "by", "alias", "group by alias, deployment, key or day")
	return cmd
}

func validDimension(by string) bool {
	for _, d := range requestlog.Dimensions {
		if by == d {
			return true
		}
	}
	return false
}

// parseSince reads a positive duration; "d" counts days.
func parseSince(s string) (time.Duration, error) {
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.ParseFloat(n, 64)
		if err != nil || days <= 0 {
			return 0, fmt.Errorf("must be a duration such as 90m, 24h or 7d")
		}
		return time.Duration(days * 24 * float64(time.Hour)), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("must be a duration such as 90m, 24h or 7d")
	}
	return d, nil
}

func (a *app) printUsage(rep usageReport) {
	fmt.Fprintf(a.stdout, "gateway usage since %s, by %s (costs are estimates from model_info or list prices)\n",
		rep.Since.Local().Format("2006-01-02 15:04"), rep.By)
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "%s\tREQUESTS\tERRORS\tINPUT\tOUTPUT\tCACHE READ\tCACHE WRITE\tCACHE HIT\tCOST~ USD\t\n", strings.ToUpper(rep.By))
	for _, r := range append(rep.Rows, rep.Total) {
		t := r.Tokens
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%.1f%%\t%.4f\t\n", orDefault(r.Key, "-"), r.Requests, r.Errors,
			t.Input, t.Output, t.CacheRead, t.CacheWrite, 100*r.CacheHitRatio, r.CostUSD)
	}
	tw.Flush()
	switch {
	case rep.AccountsError != "":
		fmt.Fprintf(a.stdout, "\nCLIProxyAPIPlus accounts: unavailable (%s)\n", rep.AccountsError)
	case rep.Accounts != nil:
		fmt.Fprintln(a.stdout, "\nCLIProxyAPIPlus accounts (as it reports them)")
		tw = tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ACCOUNT\tREQUESTS\tFAILURES\tINPUT\tOUTPUT\tCACHED\tMODELS")
		for _, u := range rep.Accounts {
			fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%s\n", u.Account, u.Requests, u.Failures, u.InputTokens, u.OutputTokens, u.CachedTokens, strings.Join(u.Models, ","))
		}
		if len(rep.Accounts) == 0 {
			fmt.Fprintln(tw, "(none counted; CLIProxyAPIPlus counts only with usage-statistics-enabled: true)")
		}
		tw.Flush()
	}
}
