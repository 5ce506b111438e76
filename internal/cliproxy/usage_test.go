package cliproxy

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// usageJSON has the shape CLIProxyAPIPlus's GET /v0/management/usage
// answers: {"usage": StatisticsSnapshot, "failed_requests": N}.
const usageJSON = `{"failed_requests":1,"usage":{"total_requests":3,"success_count":2,"failure_count":1,"total_tokens":380,
"apis":{"sk-local-abc":{"total_requests":3,"total_tokens":380,"models":{
 "gpt-5-codex":{"total_requests":2,"total_tokens":300,"details":[
  {"timestamp":"2026-01-02T10:00:00Z","latency_ms":900,"source":"me@example.com","auth_index":"1","tokens":{"input_tokens":100,"output_tokens":50,"reasoning_tokens":10,"cached_tokens":60,"total_tokens":150},"failed":false},
  {"timestamp":"2020-01-01T00:00:00Z","latency_ms":100,"source":"me@example.com","auth_index":"1","tokens":{"input_tokens":100,"output_tokens":50,"total_tokens":150},"failed":false}]},
 "claude-sonnet-4-5":{"total_requests":1,"total_tokens":80,"details":[
  {"timestamp":"2026-01-02T11:00:00Z","latency_ms":500,"source":"other@example.com","auth_index":"2","tokens":{"input_tokens":70,"output_tokens":10,"total_tokens":80},"failed":true}]}}}},
"requests_by_day":{},"requests_by_hour":{},"tokens_by_day":{},"tokens_by_hour":{}}}`

func TestUsageSumsCLIProxyAPIPlusStatisticsPerAccount(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != UsageEndpoint || r.Header.Get("Authorization") != "Bearer pw" {
			w.WriteHeader(404)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, usageJSON)
	}))
	defer srv.Close()
	c := &Client{BaseURL: srv.URL, Password: "pw"}
	got, err := c.Usage(context.Background(), time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("want 2 accounts, got %+v", got)
	}
	me, other := got[0], got[1]
	if me.Account != "me@example.com" || me.Requests != 1 || me.InputTokens != 100 || me.CachedTokens != 60 || me.ReasoningTokens != 10 || me.TotalTokens != 150 || me.Models[0] != "gpt-5-codex" {
		t.Errorf("me (the 2020 detail is before since): %+v", me)
	}
	if other.Account != "other@example.com" || other.Requests != 1 || other.Failures != 1 || other.TotalTokens != 80 {
		t.Errorf("other: %+v", other)
	}
	c.Password = "wrong"
	if _, err := c.Usage(context.Background(), time.Time{}); err == nil {
		t.Error("a refused call must be an error")
	}
}
