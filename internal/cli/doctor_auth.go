package cli

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/flowgate/flowgate/internal/cliproxy"
	"github.com/flowgate/flowgate/internal/config"
	"github.com/flowgate/flowgate/internal/router"
	"github.com/flowgate/flowgate/internal/supervisor"
)

// loginFinding is the login state of one provider that aliases of the
// active profile reach through CLIProxyAPIPlus, or of one other deployment
// whose credential the gateway saw refused.
type loginFinding struct {
	cliproxy.Login
	// Aliases are the aliases routed to it.
	Aliases []string `json:"aliases"`
	// Deployment is set for a refused deployment that is not on
	// CLIProxyAPIPlus (Provider is then empty).
	Deployment string `json:"deployment,omitempty"`
	// Problem is the line health and doctor print; "" when the login is ok.
	Problem string `json:"problem,omitempty"`
}

// cliproxyBase is the base URL the gateway's routes to CLIProxyAPIPlus use.
func cliproxyBase(cfg *config.Config) string {
	svc := cfg.Services[config.ServiceCLIProxy]
	return cliproxy.ServiceBaseURL(svc.Host, svc.Port)
}

// routedProviders maps each provider that the active profile's aliases reach
// through CLIProxyAPIPlus to those aliases. A config that does not load gives
// none (the config checks report it).
func routedProviders(cfg *config.Config) map[string][]string {
	doc, err := cfg.ProfileDocument(activeProfile(cfg))
	if err != nil {
		return nil
	}
	rc, err := router.Parse(doc, cfg.ResolveCredential)
	if err != nil {
		return nil
	}
	base := cliproxyBase(cfg)
	out := map[string][]string{}
	for _, d := range rc.Deployments {
		if !cliproxy.OnService(d.Target.Base, base) {
			continue
		}
		p := cliproxy.ProviderForModel(d.Target.Model)
		if p == "" {
			continue // a model FlowGate cannot attribute: no login to judge
		}
		if !containsString(out[p], d.Group) {
			out[p] = append(out[p], d.Group)
		}
	}
	return out
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// quickHTTP bounds the management calls health and doctor make.
var quickHTTP = &http.Client{Timeout: 5 * time.Second}

// managementClientIfRunning is a management client for CLIProxyAPIPlus when
// FlowGate runs it, else nil: the management password is only sent to the
// process FlowGate started, never to whatever else holds the port.
func managementClientIfRunning(cfg *config.Config) *cliproxy.Client {
	st, _ := supervisorFor(cfg).Inspect(baseSpec(cfg, config.ServiceCLIProxy))
	if st.State != supervisor.StateRunning {
		return nil
	}
	c, err := managementClient(cfg)
	if err != nil {
		return nil
	}
	c.HTTP = quickHTTP
	return c
}

// checkLogins judges the login of every provider an alias routes to: missing
// and expired from CLIProxyAPIPlus's account list (client, when it runs) or
// else the files in the auths folder; rejected from the gateway's
// auth_failed deployments (deps, when the gateway was asked).
func checkLogins(ctx context.Context, cfg *config.Config, client *cliproxy.Client, deps *gatewayHealth) []loginFinding {
	routes := routedProviders(cfg)
	providers := make([]string, 0, len(routes))
	for p := range routes {
		providers = append(providers, p)
	}
	sort.Strings(providers)
	var out []loginFinding
	byProvider := map[string]int{}
	if len(providers) > 0 {
		st, err := cliproxy.Status(ctx, cfg.Paths.AuthDir, client, time.Now())
		if err != nil {
			st = &cliproxy.AuthStatus{AuthDir: cfg.Paths.AuthDir}
		}
		for _, l := range st.Logins(providers) {
			byProvider[l.Provider] = len(out)
			out = append(out, loginFinding{Login: l, Aliases: routes[l.Provider]})
		}
	}
	if deps != nil {
		base := cliproxyBase(cfg)
		for _, d := range deps.Deployments {
			if d.State != "auth_failed" {
				continue
			}
			since := time.Now()
			if d.AuthFailedSince != nil {
				since = *d.AuthFailedSince
			}
			p := cliproxy.ProviderForModel(d.Model)
			if cliproxy.OnService(d.APIBase, base) && p != "" {
				i, ok := byProvider[p]
				if !ok {
					byProvider[p] = len(out)
					out = append(out, loginFinding{Login: cliproxy.RejectedLogin(p, d.AuthStatus, since, d.LastError), Aliases: []string{d.ModelGroup}})
					continue
				}
				if !containsString(out[i].Aliases, d.ModelGroup) {
					out[i].Aliases = append(out[i].Aliases, d.ModelGroup)
				}
				if out[i].State == cliproxy.LoginOK {
					out[i].Login = cliproxy.RejectedLogin(p, d.AuthStatus, since, d.LastError)
				}
				continue
			}
			fix := d.Fix
			if fix == "" {
				fix = "check the deployment's api_key in " + cfg.File
			}
			t := since.UTC()
			out = append(out, loginFinding{
				Login:      cliproxy.Login{State: cliproxy.LoginRejected, At: &t, Detail: d.LastError, Fix: fix},
				Aliases:    []string{d.ModelGroup},
				Deployment: d.Model,
				Problem: fmt.Sprintf("deployment %s (alias %s) credentials rejected with %d since %s (%s)",
					d.Model, d.ModelGroup, d.AuthStatus, t.Format(time.RFC3339), fix),
			})
		}
	}
	for i := range out {
		if out[i].Provider != "" && out[i].State != cliproxy.LoginOK {
			out[i].Problem = out[i].Login.Problem()
		}
	}
	return out
}

// loginChecks is doctor's view: one check per provider an alias routes to
// through CLIProxyAPIPlus (fail without a usable login), and a fail for each
// deployment the running gateway saw refused.
func loginChecks(cfg *config.Config) []Check {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var deps *gatewayHealth
	gw := cfg.Services[config.ServiceGateway]
	if st, _ := supervisorFor(cfg).Inspect(baseSpec(cfg, config.ServiceGateway)); st.State == supervisor.StateRunning && gw.Engine == config.EngineBuiltin {
		deps, _ = fetchDeployments(ctx, cfg, false)
	}
	var out []Check
	for _, f := range checkLogins(ctx, cfg, managementClientIfRunning(cfg), deps) {
		id := "login_" + f.Provider
		if f.Provider == "" {
			id = "upstream_auth"
		}
		routes := "aliases " + strings.Join(f.Aliases, ", ") + " route to it"
		if f.Problem == "" {
			detail := routes
			if f.Account != "" {
				detail = "account=" + f.Account + "; " + routes
			}
			out = append(out, Check{ID: id, Status: checkPass, Detail: detail})
			continue
		}
		fix := f.Fix
		if f.Provider != "" {
			fix = "run `" + f.Fix + "`"
		}
		out = append(out, Check{ID: id, Status: checkFail, Detail: f.Problem + "; " + routes, Fix: fix})
	}
	return out
}
