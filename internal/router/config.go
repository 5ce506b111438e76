// Package router turns the merged LiteLLM-style document into model groups
// and runs every request through the retry / fallback / cooldown loop.
// All reliability knowledge lives in reliability.go.
package router

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

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
}

// General holds the gateway's own settings (general_settings).
type General struct {
	// Keys are the accepted client keys: master_key / master_key_ref plus
	// extra_keys, resolved in memory. Default: none (open, loopback only).
	Keys []string
	// KeyNames name Keys, index for index, for the request log (never the
	// key): master_key, the ref name of a *_ref, else extra_keys[i].
	KeyNames []string
}

func (g *General) addKey(k, name string) {
	if k != "" {
		g.Keys = append(g.Keys, k)
		g.KeyNames = append(g.KeyNames, name)
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
	// Order: lower is preferred; only the lowest order with an available
	// deployment is picked from (litellm_params.order). Default: 0 (unset).
	Order int
	// CooldownTime overrides Settings.CooldownTime; 0 disables cooldown for
	// this deployment (litellm_params.cooldown_time or model_info.cooldown_time).
	// Default: -1 (use the router setting).
	CooldownTime time.Duration
	// Path is the entry's place in the document (model_list[2]), for messages.
	Path string
	// KeyRef is litellm_params.api_key_ref (a credentials.upstream name) and
	// KeyEnv the NAME of an api_key written as os.environ/NAME; both empty
	// for a literal key or none. Messages about a refused key name them.
	KeyRef, KeyEnv string

	st *deployState
}

// ConfigError lists every problem found in a document.
type ConfigError struct{ Problems []string }

func (e *ConfigError) Error() string {
	return "invalid gateway config:\n  " + strings.Join(e.Problems, "\n  ")
}

type parser struct {
	resolve func(string) (string, error)
	probs   []string
}

func (p *parser) add(path, format string, a ...any) {
	p.probs = append(p.probs, path+": "+fmt.Sprintf(format, a...))
}

// Parse validates the merged document and returns the typed config.
// resolve looks up api_key_ref / master_key_ref names; it may be nil.
func Parse(doc map[string]any, resolve func(name string) (string, error)) (*Config, error) {
	p := &parser{resolve: resolve}
	c := &Config{Groups: map[string]*Group{}, GroupAliases: map[string]string{}, HiddenAliases: map[string]bool{}}
	c.Settings = Settings{
		RoutingStrategy:   "simple-shuffle",
		NumRetries:        2,
		AllowedFails:      3,
		CooldownTime:      5 * time.Second,
		MaxCooldown:       60 * time.Second,
		MaxFallbacks:      5,
		RequestTimeout:    600 * time.Second,
		StreamIdleTimeout: 300 * time.Second,
	}
	fb := map[string][]string{}
	cw := map[string][]string{}
	var defaults []string
	for _, sec := range []string{"litellm_settings", "router_settings"} {
		m, ok := p.mapAt(doc, sec)
		if !ok {
			continue
		}
		p.settings(sec, m, &c.Settings, fb, cw, &defaults, c)
	}
	if len(defaults) > 0 {
		if _, ok := fb["*"]; !ok {
			fb["*"] = defaults
		}
	}
	c.Settings.Fallbacks, c.Settings.ContextWindowFallbacks = fb, cw
	p.general(doc, &c.General)
	p.modelList(doc, c)
	p.chains(c)
	if len(p.probs) > 0 {
		return nil, &ConfigError{Problems: p.probs}
	}
	return c, nil
}

func (p *parser) mapAt(doc map[string]any, key string) (map[string]any, bool) {
	v, ok := doc[key]
	if !ok || v == nil {
		return nil, false
	}
	m, ok := v.(map[string]any)
	if !ok {
		p.add(key, "must be a mapping")
	}
	return m, ok
}

func (p *parser) settings(sec string, m map[string]any, s *Settings, fb, cw map[string][]string, defaults *[]string, c *Config) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := m[k]
		path := sec + "." + k
		switch k {
		case "routing_strategy":
			str, ok := p.str(path, v)
			switch str {
			case "simple-shuffle", "least-busy", "latency-based-routing", "usage-based-routing", "usage-based-routing-v2", "cost-based-routing":
				s.RoutingStrategy = str
			default:
				if ok {
					p.add(path, "unknown strategy %q; use simple-shuffle, least-busy or latency-based-routing", str)
				}
			}
		case "num_retries":
			s.NumRetries = p.intRange(path, v, 0, 10, s.NumRetries)
		case "allowed_fails":
			s.AllowedFails = p.intRange(path, v, 0, 1000, s.AllowedFails)
		case "cooldown_time":
			s.CooldownTime = p.seconds(path, v, s.CooldownTime)
		case "max_cooldown_time":
			s.MaxCooldown = p.seconds(path, v, s.MaxCooldown)
		case "disable_cooldowns":
			s.DisableCooldowns = p.boolean(path, v)
		case "max_fallbacks":
			s.MaxFallbacks = p.intRange(path, v, 0, 5, s.MaxFallbacks)
		case "request_timeout", "timeout":
			s.RequestTimeout = p.seconds(path, v, s.RequestTimeout)
		case "stream_idle_timeout":
			s.StreamIdleTimeout = p.seconds(path, v, s.StreamIdleTimeout)
		case "retry_after":
			s.RetryAfter = p.seconds(path, v, s.RetryAfter)
		case "fallbacks":
			p.fallbackList(path, v, fb)
		case "context_window_fallbacks":
			p.fallbackList(path, v, cw)
		case "default_fallbacks":
			*defaults = p.strList(path, v)
		case "model_group_alias":
			am, ok := v.(map[string]any)
			if !ok {
				p.add(path, "must be a mapping of alias to model group")
				continue
			}
			for a, t := range am {
				switch tv := t.(type) {
				case string:
					c.GroupAliases[a] = tv
				case map[string]any:
					g, _ := tv["model"].(string)
					if g == "" {
						p.add(path+"."+a+".model", "is required")
					}
					c.GroupAliases[a] = g
					if h, _ := tv["hidden"].(bool); h {
						c.HiddenAliases[a] = true
					}
				default:
					p.add(path+"."+a, "must be a group name or {model, hidden}")
				}
			}
		}
	}
}

