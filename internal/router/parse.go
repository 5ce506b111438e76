package router

import (
	"fmt"
	"hash/fnv"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/flowgate/flowgate/internal/clientkeys"
	"github.com/flowgate/flowgate/internal/upstream"
)

// ConfigError lists every problem found in a document, each as
// "field.path: what is wrong".
type ConfigError struct{ Problems []string }

func (e *ConfigError) Error() string {
	return "invalid gateway config:\n  " + strings.Join(e.Problems, "\n  ")
}

// parser reads one document. In check mode (Check) it validates shape and
// references without resolving secrets.
type parser struct {
	resolve func(string) (string, error)
	// check: secrets are not resolved; refDefined (may be nil) only says
	// whether a *_ref name exists.
	check      bool
	refDefined func(string) error
	baseNames  map[string]string
	probs      []string
	ignored    []Ignored
	// edgesAt records, per fallback setting, where each group's entry is
	// written (litellm_settings.fallbacks[0].a), so problems name that place.
	edgesAt map[string]map[string]string
	// defaultFromSetting: the fallbacks "*" entry came from
	// default_fallbacks, so a later explicit "*" replaces it.
	defaultFromSetting bool
	// redisHost (read at redisHostAt) and redisPort wait for finishRedis.
	redisHost, redisHostAt string
	redisPort              int
}

func (p *parser) add(path, format string, a ...any) {
	p.probs = append(p.probs, path+": "+fmt.Sprintf(format, a...))
}

// Parse validates the merged document and returns the typed config, with
// every secret resolved in memory. resolve looks up api_key_ref /
// master_key_ref names; it may be nil.
func Parse(doc map[string]any, resolve func(name string) (string, error)) (*Config, error) {
	return (&parser{resolve: resolve}).parse(doc)
}

// CheckOptions say what Check may assume about names it does not resolve.
type CheckOptions struct {
	// RefDefined is asked about every *_ref name (api_key_ref,
	// master_key_ref, key_ref); its error says what to do. Nil accepts any.
	RefDefined func(name string) error
	// BaseNames are symbolic api_base values the caller replaces before the
	// gateway sees the document (cliproxy), each with what it stands for;
	// a message about a bad api_base offers them.
	BaseNames map[string]string
}

// Check validates doc exactly as Parse does (model list, settings, fallback
// references, cycles and chain lengths) without resolving secrets:
// os.environ/NAME values are not looked up and *_ref names are only passed
// to opts.RefDefined. It returns the settings the builtin engine does not
// implement, and a *ConfigError listing every problem. Config loading,
// profile set, doctor and the LiteLLM config generator all use it, so a
// document is accepted or refused everywhere with the same message.
func Check(doc map[string]any, opts CheckOptions) ([]Ignored, error) {
	p := &parser{check: true, refDefined: opts.RefDefined, baseNames: opts.BaseNames}
	c, err := p.parse(doc)
	if err != nil {
		return p.ignored, err
	}
	return c.Ignored, nil
}

func (p *parser) parse(doc map[string]any) (*Config, error) {
	p.edgesAt = map[string]map[string]string{}
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
		SessionAffinity:   true,
		SessionTTL:        DefaultSessionTTL,
	}
	p.unknownKeys("", "", doc)
	fb := map[string][]string{}
	cw := map[string][]string{}
	// content_policy_fallbacks only takes effect with engine litellm; its
	// references are checked all the same.
	cp := map[string][]string{}
	for _, sec := range []string{"litellm_settings", "router_settings"} {
		m, ok := p.mapAt(doc, sec)
		if !ok {
			continue
		}
		p.settings(sec, m, &c.Settings, map[string]map[string][]string{
			"fallbacks": fb, "context_window_fallbacks": cw, "content_policy_fallbacks": cp}, c)
	}
	c.Settings.Fallbacks, c.Settings.ContextWindowFallbacks = fb, cw
	p.finishRedis(&c.Settings.Redis)
	p.general(doc, &c.General)
	p.modelList(doc, c)
	p.keyAliases(c)
	p.chains(c, cp)
	c.Ignored = p.ignored
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

// settings reads one of litellm_settings and router_settings (the second
// overrides the first, key by key). edges maps each fallback setting name
// to the table it fills.
func (p *parser) settings(sec string, m map[string]any, s *Settings, edges map[string]map[string][]string, c *Config) {
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
		case "fallbacks", "context_window_fallbacks", "content_policy_fallbacks":
			p.fallbackList(k, path, v, edges[k])
			if k == "content_policy_fallbacks" {
				p.ignore(sec, path)
			}
		case "default_fallbacks":
			p.defaultFallbacks(path, v, edges["fallbacks"])
		case "model_group_alias":
			p.groupAliases(path, v, c)
		case "session_affinity":
			p.sessionAffinity(path, v, s)
		case "redis_url", "redis_host", "redis_port", "redis_password":
			p.redis(k, path, v, &s.Redis)
		case "drop_params", "use_chat_completions_url_for_anthropic_messages":
			// Accepted for LiteLLM and already how the builtin engine
			// behaves: its translators drop what the upstream protocol has
			// no field for, and openai/ models get Messages requests as
			// chat/completions.
		default:
			if !strings.HasPrefix(k, "_comment") {
				p.ignore(sec, path)
			}
		}
	}
}

