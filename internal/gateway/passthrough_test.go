package gateway_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/anthropics/anthropic-sdk-go"
	aoption "github.com/anthropics/anthropic-sdk-go/option"
	"github.com/openai/openai-go/v3"
	ooption "github.com/openai/openai-go/v3/option"
)

func openaiClient(g *gw, key string) openai.Client {
	return openai.NewClient(ooption.WithBaseURL(g.URL+"/v1/"), ooption.WithAPIKey(key), ooption.WithMaxRetries(0))
}

func anthropicClient(g *gw, key string) anthropic.Client {
	return anthropic.NewClient(aoption.WithBaseURL(g.URL), aoption.WithAPIKey(key), aoption.WithMaxRetries(0),
		aoption.WithHeader("anthropic-beta", "test-beta-2025"))
}

func chatParams(model string) openai.ChatCompletionNewParams {
	return openai.ChatCompletionNewParams{Model: model, Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hi")}}
}

func msgParams(model string) anthropic.MessageNewParams {
	return anthropic.MessageNewParams{Model: model, MaxTokens: 16, Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("hi"))}}
}

func TestChatPassthroughRewritesModelAndNeverForwardsGatewayKey(t *testing.T) {
	up := newUpstream(t, "ok")
	g := startGateway(t, doc([]any{dep("coder", "openai/up-model", up.URL+"/v1", nil)}, nil), nil)
	c := openaiClient(g, gatewayKey)
	var resp *http.Response
	out, err := c.Chat.Completions.New(context.Background(), chatParams("coder"), ooption.WithResponseInto(&resp))
	if err != nil {
		t.Fatal(err)
	}
	if out.Choices[0].Message.Content != "PONG" || out.Model != "coder" {
		t.Fatalf("got %+v", out)
	}
	seen := up.seen()
	if len(seen) != 1 || seen[0].Path != "/v1/chat/completions" {
		t.Fatalf("upstream saw %+v", seen)
	}
	if !strings.Contains(seen[0].Body, `"model":"up-model"`) || strings.Contains(seen[0].Body, `"coder"`) {
		t.Fatalf("model not rewritten: %s", seen[0].Body)
	}
	if got := seen[0].Header.Get("Authorization"); got != "Bearer "+upstreamKey {
		t.Fatalf("upstream Authorization = %q", got)
	}
	for k, v := range seen[0].Header {
		if strings.Contains(strings.Join(v, ","), gatewayKey) {
			t.Fatalf("upstream saw the gateway key in %s", k)
		}
	}
	if resp.Header.Get("X-Flowgate-Model-Group") != "coder" || resp.Header.Get("X-Flowgate-Attempts") != "1" ||
		resp.Header.Get("X-Flowgate-Fallbacks") != "0" || resp.Header.Get("X-Flowgate-Overhead-Ms") == "" || resp.Header.Get("X-Flowgate-Deployment") == "" {
		t.Fatalf("trace headers: %v", resp.Header)
	}
}

func TestMessagesPassthroughForwardsAnthropicHeadersAndSetsUpstreamKey(t *testing.T) {
	up := newUpstream(t, "ok")
	g := startGateway(t, doc([]any{dep("claude", "anthropic/up-model", up.URL, nil)}, nil), nil)
	c := anthropicClient(g, gatewayKey)
	msg, err := c.Messages.New(context.Background(), msgParams("claude"))
	if err != nil {
		t.Fatal(err)
	}
	if msg.Content[0].Text != "PONG" || msg.Model != "claude" {
		t.Fatalf("got %+v", msg)
	}
	s := up.seen()[0]
	if s.Path != "/v1/messages" || s.Header.Get("X-Api-Key") != upstreamKey || s.Header.Get("Authorization") != "" {
		t.Fatalf("upstream saw path %s headers %v", s.Path, s.Header)
	}
	if s.Header.Get("Anthropic-Version") == "" || s.Header.Get("Anthropic-Beta") != "test-beta-2025" {
		t.Fatalf("anthropic headers not forwarded: %v", s.Header)
	}
	// streaming through the SDK
	st := c.Messages.NewStreaming(context.Background(), msgParams("claude"))
	var text strings.Builder
	for st.Next() {
		ev := st.Current()
		if ev.Type == "content_block_delta" {
			text.WriteString(ev.Delta.Text)
		}
	}
	if err := st.Err(); err != nil {
		t.Fatal(err)
	}
	if text.String() != "P0P1P2" {
		t.Fatalf("streamed %q", text.String())
	}
}

