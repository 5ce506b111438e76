package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"

	"github.com/flowgate/flowgate/internal/config"
	"github.com/flowgate/flowgate/internal/router"
)

const scaleOutDir = "../../docs/scale-out"

func scaleOutEnv(t *testing.T) {
	t.Setenv("FLOWGATE_MASTER_KEY", "0123456789abcdef0123456789abcdef")
	t.Setenv("REDIS_PASSWORD", "redis-password-for-the-test")
	t.Setenv("OPENAI_API_KEY", "sk-test-0123456789")
}

// TestScaleOutGuideConfigIsValidAndSharesStateThroughRedis loads the
// replica config of docs/scale-out.md as the gateway would.
func TestScaleOutGuideConfigIsValidAndSharesStateThroughRedis(t *testing.T) {
	scaleOutEnv(t)
	cfg, err := config.Load(filepath.Join(scaleOutDir, "flowgate.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	doc, err := cfg.ProfileDocument(cfg.DefaultProfile)
	if err != nil {
		t.Fatal(err)
	}
	rc, err := router.Parse(doc, cfg.ResolveCredential)
	if err != nil {
		t.Fatal(err)
	}
	if rc.Settings.Redis.URL != "redis://redis:6379/0" || rc.Settings.Redis.Password != "redis-password-for-the-test" {
		t.Fatalf("redis settings %+v", rc.Settings.Redis)
	}
	if rc.Deployments[0].RPM != 500 || len(rc.General.Keys) != 1 || len(rc.General.Keys[0]) < 16 {
		t.Fatalf("deployment rpm %d, keys %d", rc.Deployments[0].RPM, len(rc.General.Keys))
	}
	gw := cfg.Services[config.ServiceGateway]
	if gw.Host != "0.0.0.0" || len(gw.Limits.AllowedHosts) == 0 {
		t.Fatalf("the replicas must listen beyond loopback with allowed_hosts: host %q allowed_hosts %v", gw.Host, gw.Limits.AllowedHosts)
	}
}

// TestScaleOutComposeFileIsValid checks docs/scale-out/compose.yaml: its
// services always, and with `docker compose config` when Docker Compose is
// installed.
func TestScaleOutComposeFileIsValid(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(scaleOutDir, "compose.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		Services map[string]any `yaml:"services"`
	}
	if err := yaml.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"redis", "flowgate-1", "flowgate-2", "caddy"} {
		if c.Services[s] == nil {
			t.Errorf("compose.yaml has no service %s", s)
		}
	}
	caddy, _ := os.ReadFile(filepath.Join(scaleOutDir, "Caddyfile"))
	if !strings.Contains(string(caddy), "flowgate-1:4000 flowgate-2:4000") {
		t.Errorf("the Caddyfile does not balance both replicas:\n%s", caddy)
	}
	if out, err := exec.Command("docker", "compose", "version").CombinedOutput(); err != nil {
		t.Skipf("docker compose is not available (%v: %s); compose.yaml was checked for its services only", err, strings.TrimSpace(string(out)))
	}
	scaleOutEnv(t)
	cmd := exec.Command("docker", "compose", "-f", "compose.yaml", "config", "--quiet")
	cmd.Dir = scaleOutDir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("docker compose config: %v\n%s", err, out)
	}
}
