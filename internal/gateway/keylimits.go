package gateway

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/flowgate/flowgate/internal/requestlog"
	"github.com/flowgate/flowgate/internal/router"
	"github.com/flowgate/flowgate/internal/runtime"
)

// Client key limits (general_settings.extra_keys entries, or `flowgate
// keys create --rpm/--tpd/--tokens-per-month/--budget/--aliases`) are
// checked once a request's model is known, before it is routed:
//   - aliases: a model outside them is refused with 403;
//   - rpm: requests per calendar minute, taken as the request arrives, so
//     N per minute holds exactly across replicas sharing Redis;
//   - tpd, tokens_per_month, budget_usd: tokens (input and output) per UTC
//     day and month and spend per UTC month, counted when a request ends;
//     a request is refused once the total has reached the limit, so the
//     request that crosses it finishes (a small overshoot).
// Over a limit the answer is 429 in the caller's shape, with Retry-After
// set to when the window ends, naming the key and the limit.

// limited reports whether the key has any limit to check.
func (k *clientKey) limited() bool { return k != nil && !k.limits.IsZero() }

// countsUsage reports whether the key's token or spend is counted.
func (k *clientKey) countsUsage() bool {
	return k != nil && (k.limits.TPD > 0 || k.limits.TokensPerMonth > 0 || k.limits.BudgetUSD > 0)
}

const (
	dayTTL   = 48 * time.Hour
	monthTTL = 63 * 24 * time.Hour
)

// usageWindows are the counter names of key's day and month windows, and
// when each ends.
func usageWindows(key string, now time.Time) (dayTok, monthTok, monthCost string, dayEnd, monthEnd time.Time) {
	now = now.UTC()
	y, m, d := now.Date()
	day, month := now.Format("20060102"), now.Format("200601")
	return "key:tok:d:" + key + ":" + day, "key:tok:m:" + key + ":" + month, "key:usd6:m:" + key + ":" + month,
		time.Date(y, m, d+1, 0, 0, 0, 0, time.UTC), time.Date(y, m+1, 1, 0, 0, 0, 0, time.UTC)
}

// refuseOverLimit answers the request when its key may not make it, and
// reports whether it did.
func (s *Server) refuseOverLimit(x *exchange) bool {
	k, lim := x.key, x.key.limits
	a := apiOf(x.proto)
	if len(lim.Aliases) > 0 && !aliasAllowed(x.g.router, lim.Aliases, x.info.Model) {
		x.keyRefused, x.status = "key_model_not_allowed", http.StatusForbidden
		writeError(x.w, a, x.status, "key_model_not_allowed", fmt.Sprintf("key %s may not use model %s (it may use: %s); use one of those, or ask the gateway's operator for a key that allows it",
			k.name, runtime.Quote(runtime.Clip(x.info.Model)), strings.Join(lim.Aliases, ", ")))
		return true
	}
	ctx := x.r.Context()
	now := s.now()
	if lim.RPM > 0 {
		m := now.Unix() / 60
		if n := s.state.Add(ctx, "key:rpm:"+k.name+":"+strconv.FormatInt(m, 10), 1, 2*time.Minute); n > lim.RPM {
			s.refuseLimit(x, fmt.Sprintf("%d requests per minute", lim.RPM), time.Unix((m+1)*60, 0).Sub(now))
			return true
		}
	}
	if !k.countsUsage() {
		return false
	}
	dayTok, monthTok, monthCost, dayEnd, monthEnd := usageWindows(k.name, now)
	v := s.state.Get(ctx, dayTok, monthTok, monthCost)
	switch {
	case lim.TPD > 0 && v[0] >= lim.TPD:
		s.refuseLimit(x, fmt.Sprintf("%d tokens per day (UTC), %d used", lim.TPD, v[0]), dayEnd.Sub(now))
	case lim.TokensPerMonth > 0 && v[1] >= lim.TokensPerMonth:
		s.refuseLimit(x, fmt.Sprintf("%d tokens per month (UTC), %d used", lim.TokensPerMonth, v[1]), monthEnd.Sub(now))
	case lim.BudgetUSD > 0 && float64(v[2])/1e6 >= lim.BudgetUSD:
		s.refuseLimit(x, fmt.Sprintf("a budget of $%.2f per month (UTC), $%.2f spent", lim.BudgetUSD, float64(v[2])/1e6), monthEnd.Sub(now))
	default:
		return false
	}
	return true
}

func (s *Server) refuseLimit(x *exchange, what string, wait time.Duration) {
	x.keyRefused, x.status = "key_limit", http.StatusTooManyRequests
	x.w.Header().Set("Retry-After", strconv.Itoa(router.RetryAfterSeconds(wait)))
	writeError(x.w, apiOf(x.proto), x.status, "key_limit_exceeded", fmt.Sprintf("key %s is over its limit of %s; it resets in %ds (Retry-After), or ask the gateway's operator to raise it (`flowgate keys list` shows every key's limits)",
		x.key.name, what, router.RetryAfterSeconds(wait)))
	s.log.Info("request refused: client key over its limit", "key", x.key.name, "limit", what)
}

// aliasAllowed reports whether model, or the group it names, is one of
// the aliases.
func aliasAllowed(r *router.Router, aliases []string, model string) bool {
	grp := ""
	if g, ok := r.Lookup(model); ok {
		grp = g.Name
	}
	for _, a := range aliases {
		if a == model || a == grp {
			return true
		}
	}
	return false
}

// countUsage counts a finished request's tokens against its deployment's
// tpm and its key's day and month windows, in the background: the answer
// is already written, and these limits allow a small overshoot.
func (s *Server) countUsage(x *exchange, d *router.Deployment, t requestlog.Tokens, cost float64) {
	total := t.Prompt() + t.Output
	depTPM := d != nil && d.TPM > 0 && total > 0
	keyUse := x.key.countsUsage() && (total > 0 || cost > 0)
	if !depTPM && !keyUse {
		return
	}
	r, name, now := x.g.router, x.key.name, s.now()
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if depTPM {
			r.Used(ctx, d, total)
		}
		if keyUse {
			dayTok, monthTok, monthCost, _, _ := usageWindows(name, now)
			s.state.Add(ctx, dayTok, total, dayTTL)
			s.state.Add(ctx, monthTok, total, monthTTL)
			if usd6 := int64(math.Round(cost * 1e6)); usd6 > 0 {
				s.state.Add(ctx, monthCost, usd6, monthTTL)
			}
		}
	}()
}
