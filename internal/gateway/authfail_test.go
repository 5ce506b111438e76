package gateway_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/anthropics/anthropic-sdk-go"
	"github.com/openai/openai-go/v3"
	ooption "github.com/openai/openai-go/v3/option"

	"github.com/flowgate/flowgate/internal/gateway"
)

// expiredLoginCPA stands in for CLIProxyAPIPlus whose Codex login the
// upstream no longer accepts: every inference route answers 401 with the
// upstream's message, until ok is set (a new login).
type expiredLoginCPA struct {
	*httptest.Server
	ok   atomic.Bool
	hits atomic.Int64
}

func newExpiredLoginCPA(t *testing.T) *expiredLoginCPA {
	f := &expiredLoginCPA{}
	up := newUpstream(t, "ok")
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.hits.Add(1)
		if f.ok.Load() {
			up.Config.Handler.ServeHTTP(w, r)
			return
		}
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `{"error":{"message":"Provided authentication token is expired. Please try signing in again.","type":"invalid_request_error","code":"token_expired"}}`)
	}))
	t.Cleanup(f.Close)
	return f
}

func withCLIProxy(base string) func(*gateway.Options) {
	return func(o *gateway.Options) { o.CLIProxyBase = base }
}

// TestUpstream401ReachesEachClientAsAnAuthErrorNamingTheLogin: a 401 from
// CLIProxyAPIPlus reaches Messages, Chat and Responses clients as an
// authentication error in their own shape that names the deployment, the
// alias and `flowgate auth login codex`; never a 429 cooldown, never a
// Retry-After, however often the client asks again.
func TestUpstream401ReachesEachClientAsAnAuthErrorNamingTheLogin(t *testing.T) {
	cpa := newExpiredLoginCPA(t)
	g := startGatewayWith(t, doc([]any{
		dep("router-default", "openai/gpt-5", cpa.URL+"/v1", nil),
	}, map[string]any{"num_retries": 2, "allowed_fails": 0, "cooldown_time": 300}), nil, withCLIProxy(cpa.URL))
	want := []string{"upstream rejected the credentials of deployment openai/gpt-5 (alias router-default) with 401", "run: flowgate auth login codex", "token is expired"}
	check := func(t *testing.T, what, msg string, hdr http.Header) {
		t.Helper()
		for _, w := range want {
			if !strings.Contains(msg, w) {
				t.Errorf("%s: message %q lacks %q", what, msg, w)
			}
		}
		if ra := hdr.Get("Retry-After"); ra != "" {
			t.Errorf("%s: Retry-After %q on an auth failure", what, ra)
		}
	}
	ac, oc := anthropicClient(g, gatewayKey), openaiClient(g, gatewayKey)
	for round := 0; round < 2; round++ {
		var resp *http.Response
		_, err := ac.Messages.New(context.Background(), msgParams("router-default"))
		var ae *anthropic.Error
		if !errors.As(err, &ae) || ae.StatusCode != 401 {
			t.Fatalf("round %d messages: %v", round, err)
		}
		var aBody struct {
			Type  string `json:"type"`
			Error struct{ Type, Message string }
		}
		json.Unmarshal([]byte(ae.RawJSON()), &aBody)
		if aBody.Type != "error" || aBody.Error.Type != "authentication_error" {
			t.Fatalf("messages shape: %s", ae.RawJSON())
		}
		check(t, "messages", aBody.Error.Message, ae.Response.Header)

		_, err = oc.Chat.Completions.New(context.Background(), chatParams("router-default"), ooption.WithResponseInto(&resp))
		var oe *openai.Error
		if !errors.As(err, &oe) || oe.StatusCode != 401 || oe.Type != "authentication_error" || oe.Code != "upstream_auth_failed" {
			t.Fatalf("round %d chat: %v", round, err)
		}
		check(t, "chat", oe.Message, oe.Response.Header)

		_, err = oc.Responses.New(context.Background(), respParams("router-default"))
		if !errors.As(err, &oe) || oe.StatusCode != 401 || oe.Type != "authentication_error" {
			t.Fatalf("round %d responses: %v", round, err)
		}
		check(t, "responses", oe.Message, oe.Response.Header)
	}
	// The deployment is auth_failed, not cooling, in /health, with the fix.
	h := gatewayHealth(t, g)
	d := h.Deployments[0]
	if d.State != "auth_failed" || d.CoolingUntil != nil || d.AuthFailedSince == "" || d.AuthStatus != 401 ||
		d.Fix != "run: flowgate auth login codex" || !strings.Contains(d.LastError, "token is expired") || h.Status != "unhealthy" {
		t.Fatalf("health %+v", h)
	}
	// A new login works at once, without a restart, and clears auth_failed.
	cpa.ok.Store(true)
	if _, err := oc.Chat.Completions.New(context.Background(), chatParams("router-default")); err != nil {
		t.Fatalf("after a new login: %v", err)
	}
	if d := gatewayHealth(t, g).Deployments[0]; d.State != "healthy" || d.AuthFailedSince != "" {
		t.Fatalf("after a success: %+v", d)
	}
}