func TestChatStreamingPassthroughWithOpenAISDK(t *testing.T) {
	up := newUpstream(t, "ok")
	g := startGateway(t, doc([]any{dep("coder", "openai/up-model", up.URL+"/v1", nil)}, nil), nil)
	c := openaiClient(g, gatewayKey)
	st := c.Chat.Completions.NewStreaming(context.Background(), chatParams("coder"))
	var text strings.Builder
	for st.Next() {
		ch := st.Current()
		if len(ch.Choices) > 0 {
			text.WriteString(ch.Choices[0].Delta.Content)
		}
	}
	if err := st.Err(); err != nil {
		t.Fatal(err)
	}
	if text.String() != "P0P1P2END" {
		t.Fatalf("streamed %q", text.String())
	}
}

func TestWrongOrMissingKeyIs401InCallersShape(t *testing.T) {
	up := newUpstream(t, "ok")
	g := startGateway(t, doc([]any{dep("coder", "openai/up-model", up.URL+"/v1", nil), dep("claude", "anthropic/up-model", up.URL, nil)}, nil), nil)
	wrongO := openaiClient(g, "sk-wrong")
	_, err := wrongO.Chat.Completions.New(context.Background(), chatParams("coder"))
	var oe *openai.Error
	if !errors.As(err, &oe) || oe.StatusCode != 401 || oe.Type != "authentication_error" {
		t.Fatalf("openai: %v", err)
	}
	wrongA := anthropicClient(g, "sk-wrong")
	_, err = wrongA.Messages.New(context.Background(), msgParams("claude"))
	var ae *anthropic.Error
	if !errors.As(err, &ae) || ae.StatusCode != 401 || !strings.Contains(ae.RawJSON(), `"type":"error"`) || !strings.Contains(ae.RawJSON(), "authentication_error") {
		t.Fatalf("anthropic: %v", err)
	}
	resp, body := g.post(t, "/v1/messages", `{"model":"claude"}`, map[string]string{"Authorization": ""})
	if resp.StatusCode != 401 || !strings.Contains(body, `"type":"error"`) {
		t.Fatalf("missing key: %d %s", resp.StatusCode, body)
	}
	// x-api-key is accepted too
	resp, _ = g.post(t, "/chat/completions", chatBody[:10]+`coder`+chatBody[11:], map[string]string{"Authorization": "", "X-Api-Key": gatewayKey})
	if resp.StatusCode != 200 {
		t.Fatalf("x-api-key: %d", resp.StatusCode)
	}
	if n := up.hits.Load(); n != 1 {
		t.Fatalf("upstream hits = %d, want 1", n)
	}
}

func TestUnknownAliasIs404NamingTheAliases(t *testing.T) {
	up := newUpstream(t, "ok")
	g := startGateway(t, doc([]any{dep("coder", "openai/up-model", up.URL+"/v1", nil), dep("claude", "anthropic/up-model", up.URL, nil)}, nil), nil)
	resp, body := g.post(t, "/v1/chat/completions?beta=true", `{"model":"nope","messages":[]}`, nil)
	if resp.StatusCode != 404 || !strings.Contains(body, "coder, claude") || !strings.Contains(body, `"error"`) {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	resp, body = g.post(t, "/v1/messages?beta=true", `{"model":"nope","messages":[]}`, nil)
	if resp.StatusCode != 404 || !strings.Contains(body, `"not_found_error"`) {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
}

func TestModelsListShapes(t *testing.T) {
	up := newUpstream(t, "ok")
	g := startGateway(t, doc([]any{dep("coder", "openai/up-model", up.URL+"/v1", nil), dep("claude", "anthropic/up-model", up.URL, nil)}, nil), nil)
	oc, ac := openaiClient(g, gatewayKey), anthropicClient(g, gatewayKey)
	page, err := oc.Models.List(context.Background())
	if err != nil || len(page.Data) != 2 || page.Data[0].ID != "coder" {
		t.Fatalf("openai models: %v %+v", err, page)
	}
	apage, err := ac.Models.List(context.Background(), anthropic.ModelListParams{})
	if err != nil || len(apage.Data) != 2 || apage.Data[1].ID != "claude" || apage.LastID != "claude" {
		t.Fatalf("anthropic models: %v %+v", err, apage)
	}
}

func TestHealthEndpointsAndRoot(t *testing.T) {
	up := newUpstream(t, "ok")
	g := startGateway(t, doc([]any{dep("coder", "openai/up-model", up.URL+"/v1", nil)}, nil), nil)
	for _, p := range []string{"/", "/health/liveliness", "/health/readiness"} {
		resp, err := http.Get(g.URL + p)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("%s: %v %v", p, err, resp)
		}
		if p == "/health/readiness" {
			var r struct {
				Status     string
				Generation uint64
				Profile    string
			}
			json.NewDecoder(resp.Body).Decode(&r)
			if r.Status != "ready" || r.Generation != 1 || r.Profile != "test" {
				t.Fatalf("readiness %+v", r)
			}
		}
		resp.Body.Close()
	}
	resp, err := http.Head(g.URL + "/")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("HEAD /: %v", err)
	}
	req, _ := http.NewRequest("GET", g.URL+"/health?probe=true", nil)
	req.Header.Set("x-api-key", gatewayKey)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var h struct {
		HealthyCount int `json:"healthy_count"`
		Deployments  []struct {
			State string
			Probe struct{ OK bool }
		}
	}
	json.NewDecoder(resp.Body).Decode(&h)
	resp.Body.Close()
	if h.HealthyCount != 1 || !h.Deployments[0].Probe.OK || h.Deployments[0].State != "healthy" {
		t.Fatalf("health %+v", h)
	}
	resp, err = http.Get(g.URL + "/metrics")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("metrics: %v", err)
	}
	resp.Body.Close()
}

