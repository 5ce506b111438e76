package e2e

import (
	"testing"

	"github.com/flowgate/flowgate/internal/config"
)

// TestGeneratedGatewayConfigLoads runs in plain `go test ./...`: the config
// the e2e harness generates must stay valid for the config loader.
func TestGeneratedGatewayConfigLoads(t *testing.T) {
	up := &fakeUpstream{URL: "http://127.0.0.1:9"}
	path := writeGatewayConfig(t, t.TempDir(), 4000, gatewayUpstreams{main: up, first: up, fallback: up})
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Integration.DefaultModel != aliasChat || cfg.DefaultProfile != "e2e" {
		t.Fatalf("integration %+v profile %q", cfg.Integration, cfg.DefaultProfile)
	}
	for _, w := range cfg.Warnings {
		t.Logf("config warning: %s", w)
	}
}