// fallbackList accepts LiteLLM's [{"a": ["b"]}, ...] and a plain mapping.
func (p *parser) fallbackList(path string, v any, into map[string][]string) {
	addMap := func(ipath string, m map[string]any) {
		for k, t := range m {
			into[k] = p.strList(ipath+"."+k, t)
		}
	}
	switch tv := v.(type) {
	case nil:
	case []any:
		for i, e := range tv {
			m, ok := e.(map[string]any)
			if !ok {
				p.add(fmt.Sprintf("%s[%d]", path, i), "must be a mapping of model group to a list of fallback groups")
				continue
			}
			addMap(fmt.Sprintf("%s[%d]", path, i), m)
		}
	case map[string]any:
		addMap(path, tv)
	default:
		p.add(path, "must be a list of {group: [fallback groups]}")
	}
}

func (p *parser) general(doc map[string]any, g *General) {
	m, ok := p.mapAt(doc, "general_settings")
	if !ok {
		return
	}
	if v, ok := m["master_key"]; ok && v != nil {
		g.addKey(p.secret("general_settings.master_key", v), "master_key")
	}
	if v, ok := m["master_key_ref"]; ok && v != nil {
		g.addKey(p.ref("general_settings.master_key_ref", v), fmt.Sprint(v))
	}
	if v, ok := m["extra_keys"]; ok && v != nil {
		list, ok := v.([]any)
		if !ok {
			p.add("general_settings.extra_keys", "must be a list")
			return
		}
		for i, e := range list {
			path := fmt.Sprintf("general_settings.extra_keys[%d]", i)
			var k string
			name := fmt.Sprintf("extra_keys[%d]", i)
			switch ev := e.(type) {
			case map[string]any:
				if r, ok := ev["key_ref"]; ok {
					k, name = p.ref(path+".key_ref", r), fmt.Sprint(r)
				} else if r, ok := ev["ref"]; ok {
					k, name = p.ref(path+".ref", r), fmt.Sprint(r)
				} else if r, ok := ev["key"]; ok {
					k = p.secret(path+".key", r)
				} else {
					p.add(path, "must be a key, os.environ/NAME, or {key_ref: NAME}")
				}
			default:
				k = p.secret(path, e)
			}
			g.addKey(k, name)
		}
	}
	if v, ok := m["extra_key_refs"]; ok && v != nil {
		for i, name := range p.strList("general_settings.extra_key_refs", v) {
			g.addKey(p.ref(fmt.Sprintf("general_settings.extra_key_refs[%d]", i), name), name)
		}
	}
}

