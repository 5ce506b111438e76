package litellm

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"

	"github.com/flowgate/flowgate/internal/router"
)

// CredentialSource says where one upstream key (credentials.upstream.<name>)
// or the gateway key comes from. Exactly one field should be set.
type CredentialSource struct {
	// File holds the key; surrounding whitespace is trimmed.
	File string
	// Env names a variable of FlowGate's own environment holding the key.
	Env string
	// Value is the key itself (already resolved by the caller).
	Value string
}

func (c CredentialSource) isZero() bool { return c == CredentialSource{} }

func (c CredentialSource) resolve() (string, error) {
	n := 0
	for _, s := range []string{c.File, c.Env, c.Value} {
		if s != "" {
			n++
		}
	}
	if n != 1 {
		return "", errors.New("must define exactly one of: file, env")
	}
	switch {
	case c.File != "":
		b, err := os.ReadFile(c.File)
		if err != nil {
			return "", fmt.Errorf("credential file %s: %w", c.File, err)
		}
		v := strings.TrimSpace(string(b))
		if v == "" {
			return "", fmt.Errorf("credential file %s is empty", c.File)
		}
		return v, nil
	case c.Env != "":
		v, ok := os.LookupEnv(c.Env)
		if !ok || strings.TrimSpace(v) == "" {
			return "", fmt.Errorf("environment variable %s is not set; export it before starting the gateway", c.Env)
		}
		return strings.TrimSpace(v), nil
	}
	return c.Value, nil
}

// Names of the variables Generate puts in the child's environment.
const (
	// MasterKeyEnv holds the gateway key; the config says os.environ/FLOWGATE_MASTER_KEY.
	MasterKeyEnv = "FLOWGATE_MASTER_KEY"
	// CredEnvPrefix + NAME holds credentials.upstream.<name>.
	CredEnvPrefix = "FLOWGATE_CRED_"
	// SecretEnvPrefix + N holds a literal secret found inline in the document.
	SecretEnvPrefix = "FLOWGATE_SECRET_"
)

