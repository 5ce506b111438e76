package config

import (
	"fmt"
	"sort"
	"strings"
)

// DeepMerge returns a new document: maps merge recursively, any other overlay
// value (lists included) replaces the base value. Neither input is modified.
func DeepMerge(base, overlay map[string]any) map[string]any {
	out := make(map[string]any, len(base)+len(overlay))
	for k, v := range base {
		out[k] = deepCopy(v)
	}
	for k, v := range overlay {
		if bm, ok := out[k].(map[string]any); ok {
			if om, ok := v.(map[string]any); ok {
				out[k] = DeepMerge(bm, om)
				continue
			}
		}
		out[k] = deepCopy(v)
	}
	return out
}

func deepCopy(v any) any {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, x := range t {
			out[k] = deepCopy(x)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, x := range t {
			out[i] = deepCopy(x)
		}
		return out
	}
	return v
}

// ProfileDocument is litellm_base merged with the named profile: the
// LiteLLM-style document (model_list, router_settings, litellm_settings,
// general_settings) the gateway runs on. api_base: cliproxy becomes the
// CLIProxyAPIPlus URL of services.cliproxyapi_plus; secret references are
// kept as written.
func (c *Config) ProfileDocument(profile string) (map[string]any, error) {
	overlay, ok := c.Profiles[profile]
	if !ok {
		return nil, fmt.Errorf("unknown profile %q; profiles: %s (see `flowgate profile list`)", profile, strings.Join(profileNames(c), ", "))
	}
	doc := DeepMerge(c.LiteLLMBase, overlay)
	c.resolveAddresses(doc)
	return doc, nil
}

// ProfileNames lists the profiles sorted by name.
func (c *Config) ProfileNames() []string { return profileNames(c) }