// Every pair of the three protocols is translated now: Chat and Messages
// requests on a Responses-only deployment reach it (no 501, see
// responses_upstream_test.go for the answers); no pair remains unsupported.
func TestChatAndMessagesOnResponsesOnlyDeploymentAreTranslated(t *testing.T) {
	up := newUpstream(t, "ok")
	g := startGateway(t, doc([]any{dep("resp", "openai_responses/up-model", up.URL+"/v1", nil)}, nil), nil)
	g.post(t, "/v1/chat/completions", `{"model":"resp","messages":[{"role":"user","content":"hi"}]}`, nil)
	g.post(t, "/v1/messages", `{"model":"resp","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}`, nil)
	seen := up.seen()
	if len(seen) < 2 { // the "ok" upstream answers in chat shape: a 502, retried
		t.Fatalf("upstream saw %d requests", len(seen))
	}
	for _, s := range seen {
		if s.Path != "/v1/responses" || !strings.Contains(s.Body, `"input":[`) || !strings.Contains(s.Body, `"store":false`) {
			t.Fatalf("upstream saw %s %s", s.Path, s.Body)
		}
	}
}

func TestAnthropicClientOnChatUpstreamIsTranslated(t *testing.T) {
	up := newUpstream(t, "ok")
	g := startGateway(t, doc([]any{dep("coder", "openai/up-model", up.URL+"/v1", nil)}, nil), nil)
	c := anthropicClient(g, gatewayKey)
	msg, err := c.Messages.New(context.Background(), msgParams("coder"))
	if err != nil {
		t.Fatal(err)
	}
	if len(msg.Content) == 0 || msg.Content[0].Text != "PONG" || msg.Model != "coder" {
		t.Fatalf("%+v", msg)
	}
	if s := up.seen()[0]; s.Path != "/v1/chat/completions" || !strings.Contains(s.Body, `"up-model"`) || s.Header.Get("Anthropic-Beta") != "" {
		t.Fatalf("upstream saw %s %s %v", s.Path, s.Body, s.Header)
	}
	st := c.Messages.NewStreaming(context.Background(), msgParams("coder"))
	var text strings.Builder
	stops := 0
	for st.Next() {
		ev := st.Current()
		switch ev.Type {
		case "content_block_delta":
			text.WriteString(ev.Delta.Text)
		case "message_stop":
			stops++
		}
	}
	if err := st.Err(); err != nil || text.String() != "P0P1P2END" || stops != 1 {
		t.Fatalf("stream: %v %q stops=%d", err, text.String(), stops)
	}
}

