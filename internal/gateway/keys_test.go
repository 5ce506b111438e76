package gateway_test

import (
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flowgate/flowgate/internal/clientkeys"
	"github.com/flowgate/flowgate/internal/gateway"
)

func keyedDoc(base string, keys ...any) map[string]any {
	d := doc([]any{dep("m", "openai/up-model", base, nil), dep("other", "openai/up-model", base, nil)}, nil)
	d["general_settings"] = map[string]any{"master_key": gatewayKey, "extra_keys": keys}
	return d
}

func TestStoredKeyWorksOnceCreatedAndStopsOnceRevokedWithoutARestart(t *testing.T) {
	up := newUpstream(t, "ok")
	path := filepath.Join(t.TempDir(), "secrets", clientkeys.FileName)
	g := startGatewayWith(t, keyedDoc(up.URL+"/v1"), nil, func(o *gateway.Options) { o.KeysFile = path })
	secret, _, err := clientkeys.Create(path, "carol", clientkeys.Limits{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	status := func() int {
		resp, _ := g.post(t, "/v1/chat/completions", chatBody, map[string]string{"Authorization": "Bearer " + secret})
		return resp.StatusCode
	}
	waitFor(t, "the created key to be accepted", func() bool { return status() == http.StatusOK })
	if !g.CheckKey(secret) || g.CheckKey(secret+"x") {
		t.Fatal("CheckKey disagrees with the API")
	}
	if err := clientkeys.Revoke(path, "carol"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the revoked key to be refused", func() bool { return status() == http.StatusUnauthorized })
	if resp, _ := g.post(t, "/v1/chat/completions", chatBody, nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("the master key stopped working: %d", resp.StatusCode)
	}
}

func TestKeyOverItsRPMGets429InTheCallersShapeNamingTheKeyAndLimit(t *testing.T) {
	up := newUpstream(t, "ok")
	clock := newClock()
	clock.Advance(10 * time.Second)
	alice := "sk-alice-0123456789abcdef"
	g := startGateway(t, keyedDoc(up.URL+"/v1", map[string]any{"key": alice, "name": "alice", "rpm": 2}), clock)
	auth := map[string]string{"Authorization": "Bearer " + alice}
	for i := 0; i < 2; i++ {
		if resp, body := g.post(t, "/v1/chat/completions", chatBody, auth); resp.StatusCode != 200 {
			t.Fatalf("request %d: %d %s", i, resp.StatusCode, body)
		}
	}
	resp, body := g.post(t, "/v1/messages", `{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}`,
		map[string]string{"Authorization": "", "X-Api-Key": alice, "Anthropic-Version": "2023-06-01"})
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "50" {
		t.Fatalf("third request: %d Retry-After=%q %s", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	var e struct {
		Type  string `json:"type"`
		Error struct{ Type, Message string }
	}
	json.Unmarshal([]byte(body), &e)
	if e.Type != "error" || e.Error.Type != "rate_limit_error" || !strings.Contains(e.Error.Message, "key alice") || !strings.Contains(e.Error.Message, "2 requests per minute") {
		t.Fatalf("not an Anthropic rate-limit error naming the key and limit: %s", body)
	}
	if up.hits.Load() != 2 {
		t.Fatalf("the refused request reached the upstream (%d hits)", up.hits.Load())
	}
	if resp, _ := g.post(t, "/v1/chat/completions", chatBody, nil); resp.StatusCode != 200 {
		t.Fatalf("the master key is limited too: %d", resp.StatusCode)
	}
	clock.Advance(time.Minute)
	if resp, body := g.post(t, "/v1/chat/completions", chatBody, auth); resp.StatusCode != 200 {
		t.Fatalf("next minute: %d %s", resp.StatusCode, body)
	}
}

func TestKeyLimitedToAliasesAndTokensPerDay(t *testing.T) {
	up := newUpstream(t, "ok")
	bob := "sk-bob-0123456789abcdef"
	g := startGateway(t, keyedDoc(up.URL+"/v1", map[string]any{"key": bob, "name": "bob", "tpd": 4, "aliases": []any{"m"}}), newClock())
	auth := map[string]string{"Authorization": "Bearer " + bob}
	resp, body := g.post(t, "/v1/chat/completions", strings.Replace(chatBody, `"m"`, `"other"`, 1), auth)
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "key bob may not use model \\\"other\\\"") || !strings.Contains(body, "permission_error") {
		t.Fatalf("alias outside the key's: %d %s", resp.StatusCode, body)
	}
	if resp, body := g.post(t, "/v1/chat/completions", chatBody, auth); resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	// The upstream reported 4 tokens: the day's limit is reached.
	waitFor(t, "the tokens to count", func() bool {
		resp, body = g.post(t, "/v1/chat/completions", chatBody, auth)
		return resp.StatusCode == http.StatusTooManyRequests
	})
	if !strings.Contains(body, "key bob is over its limit of 4 tokens per day (UTC), 4 used") || resp.Header.Get("Retry-After") != "86400" {
		t.Fatalf("%s Retry-After=%s", body, resp.Header.Get("Retry-After"))
	}
}
