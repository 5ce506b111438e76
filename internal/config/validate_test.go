package config

import (
	"strings"
	"testing"
)

const fallbackConfig = `config_version: 2
credentials:
  upstream:
    k: {file: key.txt}
litellm_base:
  model_list:
    - model_name: a
      litellm_params: {model: openai/m, api_base: cliproxy, api_key_ref: k}
    - model_name: b
      litellm_params: {model: openai/m, api_base: cliproxy, api_key_ref: k}
  router_settings:
    fallbacks: FALLBACKS
profiles:
  balanced: {}
  small:
    model_list:
      - model_name: a
        litellm_params: {model: openai/m, api_base: cliproxy, api_key_ref: k}
integration:
  default_model: a
`

// Both forms LiteLLM reads load alike, and a problem in litellm_base that
// only some profiles have names them.
func TestFallbacksInListOrMappingFormLoadAlikeAndNameTheProfileTheyBreak(t *testing.T) {
	for _, form := range []string{"[{a: [b]}]", "{a: [b]}"} {
		probs := loadProblems(t, strings.Replace(fallbackConfig, "FALLBACKS", form, 1))
		if len(probs) != 1 {
			t.Fatalf("%s: want one problem, got %v", form, probs)
		}
		p := probs[0]
		if !strings.HasPrefix(p.Path, "litellm_base.router_settings.fallbacks") || !strings.HasSuffix(p.Path, "a[0]") || p.Line != 12 {
			t.Errorf("%s: path %s line %d", form, p.Path, p.Line)
		}
		if !strings.Contains(p.Message, `fallback group "b" is not a model_name in model_list`) || !strings.Contains(p.Message, "(in profile small)") {
			t.Errorf("%s: message %q", form, p.Message)
		}
	}
	probs := loadProblems(t, strings.Replace(fallbackConfig, "FALLBACKS", "a", 1))
	if len(probs) != 1 || !strings.Contains(probs[0].Message, "must be a list of {group: [fallback groups]} mappings") {
		t.Errorf("scalar fallbacks: %v", probs)
	}
}
