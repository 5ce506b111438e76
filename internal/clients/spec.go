// Package clients prints and applies the FlowGate settings of the coding
// clients that talk to the gateway: Codex CLI (config.toml, OpenAI Responses)
// and Claude Code (settings.json, Anthropic Messages).
//
// The CLI builds a Spec from the loaded config, then calls PrintCodex /
// PrintClaude for `integration print` and ApplyCodex / ApplyClaude for
// `integration apply`. CheckModels gives the alias-drift warnings that both
// commands print on stderr.
package clients

import (
	"fmt"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

const (
	// DefaultGatewayURL is used when Spec.GatewayURL is empty.
	DefaultGatewayURL = "http://127.0.0.1:4000"
	// DefaultModelName is used when Spec.DefaultModel is empty.
	DefaultModelName = "router-default"
	// DefaultEnvKey is the Codex env_key used when Spec.EnvKey is empty.
	DefaultEnvKey = "OPENAI_API_KEY"
	// TokenPlaceholder is written for ANTHROPIC_AUTH_TOKEN when no gateway key
	// is known. It never replaces an existing value.
	TokenPlaceholder = "your-gateway-token"
	// CodexProviderID is the key of the provider table FlowGate owns in Codex's
	// config.toml ([model_providers.flowgate]).
	CodexProviderID = "flowgate"
	// CodexProviderName is the display name written into that table.
	CodexProviderName = "FlowGate Local"
)

// Spec is everything the client snippets need. Empty fields take the default
// named in their comment; Normalize applies them.
type Spec struct {
	// GatewayURL is the gateway root, without /v1. Default
	// http://127.0.0.1:4000. A wildcard host (0.0.0.0, ::) is rewritten to the
	// loopback address, IPv6 hosts are bracketed, a trailing "/" or "/v1" is
	// dropped. GatewayURLFor builds it from services.gateway host and port.
	GatewayURL string
	// DefaultModel is integration.default_model. Default router-default.
	DefaultModel string
	// FastModel is integration.fast_model. Default DefaultModel.
	FastModel string
	// OpusModel is ANTHROPIC_DEFAULT_OPUS_MODEL. Default DefaultModel.
	OpusModel string
	// SonnetModel is ANTHROPIC_DEFAULT_SONNET_MODEL. Default DefaultModel.
	SonnetModel string
	// HaikuModel is ANTHROPIC_DEFAULT_HAIKU_MODEL. Default FastModel.
	HaikuModel string
	// Aliases are the model names the gateway serves (litellm_base.model_list
	// model_name values of the active profile). Only used by CheckModels; nil
	// means unknown and disables the check.
	Aliases []string
	// Token is the gateway key clients must send. Empty means unknown: the
	// snippets then show TokenPlaceholder, and ApplyClaude keeps any existing
	// token.
	Token string
	// EnvKey is the environment variable Codex reads the key from
	// (model_providers.flowgate.env_key). Default OPENAI_API_KEY.
	EnvKey string
}

// GatewayURLFor returns the URL clients use to reach a gateway listening on
// host:port: wildcard hosts become loopback, IPv6 is bracketed, an empty host
// means 127.0.0.1.
func GatewayURLFor(host string, port int) string {
	return "http://" + net.JoinHostPort(clientHost(host), strconv.Itoa(port))
}

func clientHost(h string) string {
	h = strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(h), "["), "]")
	switch h {
	case "", "0.0.0.0":
		return "127.0.0.1"
	case "::", "::0", "0:0:0:0:0:0:0:0":
		return "::1"
	}
	return h
}

// NormalizeGatewayURL validates raw and returns the gateway root as clients
// must see it (see Spec.GatewayURL).
func NormalizeGatewayURL(raw string) (string, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return DefaultGatewayURL, nil
	}
	if !strings.Contains(raw, "://") {
		raw = "http://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("gateway URL %q: %w", raw, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", fmt.Errorf("gateway URL %q: scheme must be http or https", raw)
	}
	if u.Host == "" {
		return "", fmt.Errorf("gateway URL %q: no host", raw)
	}
	host := clientHost(u.Hostname())
	if p := u.Port(); p != "" {
		u.Host = net.JoinHostPort(host, p)
	} else if strings.Contains(host, ":") {
		u.Host = "[" + host + "]"
	} else {
		u.Host = host
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.Path = strings.TrimSuffix(u.Path, "/v1")
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath, u.RawQuery, u.Fragment = "", "", ""
	return u.String(), nil
}

// Normalize returns spec with defaults applied and GatewayURL normalised.
func Normalize(spec Spec) (Spec, error) {
	u, err := NormalizeGatewayURL(spec.GatewayURL)
	if err != nil {
		return spec, err
	}
	spec.GatewayURL = u
	trim := func(s *string, def string) {
		*s = strings.TrimSpace(*s)
		if *s == "" {
			*s = def
		}
	}
	trim(&spec.DefaultModel, DefaultModelName)
	trim(&spec.FastModel, spec.DefaultModel)
	trim(&spec.OpusModel, spec.DefaultModel)
	trim(&spec.SonnetModel, spec.DefaultModel)
	trim(&spec.HaikuModel, spec.FastModel)
	trim(&spec.EnvKey, DefaultEnvKey)
	spec.Token = strings.TrimSpace(spec.Token)
	if !isEnvName(spec.EnvKey) {
		return spec, fmt.Errorf("integration env key %q is not a valid environment variable name", spec.EnvKey)
	}
	return spec, nil
}

// bestEffort is Normalize for the print functions, which cannot fail: an
// invalid URL is kept as given.
func bestEffort(spec Spec) Spec {
	n, err := Normalize(spec)
	if err != nil {
		n.GatewayURL = strings.TrimRight(strings.TrimSpace(spec.GatewayURL), "/")
	}
	return n
}

func isEnvName(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		ok := c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (i > 0 && c >= '0' && c <= '9')
		if !ok {
			return false
		}
	}
	return true
}

// hasRealToken says whether the spec carries a gateway key (not empty, not
// the placeholder).
func (s Spec) hasRealToken() bool {
	return s.Token != "" && s.Token != TokenPlaceholder
}

func (s Spec) tokenOrPlaceholder() string {
	if s.hasRealToken() {
		return s.Token
	}
	return TokenPlaceholder
}

// CheckModels returns one warning for each configured model name that is not
// one of spec.Aliases (alias drift: the client would get a 404 "issue with the
// selected model"). It returns nil when Aliases is nil (unknown).
func CheckModels(spec Spec) []string {
	if spec.Aliases == nil {
		return nil
	}
	spec = bestEffort(spec)
	fields := []struct{ name, value string }{
		{"integration.default_model", spec.DefaultModel},
		{"integration.fast_model", spec.FastModel},
		{"integration.opus_model", spec.OpusModel},
		{"integration.sonnet_model", spec.SonnetModel},
		{"integration.haiku_model", spec.HaikuModel},
	}
	known := strings.Join(spec.Aliases, ", ")
	if known == "" {
		known = "none"
	}
	var out []string
	seen := map[string]bool{}
	for _, f := range fields {
		if slices.Contains(spec.Aliases, f.value) || seen[f.value] {
			continue
		}
		seen[f.value] = true
		out = append(out, fmt.Sprintf("%s: model %q is not an alias of the gateway (known: %s); clients will get \"model not found\" errors until you add it to model_list or set integration.*_model", f.name, f.value, known))
	}
	return out
}
