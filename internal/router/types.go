// Package router turns the merged LiteLLM-style document into model groups
// and runs every request through the retry / fallback / cooldown loop.
// All reliability knowledge lives in reliability.go; the document is read by
// one parser (parse.go), which every command uses to validate model lists
// and fallbacks.
package router

import (
	"time"

	"github.com/flowgate/flowgate/internal/clientkeys"
	"github.com/flowgate/flowgate/internal/upstream"
)

// Config is the typed, validated form of the gateway document.
type Config struct {
	// Deployments in model_list order.
	Deployments []*Deployment
	// Groups by alias (model_name).
	Groups map[string]*Group
	// Aliases are the model_name values in first-appearance order.
	Aliases []string
	// GroupAliases maps router_settings.model_group_alias names to groups.
	GroupAliases map[string]string
	// HiddenAliases are group aliases not listed by /v1/models.
	HiddenAliases map[string]bool
	Settings      Settings
	General       General
	// Ignored are the settings the document sets that the builtin engine
	// does not implement, in document order; doctor reports them.
	Ignored []Ignored
}

// Settings are the routing knobs. router_settings overrides litellm_settings,
// which overrides the defaults documented on each field.
type Settings struct {
	// RoutingStrategy: simple-shuffle (weighted by weight, rpm or tpm),
	// least-busy, latency-based-routing. usage-based-routing and
	// cost-based-routing are accepted and behave as simple-shuffle.
	// Default: simple-shuffle.
	RoutingStrategy string
	// NumRetries is how many more attempts a group gets after its first,
	// preferring deployments not yet tried. Default: 2 (LiteLLM's effective
	// default, openai.DEFAULT_MAX_RETRIES).
	NumRetries int
	// AllowedFails is how many consecutive cooling-relevant failures within
	// CooldownTime a deployment may have; the next one cools it down.
	// Default: 3.
	AllowedFails int
	// CooldownTime is how long a deployment is skipped after cooling down,
	// and the window in which failures are counted. Default: 5s.
	CooldownTime time.Duration
	// MaxCooldown clamps cooldowns taken from an upstream Retry-After
	// (router_settings.max_cooldown_time, FlowGate extension). Default: 60s.
	MaxCooldown time.Duration
	// DisableCooldowns turns cooldown off entirely. Default: false.
	DisableCooldowns bool
	// Fallbacks maps a group to the groups tried, in order, after its
	// retries are exhausted. "*" (or default_fallbacks) applies to groups
	// without their own entry. Default: none.
	Fallbacks map[string][]string
	// ContextWindowFallbacks maps a group to the groups tried when an
	// upstream reports the context window was exceeded. Default: none.
	ContextWindowFallbacks map[string][]string
	// MaxFallbacks caps fallback hops per request; more than 5 is rejected.
	// Default: 5.
	MaxFallbacks int
	// RequestTimeout bounds one non-streaming attempt, and a streaming
	// attempt until its first byte, unless the deployment sets timeout /
	// stream_timeout (router_settings.timeout or litellm_settings.request_timeout).
	// Default: 600s.
	RequestTimeout time.Duration
	// StreamIdleTimeout ends a stream whose upstream stays silent this long
	// (router_settings.stream_idle_timeout, FlowGate extension). Default: 300s.
	StreamIdleTimeout time.Duration
	// RetryAfter is the minimum wait before retrying the same deployment
	// (router_settings.retry_after). Default: 0.
	RetryAfter time.Duration
	// SessionAffinity keeps the requests of one agent session (Claude
	// Code's session id, Codex's prompt_cache_key or session header) on the
	// deployment that served the session last while it is available, so
	// provider prompt caches keep hitting (router_settings.session_affinity:
	// false turns it off). Default: true.
	SessionAffinity bool
	// SessionTTL is how long a session stays pinned after its last request
	// (router_settings.session_affinity.ttl, such as 30m). Default: 1h.
	SessionTTL time.Duration
	// Redis is where replicas share state (router_settings.redis_url, or
	// redis_host, redis_port and redis_password). Default: none; state
	// stays in this process.
	Redis Redis
}

