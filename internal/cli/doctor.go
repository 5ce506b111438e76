package cli

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"

	"github.com/goccy/go-yaml"
	"github.com/spf13/cobra"

	"github.com/flowgate/flowgate/internal/config"
	"github.com/flowgate/flowgate/internal/release"
	rt "github.com/flowgate/flowgate/internal/runtime"
	"github.com/flowgate/flowgate/internal/supervisor"
)

// Check is one doctor finding.
type Check struct {
	ID     string `json:"id"`
	Status string `json:"status"` // pass, warn, fail
	Detail string `json:"detail,omitempty"`
	Fix    string `json:"fix,omitempty"`
}

const (
	checkPass = "pass"
	checkWarn = "warn"
	checkFail = "fail"
)

func (a *app) doctorCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "doctor",
		Short: "Run preflight checks, each pass/warn/fail with a one-line fix; exit 1 on any fail",
		Long: `doctor checks what FlowGate needs before and while it runs: the config, the
runtime tree, installed binaries, ports, secret file permissions, credential
references, aliases, CLIProxyAPIPlus's own config and the OAuth endpoints it
serves. It only reads; it creates nothing.`,
		Example: "  flowgate doctor\n  flowgate doctor --json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := a.load()
			if err != nil {
				return err
			}
			checks := runDoctor(cfg)
			ok := true
			for _, c := range checks {
				ok = ok && c.Status != checkFail
			}
			if a.jsonOut {
				if err := a.printJSON(map[string]any{"ok": ok, "checks": checks}); err != nil {
					return err
				}
			} else {
				for _, c := range checks {
					line := fmt.Sprintf("doctor:%s=%s", c.ID, c.Status)
					if c.Detail != "" {
						line += " " + c.Detail
					}
					fmt.Fprintln(a.stdout, line)
					if c.Fix != "" && c.Status != checkPass {
						fmt.Fprintf(a.stdout, "  fix: %s\n", c.Fix)
					}
				}
			}
			if !ok {
				return silent(ExitFailed)
			}
			return nil
		},
	}
}