func (p *parser) modelList(doc map[string]any, c *Config) {
	raw, ok := doc["model_list"]
	if !ok || raw == nil {
		p.add("model_list", "is empty; add at least one deployment")
		return
	}
	list, ok := raw.([]any)
	if !ok {
		p.add("model_list", "must be a list")
		return
	}
	if len(list) == 0 {
		p.add("model_list", "is empty; add at least one deployment")
	}
	seenID := map[string]string{}
	for i, e := range list {
		path := fmt.Sprintf("model_list[%d]", i)
		m, ok := e.(map[string]any)
		if !ok {
			p.add(path, "must be a mapping with model_name and litellm_params")
			continue
		}
		name, _ := p.str(path+".model_name", m["model_name"])
		if name == "" {
			p.add(path+".model_name", "is required")
		}
		lp, _ := m["litellm_params"].(map[string]any)
		if lp == nil {
			p.add(path+".litellm_params", "is required (a mapping with at least model)")
			continue
		}
		mi, _ := m["model_info"].(map[string]any)
		d := &Deployment{Group: name, Weight: 1, CooldownTime: -1, Path: path}
		model, _ := p.str(path+".litellm_params.model", lp["model"])
		d.Model = model
		prefix, upModel, found := strings.Cut(model, "/")
		kind, kok := upstream.ParseKind(prefix)
		switch {
		case model == "":
			p.add(path+".litellm_params.model", "is required (provider/upstream-model, e.g. openai/gpt-4o)")
		case !found || upModel == "":
			p.add(path+".litellm_params.model", "%q has no provider prefix; write provider/upstream-model (openai/, anthropic/, hosted_vllm/, custom_openai/, openai_responses/)", model)
		case !kok:
			p.add(path+".litellm_params.model", "provider %q is not supported; use openai/, hosted_vllm/, custom_openai/, anthropic/ or openai_responses/", prefix)
		}
		base := ""
		if v, ok := lp["api_base"]; ok && v != nil {
			base = p.secret(path+".litellm_params.api_base", v)
			if base != "" && !strings.HasPrefix(base, "http://") && !strings.HasPrefix(base, "https://") {
				p.add(path+".litellm_params.api_base", "%q must start with http:// or https://", base)
			}
		}
		key := ""
		if v, ok := lp["api_key"]; ok && v != nil {
			key = p.secret(path+".litellm_params.api_key", v)
			if s, ok := v.(string); ok {
				d.KeyEnv, _ = strings.CutPrefix(s, "os.environ/")
				if d.KeyEnv == s {
					d.KeyEnv = ""
				}
			}
		}
		if v, ok := lp["api_key_ref"]; ok && v != nil {
			key = p.ref(path+".litellm_params.api_key_ref", v)
			d.KeyRef, d.KeyEnv = fmt.Sprint(v), ""
		}
		var extra []string
		if mi != nil {
			if v, ok := mi["supported_endpoints"]; ok {
				extra = p.strList(path+".model_info.supported_endpoints", v)
			}
		}
		d.Target = upstream.NewTarget(kind, upModel, base, key, extra)
		if v, ok := lp["timeout"]; ok && v != nil {
			d.Timeout = p.seconds(path+".litellm_params.timeout", v, 0)
		}
		if v, ok := lp["stream_timeout"]; ok && v != nil {
			d.StreamTimeout = p.seconds(path+".litellm_params.stream_timeout", v, 0)
		}
		w := 0.0
		for _, src := range []map[string]any{lp, m} {
			for _, k := range []string{"weight", "rpm", "tpm"} {
				if v, ok := src[k]; ok && v != nil && w == 0 {
					w = p.float(path+"."+k, v)
					if w < 0 {
						p.add(path+"."+k, "must not be negative")
					}
				}
			}
		}
		if w > 0 {
			d.Weight = w
		}
		if v, ok := lp["order"]; ok && v != nil {
			d.Order = p.intRange(path+".litellm_params.order", v, 0, 1<<30, 0)
		}
		for _, src := range []struct {
			m    map[string]any
			path string
		}{{mi, path + ".model_info"}, {lp, path + ".litellm_params"}} {
			if src.m == nil {
				continue
			}
			if v, ok := src.m["cooldown_time"]; ok && v != nil {
				d.CooldownTime = p.seconds(src.path+".cooldown_time", v, 0)
			}
		}
		id := ""
		if mi != nil {
			id, _ = p.str(path+".model_info.id", mi["id"])
		}
		if id == "" {
			h := fnv.New64a()
			fmt.Fprintf(h, "%s\x00%s\x00%s", name, model, base)
			id = fmt.Sprintf("%s-%08x", sanitize(name), uint32(h.Sum64()))
			for n := 2; seenID[id] != ""; n++ {
				id = fmt.Sprintf("%s-%08x-%d", sanitize(name), uint32(h.Sum64()), n)
			}
		} else if prev, dup := seenID[id]; dup {
			p.add(path+".model_info.id", "%q is already used by %s; deployment ids must be unique", id, prev)
		}
		seenID[id] = path
		d.ID = id
		c.Deployments = append(c.Deployments, d)
		if name == "" {
			continue
		}
		g := c.Groups[name]
		if g == nil {
			g = &Group{Name: name}
			c.Groups[name] = g
			c.Aliases = append(c.Aliases, name)
		}
		g.Deployments = append(g.Deployments, d)
		if d.Order > 0 {
			g.hasOrder = true
		}
	}
	for a, t := range c.GroupAliases {
		if c.Groups[t] == nil && t != "" {
			p.add("router_settings.model_group_alias."+a, "names model group %q, which is not in model_list (have: %s)", t, strings.Join(c.Aliases, ", "))
		}
	}
}

