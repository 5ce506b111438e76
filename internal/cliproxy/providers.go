// Package cliproxy talks to CLIProxyAPIPlus, the child that holds the OAuth
// sessions for Codex and GitHub Copilot: its management API (login flows,
// auth-files), its credential file formats, the management password FlowGate
// hands it, and the import of a Codex CLI login.
package cliproxy

import (
	"sort"
	"strings"
)

// Management API paths served by CLIProxyAPIPlus 6.8.x (v6.7.11-0 .. v6.9.8-0).
const (
	PathCodexAuthURL  = "/v0/management/codex-auth-url"
	PathGitHubAuthURL = "/v0/management/github-auth-url"
	PathAuthStatus    = "/v0/management/get-auth-status"
	PathOAuthCallback = "/v0/management/oauth-callback"
	PathAuthFiles     = "/v0/management/auth-files"
)

// Provider is one upstream account kind FlowGate can log in to.
type Provider struct {
	// Name is FlowGate's name: the auth.providers key and the CLI argument.
	Name string `json:"name"`
	// AuthTypes are the "type" values of its credential files (the provider
	// column of /auth-files).
	AuthTypes []string `json:"auth_types"`
	// AuthURLEndpoint is the default path that starts a login.
	AuthURLEndpoint string `json:"auth_url_endpoint"`
	// StatusEndpoint is the default path polled with ?state=.
	StatusEndpoint string `json:"status_endpoint"`
	// OAuth is true when `auth login` works for it.
	OAuth bool `json:"oauth_login"`
	// DeviceFlow is true when the user types a user_code at the login URL.
	DeviceFlow bool `json:"device_flow"`
	// CallbackProvider is the oauth-callback provider name for a pasted
	// redirect URL; "" when the flow has no redirect to paste.
	CallbackProvider string `json:"-"`
	// LocalCallback is true when the auth-url call can start CLIProxyAPIPlus's
	// own listener for the browser redirect (is_webui=true).
	LocalCallback bool `json:"-"`
	// HeadlessImport is true when `auth import-headless` works for it.
	HeadlessImport bool `json:"headless_import"`
}

var providers = []Provider{
	{
		Name:             "codex",
		AuthTypes:        []string{"codex"},
		AuthURLEndpoint:  PathCodexAuthURL,
		StatusEndpoint:   PathAuthStatus,
		OAuth:            true,
		CallbackProvider: "codex",
		LocalCallback:    true,
		HeadlessImport:   true,
	},
	{
		Name:            "copilot",
		AuthTypes:       []string{"github-copilot", "github"},
		AuthURLEndpoint: PathGitHubAuthURL,
		StatusEndpoint:  PathAuthStatus,
		OAuth:           true,
		DeviceFlow:      true,
	},
}

// aliases maps other spellings (CLIProxyAPIPlus's names) to FlowGate's.
var aliases = map[string]string{
	"openai":         "codex",
	"github-copilot": "copilot",
	"github":         "copilot",
}

// Providers returns the registry sorted by name.
func Providers() []Provider {
	out := append([]Provider(nil), providers...)
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// ProviderNames is the comma-joined list of names, for error messages.
func ProviderNames() string {
	names := make([]string, 0, len(providers))
	for _, p := range Providers() {
		names = append(names, p.Name)
	}
	return strings.Join(names, ",")
}

// LookupProvider finds a provider by FlowGate name or CLIProxyAPIPlus alias.
func LookupProvider(name string) (Provider, bool) {
	name = strings.ToLower(strings.TrimSpace(name))
	if a, ok := aliases[name]; ok {
		name = a
	}
	for _, p := range providers {
		if p.Name == name {
			return p, true
		}
	}
	return Provider{}, false
}

// providerForType maps a credential file's "type" to a provider name; an
// unknown type is returned as it is.
func providerForType(typ string) string {
	typ = strings.ToLower(strings.TrimSpace(typ))
	for _, p := range providers {
		for _, t := range p.AuthTypes {
			if t == typ {
				return p.Name
			}
		}
	}
	return typ
}

func (p Provider) ownsType(typ string) bool {
	return providerForType(typ) == p.Name
}

// Line renders the provider for `auth list`:
// provider=<name> oauth_login=yes|no headless_import=yes|no device_flow=yes|no.
func (p Provider) Line() string {
	yn := func(b bool) string {
		if b {
			return "yes"
		}
		return "no"
	}
	return "provider=" + p.Name + " oauth_login=" + yn(p.OAuth) + " headless_import=" + yn(p.HeadlessImport) + " device_flow=" + yn(p.DeviceFlow)
}
