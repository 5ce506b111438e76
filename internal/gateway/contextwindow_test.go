package gateway_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

func windowDep(alias, model, base, id string, info map[string]any) map[string]any {
	d := dep(alias, model, base, nil)
	info["id"] = id
	d["model_info"] = info
	return d
}

func TestModelListsCarryEachAliasContextWindow(t *testing.T) {
	up := newUpstream(t, "ok")
	g := startGateway(t, doc([]any{
		windowDep("coder", "openai/gpt-4o", up.URL+"/v1", "c1", map[string]any{"max_input_tokens": 128000, "max_output_tokens": 16384}),
		windowDep("legacy", "openai/gpt-4", up.URL+"/v1", "l1", map[string]any{"max_tokens": 8192}),
		dep("plain", "openai/m", up.URL+"/v1", nil),
	}, nil), nil)
	get := func(hdr map[string]string, into any) {
		t.Helper()
		req, _ := http.NewRequest("GET", g.URL+"/v1/models", nil)
		req.Header.Set("Authorization", "Bearer "+gatewayKey)
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if err := json.NewDecoder(resp.Body).Decode(into); err != nil || resp.StatusCode != 200 {
			t.Fatalf("%d %v", resp.StatusCode, err)
		}
	}
	var oa struct {
		Data   []map[string]any `json:"data"`
		Models []map[string]any `json:"models"`
	}
	get(nil, &oa)
	want := map[string][2]float64{"coder": {128000, 16384}, "legacy": {8192, 0}, "plain": {0, 0}}
	for _, m := range oa.Data {
		w := want[m["id"].(string)]
		in, _ := m["max_input_tokens"].(float64)
		out, _ := m["max_output_tokens"].(float64)
		if in != w[0] || out != w[1] {
			t.Errorf("/v1/models data %v: max_input_tokens %v max_output_tokens %v, want %v", m["id"], in, out, w)
		}
	}
	for _, m := range oa.Models {
		cw, has := m["context_window"].(float64)
		if w := want[m["slug"].(string)]; cw != w[0] || has != (w[0] > 0) {
			t.Errorf("Codex catalog %v: context_window %v (present %v), want %v", m["slug"], m["context_window"], has, w[0])
		}
	}
	var an struct {
		Data []map[string]any `json:"data"`
	}
	get(map[string]string{"anthropic-version": "2023-06-01"}, &an)
	for _, m := range an.Data {
		w := want[m["id"].(string)]
		in, _ := m["max_input_tokens"].(float64)
		out, _ := m["max_tokens"].(float64)
		if in != w[0] || out != w[1] {
			t.Errorf("Anthropic list %v: max_input_tokens %v max_tokens %v, want %v", m["id"], in, out, w)
		}
	}
}

func TestCountTokensForAnOpenAIModelUsesItsTokenizer(t *testing.T) {
	up := newUpstream(t, "ok")
	g := startGateway(t, doc([]any{dep("coder", "openai/gpt-4o", up.URL+"/v1", nil)}, nil), nil)
	// "hello world" is 2 tokens in o200k_base; one message adds 3 and the
	// reply priming 3.
	resp, body := g.post(t, "/v1/messages/count_tokens", `{"model":"coder","messages":[{"role":"user","content":"hello world"}]}`, nil)
	if resp.StatusCode != 200 || body != `{"input_tokens":8}` || resp.Header.Get("X-Flowgate-Token-Count") != "tokenizer=o200k_base" {
		t.Fatalf("%d %s %s", resp.StatusCode, body, resp.Header.Get("X-Flowgate-Token-Count"))
	}
	if n := len(up.seen()); n != 0 {
		t.Fatalf("counting reached the upstream %d times", n)
	}
}

func TestRequestOverTheContextWindowGoesToTheContextWindowFallback(t *testing.T) {
	small, big := newUpstream(t, "ok"), newUpstream(t, "ok")
	g := startGateway(t, doc([]any{
		windowDep("small", "openai/gpt-4o-mini", small.URL+"/v1", "small-1", map[string]any{"max_input_tokens": 1000}),
		windowDep("big", "openai/gpt-4.1", big.URL+"/v1", "big-1", map[string]any{"max_input_tokens": 1000000}),
	}, map[string]any{"context_window_fallbacks": []any{map[string]any{"small": []any{"big"}}}}), nil)
	// ~3000 o200k tokens: over small's window, far under big's.
	long := strings.Repeat("hello world ", 1500)
	resp, body := g.post(t, "/v1/chat/completions", `{"model":"small","messages":[{"role":"user","content":"`+long+`"}]}`, nil)
	if resp.StatusCode != 200 {
		t.Fatalf("%d %.300s", resp.StatusCode, body)
	}
	if len(small.seen()) != 0 || len(big.seen()) != 1 || resp.Header.Get("X-Flowgate-Deployment") != "big-1" {
		t.Fatalf("small saw %d, big saw %d, deployment header %q; want the request sent only to big-1",
			len(small.seen()), len(big.seen()), resp.Header.Get("X-Flowgate-Deployment"))
	}
	// A short request stays on its alias.
	resp, body = g.post(t, "/v1/chat/completions", `{"model":"small","messages":[{"role":"user","content":"hi"}]}`, nil)
	if resp.StatusCode != 200 || len(small.seen()) != 1 {
		t.Fatalf("%d %.300s; small saw %d", resp.StatusCode, body, len(small.seen()))
	}
}

func TestRequestOverEveryContextWindowIsA400NamingTheWindow(t *testing.T) {
	small := newUpstream(t, "ok")
	g := startGateway(t, doc([]any{
		windowDep("small", "openai/gpt-4o-mini", small.URL+"/v1", "small-1", map[string]any{"max_input_tokens": 1000}),
	}, nil), nil)
	long := strings.Repeat("hello world ", 1500)
	resp, body := g.post(t, "/v1/messages", `{"model":"small","max_tokens":10,"messages":[{"role":"user","content":"`+long+`"}]}`, nil)
	if resp.StatusCode != 400 || len(small.seen()) != 0 {
		t.Fatalf("%d %.300s; upstream saw %d", resp.StatusCode, body, len(small.seen()))
	}
	for _, want := range []string{"tokenizer=o200k_base", "1000-token context window", "model_info.max_input_tokens", "context_window_fallbacks"} {
		if !strings.Contains(body, want) {
			t.Errorf("error body lacks %q: %s", want, body)
		}
	}
}
