package doctor

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/goccy/go-yaml"

	"github.com/flowgate/flowgate/internal/config"
)

// cliproxyConfigChecks compares CLIProxyAPIPlus's YAML with FlowGate's view.
func cliproxyConfigChecks(cfg *config.Config) []Check {
	svc := cfg.Services[config.ServiceCLIProxy]
	path := svc.ConfigFile
	data, err := os.ReadFile(path)
	if err != nil {
		return []Check{{ID: "cliproxy_config", Status: Fail, Detail: "path=" + path + " missing", Fix: "run `flowgate --config " + cfg.File + " init` to write it"}}
	}
	var y map[string]any
	if err := yaml.Unmarshal(data, &y); err != nil || y == nil {
		return []Check{{ID: "cliproxy_config", Status: Fail, Detail: fmt.Sprintf("path=%s does not parse: %v", path, err), Fix: "fix the YAML or rewrite it with `flowgate init --force`"}}
	}
	var out []Check
	bad := func(detail, fix string) {
		out = append(out, Check{ID: "cliproxy_config", Status: Fail, Detail: detail, Fix: fix})
	}
	// host and port drift: drift_cliproxy_config (doctor_drift.go).
	if ad, _ := y["auth-dir"].(string); resolveCPPath(ad, svc.Command.Cwd) != cfg.Paths.AuthDir {
		bad(fmt.Sprintf("auth-dir=%q in %s, FlowGate's auths folder is %s", ad, path, cfg.Paths.AuthDir), fmt.Sprintf("set auth-dir: %q in %s", cfg.Paths.AuthDir, path))
	}
	rm, _ := y["remote-management"].(map[string]any)
	if dcp, _ := rm["disable-control-panel"].(bool); !dcp {
		out = append(out, Check{ID: "cliproxy_config", Status: Warn, Detail: "remote-management.disable-control-panel is not true: CLIProxyAPIPlus tries to download its panel at start (fails offline)", Fix: "set remote-management.disable-control-panel: true in " + path})
	}
	if key, err := cfg.ResolveCredential("cliproxy_default"); err == nil {
		found := false
		keys, _ := y["api-keys"].([]any)
		for _, k := range keys {
			if s, _ := k.(string); s == key {
				found = true
			}
		}
		if !found {
			bad("the gateway's key for CLIProxyAPIPlus (credentials.upstream.cliproxy_default) is not in api-keys of "+path, "add it to api-keys in "+path+" (it is in "+cfg.Credentials.Upstream["cliproxy_default"].File+")")
		}
	}
	if len(out) == 0 {
		out = append(out, Check{ID: "cliproxy_config", Status: Pass, Detail: "path=" + path + " host, port, auth-dir and api-keys agree"})
	}
	return out
}

func resolveCPPath(p, cwd string) string {
	if p == "" {
		return ""
	}
	if strings.HasPrefix(p, "~/") {
		if home, err := os.UserHomeDir(); err == nil {
			p = filepath.Join(home, p[2:])
		}
	}
	if !filepath.IsAbs(p) {
		p = filepath.Join(cwd, p)
	}
	return filepath.Clean(p)
}

// servedManagementPaths are the login routes CLIProxyAPIPlus 6.8.x serves.
var servedManagementPaths = map[string]string{
	"codex":   "/v0/management/codex-auth-url",
	"copilot": "/v0/management/github-auth-url",
	"github":  "/v0/management/github-auth-url",
	"status":  "/v0/management/get-auth-status",
}

func oauthEndpointChecks(cfg *config.Config) []Check {
	var out []Check
	served := map[string]bool{}
	for _, p := range servedManagementPaths {
		served[p] = true
	}
	for _, name := range sortedProviderNames(cfg) {
		p := cfg.Auth.Providers[name]
		for _, ep := range []struct{ key, val string }{{"auth_url_endpoint", p.AuthURLEndpoint}, {"status_endpoint", p.StatusEndpoint}} {
			if ep.val == "" {
				continue
			}
			path := ep.val
			if u, err := url.Parse(ep.val); err == nil && u.Path != "" {
				path = u.Path
			}
			if served[path] || strings.HasSuffix(path, "-auth-url") {
				continue
			}
			want := servedManagementPaths["status"]
			if ep.key == "auth_url_endpoint" {
				want = servedManagementPaths[name]
				if want == "" {
					want = "/v0/management/<provider>-auth-url"
				}
			}
			out = append(out, Check{ID: "oauth_endpoints", Status: Fail,
				Detail: fmt.Sprintf("auth.providers.%s.%s=%s is not a route CLIProxyAPIPlus serves", name, ep.key, ep.val),
				Fix:    fmt.Sprintf("set auth.providers.%s.%s: %s", name, ep.key, want)})
		}
	}
	if len(out) == 0 {
		out = append(out, Check{ID: "oauth_endpoints", Status: Pass, Detail: fmt.Sprintf("providers=%d", len(cfg.Auth.Providers))})
	}
	return out
}

func sortedProviderNames(cfg *config.Config) []string {
	out := make([]string, 0, len(cfg.Auth.Providers))
	for k := range cfg.Auth.Providers {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