// Redis names the Redis (or Valkey) server replicas share state through.
type Redis struct {
	// URL is redis://[user:password@]host:port[/db] (rediss:// for TLS),
	// built from redis_host and redis_port when redis_url is not set.
	// Empty: no Redis.
	URL string
	// Password is router_settings.redis_password, resolved; it overrides a
	// password in URL. Default: none.
	Password string
	// Setting is the setting URL came from, for messages
	// (router_settings.redis_url or router_settings.redis_host).
	Setting string
}

// General holds the gateway's own settings (general_settings).
type General struct {
	// Keys are the accepted client keys: master_key / master_key_ref plus
	// extra_keys, resolved in memory. Default: none (open, loopback only).
	Keys []string
	// KeyNames name Keys, index for index, for the request log (never the
	// key): master_key, an extra_keys entry's name, the ref name of a
	// *_ref, else extra_keys[i].
	KeyNames []string
	// KeyLimits bound Keys, index for index (extra_keys entries' rpm, tpd,
	// tokens_per_month, budget_usd, aliases). Default: unlimited.
	KeyLimits []clientkeys.Limits
}

func (g *General) addKey(k, name string, lim clientkeys.Limits) {
	if k != "" {
		g.Keys = append(g.Keys, k)
		g.KeyNames = append(g.KeyNames, name)
		g.KeyLimits = append(g.KeyLimits, lim)
	}
}

// Group is one model_name and its deployments.
type Group struct {
	Name        string
	Deployments []*Deployment
	// chain is the fallback order (not including the group itself),
	// computed at load time; cwChain the context-window fallback order.
	chain, cwChain []*Group
	hasOrder       bool
}

// FallbackChain is the ordered list of fallback groups (for display).
func (g *Group) FallbackChain() []string {
	out := make([]string, len(g.chain))
	for i, c := range g.chain {
		out[i] = c.Name
	}
	return out
}

// Window is what /v1/models reports for the group: the smallest context
// window and maximum output among its deployments that set one, since any
// of them may serve a request; 0 when none does.
func (g *Group) Window() (input, output int) {
	for _, d := range g.Deployments {
		if d.MaxInputTokens > 0 && (input == 0 || d.MaxInputTokens < input) {
			input = d.MaxInputTokens
		}
		if d.MaxOutputTokens > 0 && (output == 0 || d.MaxOutputTokens < output) {
			output = d.MaxOutputTokens
		}
	}
	return input, output
}

// Deployment is one model_list entry.
type Deployment struct {
	// ID is model_info.id, else a stable hash of alias, model and api_base.
	ID    string
	Group string
	// Model is litellm_params.model as written (provider/upstream-model).
	Model  string
	Target *upstream.Target
	// Timeout bounds a non-streaming attempt (litellm_params.timeout).
	// Default: Settings.RequestTimeout.
	Timeout time.Duration
	// StreamTimeout bounds a streaming attempt until its first byte
	// (litellm_params.stream_timeout). Default: Timeout.
	StreamTimeout time.Duration
	// Weight for simple-shuffle: weight, else rpm, else tpm. Default: 1.
	Weight float64
	// RPM and TPM are limits, requests and tokens per minute (rpm and tpm in
	// litellm_params or the entry): a deployment at either is skipped until
	// the minute ends, across replicas when they share Redis. Default: 0
	// (unlimited).
	RPM, TPM int64
	// Order: lower is preferred; only the lowest order with an available
	// deployment is picked from (litellm_params.order). Default: 0 (unset).
	Order int
	// CooldownTime overrides Settings.CooldownTime; 0 disables cooldown for
	// this deployment (litellm_params.cooldown_time or model_info.cooldown_time).
	// Default: -1 (use the router setting).
	CooldownTime time.Duration
	// MaxInputTokens is the context window: model_info.max_input_tokens,
	// else model_info.max_tokens (LiteLLM's older spelling). A request
	// counted above it is not sent here (context_window_fallbacks are tried
	// instead). Default: 0 (unknown, never checked).
	MaxInputTokens int
	// MaxOutputTokens is model_info.max_output_tokens. Default: 0 (unknown).
	MaxOutputTokens int
	// Path is the entry's place in the document (model_list[2]), for messages.
	Path string
	// KeyRef is litellm_params.api_key_ref (a credentials.upstream name) and
	// KeyEnv the NAME of an api_key written as os.environ/NAME; both empty
	// for a literal key or none. Messages about a refused key name them.
	KeyRef, KeyEnv string

	st *deployState
}
