package router

import (
	"fmt"
	"hash/fnv"
	"sort"
	"strings"
	"time"

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
	p.general(doc, &c.General)
	p.modelList(doc, c)
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
