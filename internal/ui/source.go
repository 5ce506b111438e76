package ui

import (
	"context"
	"errors"
	"time"
)

// ErrNotFound is what Source.Request returns for an id it does not know.
var ErrNotFound = errors.New("not found")

// Source is everything the dashboard shows. The dashboard only reads: no
// method changes state. Every method is called per page view or live
// refresh (every few seconds while a page is open), so each should answer
// from memory or one indexed query. An error from one method blanks only its
// own section, with the error shown in its place.
type Source interface {
	// Services are the supervised children and their state.
	Services(ctx context.Context) ([]Service, error)
	// Accounts are the logins behind CLIProxyAPIPlus.
	Accounts(ctx context.Context) ([]Account, error)
	// Aliases are the model aliases of the running config with their
	// deployments' routing state.
	Aliases(ctx context.Context) ([]Alias, error)
	// Requests are the most recent requests matching f, newest first, at
	// most f.Limit of them.
	Requests(ctx context.Context, f Filter) ([]Request, error)
	// Request is one request by id, with its detail fields filled in;
	// ErrNotFound when there is no such request.
	Request(ctx context.Context, id string) (Request, error)
	// Series are the requests since `since` aggregated into buckets of
	// `step`, oldest first. Buckets without requests may be left out.
	Series(ctx context.Context, since time.Time, step time.Duration) ([]Bucket, error)
	// Usage is tokens and estimated cost per alias and UTC day since
	// `since`, newest day first.
	Usage(ctx context.Context, since time.Time) ([]UsageRow, error)
	// KeyUsage is tokens and estimated cost per client key name since
	// `since` (Key set, Day and Alias empty), by key name.
	KeyUsage(ctx context.Context, since time.Time) ([]UsageRow, error)
}

// Service is one supervised child (gateway, cliproxyapi_plus, ...).
type Service struct {
	Name string `json:"name"`
	// State is the supervisor's word: running, stopped, exited, crash-loop,
	// starting. running is shown green, starting amber, anything else red.
	State string `json:"state"`
	Pid   int    `json:"pid,omitempty"`
	// Addr is where it listens (host:port), "" when it does not.
	Addr string `json:"addr,omitempty"`
	// Since is when it entered State; zero when unknown.
	Since time.Time `json:"since,omitzero"`
	// Note is one line worth knowing (last exit, restarts, a health warning).
	Note string `json:"note,omitempty"`
}

// Account is one login behind CLIProxyAPIPlus.
type Account struct {
	// Provider is the CLIProxyAPIPlus provider (codex, github-copilot, ...).
	Provider string `json:"provider"`
	// Account is the login's label, e.g. its e-mail address.
	Account string `json:"account"`
	// Expires is when its credential expires; zero when unknown.
	Expires time.Time `json:"expires,omitzero"`
	// State is ok, expired, refused or disabled; ok is green.
	State string `json:"state"`
	// Note says what to do about a state that is not ok.
	Note string `json:"note,omitempty"`
}

// Alias is a model name clients use, and the deployments serving it.
type Alias struct {
	Name        string       `json:"name"`
	Deployments []Deployment `json:"deployments"`
}

// Deployment is one upstream model behind an alias.
type Deployment struct {
	// Name identifies it (provider/model or the deployment id).
	Name string `json:"name"`
	// APIBase is the upstream base URL.
	APIBase string `json:"api_base,omitempty"`
	// State is healthy, cooling or auth_failed.
	State string `json:"state"`
	// CoolingUntil is when a cooling deployment is tried again.
	CoolingUntil time.Time `json:"cooling_until,omitzero"`
	// LastError is the last failure, already redacted and capped.
	LastError string `json:"last_error,omitempty"`
	// Fix is the command that repairs it, e.g. a login to renew.
	Fix string `json:"fix,omitempty"`
}

// Filter selects recent requests.
type Filter struct {
	// Alias keeps only requests for this alias; "" keeps all.
	Alias string
	// ErrorsOnly keeps only requests whose final status is not 2xx.
	ErrorsOnly bool
	// Limit is the most rows wanted. The dashboard asks for 50 at most.
	Limit int
}