// CredEnvName is the child variable for credentials.upstream.<name>:
// FLOWGATE_CRED_ + the name upper-cased with every other character as "_".
func CredEnvName(name string) string {
	var b strings.Builder
	for _, r := range strings.ToUpper(name) {
		if (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return CredEnvPrefix + b.String()
}

// flowgateOnly are settings the builtin engine honours that LiteLLM cannot:
// Generate drops them from LiteLLM's config and reports why.
var flowgateOnly = map[string]string{
	"general_settings.extra_keys":     "extra client keys need LiteLLM's database (virtual keys); with engine litellm only the gateway key is accepted",
	"general_settings.extra_key_refs": "extra client keys need LiteLLM's database (virtual keys); with engine litellm only the gateway key is accepted",
}

var secretKeyRE = regexp.MustCompile(`(?i)(^|_)(api_key|master_key|secret|secret_access_key|password|token|access_token|auth_token|credentials)$`)

const envRefPrefix = "os.environ/"

type generator struct {
	creds     map[string]CredentialSource
	env       map[string]string
	credOf    map[string]string // env var -> credential name, for collisions
	report    []string
	secretSeq int
}

func (g *generator) notef(format string, a ...any) {
	g.report = append(g.report, fmt.Sprintf(format, a...))
}

// Generate turns the merged litellm_base+profile document (secret references
// kept, e.g. api_key_ref) into LiteLLM's config file. The returned YAML (JSON
// with sorted keys, which is valid YAML) holds no secret: api_key_ref NAME
// becomes api_key: os.environ/FLOWGATE_CRED_<NAME>, the gateway key becomes
// general_settings.master_key: os.environ/FLOWGATE_MASTER_KEY, and literal
// secrets found in the document are moved to FLOWGATE_SECRET_<n>. env holds
// KEY=VALUE pairs for the child (those values plus OfflineEnv and every
// os.environ/X the document references, so the child never depends on an
// inherited environment). report lists settings one engine understands and
// the other does not, for doctor. doc is not modified.
func Generate(doc map[string]any, creds map[string]CredentialSource, gatewayKey CredentialSource) (yamlBytes []byte, env []string, report []string, err error) {
	g := &generator{creds: creds, env: map[string]string{}, credOf: map[string]string{}}
	out, _ := deepCopy(doc).(map[string]any)
	if out == nil {
		out = map[string]any{}
	}
	var errs []error
	// The document must be one the builtin engine accepts too, checked by
	// the same parser, so switching engines never turns a valid config
	// invalid; what only LiteLLM honours is reported.
	ignored, err := router.Check(doc, router.CheckOptions{RefDefined: func(name string) error {
		if _, ok := creds[name]; ok {
			return nil
		}
		return errors.New("add it under credentials.upstream")
	}})
	if err != nil {
		errs = append(errs, err)
	}
	for _, i := range ignored {
		switch {
		case i.LiteLLM:
			g.notef("%s: LiteLLM-only setting: used by engine litellm, ignored by engine builtin", i.Path)
		case !strings.Contains(i.Path, "."):
			g.notef("%s: not a LiteLLM config section; passed to LiteLLM verbatim, ignored by the builtin engine", i.Path)
		default:
			g.notef("%s: neither engine is known to read it; passed to LiteLLM verbatim (check the spelling)", i.Path)
		}
	}
	g.strip("", out)

	ml, _ := out["model_list"].([]any)
	for i, e := range ml {
		if err := g.model(i, e); err != nil {
			errs = append(errs, err)
		}
	}

	gs := section(out, "general_settings")
	g.strip("general_settings", gs)
	if _, ok := gs["master_key"]; ok {
		g.notef("general_settings.master_key: replaced by FlowGate's gateway key")
	}
	// master_key_ref is FlowGate's way of naming the gateway key; LiteLLM gets
	// the resolved key through the environment instead.
	delete(gs, "master_key_ref")
	if gatewayKey.isZero() {
		delete(gs, "master_key")
		g.notef("general_settings.master_key: no gateway key configured; LiteLLM accepts requests without a key")
	} else if v, err := gatewayKey.resolve(); err != nil {
		errs = append(errs, fmt.Errorf("gateway key: %w", err))
	} else {
		g.env[MasterKeyEnv] = v
		gs["master_key"] = envRefPrefix + MasterKeyEnv
		if _, ok := gs["custom_auth"]; ok {
			g.notef("general_settings.custom_auth: replaced by FlowGate's key check (%s)", AuthModuleFile)
		}
		gs["custom_auth"] = customAuthRef
		if !strings.HasPrefix(v, "sk-") {
			g.notef("general_settings.master_key: LiteLLM documents that the master key must start with \"sk-\"; the gateway key does not")
		}
	}

	ls := section(out, "litellm_settings")
	g.strip("litellm_settings", ls)
	// /v1/messages for openai/ models: LiteLLM >= 1.82 bridges through the
	// upstream's Responses API; FlowGate's contract is chat/completions.
	switch v := ls["use_chat_completions_url_for_anthropic_messages"]; v {
	case nil:
		ls["use_chat_completions_url_for_anthropic_messages"] = true
		g.env["LITELLM_USE_CHAT_COMPLETIONS_URL_FOR_ANTHROPIC_MESSAGES"] = "True"
	case true:
		g.env["LITELLM_USE_CHAT_COMPLETIONS_URL_FOR_ANTHROPIC_MESSAGES"] = "True"
	default:
		g.notef("litellm_settings.use_chat_completions_url_for_anthropic_messages: %v: /v1/messages for openai/ models goes to the upstream's /responses, unlike the builtin engine", v)
	}
	rs := section(out, "router_settings")
	g.strip("router_settings", rs)
	for _, name := range []string{"general_settings", "litellm_settings", "router_settings"} {
		if m, _ := out[name].(map[string]any); len(m) == 0 {
			delete(out, name)
		}
	}

	// Literal secrets anywhere else (redis_password, environment_variables, ...).
	g.walkSecrets("", out)
	if m, ok := out["environment_variables"].(map[string]any); ok && len(m) == 0 {
		delete(out, "environment_variables")
	}

	if len(errs) > 0 {
		return nil, nil, nil, fmt.Errorf("generating litellm config: %w", errors.Join(errs...))
	}
	data, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return nil, nil, nil, fmt.Errorf("generating litellm config: %w", err)
	}
	data = append(data, '\n')
	for _, kv := range OfflineEnv() {
		k, v, _ := strings.Cut(kv, "=")
		if _, set := g.env[k]; !set {
			g.env[k] = v
		}
	}
	for _, k := range sortedKeys(g.env) {
		env = append(env, k+"="+g.env[k])
	}
	sort.Strings(g.report)
	return data, env, g.report, nil
}

// model rewrites one model_list entry (already validated by router.Check):
// api_key_ref NAME becomes api_key: os.environ/FLOWGATE_CRED_<NAME>.
func (g *generator) model(i int, e any) error {
	m, _ := e.(map[string]any)
	p := fmt.Sprintf("model_list[%d]", i)
	g.strip(p, m)
	lp, _ := m["litellm_params"].(map[string]any)
	if lp == nil {
		return nil
	}
	g.strip(p+".litellm_params", lp)
	if ref, has := lp["api_key_ref"]; has {
		delete(lp, "api_key_ref")
		refName, _ := ref.(string)
		src, ok := g.creds[refName]
		if !ok {
			return nil // reported by router.Check
		}
		envName := CredEnvName(refName)
		if other, dup := g.credOf[envName]; dup && other != refName {
			return fmt.Errorf("%s.litellm_params.api_key_ref: credentials %q and %q both map to %s; rename one", p, other, refName, envName)
		}
		if _, done := g.env[envName]; !done {
			v, err := src.resolve()
			if err != nil {
				return fmt.Errorf("credentials.upstream.%s: %w", refName, err)
			}
			g.env[envName], g.credOf[envName] = v, refName
		}
		lp["api_key"] = envRefPrefix + envName
	}
	if mi, ok := m["model_info"].(map[string]any); ok {
		g.strip(p+".model_info", mi)
		if se, ok := mi["supported_endpoints"]; ok {
			g.notef("%s.model_info.supported_endpoints: %v: LiteLLM treats listed /v1/messages or /v1/responses as native passthrough to the upstream's same path (api_base minus /v1), no translation", p, se)
		}
	}
	return nil
}

func section(doc map[string]any, name string) map[string]any {
	m, ok := doc[name].(map[string]any)
	if !ok {
		m = map[string]any{}
		doc[name] = m
	}
	return m
}

// strip removes notes for people (_comment keys) and the FlowGate-only
// keys LiteLLM cannot honour from m (at path), saying why for the latter.
func (g *generator) strip(path string, m map[string]any) {
	kind := path
	if strings.HasPrefix(path, "model_list[") {
		kind = "model_list[]" + path[strings.Index(path, "]")+1:]
	}
	for _, k := range sortedKeys(m) {
		if strings.HasPrefix(k, "_comment") {
			delete(m, k)
			continue
		}
		key := k
		if kind != "" {
			key = kind + "." + k
		}
		if why, ok := flowgateOnly[key]; ok {
			delete(m, k)
			g.notef("%s.%s: FlowGate-only, dropped from LiteLLM's config: %s", path, k, why)
		}
	}
}

// walkSecrets moves literal secret values to the child env and makes every
// os.environ/X reference explicit in the child env.
func (g *generator) walkSecrets(path string, v any) {
	switch t := v.(type) {
	case map[string]any:
		for _, k := range sortedKeys(t) {
			p := k
			if path != "" {
				p = path + "." + k
			}
			if s, ok := t[k].(string); ok {
				if ref, isRef := strings.CutPrefix(s, envRefPrefix); isRef {
					g.envRef(p, ref)
				} else if s != "" && secretKeyRE.MatchString(k) && path != "environment_variables" {
					g.secretSeq++
					name := fmt.Sprintf("%s%d", SecretEnvPrefix, g.secretSeq)
					g.env[name] = s
					t[k] = envRefPrefix + name
					g.notef("%s: literal secret moved out of the file into the child environment (%s); reference a credential instead (api_key_ref)", p, name)
				}
				continue
			}
			g.walkSecrets(p, t[k])
		}
		if path == "environment_variables" && len(t) > 0 {
			for _, k := range sortedKeys(t) {
				s := fmt.Sprint(t[k])
				if ref, isRef := strings.CutPrefix(s, envRefPrefix); isRef {
					s = g.env[ref]
				}
				g.env[k] = s
				delete(t, k)
			}
			g.notef("environment_variables: moved into the child environment so no value lands in the file")
		}
	case []any:
		for i, e := range t {
			g.walkSecrets(fmt.Sprintf("%s[%d]", path, i), e)
		}
	}
}

func (g *generator) envRef(path, name string) {
	if _, ours := g.env[name]; ours {
		return
	}
	if v, ok := os.LookupEnv(name); ok {
		g.env[name] = v
		return
	}
	g.notef("%s: os.environ/%s is not set in FlowGate's environment; LiteLLM will see no value (use api_key_ref with credentials.upstream)", path, name)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func deepCopy(v any) any {
	switch t := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(t))
		for k, e := range t {
			m[k] = deepCopy(e)
		}
		return m
	case []any:
		l := make([]any, len(t))
		for i, e := range t {
			l[i] = deepCopy(e)
		}
		return l
	}
	return v
}