func (p *parser) groupAliases(path string, v any, c *Config) {
	am, ok := v.(map[string]any)
	if !ok {
		p.add(path, "must be a mapping of alias to model group")
		return
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

func (p *parser) general(doc map[string]any, g *General) {
	m, ok := p.mapAt(doc, "general_settings")
	if !ok {
		return
	}
	p.unknownKeys("general_settings", "general_settings", m)
	if v, ok := m["master_key"]; ok && v != nil {
		g.addKey(p.secret("general_settings.master_key", v), "master_key", clientkeys.Limits{})
	}
	if v, ok := m["master_key_ref"]; ok && v != nil {
		g.addKey(p.ref("general_settings.master_key_ref", v), fmt.Sprint(v), clientkeys.Limits{})
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
			var lim clientkeys.Limits
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
				if n, ok := ev["name"]; ok {
					if s, _ := p.str(path+".name", n); s != "" {
						if err := clientkeys.CheckName(s); err != nil {
							p.add(path+".name", "%v", err)
						}
						name = s
					}
				}
				lim = p.keyLimits(path, ev)
			default:
				k = p.secret(path, e)
			}
			if p.check && k == "" {
				k = "unresolved" // check mode resolves nothing; the name still counts
			}
			for _, n := range g.KeyNames {
				if n == name {
					p.add(path+".name", "%q names another key too; key names must be unique (the request log and limits go by name)", name)
				}
			}
			g.addKey(k, name, lim)
		}
	}
	if v, ok := m["extra_key_refs"]; ok && v != nil {
		for i, name := range p.strList("general_settings.extra_key_refs", v) {
			g.addKey(p.ref(fmt.Sprintf("general_settings.extra_key_refs[%d]", i), name), name, clientkeys.Limits{})
		}
	}
}

// keyLimits reads an extra_keys entry's limits.
func (p *parser) keyLimits(path string, m map[string]any) clientkeys.Limits {
	var l clientkeys.Limits
	for k, v := range m {
		if v == nil {
			continue
		}
		switch k {
		case "key", "key_ref", "ref", "name":
		case "rpm":
			l.RPM = int64(p.intRange(path+".rpm", v, 0, 1<<30, 0))
		case "tpd":
			l.TPD = int64(p.intRange(path+".tpd", v, 0, 1<<50, 0))
		case "tokens_per_month":
			l.TokensPerMonth = int64(p.intRange(path+".tokens_per_month", v, 0, 1<<50, 0))
		case "budget_usd":
			if l.BudgetUSD = p.float(path+".budget_usd", v); l.BudgetUSD < 0 {
				p.add(path+".budget_usd", "must not be negative")
			}
		case "aliases":
			l.Aliases = p.strList(path+".aliases", v)
		default:
			p.add(path+"."+k, "unknown field; an extra_keys entry has key or key_ref, name, rpm, tpd, tokens_per_month, budget_usd, aliases")
		}
	}
	return l
}

