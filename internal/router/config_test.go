package router

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/flowgate/flowgate/internal/upstream"
)

func testDoc(deps ...any) map[string]any {
	return map[string]any{"model_list": deps}
}

func d(alias, model, base string) map[string]any {
	return map[string]any{"model_name": alias, "litellm_params": map[string]any{"model": model, "api_base": base}}
}

func TestParseReportsEveryProblemWithItsFieldPath(t *testing.T) {
	doc := testDoc(
		d("ok", "openai/m", "http://127.0.0.1:1/v1"),
		d("x", "nope", ""),
		map[string]any{"model_name": "y", "litellm_params": map[string]any{"model": "bedrock/m", "api_key": "os.environ/FLOWGATE_TEST_UNSET_VAR"}},
	)
	doc["router_settings"] = map[string]any{"num_retries": "many", "fallbacks": []any{map[string]any{"ok": []any{"missing"}}}}
	_, err := Parse(doc, nil)
	var ce *ConfigError
	if !errors.As(err, &ce) {
		t.Fatalf("err = %v", err)
	}
	want := []string{
		"model_list[1].litellm_params.model:",
		"model_list[2].litellm_params.model: provider \"bedrock\"",
		"model_list[2].litellm_params.api_key: environment variable FLOWGATE_TEST_UNSET_VAR",
		"router_settings.num_retries:",
		"router_settings.fallbacks[0].ok[0]: fallback group \"missing\"",
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("missing %q in\n%v", w, err)
		}
	}
}

func TestRouterSettingsOverrideLitellmSettingsAndDefaults(t *testing.T) {
	doc := testDoc(d("a", "openai/m", ""))
	doc["litellm_settings"] = map[string]any{"num_retries": 5, "cooldown_time": 9, "request_timeout": 30}
	doc["router_settings"] = map[string]any{"num_retries": 1}
	c, err := Parse(doc, nil)
	if err != nil {
		t.Fatal(err)
	}
	s := c.Settings
	if s.NumRetries != 1 || s.CooldownTime != 9*time.Second || s.RequestTimeout != 30*time.Second || s.AllowedFails != 3 || s.RoutingStrategy != "simple-shuffle" {
		t.Fatalf("%+v", s)
	}
	if c.Deployments[0].Target.URL(upstream.OpChat) != "https://api.openai.com/v1/chat/completions" {
		t.Fatal(c.Deployments[0].Target.URL(upstream.OpChat))
	}
}

func TestKeysResolveFromLiteralEnvAndRef(t *testing.T) {
	t.Setenv("FLOWGATE_TEST_KEY", "sk-env")
	doc := testDoc(map[string]any{"model_name": "a", "litellm_params": map[string]any{"model": "anthropic/m", "api_key_ref": "up"}})
	doc["general_settings"] = map[string]any{"master_key": "os.environ/FLOWGATE_TEST_KEY", "extra_keys": []any{"sk-lit", map[string]any{"key_ref": "extra"}}}
	c, err := Parse(doc, func(n string) (string, error) { return "sk-ref-" + n, nil })
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(c.General.Keys, ",") != "sk-env,sk-lit,sk-ref-extra" || c.Deployments[0].Target.APIKey != "sk-ref-up" {
		t.Fatalf("%v %q", c.General.Keys, c.Deployments[0].Target.APIKey)
	}
	if c.Deployments[0].Target.URL(upstream.OpMessages) != "https://api.anthropic.com/v1/messages" {
		t.Fatal(c.Deployments[0].Target.URL(upstream.OpMessages))
	}
}

type clock struct{ t time.Time }

func (c *clock) Now() time.Time { return c.t }

func TestHalfOpenDeploymentRecoolsOnFirstFailureAndClosesOnSuccess(t *testing.T) {
	doc := testDoc(d("a", "openai/m", "http://x/v1"))
	doc["router_settings"] = map[string]any{"num_retries": 0, "allowed_fails": 2, "cooldown_time": 10}
	c, _ := Parse(doc, nil)
	clk := &clock{t: time.Unix(1000, 0)}
	r := New(c, clk, nil, nil)
	fail := func(context.Context, *Attempt) error { return &upstream.Error{Kind: upstream.FailConnect} }
	ok := func(context.Context, *Attempt) error { return nil }
	for i := 0; i < 3; i++ {
		r.Do(context.Background(), "a", fail)
	}
	if _, err := r.Do(context.Background(), "a", ok); !errors.As(err, new(*NoDeploymentsError)) {
		t.Fatalf("want cooling, got %v", err)
	}
	clk.t = clk.t.Add(11 * time.Second)
	r.Do(context.Background(), "a", fail) // half-open: one failure re-cools
	if _, err := r.Do(context.Background(), "a", ok); !errors.As(err, new(*NoDeploymentsError)) {
		t.Fatalf("half-open failure did not re-cool: %v", err)
	}
	clk.t = clk.t.Add(11 * time.Second)
	if _, err := r.Do(context.Background(), "a", ok); err != nil {
		t.Fatal(err)
	}
	if h := r.Health()[0]; h.State != "healthy" || h.ConsecutiveFailures != 0 {
		t.Fatalf("%+v", h)
	}
}

func TestClassificationTable(t *testing.T) {
	cases := map[Class]error{
		ClassClient:        &upstream.Error{Kind: upstream.FailStatus, Status: 422},
		ClassContextWindow: &upstream.Error{Kind: upstream.FailStatus, Status: 400, Body: []byte(`prompt is too long`)},
		ClassAuth:          &upstream.Error{Kind: upstream.FailStatus, Status: 403},
		ClassRateLimit:     &upstream.Error{Kind: upstream.FailStatus, Status: 429},
		ClassServer:        &upstream.Error{Kind: upstream.FailStatus, Status: 503},
		ClassTimeout:       &upstream.Error{Kind: upstream.FailTimeout},
		ClassConnect:       &upstream.Error{Kind: upstream.FailConnect},
		ClassBadResponse:   &upstream.Error{Kind: upstream.FailBadResponse},
	}
	for want, err := range cases {
		if got := Classify(err); got != want {
			t.Errorf("%v: got %v want %v", err, got, want)
		}
	}
}

func BenchmarkRoutingDecision(b *testing.B) {
	var deps []any
	for i := 0; i < 4; i++ {
		deps = append(deps, d("a", "openai/m", "http://127.0.0.1:"+string(rune('1'+i))+"/v1"))
	}
	c, err := Parse(testDoc(deps...), nil)
	if err != nil {
		b.Fatal(err)
	}
	r := New(c, nil, nil, nil)
	ok := func(context.Context, *Attempt) error { return nil }
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		r.Do(ctx, "a", ok)
	}
}
