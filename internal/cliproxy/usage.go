package cliproxy

import (
	"context"
	"sort"
	"time"
)

// UsageEndpoint is CLIProxyAPIPlus's usage statistics (management API).
// It counts only while usage-statistics-enabled is true in its config.
const UsageEndpoint = "/v0/management/usage"

// AccountUsage is what CLIProxyAPIPlus counted for one account (its
// "source": the login's e-mail or file, or an API key's label).
type AccountUsage struct {
	Account  string `json:"account"`
	Requests int64  `json:"requests"`
	Failures int64  `json:"failures"`
	// Models are the upstream models the account served.
	Models          []string `json:"models"`
	InputTokens     int64    `json:"input_tokens"`
	OutputTokens    int64    `json:"output_tokens"`
	CachedTokens    int64    `json:"cached_tokens"`
	ReasoningTokens int64    `json:"reasoning_tokens"`
	TotalTokens     int64    `json:"total_tokens"`
}

// usageAnswer is the part of GET /v0/management/usage FlowGate reads:
// {"usage": {"apis": {KEY: {"models": {MODEL: {"details": [{timestamp,
// source, auth_index, failed, tokens: {...}}]}}}}}}.
type usageAnswer struct {
	Usage struct {
		APIs map[string]struct {
			Models map[string]struct {
				Details []struct {
					Timestamp time.Time `json:"timestamp"`
					Source    string    `json:"source"`
					AuthIndex any       `json:"auth_index"`
					Failed    bool      `json:"failed"`
					Tokens    struct {
						Input     int64 `json:"input_tokens"`
						Output    int64 `json:"output_tokens"`
						Reasoning int64 `json:"reasoning_tokens"`
						Cached    int64 `json:"cached_tokens"`
						Total     int64 `json:"total_tokens"`
					} `json:"tokens"`
				} `json:"details"`
			} `json:"models"`
		} `json:"apis"`
	} `json:"usage"`
}

// Usage asks CLIProxyAPIPlus what each account served since the given time
// (zero: everything it kept), sorted by account. Its statistics live in
// memory: they start again when it restarts.
func (c *Client) Usage(ctx context.Context, since time.Time) ([]AccountUsage, error) {
	var ans usageAnswer
	if err := c.do(ctx, "GET", UsageEndpoint, nil, nil, &ans); err != nil {
		return nil, managementOff(err)
	}
	by := map[string]*AccountUsage{}
	models := map[string]map[string]bool{}
	for _, api := range ans.Usage.APIs {
		for model, m := range api.Models {
			for _, d := range m.Details {
				if !since.IsZero() && d.Timestamp.Before(since) {
					continue
				}
				acct := d.Source
				if acct == "" {
					acct = "(unknown)"
				}
				u := by[acct]
				if u == nil {
					u = &AccountUsage{Account: acct}
					by[acct], models[acct] = u, map[string]bool{}
				}
				u.Requests++
				if d.Failed {
					u.Failures++
				}
				t := d.Tokens
				u.InputTokens += t.Input
				u.OutputTokens += t.Output
				u.CachedTokens += t.Cached
				u.ReasoningTokens += t.Reasoning
				total := t.Total
				if total == 0 {
					total = t.Input + t.Output
				}
				u.TotalTokens += total
				models[acct][model] = true
			}
		}
	}
	out := make([]AccountUsage, 0, len(by))
	for acct, u := range by {
		for m := range models[acct] {
			u.Models = append(u.Models, m)
		}
		sort.Strings(u.Models)
		out = append(out, *u)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Account < out[j].Account })
	return out, nil
}
