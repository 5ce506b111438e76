package config

import (
	"strings"
	"testing"
	"time"
)

func TestGatewayLimitsAreReadWithUnits(t *testing.T) {
	cfg, err := Load(writeConfig(t, minimal+`
services:
  gateway:
    max_body_size: 16MiB
    body_budget: 128MiB
    body_read_timeout: 30s
    min_body_rate: 4KiB
    idle_timeout: 90
    write_timeout: 2m
    max_connections: 100
    max_connections_per_client: 50
    allowed_origins: [https://app.example.com]
    allowed_hosts: [gw.lan]
`))
	if err != nil {
		t.Fatal(err)
	}
	got := cfg.Services[ServiceGateway].Limits
	want := GatewayLimits{MaxBodyBytes: 16 << 20, BodyBudgetBytes: 128 << 20, BodyReadTimeout: 30 * time.Second, MinBodyRate: 4096,
		IdleTimeout: 90 * time.Second, WriteTimeout: 2 * time.Minute, MaxConnections: 100, MaxConnectionsPerClient: 50}
	if got.AllowedOrigins[0] != "https://app.example.com" || got.AllowedHosts[0] != "gw.lan" {
		t.Fatalf("lists = %+v", got)
	}
	got.AllowedOrigins, got.AllowedHosts = nil, nil
	if got.MaxBodyBytes != want.MaxBodyBytes || got.BodyBudgetBytes != want.BodyBudgetBytes || got.BodyReadTimeout != want.BodyReadTimeout ||
		got.MinBodyRate != want.MinBodyRate || got.IdleTimeout != want.IdleTimeout || got.WriteTimeout != want.WriteTimeout ||
		got.MaxConnections != want.MaxConnections || got.MaxConnectionsPerClient != want.MaxConnectionsPerClient {
		t.Fatalf("limits = %+v, want %+v", got, want)
	}
}

func TestBadGatewayLimitsNameTheirFields(t *testing.T) {
	problems := loadProblems(t, minimal+`
services:
  gateway:
    max_body_size: lots
    body_budget: 1MiB
    max_connections: 0
    allowed_origins: [evil.example]
    write_timeout: -1
  cliproxyapi_plus:
    max_connections: 5
`)
	want := map[string]string{
		"services.gateway.max_body_size":            "32MiB",
		"services.gateway.max_connections":          "at least 1",
		"services.gateway.allowed_origins[0]":       "scheme://host",
		"services.gateway.write_timeout":            "duration",
		"services.cliproxyapi_plus.max_connections": "only services.gateway",
	}
	got := map[string]string{}
	for _, p := range problems {
		got[p.Path] = p.Message
	}
	for path, frag := range want {
		if !strings.Contains(got[path], frag) {
			t.Errorf("%s: got %q, want it to mention %q (all: %v)", path, got[path], frag, problems)
		}
	}
}

func TestBodyBudgetSmallerThanMaxBodyIsRejected(t *testing.T) {
	problems := loadProblems(t, minimal+`
services:
  gateway: {max_body_size: 64MiB, body_budget: 32MiB}
`)
	if len(problems) != 1 || problems[0].Path != "services.gateway.body_budget" {
		t.Fatalf("got %v", problems)
	}
}
