package doctor

import (
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/flowgate/flowgate/internal/config"
)

// credentialChecks verifies every credential a profile or the gateway key
// uses resolves to a non-empty value, and every os.environ/NAME is set.
func credentialChecks(cfg *config.Config) []Check {
	refs := map[string]bool{}
	envs := map[string]bool{}
	var walk func(v any, key string)
	walk = func(v any, key string) {
		switch t := v.(type) {
		case map[string]any:
			for k, x := range t {
				walk(x, k)
			}
		case []any:
			for _, x := range t {
				walk(x, key)
			}
		case string:
			if strings.HasSuffix(key, "_ref") && t != "" {
				refs[t] = true
			}
			if name, ok := strings.CutPrefix(t, "os.environ/"); ok {
				envs[name] = true
			}
		}
	}
	walk(cfg.LiteLLMBase, "")
	for _, p := range cfg.Profiles {
		walk(p, "")
	}
	var out []Check
	problems := 0
	for _, name := range sortedSet(refs) {
		if _, err := cfg.ResolveCredential(name); err != nil {
			problems++
			out = append(out, Check{ID: "upstream_credentials", Status: Fail, Detail: err.Error(), Fix: credentialFix(cfg, name)})
		}
	}
	for _, name := range sortedSet(envs) {
		if os.Getenv(name) == "" {
			out = append(out, Check{ID: "upstream_credentials", Status: Warn, Detail: "os.environ/" + name + " is not set in this shell", Fix: "export " + name + " before `flowgate service start` (the gateway reads it at start)"})
		}
	}
	if problems == 0 {
		out = append([]Check{{ID: "upstream_credentials", Status: Pass, Detail: fmt.Sprintf("refs=%d resolvable", len(refs))}}, out...)
	}
	return out
}

func credentialFix(cfg *config.Config, name string) string {
	cred, ok := cfg.Credentials.Upstream[name]
	switch {
	case !ok:
		return "define credentials.upstream." + name
	case cred.Env != "":
		return "export " + cred.Env + "=<key>"
	default:
		return fmt.Sprintf("write the key into %s and chmod 600 it", cred.File)
	}
}

func sortedSet(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
