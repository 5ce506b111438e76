package config

import (
	"errors"
	"strings"
	"testing"

	"github.com/flowgate/flowgate/internal/router"
)

const typeErrorConfig = `config_version: 2
credentials:
  upstream:
    k: {file: key.txt}
litellm_base:
  model_list:
    - model_name: router-default
      litellm_params: {model: openai/m, api_base: cliproxy, api_key_ref: k}
  litellm_settings:
    num_retries: 1
    cooldown_time: soon
profiles:
  balanced:
    litellm_settings:
      num_retries: two
  cost: {}
`

// gatewayProblems validates a profile's document with the gateway's own
// validator, as `profile set`, `gateway serve` and doctor do.
func gatewayProblems(t *testing.T, cfg *Config, profile string) []string {
	t.Helper()
	doc, err := cfg.ProfileDocument(profile)
	if err != nil {
		t.Fatal(err)
	}
	_, err = router.Parse(doc, func(string) (string, error) { return "sk-test", nil })
	var ce *router.ConfigError
	if !errors.As(err, &ce) {
		t.Fatalf("profile %s: want the gateway to reject the document, got %v", profile, err)
	}
	return ce.Problems
}

func TestGatewayTypeErrorsNameTheFileFieldLineAndColumn(t *testing.T) {
	p := writeConfig(t, typeErrorConfig)
	cfg, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	e := cfg.ProfileError("balanced", gatewayProblems(t, cfg, "balanced"))
	byPath := map[string]Problem{}
	for _, pr := range e.Problems {
		byPath[pr.Path] = pr
	}
	// Set in the profile: located in the profile.
	if pr := byPath["profiles.balanced.litellm_settings.num_retries"]; pr.Line != 15 || pr.Column != 20 || !strings.Contains(pr.Message, "two") {
		t.Errorf("num_retries: two in the profile: got %+v (all: %v)", pr, e.Problems)
	}
	// Inherited from litellm_base: located there.
	if pr := byPath["litellm_base.litellm_settings.cooldown_time"]; pr.Line != 11 || pr.Column != 20 {
		t.Errorf("cooldown_time: soon in litellm_base: got %+v (all: %v)", pr, e.Problems)
	}
	msg := e.Error()
	if !strings.Contains(msg, p) || !strings.Contains(msg, "(line 15, column 20)") {
		t.Errorf("the error must name the file, line and column:\n%s", msg)
	}

	// A profile that does not override num_retries reports only the base value.
	e = cfg.ProfileError("cost", gatewayProblems(t, cfg, "cost"))
	if len(e.Problems) != 1 || e.Problems[0].Path != "litellm_base.litellm_settings.cooldown_time" || e.Problems[0].Line != 11 {
		t.Errorf("profile cost: got %v", e.Problems)
	}
	if cfg.ProfileError("cost", nil) != nil {
		t.Error("no problems must give a nil *Error")
	}
}

func TestProfileErrorLocatesModelListEntriesOfTheProfileThatReplacesTheList(t *testing.T) {
	cfg, err := Load(writeConfig(t, strings.Replace(typeErrorConfig, "  cost: {}\n", `  cost:
    model_list:
      - model_name: router-default
        litellm_params: {model: openai/m, api_base: cliproxy, timeout: forever}
`, 1)))
	if err != nil {
		t.Fatal(err)
	}
	e := cfg.ProfileError("cost", gatewayProblems(t, cfg, "cost"))
	found := false
	for _, pr := range e.Problems {
		if pr.Path == "profiles.cost.model_list[0].litellm_params.timeout" {
			found = pr.Line == 19
		}
	}
	if !found {
		t.Errorf("want profiles.cost.model_list[0].litellm_params.timeout on line 19, got %v", e.Problems)
	}
}

func TestMissingDefaultModelIsReportedOnceAcrossKeysAndProfiles(t *testing.T) {
	problems := loadProblems(t, minimal+`  cost: {}
  reliability: {}
integration:
  opus_model: router-default
  sonnet_model: router-big
`)
	var integ []Problem
	for _, p := range problems {
		if strings.HasPrefix(p.Path, "integration.") {
			integ = append(integ, p)
		}
	}
	// minimal defines router-default, which default_model (unset) and so
	// fast_model and haiku_model use; opus_model names it too. Only
	// sonnet_model is wrong: one problem naming all three profiles.
	if len(integ) != 1 || integ[0].Path != "integration.sonnet_model" || !strings.Contains(integ[0].Message, "profiles balanced, cost, reliability do not define") {
		t.Fatalf("want one sonnet_model problem, got %v", integ)
	}

	problems = loadProblems(t, strings.Replace(minimal, "model_name: router-default", "model_name: router-main", 1)+`  cost: {}
`)
	if len(problems) != 1 || problems[0].Path != "integration.default_model" {
		t.Fatalf("an unset default_model naming a missing alias must be one problem, got %d: %v", len(problems), problems)
	}
	msg := problems[0].Message
	for _, want := range []string{`defaults to "router-default"`, "fast_model, opus_model, sonnet_model, haiku_model", "profiles balanced, cost do not define", "router-main"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q: %s", want, msg)
		}
	}
}
