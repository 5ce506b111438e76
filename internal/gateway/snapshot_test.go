package gateway_test

import (
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"testing"
)

// TestSnapshotIsWhatHealthReports: the snapshot other parts of the process
// read (the dashboard) is the state /health serves, warnings included.
func TestSnapshotIsWhatHealthReports(t *testing.T) {
	up := newUpstream(t, "500")
	g := startGateway(t, doc([]any{
		dep("coder", "openai/a", up.URL+"/v1", nil),
		dep("coder", "openai/b", up.URL+"/v1", nil),
		dep("fast", "openai/c", up.URL+"/v1", nil),
	}, map[string]any{"num_retries": 0, "allowed_fails": 0}), nil)
	g.post(t, "/v1/chat/completions", `{"model":"fast","messages":[{"role":"user","content":"hi"}]}`, nil)
	g.Warn("the dashboard could not listen on 127.0.0.1:1: taken")
	g.Warn("the dashboard could not listen on 127.0.0.1:1: taken")

	snap := g.Snapshot()
	req, _ := http.NewRequest("GET", g.URL+"/health", nil)
	req.Header.Set("Authorization", "Bearer "+gatewayKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var h struct {
		Generation  uint64 `json:"generation"`
		Profile     string `json:"profile"`
		Deployments []struct {
			ID         string `json:"id"`
			ModelGroup string `json:"model_group"`
			Model      string `json:"model"`
			State      string `json:"state"`
			LastError  string `json:"last_error"`
		} `json:"deployments"`
		Warnings []string `json:"warnings"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&h); err != nil {
		t.Fatal(err)
	}
	if snap.Generation != h.Generation || snap.Profile != h.Profile || len(snap.Deployments) != 3 || len(h.Deployments) != 3 {
		t.Fatalf("snapshot %+v, /health %+v", snap, h)
	}
	for i, d := range snap.Deployments {
		hd := h.Deployments[i]
		if d.ID != hd.ID || d.ModelGroup != hd.ModelGroup || d.Model != hd.Model || d.State != hd.State || d.LastError != hd.LastError {
			t.Errorf("deployment %d: snapshot %+v, /health %+v", i, d, hd)
		}
	}
	if c := snap.Deployments[2]; c.Model != "openai/c" || c.State != "cooling" || c.LastError == "" || strings.Contains(c.LastError, upstreamKey) {
		t.Errorf("the failed deployment: %+v", c)
	}
	if len(h.Warnings) != 1 || !strings.Contains(h.Warnings[0], "dashboard") || len(snap.Warnings) != 1 {
		t.Errorf("warnings: /health %v, snapshot %v (want the one warning, once)", h.Warnings, snap.Warnings)
	}
}

func TestCheckKeyAcceptsOnlyTheRunningKeysAndKeyDigestFollowsReloads(t *testing.T) {
	up := newUpstream(t, "ok")
	d := doc([]any{dep("coder", "openai/a", up.URL+"/v1", nil)}, nil)
	g := startGateway(t, d, nil)
	if !g.HasKeys() || !g.CheckKey(gatewayKey) || g.CheckKey("") || g.CheckKey(gatewayKey+"x") || g.CheckKey(upstreamKey) {
		t.Fatal("CheckKey must accept the master key and nothing else")
	}
	before := g.KeyDigest()
	if strings.Contains(before, gatewayKey) {
		t.Fatal("the digest shows the key")
	}
	if _, err := g.Reload(d, "test"); err != nil || g.KeyDigest() != before {
		t.Fatalf("a reload with the same keys changed the digest (%v)", err)
	}
	d2 := doc([]any{dep("coder", "openai/a", up.URL+"/v1", nil)}, nil)
	d2["general_settings"] = map[string]any{"master_key": "sk-new-key-0123456789"}
	if _, err := g.Reload(d2, "test"); err != nil {
		t.Fatal(err)
	}
	if g.KeyDigest() == before || g.CheckKey(gatewayKey) || !g.CheckKey("sk-new-key-0123456789") {
		t.Fatal("after a key change: the old key must be refused, the new accepted, the digest changed")
	}
}

func TestAllowsHostGuardsAnotherListenerOfTheGatewayByItsPort(t *testing.T) {
	up := newUpstream(t, "ok")
	g := startGateway(t, doc([]any{dep("coder", "openai/a", up.URL+"/v1", nil)}, nil), nil)
	_, gwPort, _ := net.SplitHostPort(strings.TrimPrefix(g.URL, "http://"))
	for host, want := range map[string]bool{
		"127.0.0.1:4001":       true,
		"localhost:4001":       true,
		"[::1]:4001":           true,
		"127.0.0.1:" + gwPort:  false,
		"evil.example:4001":    false,
		"rebind.attacker:4001": false,
	} {
		if got := g.AllowsHost(host, "4001"); got != want {
			t.Errorf("AllowsHost(%q, 4001) = %v, want %v", host, got, want)
		}
	}
}
