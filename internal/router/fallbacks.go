package router

import (
	"fmt"
	"sort"
	"strings"
)

// defaultGroup is the fallbacks key that applies to every group without an
// entry of its own (default_fallbacks is written to it).
const defaultGroup = "*"

// fallbackList reads one fallback setting (fallbacks,
// context_window_fallbacks, content_policy_fallbacks) into into. It accepts
// both forms LiteLLM reads: a list of single-entry mappings
// [{"a": ["b"]}, ...] and one mapping {"a": ["b"], ...}; a single group name
// may stand for a one-item list. An entry in router_settings replaces the
// same group's entry in litellm_settings.
func (p *parser) fallbackList(name, path string, v any, into map[string][]string) {
	at := p.edgesAt[name]
	if at == nil {
		at = map[string]string{}
		p.edgesAt[name] = at
	}
	addMap := func(ipath string, m map[string]any) {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			into[k] = p.strList(ipath+"."+k, m[k])
			at[k] = ipath + "." + k
			if name == "fallbacks" && k == defaultGroup {
				p.defaultFromSetting = false
			}
		}
	}
	switch tv := v.(type) {
	case nil:
	case []any:
		for i, e := range tv {
			ipath := fmt.Sprintf("%s[%d]", path, i)
			m, ok := e.(map[string]any)
			if !ok {
				p.add(ipath, "must be a mapping of model group to a list of fallback groups, such as {router-default: [router-backup]}")
				continue
			}
			addMap(ipath, m)
		}
	case map[string]any:
		addMap(path, tv)
	default:
		p.add(path, "must be a list of {group: [fallback groups]} mappings (or one mapping of group to fallback groups)")
	}
}

// defaultFallbacks reads default_fallbacks, LiteLLM's shorthand for a
// fallbacks entry "*". An explicit "*" entry wins over it.
func (p *parser) defaultFallbacks(path string, v any, fb map[string][]string) {
	list := p.strList(path, v)
	if len(list) == 0 {
		return
	}
	if _, explicit := fb[defaultGroup]; explicit && !p.defaultFromSetting {
		return
	}
	fb[defaultGroup] = list
	p.defaultFromSetting = true
	if p.edgesAt["fallbacks"] == nil {
		p.edgesAt["fallbacks"] = map[string]string{}
	}
	p.edgesAt["fallbacks"][defaultGroup] = path
}

// chains validates fallback references, rejects cycles and computes each
// group's fallback order, which must stay within MaxFallbacks (at most 5)
// hops. cp (content_policy_fallbacks) is only checked for references: the
// builtin engine does not act on it.
func (p *parser) chains(c *Config, cp map[string][]string) {
	have := strings.Join(c.Aliases, ", ")
	check := func(sec string, m map[string][]string) {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			at := p.edgesAt[sec][k]
			if k != defaultGroup && c.Groups[k] == nil {
				p.add(at, "model group %q is not a model_name in model_list; model groups: %s", k, have)
			}
			for i, t := range m[k] {
				if c.Groups[t] == nil {
					p.add(fmt.Sprintf("%s[%d]", at, i), "fallback group %q is not a model_name in model_list; model groups: %s", t, have)
				}
			}
		}
	}
	check("fallbacks", c.Settings.Fallbacks)
	check("context_window_fallbacks", c.Settings.ContextWindowFallbacks)
	check("content_policy_fallbacks", cp)
	if len(p.probs) > 0 {
		return
	}
	next := func(m map[string][]string, g string) []string {
		if l, ok := m[g]; ok {
			return l
		}
		return m[defaultGroup]
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
					p.add(p.sectionOf(sec.name, stack[0]), "fallback cycle %s -> %s; fallbacks must not lead back to a group already tried", strings.Join(stack, " -> "), n)
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
			p.add(p.sectionOf(sec, start), "fallback chain %s -> %s has %d hops; at most 5 are allowed", start, strings.Join(names, " -> "), len(out))
		}
		return out
	}
	for _, a := range c.Aliases {
		g := c.Groups[a]
		g.chain = expand(c.Settings.Fallbacks, a, "fallbacks")
		g.cwChain = expand(c.Settings.ContextWindowFallbacks, a, "context_window_fallbacks")
	}
}

// sectionOf is where a problem about group's fallbacks is reported: its
// own entry, else the "*" entry it inherits, else the setting itself.
func (p *parser) sectionOf(sec, group string) string {
	if at, ok := p.edgesAt[sec][group]; ok {
		return at
	}
	if at, ok := p.edgesAt[sec][defaultGroup]; ok {
		return at
	}
	return "router_settings." + sec
}