// keyAliases checks that every key's allowed aliases exist.
func (p *parser) keyAliases(c *Config) {
	for i, lim := range c.General.KeyLimits {
		for _, a := range lim.Aliases {
			if c.Groups[a] == nil && c.GroupAliases[a] == "" {
				p.add(fmt.Sprintf("general_settings.extra_keys (key %s).aliases", c.General.KeyNames[i]), "names %q, which is not a model alias (have: %s)", a, strings.Join(c.Aliases, ", "))
			}
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
		p.add("model_list", "must be a list of {model_name, litellm_params} entries")
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
			p.add(path+".model_name", "is required: the alias clients ask for, such as router-default")
		}
		p.unknownKeys("model_list[]", path, m)
		lp, _ := m["litellm_params"].(map[string]any)
		if lp == nil {
			p.add(path+".litellm_params", "is required: a mapping with model (provider/upstream-model) and, for most providers, api_base")
			continue
		}
		p.unknownKeys("model_list[].litellm_params", path+".litellm_params", lp)
		mi, _ := m["model_info"].(map[string]any)
		if mi != nil {
			p.unknownKeys("model_list[].model_info", path+".model_info", mi)
		}
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
				p.add(path+".litellm_params.api_base", "must be %sa URL such as https://api.example.com/v1, or os.environ/NAME; got %q", p.baseChoices(), base)
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
			if k, both := lp["api_key"]; both && k != nil {
				p.add(path+".litellm_params", "sets both api_key and api_key_ref; keep one (api_key_ref names a credentials.upstream entry)")
			}
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
		if mi != nil {
			for _, k := range []string{"max_input_tokens", "max_tokens"} {
				if v, ok := mi[k]; ok && v != nil && d.MaxInputTokens == 0 {
					d.MaxInputTokens = p.intRange(path+".model_info."+k, v, 1, 1<<40, 0)
				}
			}
			if v, ok := mi["max_output_tokens"]; ok && v != nil {
				d.MaxOutputTokens = p.intRange(path+".model_info.max_output_tokens", v, 1, 1<<40, 0)
				d.Target.MaxOutputTokens = d.MaxOutputTokens
			}
			for _, f := range []struct {
				k   string
				dst *bool
			}{{"supports_pdf_input", &d.Target.FileInput}, {"reasoning_in_history", &d.Target.ReasoningInHistory}} {
				k, dst := f.k, f.dst
				if v, ok := mi[k]; ok && v != nil {
					b, isBool := v.(bool)
					if !isBool {
						p.add(path+".model_info."+k, "must be true or false, got %v", v)
					}
					*dst = b
				}
			}
		}
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
		for _, src := range []struct {
			m    map[string]any
			path string
		}{{m, path}, {lp, path + ".litellm_params"}} {
			if v, ok := src.m["rpm"]; ok && v != nil {
				d.RPM = int64(p.intRange(src.path+".rpm", v, 0, 1<<40, 0))
			}
			if v, ok := src.m["tpm"]; ok && v != nil {
				d.TPM = int64(p.intRange(src.path+".tpm", v, 0, 1<<50, 0))
			}
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

// baseChoices lists the symbolic api_base values for a message.
func (p *parser) baseChoices() string {
	names := make([]string, 0, len(p.baseNames))
	for n := range p.baseNames {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		fmt.Fprintf(&b, "%s (%s), ", n, p.baseNames[n])
	}
	return b.String()
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

// redis reads one of redis_url, redis_host, redis_port, redis_password.
// The URL is assembled in finishRedis, once every one is read.
func (p *parser) redis(k, path string, v any, r *Redis) {
	switch k {
	case "redis_url":
		r.URL, r.Setting = p.secret(path, v), path
		if r.URL == "" && !p.check {
			p.add(path, "is empty; write redis://host:6379 or remove it")
		}
	case "redis_host":
		if h, _ := p.str(path, v); h != "" {
			p.redisHost, p.redisHostAt = h, path
		}
	case "redis_port":
		p.redisPort = p.intRange(path, v, 1, 65535, 0)
	case "redis_password":
		r.Password = p.secret(path, v)
	}
}

// finishRedis builds the Redis URL from redis_host and redis_port when
// redis_url is not set, and checks it.
func (p *parser) finishRedis(r *Redis) {
	if r.URL == "" && p.redisHost != "" {
		port := p.redisPort
		if port == 0 {
			port = 6379
		}
		r.URL, r.Setting = (&url.URL{Scheme: "redis", Host: fmt.Sprintf("%s:%d", p.redisHost, port)}).String(), p.redisHostAt
		if strings.ContainsAny(p.redisHost, "/:@ ") {
			p.add(p.redisHostAt, "%q is not a host name; write the host only (redis_port takes the port) or use redis_url", p.redisHost)
		}
	} else if r.URL == "" && p.redisPort != 0 {
		p.add("router_settings.redis_port", "is set without redis_host or redis_url; add redis_host")
	}
	if r.URL == "" {
		return
	}
	if err := CheckRedisURL(r.URL); err != nil {
		p.add(r.Setting, "%v", err)
	}
}

// CheckRedisURL reports whether u is a Redis URL the gateway can use; the
// error never repeats a password written in it.
func CheckRedisURL(u string) error {
	pu, err := url.Parse(u)
	const form = "write redis://[:password@]host:6379[/db] (rediss:// for TLS, unix:///path/to/redis.sock)"
	if err != nil {
		return fmt.Errorf("is not a URL; %s", form)
	}
	switch pu.Scheme {
	case "redis", "rediss":
		if pu.Hostname() == "" {
			return fmt.Errorf("%s has no host; %s", pu.Redacted(), form)
		}
		if port := pu.Port(); port != "" {
			if n, err := fmt.Sscanf(port, "%d", new(int)); n != 1 || err != nil {
				return fmt.Errorf("%s: port %q is not a number; %s", pu.Redacted(), port, form)
			}
		}
		if db := strings.Trim(pu.Path, "/"); db != "" {
			var n int
			if _, err := fmt.Sscanf(db, "%d", &n); err != nil || fmt.Sprint(n) != db {
				return fmt.Errorf("%s: database %q is not a number; %s", pu.Redacted(), db, form)
			}
		}
	case "unix":
		if pu.Path == "" {
			return fmt.Errorf("%s has no socket path; %s", pu.Redacted(), form)
		}
	default:
		return fmt.Errorf("scheme %q is not redis, rediss or unix; %s", pu.Scheme, form)
	}
	return nil
}