// TestAuthFailedDeploymentIsSkippedForTheHealthyOneAndRecheckedLater: with
// a second, healthy deployment in the alias every request succeeds (even
// with num_retries 0); the refused one is tried again only after the
// recheck interval, and a 403 is reported as permission_error with the key
// source to check when the upstream is not CLIProxyAPIPlus.
func TestAuthFailedDeploymentIsSkippedForTheHealthyOneAndRecheckedLater(t *testing.T) {
	cpa := newExpiredLoginCPA(t)
	good := newUpstream(t, "ok")
	clock := newClock()
	g := startGatewayWith(t, doc([]any{
		// order makes the refused deployment the preferred one.
		dep("router-default", "openai/gpt-5", cpa.URL+"/v1", map[string]any{"order": 1}),
		dep("router-default", "openai/up-model", good.URL+"/v1", map[string]any{"order": 2}),
	}, map[string]any{"num_retries": 0}), clock, withCLIProxy(cpa.URL))
	c := openaiClient(g, gatewayKey)
	for i := 0; i < 6; i++ {
		out, err := c.Chat.Completions.New(context.Background(), chatParams("router-default"))
		if err != nil || out.Choices[0].Message.Content != "PONG" {
			t.Fatalf("request %d: %v", i, err)
		}
	}
	if n := cpa.hits.Load(); n != 1 {
		t.Fatalf("the refused deployment was tried %d times within the recheck interval, want once", n)
	}
	h := gatewayHealth(t, g)
	if h.Deployments[0].State != "auth_failed" || h.Deployments[1].State != "healthy" || h.Status != "degraded" {
		t.Fatalf("health %+v", h)
	}
	clock.Advance(time.Minute)
	if _, err := c.Chat.Completions.New(context.Background(), chatParams("router-default")); err != nil {
		t.Fatalf("after the recheck interval: %v", err)
	}
	if n := cpa.hits.Load(); n != 2 {
		t.Fatalf("after the recheck interval the refused deployment was tried %d times in all, want 2", n)
	}

	forbidden := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusForbidden)
		io.WriteString(w, `{"error":{"message":"key not allowed"}}`)
	}))
	defer forbidden.Close()
	t.Setenv("FLOWGATE_TEST_UPSTREAM_KEY", "sk-env-key-0123456789")
	g2 := startGatewayWith(t, doc([]any{
		dep("coder", "openai/up-model", forbidden.URL+"/v1", map[string]any{"api_key": "os.environ/FLOWGATE_TEST_UPSTREAM_KEY"}),
	}, nil), nil, withCLIProxy(cpa.URL))
	resp, body := g2.post(t, "/v1/messages", `{"model":"coder","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}`, map[string]string{"Anthropic-Version": "2023-06-01"})
	if resp.StatusCode != 403 || !strings.Contains(body, `"type":"permission_error"`) ||
		!strings.Contains(body, "environment variable FLOWGATE_TEST_UPSTREAM_KEY") || !strings.Contains(body, "model_list[0]") || resp.Header.Get("Retry-After") != "" {
		t.Fatalf("403: %d %v %s", resp.StatusCode, resp.Header, body)
	}
}

type healthReport struct {
	Status      string `json:"status"`
	Deployments []struct {
		ModelGroup      string  `json:"model_group"`
		State           string  `json:"state"`
		CoolingUntil    *string `json:"cooling_until"`
		AuthFailedSince string  `json:"auth_failed_since"`
		AuthStatus      int     `json:"auth_status"`
		Fix             string  `json:"fix"`
		LastError       string  `json:"last_error"`
	} `json:"deployments"`
}

func gatewayHealth(t *testing.T, g *gw) healthReport {
	t.Helper()
	req, _ := http.NewRequest("GET", g.URL+"/health", nil)
	req.Header.Set("Authorization", "Bearer "+gatewayKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var h healthReport
	if err := json.NewDecoder(resp.Body).Decode(&h); err != nil {
		t.Fatal(err)
	}
	return h
}