// Aliases lists the model_name values of a merged document, sorted, unique.
func Aliases(doc map[string]any) []string {
	seen := map[string]bool{}
	list, _ := doc["model_list"].([]any)
	for _, e := range list {
		m, _ := e.(map[string]any)
		if name, ok := m["model_name"].(string); ok && name != "" {
			seen[name] = true
		}
	}
	out := make([]string, 0, len(seen))
	for k := range seen {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// crossCheck validates what depends on more than one section: model_list
// entries, credential references, fallbacks and integration model names.
func crossCheck(c *collector, cfg *Config) {
	seen := map[string]bool{}
	add := func(path, format string, args ...any) {
		msg := fmt.Sprintf(format, args...)
		if seen[path+msg] {
			return
		}
		seen[path+msg] = true
		c.add(path, "%s", msg)
	}
	checkModelList(add, cfg, "litellm_base", cfg.LiteLLMBase)
	for _, name := range profileNames(cfg) {
		checkModelList(add, cfg, join("profiles", name), cfg.Profiles[name])
	}
	missing := map[string][]string{}
	aliasesOf := map[string][]string{}
	for _, name := range profileNames(cfg) {
		doc := DeepMerge(cfg.LiteLLMBase, cfg.Profiles[name])
		aliases := Aliases(doc)
		known := map[string]bool{}
		for _, a := range aliases {
			known[a] = true
		}
		for _, section := range []string{"router_settings", "litellm_settings"} {
			for _, key := range []string{"fallbacks", "context_window_fallbacks", "content_policy_fallbacks"} {
				where := join(section, key)
				origin := join("profiles."+name, where)
				if _, inOverlay := lookup(cfg.Profiles[name], section, key); !inOverlay {
					origin = join("litellm_base", where)
				}
				v, _ := lookup(doc, section, key)
				checkFallbacks(add, origin, v, known, name, aliases)
			}
		}
		for _, f := range integrationModels(cfg) {
			if !known[f.val] && len(aliases) > 0 {
				missing[f.key] = append(missing[f.key], name)
				if aliasesOf[f.key] == nil {
					aliasesOf[f.key] = aliases
				}
			}
		}
	}
	// One problem per integration key, naming every profile that lacks the
	// model; a key left unset is reported only where its default comes from.
	for _, f := range integrationModels(cfg) {
		profiles := missing[f.key]
		if len(profiles) == 0 {
			continue
		}
		which := "profile " + profiles[0] + " does"
		if len(profiles) > 1 {
			which = "profiles " + strings.Join(profiles, ", ") + " do"
		}
		what := fmt.Sprintf("names model %q", f.val)
		if !cfg.integrationSet[f.key] {
			what = fmt.Sprintf("is not set and defaults to %q", f.val)
		}
		if len(f.feeds) > 0 {
			what += " (also used by " + strings.Join(f.feeds, ", ") + " unless set)"
		}
		add(join("integration", f.key), "%s, which %s not define in model_list; aliases: %s; set integration.%s to one of them or add a model_list entry named %q", what, which, strings.Join(aliasesOf[f.key], ", "), f.key, f.val)
	}
}

type integrationModel struct {
	key, val string
	// feeds are the unset keys that take their default from this one.
	feeds []string
}

// integrationModels are the integration model keys a problem must be
// reported on: those the file sets, and default_model, whose value every
// unset key inherits (haiku_model through fast_model).
func integrationModels(cfg *Config) []integrationModel {
	in := cfg.Integration
	set := func(k string) bool { return cfg.integrationSet[k] }
	all := []integrationModel{
		{key: "default_model", val: in.DefaultModel}, {key: "fast_model", val: in.FastModel},
		{key: "opus_model", val: in.OpusModel}, {key: "sonnet_model", val: in.SonnetModel},
		{key: "haiku_model", val: in.HaikuModel},
	}
	// source is the key an unset key takes its value from.
	source := map[string]string{"fast_model": "default_model", "opus_model": "default_model", "sonnet_model": "default_model", "haiku_model": "fast_model"}
	root := func(k string) string {
		for !set(k) && source[k] != "" {
			k = source[k]
		}
		return k
	}
	var out []integrationModel
	for _, m := range all {
		if root(m.key) != m.key {
			continue
		}
		for _, other := range all {
			if other.key != m.key && root(other.key) == m.key {
				m.feeds = append(m.feeds, other.key)
			}
		}
		out = append(out, m)
	}
	return out
}

func lookup(doc map[string]any, section, key string) (any, bool) {
	m, ok := doc[section].(map[string]any)
	if !ok {
		return nil, false
	}
	v, ok := m[key]
	return v, ok
}

func checkFallbacks(add func(string, string, ...any), path string, v any, known map[string]bool, profile string, aliases []string) {
	if v == nil {
		return
	}
	list, ok := v.([]any)
	if !ok {
		add(path, "must be a list of {alias: [fallback aliases]} mappings")
		return
	}
	for i, item := range list {
		m, ok := item.(map[string]any)
		if !ok {
			add(index(path, i), "must be a mapping {alias: [fallback aliases]}")
			continue
		}
		for _, from := range sortedKeys(m) {
			p := index(path, i) + "." + from
			if from != "*" && !known[from] {
				add(p, "fallback source %q is not an alias in profile %s; aliases: %s", from, profile, strings.Join(aliases, ", "))
			}
			targets, ok := m[from].([]any)
			if !ok {
				if s, isStr := m[from].(string); isStr {
					targets = []any{s}
				} else {
					add(p, "must be a list of fallback aliases")
					continue
				}
			}
			for j, t := range targets {
				s, _ := t.(string)
				if !known[s] {
					add(index(p, j), "fallback target %q is not an alias in profile %s; aliases: %s", t, profile, strings.Join(aliases, ", "))
				}
			}
		}
	}
}

func checkModelList(add func(string, string, ...any), cfg *Config, base string, doc map[string]any) {
	raw, present := doc["model_list"]
	if !present {
		return
	}
	list, ok := raw.([]any)
	if !ok {
		add(join(base, "model_list"), "must be a list of {model_name, litellm_params} entries")
		return
	}
	for i, e := range list {
		p := index(join(base, "model_list"), i)
		m, ok := e.(map[string]any)
		if !ok {
			add(p, "must be a mapping with model_name and litellm_params")
			continue
		}
		if s, ok := m["model_name"].(string); !ok || s == "" {
			add(join(p, "model_name"), "must be the alias clients ask for, such as router-default")
		}
		lp, ok := m["litellm_params"].(map[string]any)
		if !ok {
			add(join(p, "litellm_params"), "must be a mapping with model (provider/upstream-model) and api_base")
			continue
		}
		model, _ := lp["model"].(string)
		if prov, _, found := strings.Cut(model, "/"); !found || prov == "" {
			add(join(p, "litellm_params.model"), "must be provider/upstream-model such as openai/gpt-4o-mini or anthropic/claude-sonnet-4, got %q", model)
		}
		if v, has := lp["api_base"]; has {
			s, isStr := v.(string)
			if !isStr || (s != CLIProxyAPIBase && !strings.HasPrefix(s, "os.environ/") && !strings.Contains(s, "://")) {
				add(join(p, "litellm_params.api_base"), "must be %s (CLIProxyAPIPlus at services.cliproxyapi_plus host and port), a URL such as https://api.example.com/v1, or os.environ/NAME; got %v", CLIProxyAPIBase, v)
			}
		}
		if ref, has := lp["api_key_ref"]; has {
			name, _ := ref.(string)
			if _, ok := cfg.Credentials.Upstream[name]; !ok {
				add(join(p, "litellm_params.api_key_ref"), "names credential %q, which credentials.upstream does not define; defined: %s", ref, strings.Join(credNames(cfg), ", "))
			}
		}
	}
}

func credNames(cfg *Config) []string {
	out := []string{}
	for k := range cfg.Credentials.Upstream {
		out = append(out, k)
	}
	sort.Strings(out)
	if len(out) == 0 {
		return []string{"(none)"}
	}
	return out
}
