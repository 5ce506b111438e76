// Package requestlog records what the gateway did with every request in an
// embedded SQLite database (<runtime_dir>/requests.db, WAL mode, 0600):
// one Record per request, written in batches by one goroutine off the
// request path, and optionally the bodies of recent requests (Capture).
// A database that fails, is locked, read-only or deleted never fails or
// slows a request: the rows are dropped, counted (Lost) and reported
// (Warning). Readers (the CLI) use Open with ReadOnly and the query
// functions in query.go.
package requestlog

import (
	"strings"
	"time"

	"github.com/flowgate/flowgate/internal/runtime"
)

// Record is one gateway request as the request log keeps it. The JSON names
// are stable: `flowgate requests --json` prints them.
type Record struct {
	// ID is the request id, also sent as the X-Flowgate-Request-Id header.
	ID   string    `json:"id"`
	Time time.Time `json:"time"`
	// KeyName names the client key that was used (master_key,
	// extra_keys[1], the key_ref name...), never the key; "open" when the
	// gateway has no keys, "" when the request carried none that matched.
	KeyName string `json:"key_name"`
	// Protocol is the client's: chat, messages, responses or count_tokens.
	Protocol string `json:"protocol"`
	// Client is the user-agent family: claude-code, codex, sdk or other.
	Client string `json:"client"`
	// Alias is the model the client asked for.
	Alias string `json:"alias"`
	// Group is the model group that answered (differs after a fallback).
	Group string `json:"model_group,omitempty"`
	// Deployment is the id of the deployment that answered (or failed last).
	Deployment string `json:"deployment,omitempty"`
	// Model is that deployment's upstream model (litellm_params.model).
	Model string `json:"model,omitempty"`
	// Tried lists the deployments attempted, in order, retries included.
	Tried     []string `json:"deployments_tried"`
	Attempts  int      `json:"attempts"`
	Fallbacks int      `json:"fallbacks"`
	// SessionID is the client's session (Claude Code's metadata.user_id
	// session part, Codex's session_id header...) when it sends one.
	SessionID string `json:"session_id,omitempty"`
	Stream    bool   `json:"stream"`
	// Status is the HTTP status sent to the client (499: client went away).
	Status int `json:"status"`
	// ErrorClass is empty on success, else the failure class: auth,
	// invalid_request, unknown_model, too_large, rate_limited, timeout,
	// upstream_status, bad_response, connect, unsupported, canceled...
	ErrorClass string `json:"error_class,omitempty"`
	// LatencyMS is the total time in the gateway, upstream included.
	LatencyMS float64 `json:"latency_ms"`
	// TTFBMS is the time until the answer's first byte was ready for the client.
	TTFBMS float64 `json:"ttfb_ms"`
	// UpstreamMS is the time spent waiting on upstreams, all attempts.
	UpstreamMS float64 `json:"upstream_ms"`
	// OverheadMS is LatencyMS minus UpstreamMS: the gateway's own time.
	OverheadMS float64 `json:"overhead_ms"`
	Tokens     Tokens  `json:"tokens"`
	// CostUSD is an ESTIMATE from the deployment's prices at the time of
	// the request (model_info, else the defaults in prices.go); 0 when the
	// price is unknown.
	CostUSD float64 `json:"cost_usd_estimate"`
	// Captured is true when the bodies were captured (flowgate requests show).
	Captured bool `json:"captured,omitempty"`
	// Reasoning says what the gateway removed from the request's reasoning
	// state because the deployment that answered could not verify it, as
	// the X-Flowgate-Reasoning header says it ("dropped=2 from=a to=b",
	// "; thinking=disabled" appended when thinking was turned off); ""
	// when nothing was.
	Reasoning string `json:"reasoning,omitempty"`
}

// Tokens are the upstream's reported token counts. Input excludes cached
// tokens (OpenAI's prompt_tokens minus cached_tokens; Anthropic's
// input_tokens as is), so Input+CacheRead+CacheWrite is the whole prompt.
// Output includes Reasoning.
type Tokens struct {
	Input      int64 `json:"input"`
	Output     int64 `json:"output"`
	CacheRead  int64 `json:"cache_read"`
	CacheWrite int64 `json:"cache_write"`
	Reasoning  int64 `json:"reasoning"`
}

// Add sums t and o.
func (t Tokens) Add(o Tokens) Tokens {
	return Tokens{t.Input + o.Input, t.Output + o.Output, t.CacheRead + o.CacheRead, t.CacheWrite + o.CacheWrite, t.Reasoning + o.Reasoning}
}

// Prompt is every input token: uncached, cache read and cache write.
func (t Tokens) Prompt() int64 { return t.Input + t.CacheRead + t.CacheWrite }

// CacheHitRatio is CacheRead / Prompt (0 when there was no prompt).
func (t Tokens) CacheHitRatio() float64 {
	if p := t.Prompt(); p > 0 {
		return float64(t.CacheRead) / float64(p)
	}
	return 0
}

// Capture is the bodies of one request, secrets redacted, each cut at the
// capture size limit.
type Capture struct {
	ID string `json:"id"`
	// Path is the gateway route the client called (/v1/messages...).
	Path string `json:"path"`
	// Request is the client's body; Response the upstream's answer (a
	// stream as its SSE frames), as received before any translation.
	Request  string `json:"request"`
	Response string `json:"response"`
	// Truncated is true when a body was longer than the limit.
	Truncated bool `json:"truncated,omitempty"`
	// Secrets are values to remove before the capture is stored (the
	// gateway's client and upstream keys); shapes that look like keys are
	// removed too (runtime.RedactSecrets). Redaction happens on the
	// writer's goroutine, off the request path.
	Secrets []string `json:"-"`
}

// redact removes c.Secrets and key-shaped strings from the bodies.
func (c *Capture) redact() {
	for _, sec := range c.Secrets {
		if len(sec) >= 4 {
			c.Request = strings.ReplaceAll(c.Request, sec, "[redacted]")
			c.Response = strings.ReplaceAll(c.Response, sec, "[redacted]")
		}
	}
	c.Request = runtime.RedactSecrets(c.Request)
	c.Response = runtime.RedactSecrets(c.Response)
	c.Secrets = nil
}
