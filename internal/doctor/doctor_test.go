package doctor

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowgate/flowgate/internal/config"
)

func loadConfig(t *testing.T, body string) *config.Config {
	t.Helper()
	dir := t.TempDir()
	p := filepath.Join(dir, "flowgate.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(p)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func find(checks []Check, id string) []Check {
	var out []Check
	for _, c := range checks {
		if c.ID == id {
			out = append(out, c)
		}
	}
	return out
}

func TestSettingsTheBuiltinEngineIgnoresAreWarnedOnceWhereTheyAreWritten(t *testing.T) {
	cfg := loadConfig(t, `config_version: 2
litellm_base:
  model_list:
    - model_name: router-default
      litellm_params: {model: openai/m, api_base: http://127.0.0.1:9/v1}
    - model_name: b
      litellm_params: {model: openai/m, api_base: http://127.0.0.1:9/v1}
  router_settings:
    retry_policy: {RateLimitErrorRetries: 3}
    content_policy_fallbacks: [{router-default: [b]}]
profiles:
  balanced:
    litellm_settings:
      num_retires: 1
  cost: {}
`)
	checks := Run(cfg, Probes{})
	got := find(checks, "builtin_ignores")
	details := []string{}
	for _, c := range got {
		if c.Status != Warn {
			t.Errorf("%+v: want warn", c)
		}
		details = append(details, c.Detail)
	}
	all := strings.Join(details, "\n")
	for _, w := range []string{
		"litellm_base.router_settings.retry_policy (line 9): LiteLLM honours it; the builtin engine does not implement it",
		"litellm_base.router_settings.content_policy_fallbacks (line 10): LiteLLM honours it",
		"profiles.balanced.litellm_settings.num_retires (line 14): neither the builtin engine nor LiteLLM",
	} {
		if !strings.Contains(all, w) {
			t.Errorf("missing %q in\n%s", w, all)
		}
	}
	if len(got) != 3 {
		t.Errorf("want 3 findings (each once across profiles), got %d:\n%s", len(got), all)
	}
	if !OK(find(checks, "builtin_ignores")) {
		t.Error("ignored settings must warn, not fail")
	}
}

func TestEveryProfileIsValidatedAsTheGatewayLoadsIt(t *testing.T) {
	cfg := loadConfig(t, `config_version: 2
litellm_base:
  model_list:
    - model_name: router-default
      litellm_params: {model: openai/m, api_base: http://127.0.0.1:9/v1, api_key: os.environ/FLOWGATE_TEST_DOCTOR_UNSET}
profiles:
  balanced: {}
`)
	checks := Run(cfg, Probes{})
	got := find(checks, "profile_balanced")
	if len(got) != 1 || got[0].Status != Fail || !strings.Contains(got[0].Detail, "litellm_base.model_list[0].litellm_params.api_key: environment variable FLOWGATE_TEST_DOCTOR_UNSET is not set") {
		t.Fatalf("profile check: %+v", got)
	}
	if OK(checks) {
		t.Error("a profile the gateway refuses must fail doctor")
	}
	if ok := find(checks, "builtin_ignores"); len(ok) != 1 || ok[0].Status != Pass {
		t.Errorf("builtin_ignores: %+v", ok)
	}
}