func sanitize(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			b[i] = '_'
		}
	}
	if len(b) > 40 {
		b = b[:40]
	}
	return string(b)
}

// chains validates fallback references, rejects cycles and computes each
// group's fallback order, which must stay within MaxFallbacks (at most 5) hops.
func (p *parser) chains(c *Config) {
	check := func(sec string, m map[string][]string) {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if k != "*" && c.Groups[k] == nil {
				p.add("router_settings."+sec+"."+k, "model group %q is not in model_list (have: %s)", k, strings.Join(c.Aliases, ", "))
			}
			for i, t := range m[k] {
				if c.Groups[t] == nil {
					p.add(fmt.Sprintf("router_settings.%s.%s[%d]", sec, k, i), "fallback group %q is not in model_list (have: %s)", t, strings.Join(c.Aliases, ", "))
				}
			}
		}
	}
	check("fallbacks", c.Settings.Fallbacks)
	check("context_window_fallbacks", c.Settings.ContextWindowFallbacks)
	if len(p.probs) > 0 {
		return
	}
	next := func(m map[string][]string, g string) []string {
		if l, ok := m[g]; ok {
			return l
		}
		return m["*"]
	}
	// Cycle check over explicit edges (the "*" default only applies to
	// groups without their own entry, and never back to itself).
	for _, sec := range []struct {
		name string
		m    map[string][]string
	}{{"fallbacks", c.Settings.Fallbacks}, {"context_window_fallbacks", c.Settings.ContextWindowFallbacks}} {
		state := map[string]int{}
		var stack []string
		var visit func(g string) bool
		visit = func(g string) bool {
			state[g] = 1
			stack = append(stack, g)
			for _, n := range next(sec.m, g) {
				if n == g && sec.m[g] == nil {
					continue // default fallback pointing at itself: ignored
				}
				if state[n] == 1 {
					p.add("router_settings."+sec.name, "fallback cycle %s -> %s; fallbacks must not lead back to a group already tried", strings.Join(stack, " -> "), n)
					return false
				}
				if state[n] == 0 && !visit(n) {
					return false
				}
			}
			stack = stack[:len(stack)-1]
			state[g] = 2
			return true
		}
		for _, a := range c.Aliases {
			if state[a] == 0 && !visit(a) {
				return
			}
		}
	}
	expand := func(m map[string][]string, start string, sec string) []*Group {
		var out []*Group
		seen := map[string]bool{start: true}
		var walk func(g string)
		walk = func(g string) {
			for _, n := range next(m, g) {
				if seen[n] {
					continue
				}
				seen[n] = true
				out = append(out, c.Groups[n])
				walk(n)
			}
		}
		walk(start)
		if len(out) > 5 {
			names := make([]string, len(out))
			for i, g := range out {
				names[i] = g.Name
			}
			p.add("router_settings."+sec+"."+start, "fallback chain %s has %d hops; at most 5 are allowed", strings.Join(names, " -> "), len(out))
		}
		return out
	}
	for _, a := range c.Aliases {
		g := c.Groups[a]
		g.chain = expand(c.Settings.Fallbacks, a, "fallbacks")
		g.cwChain = expand(c.Settings.ContextWindowFallbacks, a, "context_window_fallbacks")
	}
}

