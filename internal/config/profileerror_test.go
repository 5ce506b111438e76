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
// parser, secrets resolved, as `profile set`, `gateway serve` and doctor do.
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

func byPath(problems []Problem) map[string]Problem {
	out := map[string]Problem{}
	for _, pr := range problems {
		out[pr.Path] = pr
	}
	return out
}

// Loading runs the gateway's parser over every profile, so what the gateway
// would refuse is refused at load, located where it is written.
func TestGatewayTypeErrorsNameTheFileFieldLineAndColumn(t *testing.T) {
	p := writeConfig(t, typeErrorConfig)
	_, err := Load(p)
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("want *Error, got %v", err)
	}
	got := byPath(e.Problems)
	// Set in the profile: located in the profile.
	if pr := got["profiles.balanced.litellm_settings.num_retries"]; pr.Line != 15 || pr.Column != 20 || !strings.Contains(pr.Message, "two") {
		t.Errorf("num_retries: two in the profile: got %+v (all: %v)", pr, e.Problems)
	}
	// Inherited from litellm_base: located there, once for both profiles.
	if pr := got["litellm_base.litellm_settings.cooldown_time"]; pr.Line != 11 || pr.Column != 20 || strings.Contains(pr.Message, "(in profile") {
		t.Errorf("cooldown_time: soon in litellm_base: got %+v (all: %v)", pr, e.Problems)
	}
	if len(e.Problems) != 2 {
		t.Errorf("want 2 problems, got %v", e.Problems)
	}
	msg := e.Error()
	if !strings.Contains(msg, p) || !strings.Contains(msg, "(line 15, column 20)") {
		t.Errorf("the error must name the file, line and column:\n%s", msg)
	}
}

func TestProfileErrorLocatesModelListEntriesOfTheProfileThatReplacesTheList(t *testing.T) {
	_, err := Load(writeConfig(t, strings.Replace(typeErrorConfig, "  cost: {}\n", `  cost:
    model_list:
      - model_name: router-default
        litellm_params: {model: openai/m, api_base: cliproxy, timeout: forever}
`, 1)))
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("want *Error, got %v", err)
	}
	if pr, ok := byPath(e.Problems)["profiles.cost.model_list[0].litellm_params.timeout"]; !ok || pr.Line != 19 {
		t.Errorf("want profiles.cost.model_list[0].litellm_params.timeout on line 19, got %v", e.Problems)
	}
}

// What only the running gateway can see (a variable missing from its
// environment) is located by ProfileError.
func TestProfileErrorLocatesWhatOnlyTheGatewaySees(t *testing.T) {
	cfg, err := Load(writeConfig(t, `config_version: 2
litellm_base:
  model_list:
    - model_name: router-default
      litellm_params: {model: openai/m, api_base: cliproxy, api_key: os.environ/FLOWGATE_TEST_UNSET_VAR}
profiles:
  balanced: {}
`))
	if err != nil {
		t.Fatal(err)
	}
	e := cfg.ProfileError("balanced", gatewayProblems(t, cfg, "balanced"))
	pr, ok := byPath(e.Problems)["litellm_base.model_list[0].litellm_params.api_key"]
	if !ok || pr.Line != 5 || !strings.Contains(pr.Message, "FLOWGATE_TEST_UNSET_VAR is not set") {
		t.Errorf("got %v", e.Problems)
	}
	if cfg.ProfileError("balanced", nil) != nil {
		t.Error("no problems must give a nil *Error")
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