func runDoctor(cfg *config.Config) []Check {
	c := "flowgate --config " + cfg.File
	var checks []Check
	add := func(id, status, detail, fix string) {
		checks = append(checks, Check{ID: id, Status: status, Detail: detail, Fix: fix})
	}
	add("config", checkPass, "path="+cfg.File, "")
	for _, w := range cfg.Warnings {
		add("config_legacy", checkWarn, w, "rename the legacy key as the warning says")
	}

	// Runtime tree.
	if fi, err := os.Stat(cfg.Paths.RuntimeDir); err != nil {
		add("runtime_dir", checkWarn, "path="+cfg.Paths.RuntimeDir+" missing", "run `"+c+" up` (or init) to create it")
	} else if !fi.IsDir() || syscall.Access(cfg.Paths.RuntimeDir, 2) != nil {
		add("runtime_dir", checkFail, "path="+cfg.Paths.RuntimeDir+" not a writable folder", "fix the folder's owner or permissions, or set paths.runtime_dir")
	} else {
		add("runtime_dir", checkPass, "path="+cfg.Paths.RuntimeDir, "")
	}

	// Binaries.
	cp := release.InstalledStatus(cfg.Paths.RuntimeDir)
	switch {
	case cp.Installed && cp.Executable:
		add("binary_cliproxyapi_plus", checkPass, fmt.Sprintf("path=%s version=%s", cp.Path, orDefault(cp.Version, "unknown")), "")
	case cp.Installed:
		add("binary_cliproxyapi_plus", checkFail, "path="+cp.Path+" "+cp.Problem, "run `"+c+" bootstrap download`")
	default:
		add("binary_cliproxyapi_plus", checkFail, "path="+cp.Path+" missing", "run `"+c+" bootstrap download`")
	}
	if gw := cfg.Services[config.ServiceGateway]; gw.Engine == config.EngineLiteLLM {
		checks = append(checks, liteLLMDoctor(cfg)...)
	} else {
		add("binary_gateway", checkPass, "engine=builtin (this binary)", "")
	}

	// Ports.
	sup := supervisorFor(cfg)
	for _, name := range cfg.ServiceOrder {
		svc := cfg.Services[name]
		id := "port_" + name
		st, _ := sup.Inspect(baseSpec(cfg, name))
		holder := supervisor.FindPortHolder(svc.Host, svc.Port)
		switch {
		case holder == nil:
			add(id, checkPass, fmt.Sprintf("%s:%d free", svc.Host, svc.Port), "")
		case st.State == supervisor.StateRunning && st.PortHolder == nil:
			add(id, checkPass, fmt.Sprintf("%s:%d held by %s (pid %d)", svc.Host, svc.Port, name, st.Pid), "")
		default:
			add(id, checkFail, fmt.Sprintf("%s:%d held by %s", svc.Host, svc.Port, holder),
				fmt.Sprintf("stop it (`%s` shows it) or change services.%s.port", supervisor.LsofCommand(svc.Port), name))
		}
	}

	// Secret permissions.
	issues := auditSecrets(cfg)
	if len(issues) == 0 {
		add("secret_permissions", checkPass, "issues=0", "")
	}
	for _, i := range issues {
		add("secret_permissions", checkFail, fmt.Sprintf("issues=%d path=%s mode=%s", len(issues), i.Path, i.ModeString), i.Fix)
	}

	// Credential references.
	checks = append(checks, credentialChecks(cfg)...)
	checks = append(checks, loginChecks(cfg)...)
	add("aliases", checkPass, "fallbacks and integration models name existing aliases", "")

	// CLIProxyAPIPlus's config and the OAuth endpoints it serves.
	checks = append(checks, cliproxyConfigChecks(cfg)...)
	checks = append(checks, oauthEndpointChecks(cfg)...)
	checks = append(checks, gatewayProfileChecks(cfg)...)
	checks = append(checks, driftChecks(cfg)...)
	return checks
}

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
			out = append(out, Check{ID: "upstream_credentials", Status: checkFail, Detail: err.Error(), Fix: credentialFix(cfg, name)})
		}
	}
	for _, name := range sortedSet(envs) {
		if os.Getenv(name) == "" {
			out = append(out, Check{ID: "upstream_credentials", Status: checkWarn, Detail: "os.environ/" + name + " is not set in this shell", Fix: "export " + name + " before `flowgate service start` (the gateway reads it at start)"})
		}
	}
	if problems == 0 {
		out = append([]Check{{ID: "upstream_credentials", Status: checkPass, Detail: fmt.Sprintf("refs=%d resolvable", len(refs))}}, out...)
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

// cliproxyConfigChecks compares CLIProxyAPIPlus's YAML with FlowGate's view.
func cliproxyConfigChecks(cfg *config.Config) []Check {
	svc := cfg.Services[config.ServiceCLIProxy]
	path := svc.ConfigFile
	data, err := os.ReadFile(path)
	if err != nil {
		return []Check{{ID: "cliproxy_config", Status: checkFail, Detail: "path=" + path + " missing", Fix: "run `flowgate --config " + cfg.File + " init` to write it"}}
	}
	var y map[string]any
	if err := yaml.Unmarshal(data, &y); err != nil || y == nil {
		return []Check{{ID: "cliproxy_config", Status: checkFail, Detail: fmt.Sprintf("path=%s does not parse: %v", path, err), Fix: "fix the YAML or rewrite it with `flowgate init --force`"}}
	}
	var out []Check
	bad := func(detail, fix string) {
		out = append(out, Check{ID: "cliproxy_config", Status: checkFail, Detail: detail, Fix: fix})
	}
	// host and port drift: drift_cliproxy_config (doctor_drift.go).
	if ad, _ := y["auth-dir"].(string); resolveCPPath(ad, svc.Command.Cwd) != cfg.Paths.AuthDir {
		bad(fmt.Sprintf("auth-dir=%q in %s, FlowGate's auths folder is %s", ad, path, cfg.Paths.AuthDir), fmt.Sprintf("set auth-dir: %q in %s", cfg.Paths.AuthDir, path))
	}
	rm, _ := y["remote-management"].(map[string]any)
	if dcp, _ := rm["disable-control-panel"].(bool); !dcp {
		out = append(out, Check{ID: "cliproxy_config", Status: checkWarn, Detail: "remote-management.disable-control-panel is not true: CLIProxyAPIPlus tries to download its panel at start (fails offline)", Fix: "set remote-management.disable-control-panel: true in " + path})
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
		out = append(out, Check{ID: "cliproxy_config", Status: checkPass, Detail: "path=" + path + " host, port, auth-dir and api-keys agree"})
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
			out = append(out, Check{ID: "oauth_endpoints", Status: checkFail,
				Detail: fmt.Sprintf("auth.providers.%s.%s=%s is not a route CLIProxyAPIPlus serves", name, ep.key, ep.val),
				Fix:    fmt.Sprintf("set auth.providers.%s.%s: %s", name, ep.key, want)})
		}
	}
	if len(out) == 0 {
		out = append(out, Check{ID: "oauth_endpoints", Status: checkPass, Detail: fmt.Sprintf("providers=%d", len(cfg.Auth.Providers))})
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

// gatewayProfileChecks validates every profile as the gateway would load it.
func gatewayProfileChecks(cfg *config.Config) []Check {
	var out []Check
	for _, name := range cfg.ProfileNames() {
		doc, _ := cfg.ProfileDocument(name)
		if err := validateGatewayDoc(cfg, name, doc); err != nil {
			out = append(out, Check{ID: "profile_" + name, Status: checkFail, Detail: err.Error(), Fix: "fix profiles." + name + " or litellm_base in " + cfg.File})
		}
	}
	st, _ := rt.ReadState(cfg.Paths.StateFile)
	if st.CurrentProfile == "" {
		out = append(out, Check{ID: "active_profile", Status: checkWarn, Detail: "no profile is active yet", Fix: "run `flowgate profile set " + cfg.DefaultProfile + "` (or `flowgate up`)"})
	} else {
		out = append(out, Check{ID: "active_profile", Status: checkPass, Detail: "profile=" + st.CurrentProfile})
	}
	return out
}