// Request is one gateway request. The list fields are always set; the
// detail fields (below the marker) only by Source.Request.
type Request struct {
	ID         string    `json:"id"`
	Time       time.Time `json:"time"`
	Alias      string    `json:"alias"`
	Deployment string    `json:"deployment"`
	// Status is the final HTTP status the client got.
	Status int `json:"status"`
	// ErrorClass is the failure class of a failed request ("" on success).
	ErrorClass string `json:"error_class,omitempty"`
	// Latency is the whole request; TTFB the time to the first byte sent
	// to the client.
	Latency time.Duration `json:"latency_ns"`
	TTFB    time.Duration `json:"ttfb_ns"`
	// Tokens as the upstream reported them. TokensIn excludes cache reads
	// and writes (Anthropic's input_tokens; OpenAI's prompt_tokens minus
	// cached_tokens), so the four kinds add up to what was billed and the
	// cache hit ratio is TokensCacheRead / (TokensIn + TokensCacheRead +
	// TokensCacheWrite). The same holds in Bucket and UsageRow.
	TokensIn         int64 `json:"tokens_in"`
	TokensOut        int64 `json:"tokens_out"`
	TokensCacheRead  int64 `json:"tokens_cache_read"`
	TokensCacheWrite int64 `json:"tokens_cache_write"`
	// ClientFamily is claude-code, codex, sdk or other.
	ClientFamily string `json:"client_family"`
	// Attempts counts upstream calls; Fallbacks how many of them went to
	// another alias's deployments.
	Attempts  int  `json:"attempts"`
	Fallbacks int  `json:"fallbacks"`
	Stream    bool `json:"stream"`

	// Detail fields.

	// KeyName is the client key's name, never the key.
	KeyName string `json:"key_name,omitempty"`
	// Protocol is the client's API: chat, messages or responses.
	Protocol string `json:"protocol,omitempty"`
	// UserAgent is the client's User-Agent, capped.
	UserAgent string `json:"user_agent,omitempty"`
	SessionID string `json:"session_id,omitempty"`
	// Upstream is the time spent waiting on upstreams; Overhead the
	// gateway's own share of Latency.
	Upstream        time.Duration `json:"upstream_ns,omitempty"`
	Overhead        time.Duration `json:"overhead_ns,omitempty"`
	TokensReasoning int64         `json:"tokens_reasoning,omitempty"`
	// Error is the final error message, already redacted and capped.
	Error string `json:"error,omitempty"`
	// Tries lists every upstream attempt in order.
	Tries []Try `json:"tries,omitempty"`
	// CostUSD is the estimated cost; CostKnown is false when the model has
	// no price.
	CostUSD   float64 `json:"cost_usd,omitempty"`
	CostKnown bool    `json:"cost_known,omitempty"`
}

// Try is one upstream attempt of a request.
type Try struct {
	Deployment string        `json:"deployment"`
	Status     int           `json:"status"`
	ErrorClass string        `json:"error_class,omitempty"`
	Latency    time.Duration `json:"latency_ns"`
}

// Bucket aggregates the requests that started in [Start, Start+step).
type Bucket struct {
	Start    time.Time `json:"start"`
	Requests int       `json:"requests"`
	Errors   int       `json:"errors"`
	// LatencyP50 and LatencyP95 are percentiles of Request.Latency.
	LatencyP50 time.Duration `json:"latency_p50_ns"`
	LatencyP95 time.Duration `json:"latency_p95_ns"`
	// TTFBP50 is the median time to first byte.
	TTFBP50          time.Duration `json:"ttfb_p50_ns"`
	TokensIn         int64         `json:"tokens_in"`
	TokensOut        int64         `json:"tokens_out"`
	TokensCacheRead  int64         `json:"tokens_cache_read"`
	TokensCacheWrite int64         `json:"tokens_cache_write"`
}

// UsageRow is one alias on one UTC day.
type UsageRow struct {
	// Day is the UTC day, YYYY-MM-DD.
	Day   string `json:"day,omitempty"`
	Alias string `json:"alias,omitempty"`
	// Key is the client key's name (never the key), for KeyUsage rows;
	// "" is the gateway's own key.
	Key              string `json:"key,omitempty"`
	Requests         int    `json:"requests"`
	Errors           int    `json:"errors"`
	TokensIn         int64  `json:"tokens_in"`
	TokensOut        int64  `json:"tokens_out"`
	TokensCacheRead  int64  `json:"tokens_cache_read"`
	TokensCacheWrite int64  `json:"tokens_cache_write"`
	// CostUSD is an estimate from the configured prices; CostKnown is
	// false when some model of the row has no price.
	CostUSD   float64 `json:"cost_usd"`
	CostKnown bool    `json:"cost_known"`
}
