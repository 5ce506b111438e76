package router

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func windowRouter(t *testing.T, cwFallbacks bool) *Router {
	t.Helper()
	small := d("small", "openai/gpt-4o-mini", "http://127.0.0.1:1/v1")
	small["model_info"] = map[string]any{"id": "small-1", "max_input_tokens": 100, "max_output_tokens": 50}
	big := d("big", "openai/gpt-4.1", "http://127.0.0.1:1/v1")
	big["model_info"] = map[string]any{"id": "big-1", "max_tokens": 1000}
	doc := testDoc(small, big)
	if cwFallbacks {
		doc["router_settings"] = map[string]any{"context_window_fallbacks": []any{map[string]any{"small": []any{"big"}}}}
	}
	cfg, err := Parse(doc, nil)
	if err != nil {
		t.Fatal(err)
	}
	return New(cfg, &testClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}, nil, nil)
}

func TestModelInfoWindowsAreParsedAndReportedPerGroup(t *testing.T) {
	r := windowRouter(t, false)
	g, _ := r.Lookup("small")
	if in, out := g.Window(); in != 100 || out != 50 {
		t.Fatalf("small: window %d/%d, want 100/50", in, out)
	}
	g, _ = r.Lookup("big")
	if in, out := g.Window(); in != 1000 || out != 0 {
		t.Fatalf("big (max_tokens only): window %d/%d, want 1000/0", in, out)
	}
}

func TestModelInfoWindowMustBeAPositiveWholeNumber(t *testing.T) {
	dep := d("m", "openai/m", "http://127.0.0.1:1/v1")
	dep["model_info"] = map[string]any{"max_input_tokens": "lots", "max_output_tokens": -1}
	_, err := Parse(testDoc(dep), nil)
	if err == nil {
		t.Fatal("a non-numeric max_input_tokens was accepted")
	}
	for _, want := range []string{"model_list[0].model_info.max_input_tokens", "model_list[0].model_info.max_output_tokens"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not name %s:\n%v", want, err)
		}
	}
}

func TestModelInfoSwitchesAreBooleansAndReachTheTarget(t *testing.T) {
	dep := d("m", "openai/m", "http://127.0.0.1:1/v1")
	dep["model_info"] = map[string]any{"supports_pdf_input": "yes", "reasoning_in_history": 1}
	_, err := Parse(testDoc(dep), nil)
	for _, want := range []string{"model_list[0].model_info.supports_pdf_input: must be true or false", "model_list[0].model_info.reasoning_in_history: must be true or false"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error does not say %s:\n%v", want, err)
		}
	}
	dep["model_info"] = map[string]any{"supports_pdf_input": true, "reasoning_in_history": true, "max_output_tokens": 64000}
	cfg, err := Parse(testDoc(dep), nil)
	if err != nil {
		t.Fatal(err)
	}
	tg := cfg.Deployments[0].Target
	if !tg.FileInput || !tg.ReasoningInHistory || tg.MaxOutputTokens != 64000 {
		t.Fatalf("target %+v", tg)
	}
}

func TestRequestOverTheWindowGoesToTheContextWindowFallbackBeforeBeingSent(t *testing.T) {
	r := windowRouter(t, true)
	var sentTo []string
	counted := map[string]int{}
	count := func(d *Deployment) (int, string) { counted[d.ID]++; return 500, "tokenizer=o200k_base" }
	tr, err := r.DoCounted(context.Background(), "small", "", count, func(_ context.Context, a *Attempt) error {
		sentTo = append(sentTo, a.Deployment.ID)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(sentTo) != 1 || sentTo[0] != "big-1" || tr.Deployment != "big-1" || tr.Fallbacks != 1 {
		t.Fatalf("sent to %v (trace %+v); want only big-1 after one fallback", sentTo, tr)
	}
	if counted["small-1"] != 1 || counted["big-1"] != 1 {
		t.Fatalf("counted %v; want each windowed deployment counted once", counted)
	}
	// Under the window, the request stays on its own alias.
	sentTo = nil
	if _, err := r.DoCounted(context.Background(), "small", "", func(*Deployment) (int, string) { return 99, "estimate" }, func(_ context.Context, a *Attempt) error {
		sentTo = append(sentTo, a.Deployment.ID)
		return nil
	}); err != nil || len(sentTo) != 1 || sentTo[0] != "small-1" {
		t.Fatalf("a request under the window went to %v (err %v); want small-1", sentTo, err)
	}
}

func TestRequestOverEveryWindowIsRefusedWithoutBeingSent(t *testing.T) {
	r := windowRouter(t, false)
	_, err := r.DoCounted(context.Background(), "small", "", func(*Deployment) (int, string) { return 500, "estimate" }, func(context.Context, *Attempt) error {
		t.Fatal("a request over the window was sent")
		return nil
	})
	var cw *ContextWindowError
	if !errors.As(err, &cw) || cw.Tokens != 500 || cw.Window != 100 || cw.Deployment != "small-1" {
		t.Fatalf("err = %v; want a ContextWindowError for small-1 (500 > 100)", err)
	}
	for _, want := range []string{"500 input tokens (estimate)", "100-token context window", "model_list[0].model_info.max_input_tokens", "context_window_fallbacks"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message lacks %q: %v", want, err)
		}
	}
	// The refusal is not the deployment's fault: it is still available.
	tr, err := r.Do(context.Background(), "small", func(context.Context, *Attempt) error { return nil })
	if err != nil || tr.Deployment != "small-1" {
		t.Fatalf("small-1 unavailable after a refused oversized request: %v %+v", err, tr)
	}
}
