// Package doctor runs FlowGate's preflight checks: the config, the runtime
// tree, installed binaries, ports, secret file permissions, credential
// references, every profile as the gateway would load it, settings the
// builtin engine ignores, CLIProxyAPIPlus's own config and the OAuth
// endpoints it serves, and copies of addresses or keys that drifted. It
// only reads; it creates nothing. Each finding is a Check.
package doctor

import (
	"context"
	"fmt"
	"os"
	"strings"
	"syscall"

	"github.com/flowgate/flowgate/internal/config"
	"github.com/flowgate/flowgate/internal/litellm"
	"github.com/flowgate/flowgate/internal/release"
	"github.com/flowgate/flowgate/internal/router"
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

// Statuses of a Check.
const (
	Pass = "pass"
	Warn = "warn"
	Fail = "fail"
)

// OK is false when any check failed (warnings pass).
func OK(checks []Check) bool {
	for _, c := range checks {
		if c.Status == Fail {
			return false
		}
	}
	return true
}

// Probes are the parts of a run that need the command layer's view of the
// running services; a nil probe is skipped.
type Probes struct {
	// Inspect is the supervisor's view of one service.
	Inspect func(name string) supervisor.Status
	// Logins checks the login of every provider the active profile routes
	// to, and the deployments the running gateway saw refused.
	Logins func() []Check
	// Clients compares the Claude Code and Codex settings applied earlier
	// with what `integration apply` would write now.
	Clients func() []Check
	// LiteLLM says how LiteLLM's config gets its keys (engine litellm).
	LiteLLMCreds      map[string]litellm.CredentialSource
	LiteLLMGatewayKey litellm.CredentialSource
}

// Run performs every check, in the order doctor prints them.
func Run(cfg *config.Config, pr Probes) []Check {
	c := "flowgate --config " + cfg.File
	var checks []Check
	add := func(id, status, detail, fix string) {
		checks = append(checks, Check{ID: id, Status: status, Detail: detail, Fix: fix})
	}
	add("config", Pass, "path="+cfg.File, "")
	for _, w := range cfg.Warnings {
		add("config_legacy", Warn, w, "rename the legacy key as the warning says")
	}

	// Runtime tree.
	if fi, err := os.Stat(cfg.Paths.RuntimeDir); err != nil {
		add("runtime_dir", Warn, "path="+cfg.Paths.RuntimeDir+" missing", "run `"+c+" up` (or init) to create it")
	} else if !fi.IsDir() || syscall.Access(cfg.Paths.RuntimeDir, 2) != nil {
		add("runtime_dir", Fail, "path="+cfg.Paths.RuntimeDir+" not a writable folder", "fix the folder's owner or permissions, or set paths.runtime_dir")
	} else {
		add("runtime_dir", Pass, "path="+cfg.Paths.RuntimeDir, "")
	}

	// Binaries.
	cp := release.InstalledStatus(cfg.Paths.RuntimeDir)
	switch {
	case cp.Installed && cp.Executable:
		add("binary_cliproxyapi_plus", Pass, fmt.Sprintf("path=%s version=%s", cp.Path, orDefault(cp.Version, "unknown")), "")
	case cp.Installed:
		add("binary_cliproxyapi_plus", Fail, "path="+cp.Path+" "+cp.Problem, "run `"+c+" bootstrap download`")
	default:
		add("binary_cliproxyapi_plus", Fail, "path="+cp.Path+" missing", "run `"+c+" bootstrap download`")
	}
	if gw := cfg.Services[config.ServiceGateway]; gw.Engine == config.EngineLiteLLM {
		checks = append(checks, liteLLMChecks(cfg, pr)...)
	} else {
		add("binary_gateway", Pass, "engine=builtin (this binary)", "")
	}

	// Ports.
	for _, name := range cfg.ServiceOrder {
		svc := cfg.Services[name]
		id := "port_" + name
		var st supervisor.Status
		if pr.Inspect != nil {
			st = pr.Inspect(name)
		}
		holder := supervisor.FindPortHolder(svc.Host, svc.Port)
		switch {
		case holder == nil:
			add(id, Pass, fmt.Sprintf("%s:%d free", svc.Host, svc.Port), "")
		case st.State == supervisor.StateRunning && st.PortHolder == nil:
			add(id, Pass, fmt.Sprintf("%s:%d held by %s (pid %d)", svc.Host, svc.Port, name, st.Pid), "")
		default:
			add(id, Fail, fmt.Sprintf("%s:%d held by %s", svc.Host, svc.Port, holder),
				fmt.Sprintf("stop it (`%s` shows it) or change services.%s.port", supervisor.LsofCommand(svc.Port), name))
		}
	}

	// Secret permissions.
	issues := rt.AuditSecrets(cfg.Paths.AuthDir, cfg.Paths.SecretsDir, cfg.SecretFilesToAudit())
	if len(issues) == 0 {
		add("secret_permissions", Pass, "issues=0", "")
	}
	for _, i := range issues {
		add("secret_permissions", Fail, fmt.Sprintf("issues=%d path=%s mode=%s", len(issues), i.Path, i.ModeString), i.Fix)
	}

	// Credential references.
	checks = append(checks, credentialChecks(cfg)...)
	if pr.Logins != nil {
		checks = append(checks, pr.Logins()...)
	}
	add("aliases", Pass, "fallbacks and integration models name existing aliases", "")

	// CLIProxyAPIPlus's config and the OAuth endpoints it serves.
	checks = append(checks, cliproxyConfigChecks(cfg)...)
	checks = append(checks, oauthEndpointChecks(cfg)...)
	checks = append(checks, profileChecks(cfg)...)
	checks = append(checks, ignoredSettings(cfg)...)
	checks = append(checks, cliproxyConfigDrift(cfg)...)
	checks = append(checks, apiBaseDrift(cfg)...)
	if pr.Clients != nil {
		checks = append(checks, pr.Clients()...)
	}
	return checks
}

// profileChecks validates every profile as the gateway would load it.
func profileChecks(cfg *config.Config) []Check {
	var out []Check
	for _, name := range cfg.ProfileNames() {
		doc, _ := cfg.ProfileDocument(name)
		if err := cfg.ValidateGatewayDoc(name, doc); err != nil {
			out = append(out, Check{ID: "profile_" + name, Status: Fail, Detail: err.Error(), Fix: "fix profiles." + name + " or litellm_base in " + cfg.File})
		}
	}
	st, _ := rt.ReadState(cfg.Paths.StateFile)
	if st.CurrentProfile == "" {
		out = append(out, Check{ID: "active_profile", Status: Warn, Detail: "no profile is active yet", Fix: "run `flowgate profile set " + cfg.DefaultProfile + "` (or `flowgate up`)"})
	} else {
		out = append(out, Check{ID: "active_profile", Status: Pass, Detail: "profile=" + st.CurrentProfile})
	}
	return out
}

// ignoredSettings reports, once per place in the config file, every
// setting of any profile that the builtin engine does not implement, as the
// gateway's parser records them.
func ignoredSettings(cfg *config.Config) []Check {
	const id = "builtin_ignores"
	var out []Check
	seen := map[string]bool{}
	for _, name := range cfg.ProfileNames() {
		doc, err := cfg.ProfileDocument(name)
		if err != nil {
			continue
		}
		ignored, _ := router.Check(doc, router.CheckOptions{})
		for _, i := range ignored {
			at := cfg.FieldOrigin(name, i.Path)
			if seen[at] {
				continue
			}
			seen[at] = true
			i.Path = at
			fix := "remove it from " + cfg.File + ", or set services.gateway.engine: litellm to use it"
			if !i.LiteLLM {
				fix = "fix the spelling or remove it from " + cfg.File
			}
			if line, _ := cfg.Position(at); line > 0 {
				i.Path = fmt.Sprintf("%s (line %d)", at, line)
			}
			out = append(out, Check{ID: id, Status: Warn, Detail: i.String(), Fix: fix})
		}
	}
	if len(out) == 0 {
		out = append(out, Check{ID: id, Status: Pass, Detail: "every setting in every profile is implemented by the builtin engine"})
	}
	return out
}

// liteLLMChecks checks the runner and that LiteLLM's config can be
// generated from the active profile, with what Generate had to change.
func liteLLMChecks(cfg *config.Config, pr Probes) []Check {
	var out []Check
	fix := "run `flowgate --config " + cfg.File + " bootstrap litellm`"
	for _, c := range litellm.Check(context.Background(), cfg.Paths.RuntimeDir) {
		st := Pass
		if !c.OK {
			st = Fail
		}
		out = append(out, Check{ID: "litellm_" + strings.TrimPrefix(c.Name, "litellm_"), Status: st, Detail: c.Detail, Fix: fix})
	}
	st, _ := rt.ReadState(cfg.Paths.StateFile)
	doc, err := cfg.ProfileDocument(orDefault(st.CurrentProfile, cfg.DefaultProfile))
	if err == nil {
		_, _, report, gerr := litellm.Generate(doc, pr.LiteLLMCreds, pr.LiteLLMGatewayKey)
		if gerr != nil {
			out = append(out, Check{ID: "litellm_config", Status: Fail, Detail: gerr.Error(), Fix: "fix litellm_base or the active profile"})
		}
		for _, r := range report {
			out = append(out, Check{ID: "litellm_config", Status: Warn, Detail: r, Fix: "see docs/engines.md for what each engine supports"})
		}
	}
	return out
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}
