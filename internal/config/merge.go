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