func TestCountTokensUpstreamOrEstimate(t *testing.T) {
	up := newUpstream(t, "ok")
	g := startGateway(t, doc([]any{dep("coder", "openai/up-model", up.URL+"/v1", nil), dep("claude", "anthropic/up-model", up.URL, nil)}, nil), nil)
	resp, body := g.post(t, "/v1/messages/count_tokens?beta=true", `{"model":"claude","messages":[{"role":"user","content":"hi"}]}`, nil)
	if resp.StatusCode != 200 || body != `{"input_tokens":42}` || resp.Header.Get("X-Flowgate-Token-Count") != "upstream" {
		t.Fatalf("%d %s %v", resp.StatusCode, body, resp.Header)
	}
	resp, body = g.post(t, "/v1/messages/count_tokens", `{"model":"coder","messages":[{"role":"user","content":"hi"}]}`, nil)
	if resp.StatusCode != 200 || !strings.HasPrefix(body, `{"input_tokens":`) || resp.Header.Get("X-Flowgate-Token-Count") != "estimate" {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
}

func TestBodyLimitIs413(t *testing.T) {
	up := newUpstream(t, "ok")
	d := doc([]any{dep("coder", "openai/up-model", up.URL+"/v1", nil)}, nil)
	g := startGateway(t, d, nil)
	big := `{"model":"coder","messages":[{"role":"user","content":"` + strings.Repeat("x", 33<<20) + `"}]}`
	resp, body := g.post(t, "/v1/chat/completions", big, nil)
	if resp.StatusCode != 413 || !strings.Contains(body, "larger than the gateway limit") {
		t.Fatalf("%d %.200s", resp.StatusCode, body)
	}
}

func TestModelsServesOpenAIDataAndCodexCatalogAndAcceptsQueryParams(t *testing.T) {
	up := newUpstream(t, "ok")
	g := startGateway(t, doc([]any{dep("coder", "openai/up-model", up.URL+"/v1", nil), dep("claude", "anthropic/up-model", up.URL, nil)}, nil), nil)
	get := func(path string, hdr map[string]string) (int, map[string]any) {
		req, _ := http.NewRequest("GET", g.URL+path, nil)
		req.Header.Set("Authorization", "Bearer "+gatewayKey)
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, m
	}
	code, m := get("/v1/models?client_version=0.169.0", nil)
	if code != 200 || m["object"] != "list" || len(m["data"].([]any)) != 2 {
		t.Fatalf("%d %v", code, m)
	}
	models, _ := m["models"].([]any)
	if len(models) != 2 {
		t.Fatalf("no Codex catalog: %v", m)
	}
	first := models[0].(map[string]any)
	// The fields Codex's ModelInfo requires (besides base_instructions, see codexModel).
	for _, k := range []string{"slug", "display_name", "supported_reasoning_levels", "shell_type", "visibility", "supported_in_api",
		"priority", "supports_reasoning_summaries", "support_verbosity", "truncation_policy", "supports_parallel_tool_calls", "experimental_supported_tools"} {
		if _, ok := first[k]; !ok {
			t.Errorf("catalog entry lacks %s: %v", k, first)
		}
	}
	if first["slug"] != "coder" || first["visibility"] != "list" || first["shell_type"] != "shell_command" {
		t.Fatalf("catalog entry %v", first)
	}
	if _, ok := first["base_instructions"]; ok {
		t.Fatal("the catalog must not replace Codex's own system prompt")
	}
	code, m = get("/models?limit=1000", map[string]string{"anthropic-version": "2023-06-01"})
	if code != 200 || m["has_more"] != false || m["first_id"] != "coder" || m["models"] != nil {
		t.Fatalf("anthropic shape %d %v", code, m)
	}
}

func TestRequestWithoutFindableModelIs400InCallersShape(t *testing.T) {
	up := newUpstream(t, "ok")
	g := startGateway(t, doc([]any{dep("coder", "openai/up-model", up.URL+"/v1", nil)}, nil), nil)
	for _, c := range []struct{ path, body, want string }{
		{"/v1/messages", `{"max_tokens":5,"messages":[]}`, `"type":"error"`},
		{"/v1/messages", `{"model":42,"messages":[]}`, `"invalid_request_error"`},
		{"/v1/chat/completions", `[{"model":"coder"}]`, `"error":{`},
		{"/v1/responses", `{"model":"coder","input":"hi"`, `"error":{`},
	} {
		resp, body := g.post(t, c.path, c.body, nil)
		if resp.StatusCode != 400 || !strings.Contains(body, c.want) {
			t.Errorf("%s %s: %d %s", c.path, c.body, resp.StatusCode, body)
		}
	}
	if up.hits.Load() != 0 {
		t.Fatal("upstream was called")
	}
}
