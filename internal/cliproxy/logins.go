package cliproxy

import (
	"fmt"
	"net"
	"net/url"
	"sort"
	"strings"
	"time"
)

// ProviderForModel names the FlowGate provider whose login serves model
// (an upstream model name, with or without a provider/ prefix) through
// CLIProxyAPIPlus, or "" when the name says nothing. CLIProxyAPIPlus offers
// the gpt-5 family through both Codex and GitHub Copilot accounts; FlowGate
// routes those to Codex by default, so codex is the login named for them.
// Models only Copilot serves (Claude, Gemini, Grok, gpt-4.x) name copilot.
func ProviderForModel(model string) string {
	m := strings.ToLower(strings.TrimSpace(model))
	if i := strings.LastIndex(m, "/"); i >= 0 {
		m = m[i+1:]
	}
	for _, p := range []string{"claude", "gemini", "grok", "gpt-4", "oswe", "copilot"} {
		if strings.HasPrefix(m, p) {
			return "copilot"
		}
	}
	for _, p := range []string{"gpt-5", "codex", "o3", "o4"} {
		if strings.HasPrefix(m, p) {
			return "codex"
		}
	}
	return ""
}

// LoginCommand is the command that fixes provider's login:
// `flowgate auth login <provider>`, or `flowgate auth status` (which lists
// the accounts) when the provider is not known.
func LoginCommand(provider string) string {
	if p, ok := LookupProvider(provider); ok {
		return "flowgate auth login " + p.Name
	}
	return "flowgate auth status"
}

// OnService reports whether apiBase (a deployment's api_base) points at the
// service whose base URL is serviceBase (ServiceBaseURL of its host and
// port). localhost, 127.0.0.1 and ::1 are the same host.
func OnService(apiBase, serviceBase string) bool {
	a, err1 := url.Parse(apiBase)
	b, err2 := url.Parse(serviceBase)
	if err1 != nil || err2 != nil || a.Host == "" || b.Host == "" {
		return false
	}
	return hostKey(a) == hostKey(b)
}

func hostKey(u *url.URL) string {
	h, p := u.Hostname(), u.Port()
	if p == "" {
		p = "80"
		if u.Scheme == "https" {
			p = "443"
		}
	}
	switch h {
	case "localhost", "::1", "0.0.0.0", "::", "":
		h = "127.0.0.1"
	}
	return net.JoinHostPort(h, p)
}

// Login states of a provider.
const (
	LoginOK       = "ok"
	LoginMissing  = "missing"
	LoginExpired  = "expired"
	LoginRejected = "rejected"
	LoginDisabled = "disabled"
	// LoginNotLoaded: a credential file exists but the running
	// CLIProxyAPIPlus does not list it (another auth-dir, or not read yet).
	LoginNotLoaded = "not_loaded"
)

// Login is whether a provider has a usable CLIProxyAPIPlus login.
type Login struct {
	Provider string `json:"provider"`
	// State is ok, missing, expired, rejected, disabled or not_loaded.
	State string `json:"state"`
	// Account is the account the state is about (the best one), if any.
	Account string `json:"account,omitempty"`
	// At is the expiry (expired) or when the upstream began refusing it
	// (rejected), when known.
	At *time.Time `json:"at,omitempty"`
	// Detail says more: the status message, the upstream's answer.
	Detail string `json:"detail,omitempty"`
	// Fix is the command to run.
	Fix string `json:"fix"`
}

// Problem renders a failing login the way health and doctor print it:
// `codex login expired at 2026-01-01T00:00:00Z (run: flowgate auth login codex)`.
func (l Login) Problem() string {
	var what string
	switch l.State {
	case LoginOK:
		return ""
	case LoginMissing:
		what = "no " + l.Provider + " login"
	case LoginExpired:
		what = l.Provider + " login expired"
		if l.At != nil {
			what += " at " + l.At.UTC().Format(time.RFC3339)
		}
	case LoginRejected:
		what = l.Provider + " login rejected by the upstream"
		if l.At != nil {
			what += " since " + l.At.UTC().Format(time.RFC3339)
		}
	case LoginDisabled:
		what = l.Provider + " login disabled in CLIProxyAPIPlus"
	case LoginNotLoaded:
		what = l.Provider + " login not loaded by CLIProxyAPIPlus"
	default:
		what = l.Provider + " login " + l.State
	}
	if l.Account != "" {
		what += " (" + l.Account + ")"
	}
	if l.Detail != "" {
		what += ": " + l.Detail
	}
	return what + " (run: " + l.Fix + ")"
}

// rejectedMessages are CLIProxyAPIPlus's status messages for a credential
// the upstream refused (401 and 402/403).
var rejectedMessages = map[string]bool{"unauthorized": true, "payment_required": true}

// credentialLogin is the login state one credential gives.
func credentialLogin(c Credential) (state string, at *time.Time, detail string) {
	switch {
	case c.Problem != "":
		return LoginMissing, nil, c.Problem
	case c.Disabled:
		return LoginDisabled, nil, ""
	case c.Status == "error" && rejectedMessages[strings.ToLower(c.StatusMessage)]:
		return LoginRejected, nil, c.StatusMessage
	case c.Expired:
		return LoginExpired, c.Expires, ""
	case c.Loaded != nil && !*c.Loaded:
		return LoginNotLoaded, nil, "it is in " + c.Path + "; check auth-dir in CLIProxyAPIPlus's config"
	}
	return LoginOK, nil, ""
}

// loginRank orders the states of a provider's accounts: the provider is as
// good as its best account.
var loginRank = map[string]int{LoginOK: 0, LoginNotLoaded: 1, LoginExpired: 2, LoginRejected: 3, LoginDisabled: 4, LoginMissing: 5}

// Logins reports, for each provider in providers (FlowGate names), whether
// the credentials in st give a usable login. A provider is ok when at least
// one of its accounts is present (and loaded, when the service was asked),
// enabled, not expired and not refused by the upstream.
func (st *AuthStatus) Logins(providers []string) []Login {
	var out []Login
	for _, name := range providers {
		l := Login{Provider: name, State: LoginMissing, Fix: LoginCommand(name)}
		for _, c := range st.Credentials {
			if c.Provider != name || c.Problem != "" {
				continue
			}
			state, at, detail := credentialLogin(c)
			if loginRank[state] < loginRank[l.State] || (state == l.State && state == LoginExpired && at != nil && l.At != nil && at.After(*l.At)) {
				l.State, l.At, l.Detail, l.Account = state, at, detail, c.Account
			}
		}
		if l.State == LoginMissing {
			l.Detail = "no credential in " + st.AuthDir
			if st.Service == "running" {
				l.Detail = "CLIProxyAPIPlus lists no " + name + " account"
			}
		}
		out = append(out, l)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Provider < out[j].Provider })
	return out
}

// RejectedLogin is the login state of a provider whose deployment the
// gateway marked auth_failed: the upstream refused the credential with
// status since then, whatever the files say.
func RejectedLogin(provider string, status int, since time.Time, message string) Login {
	d := fmt.Sprintf("the gateway got %d", status)
	if message != "" {
		d += ": " + message
	}
	t := since.UTC()
	return Login{Provider: provider, State: LoginRejected, At: &t, Detail: d, Fix: LoginCommand(provider)}
}