// ---- value helpers -------------------------------------------------------

func (p *parser) str(path string, v any) (string, bool) {
	switch tv := v.(type) {
	case nil:
		return "", false
	case string:
		return tv, true
	case int, int64, float64, uint64:
		return fmt.Sprint(tv), true
	}
	p.add(path, "must be a string")
	return "", false
}

func (p *parser) strList(path string, v any) []string {
	switch tv := v.(type) {
	case nil:
		return nil
	case string:
		return []string{tv}
	case []string:
		return tv
	case []any:
		out := make([]string, 0, len(tv))
		for i, e := range tv {
			s, ok := e.(string)
			if !ok {
				p.add(fmt.Sprintf("%s[%d]", path, i), "must be a string")
				continue
			}
			out = append(out, s)
		}
		return out
	}
	p.add(path, "must be a list of strings")
	return nil
}

// secret resolves a literal or os.environ/NAME value, in memory only.
func (p *parser) secret(path string, v any) string {
	s, ok := p.str(path, v)
	if !ok {
		return ""
	}
	if name, isEnv := strings.CutPrefix(s, "os.environ/"); isEnv {
		val, set := os.LookupEnv(name)
		if !set || val == "" {
			p.add(path, "environment variable %s is not set; export it or use a *_ref to a stored secret", name)
		}
		return val
	}
	return s
}

func (p *parser) ref(path string, v any) string {
	name, ok := p.str(path, v)
	if !ok || name == "" {
		p.add(path, "must name a stored secret")
		return ""
	}
	if p.resolve == nil {
		p.add(path, "secret reference %q cannot be resolved here", name)
		return ""
	}
	val, err := p.resolve(name)
	if err != nil {
		p.add(path, "cannot resolve secret %q: %v", name, err)
		return ""
	}
	if val == "" {
		p.add(path, "secret %q is empty", name)
	}
	return val
}

func (p *parser) float(path string, v any) float64 {
	switch tv := v.(type) {
	case int:
		return float64(tv)
	case int64:
		return float64(tv)
	case uint64:
		return float64(tv)
	case float64:
		return tv
	case float32:
		return float64(tv)
	case json.Number:
		f, err := tv.Float64()
		if err == nil {
			return f
		}
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(tv), 64)
		if err == nil {
			return f
		}
	}
	p.add(path, "must be a number, got %v", v)
	return math.NaN()
}

func (p *parser) intRange(path string, v any, lo, hi, def int) int {
	f := p.float(path, v)
	if math.IsNaN(f) {
		return def
	}
	if f != math.Trunc(f) || f < float64(lo) || f > float64(hi) {
		p.add(path, "must be a whole number from %d to %d, got %v", lo, hi, v)
		return def
	}
	return int(f)
}

func (p *parser) seconds(path string, v any, def time.Duration) time.Duration {
	f := p.float(path, v)
	if math.IsNaN(f) {
		return def
	}
	if f < 0 || f > 86400*7 {
		p.add(path, "must be a number of seconds from 0 to 604800, got %v", v)
		return def
	}
	return time.Duration(f * float64(time.Second))
}

func (p *parser) boolean(path string, v any) bool {
	switch tv := v.(type) {
	case bool:
		return tv
	case string:
		b, err := strconv.ParseBool(tv)
		if err == nil {
			return b
		}
	}
	p.add(path, "must be true or false")
	return false
}
