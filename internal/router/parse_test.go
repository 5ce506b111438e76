package router

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func threeGroups() []any {
	return []any{d("a", "openai/m", "http://127.0.0.1:1/v1"), d("b", "openai/m", "http://127.0.0.1:2/v1"), d("c", "openai/m", "http://127.0.0.1:3/v1")}
}

func TestListAndMappingFallbacksParseAlike(t *testing.T) {
	list := testDoc(threeGroups()...)
	list["router_settings"] = map[string]any{
		"fallbacks":                []any{map[string]any{"a": []any{"b"}}, map[string]any{"b": []any{"c"}}},
		"context_window_fallbacks": []any{map[string]any{"a": []any{"c"}}},
	}
	mapping := testDoc(threeGroups()...)
	mapping["router_settings"] = map[string]any{
		"fallbacks":                map[string]any{"a": []any{"b"}, "b": "c"},
		"context_window_fallbacks": map[string]any{"a": []any{"c"}},
	}
	cl, err := Parse(list, nil)
	if err != nil {
		t.Fatal(err)
	}
	cm, err := Parse(mapping, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(cl.Settings.Fallbacks, cm.Settings.Fallbacks) || !reflect.DeepEqual(cl.Settings.ContextWindowFallbacks, cm.Settings.ContextWindowFallbacks) {
		t.Fatalf("list %v / %v, mapping %v / %v", cl.Settings.Fallbacks, cl.Settings.ContextWindowFallbacks, cm.Settings.Fallbacks, cm.Settings.ContextWindowFallbacks)
	}
	if got := strings.Join(cm.Groups["a"].FallbackChain(), ","); got != "b,c" {
		t.Fatalf("chain of a = %s", got)
	}
}

func TestFallbackProblemsNameTheEntryWhereTheyAreWritten(t *testing.T) {
	doc := testDoc(threeGroups()...)
	doc["litellm_settings"] = map[string]any{"fallbacks": []any{map[string]any{"a": []any{"b"}}, map[string]any{"b": []any{"gone"}}}}
	doc["router_settings"] = map[string]any{"context_window_fallbacks": map[string]any{"nope": []any{"a"}}, "default_fallbacks": []any{"missing"}}
	_, err := Check(doc, CheckOptions{})
	var ce *ConfigError
	if !errors.As(err, &ce) {
		t.Fatalf("err = %v", err)
	}
	for _, w := range []string{
		`litellm_settings.fallbacks[1].b[0]: fallback group "gone" is not a model_name in model_list; model groups: a, b, c`,
		`router_settings.context_window_fallbacks.nope: model group "nope" is not a model_name in model_list`,
		`router_settings.default_fallbacks[0]: fallback group "missing"`,
	} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("missing %q in\n%v", w, err)
		}
	}
}

func TestCheckValidatesReferencesWithoutResolvingSecrets(t *testing.T) {
	doc := testDoc(
		map[string]any{"model_name": "a", "litellm_params": map[string]any{"model": "openai/m", "api_key": "os.environ/FLOWGATE_TEST_UNSET_VAR"}},
		map[string]any{"model_name": "b", "litellm_params": map[string]any{"model": "openai/m", "api_key_ref": "defined"}},
		map[string]any{"model_name": "c", "litellm_params": map[string]any{"model": "openai/m", "api_key_ref": "undefined"}},
		map[string]any{"model_name": "d", "litellm_params": map[string]any{"model": "openai/m", "api_key_ref": "defined", "api_key": "sk-x"}},
	)
	defined := func(name string) error {
		if name == "defined" {
			return nil
		}
		return errors.New("add it under credentials.upstream")
	}
	_, err := Check(doc, CheckOptions{RefDefined: defined})
	if err == nil {
		t.Fatal("want problems")
	}
	msg := err.Error()
	if strings.Contains(msg, "FLOWGATE_TEST_UNSET_VAR") {
		t.Errorf("Check looked up an environment variable: %v", msg)
	}
	for _, w := range []string{
		`model_list[2].litellm_params.api_key_ref: unknown credential "undefined"; add it under credentials.upstream`,
		`model_list[3].litellm_params: sets both api_key and api_key_ref`,
	} {
		if !strings.Contains(msg, w) {
			t.Errorf("missing %q in\n%v", w, msg)
		}
	}
	if strings.Contains(msg, `model_list[1]`) {
		t.Errorf("a defined ref was refused: %v", msg)
	}
	// Parse resolves what Check only names.
	_, err = Parse(doc, func(string) (string, error) { return "sk-k", nil })
	if err == nil || !strings.Contains(err.Error(), "environment variable FLOWGATE_TEST_UNSET_VAR is not set") {
		t.Fatalf("Parse: %v", err)
	}
}

func TestSettingsTheBuiltinEngineDoesNotImplementAreReported(t *testing.T) {
	doc := testDoc(threeGroups()...)
	doc["router_settings"] = map[string]any{
		"retry_policy":             map[string]any{"RateLimitErrorRetries": 3},
		"enable_pre_call_checks":   true,
		"num_retires":              2,
		"content_policy_fallbacks": []any{map[string]any{"a": []any{"b"}}},
	}
	doc["litellm_settings"] = map[string]any{"allowed_fails_policy": map[string]any{}, "drop_params": true}
	doc["general_settings"] = map[string]any{"database_url": "postgres://x"}
	ml := doc["model_list"].([]any)
	ml[0].(map[string]any)["litellm_params"].(map[string]any)["api_version"] = "2024-01-01"
	ignored, err := Check(doc, CheckOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, i := range ignored {
		got[i.Path] = i.LiteLLM
	}
	want := map[string]bool{
		"router_settings.retry_policy":             true,
		"router_settings.enable_pre_call_checks":   true,
		"router_settings.content_policy_fallbacks": true,
		"router_settings.num_retires":              false,
		"litellm_settings.allowed_fails_policy":    true,
		"general_settings.database_url":            true,
		"model_list[0].litellm_params.api_version": true,
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("ignored = %v\nwant      %v", got, want)
	}
	for _, i := range ignored {
		if i.Path == "router_settings.retry_policy" && !strings.Contains(i.String(), "LiteLLM honours it; the builtin engine does not implement it") {
			t.Errorf("message %q", i)
		}
	}
	// content_policy_fallbacks is refused, like the others, when it names a
	// group that does not exist.
	doc["router_settings"].(map[string]any)["content_policy_fallbacks"] = []any{map[string]any{"a": []any{"zz"}}}
	if _, err := Check(doc, CheckOptions{}); err == nil || !strings.Contains(err.Error(), `router_settings.content_policy_fallbacks[0].a[0]: fallback group "zz"`) {
		t.Fatalf("err = %v", err)
	}
}
