package config

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/flowgate/flowgate/internal/router"
)

// crossCheck validates what depends on more than one section: every
// profile's merged document (model_list entries, settings, fallbacks,
// credential references), checked by the gateway's own parser, and the
// integration model names.
func crossCheck(c *collector, cfg *Config) {
	checkProfileDocuments(c, cfg)
	missing := map[string][]string{}
	aliasesOf := map[string][]string{}
	for _, name := range profileNames(cfg) {
		aliases := Aliases(DeepMerge(cfg.LiteLLMBase, cfg.Profiles[name]))
		known := map[string]bool{}
		for _, a := range aliases {
			known[a] = true
		}
		for _, f := range integrationModels(cfg) {
			if !known[f.val] && len(aliases) > 0 {
				missing[f.key] = append(missing[f.key], name)
				if aliasesOf[f.key] == nil {
					aliasesOf[f.key] = aliases
				}
			}
		}
	}
	// One problem per integration key, naming every profile that lacks the
	// model; a key left unset is reported only where its default comes from.
	for _, f := range integrationModels(cfg) {
		profiles := missing[f.key]
		if len(profiles) == 0 {
			continue
		}
		which := "profile " + profiles[0] + " does"
		if len(profiles) > 1 {
			which = "profiles " + strings.Join(profiles, ", ") + " do"
		}
		what := fmt.Sprintf("names model %q", f.val)
		if !cfg.integrationSet[f.key] {
			what = fmt.Sprintf("is not set and defaults to %q", f.val)
		}
		if len(f.feeds) > 0 {
			what += " (also used by " + strings.Join(f.feeds, ", ") + " unless set)"
		}
		c.add(join("integration", f.key), "%s, which %s not define in model_list; aliases: %s; set integration.%s to one of them or add a model_list entry named %q", what, which, strings.Join(aliasesOf[f.key], ", "), f.key, f.val)
	}
}

// ValidateGatewayDoc loads doc (profile merged onto litellm_base) exactly
// as the gateway would, secrets resolved in memory and dropped, and places
// each problem at the field of the config file where it is written: what
// loading cannot see (a variable missing from this environment, a key file
// that cannot be read) is caught here before anything is written.
func (c *Config) ValidateGatewayDoc(profile string, doc map[string]any) error {
	_, err := router.Parse(doc, c.ResolveCredential)
	return c.LocateGatewayError(profile, err)
}

// LocateGatewayError places the gateway's config problems (a
// *router.ConfigError from loading profile's document) in this file: each
// names the field where the value is written, with line and column. Other
// errors pass unchanged.
func (c *Config) LocateGatewayError(profile string, err error) error {
	var ce *router.ConfigError
	if errors.As(err, &ce) {
		if pe := c.ProfileError(profile, ce.Problems); pe != nil {
			return pe
		}
	}
	return err
}

// FieldOrigin is the config field a path of profile's merged document comes
// from: profiles.<profile>.… when the profile sets it, else litellm_base.….
func (c *Config) FieldOrigin(profile, docPath string) string { return c.origin(profile, docPath) }

// SecretFilesToAudit are the files beside the auths and secrets folders
// that hold a secret and must be 0600: credential files, secret_files,
// CLIProxyAPIPlus's config (client keys) and the generated active config.
func (c *Config) SecretFilesToAudit() []string {
	out := append([]string{}, c.SecretFiles...)
	for _, cred := range c.Credentials.Upstream {
		if cred.File != "" {
			out = append(out, cred.File)
		}
	}
	return append(out, c.Services[ServiceCLIProxy].ConfigFile, c.Paths.ActiveConfig)
}

// checkProfileDocuments runs router.Check, the parser the gateway loads
// its config with, over every profile merged onto litellm_base, and reports
// each problem once at the field where it is written: profiles.<name>.…
// when the profile sets it, else litellm_base.…, naming the profiles it
// affects when that is not all of them. Secrets are not resolved here (a
// key file may not exist before init); a reference must name a credential
// that credentials.upstream defines.
func checkProfileDocuments(c *collector, cfg *Config) {
	defined := func(name string) error {
		if _, ok := cfg.Credentials.Upstream[name]; ok {
			return nil
		}
		return fmt.Errorf("credentials.upstream does not define it; defined: %s", strings.Join(credNames(cfg), ", "))
	}
	baseNames := map[string]string{CLIProxyAPIBase: "CLIProxyAPIPlus at services.cliproxyapi_plus host and port"}
	type finding struct {
		path, msg string
		profiles  []string
	}
	var order []*finding
	byKey := map[string]*finding{}
	names := profileNames(cfg)
	for _, name := range names {
		doc, err := cfg.ProfileDocument(name)
		if err != nil {
			continue
		}
		_, err = router.Check(doc, router.CheckOptions{RefDefined: defined, BaseNames: baseNames})
		var ce *router.ConfigError
		if !errors.As(err, &ce) {
			continue
		}
		for _, pr := range ce.Problems {
			path, msg, ok := strings.Cut(pr, ": ")
			if !ok || !docPath.MatchString(path) {
				path, msg = join("profiles", name), pr
			} else {
				path = cfg.origin(name, path)
			}
			key := path + "\x00" + msg
			f := byKey[key]
			if f == nil {
				f = &finding{path: path, msg: msg}
				byKey[key] = f
				order = append(order, f)
			}
			f.profiles = append(f.profiles, name)
		}
	}
	for _, f := range order {
		msg := f.msg
		if strings.HasPrefix(f.path, "litellm_base") && len(f.profiles) < len(names) {
			which := "profile " + f.profiles[0]
			if len(f.profiles) > 1 {
				which = "profiles " + strings.Join(f.profiles, ", ")
			}
			msg += " (in " + which + ")"
		}
		c.add(f.path, "%s", msg)
	}
}

type integrationModel struct {
	key, val string
	// feeds are the unset keys that take their default from this one.
	feeds []string
}

// integrationModels are the integration model keys a problem must be
// reported on: those the file sets, and default_model, whose value every
// unset key inherits (haiku_model through fast_model).
func integrationModels(cfg *Config) []integrationModel {
	in := cfg.Integration
	set := func(k string) bool { return cfg.integrationSet[k] }
	all := []integrationModel{
		{key: "default_model", val: in.DefaultModel}, {key: "fast_model", val: in.FastModel},
		{key: "opus_model", val: in.OpusModel}, {key: "sonnet_model", val: in.SonnetModel},
		{key: "haiku_model", val: in.HaikuModel},
	}
	// source is the key an unset key takes its value from.
	source := map[string]string{"fast_model": "default_model", "opus_model": "default_model", "sonnet_model": "default_model", "haiku_model": "fast_model"}
	root := func(k string) string {
		for !set(k) && source[k] != "" {
			k = source[k]
		}
		return k
	}
	var out []integrationModel
	for _, m := range all {
		if root(m.key) != m.key {
			continue
		}
		for _, other := range all {
			if other.key != m.key && root(other.key) == m.key {
				m.feeds = append(m.feeds, other.key)
			}
		}
		out = append(out, m)
	}
	return out
}

func credNames(cfg *Config) []string {
	out := []string{}
	for k := range cfg.Credentials.Upstream {
		out = append(out, k)
	}
	sort.Strings(out)
	if len(out) == 0 {
		return []string{"(none)"}
	}
	return out
}
