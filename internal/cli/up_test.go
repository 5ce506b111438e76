package cli

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

// TestUpStartsTheGatewayAndSaysWhatIsMissing runs `up` on a fresh project
// (init included) with the real gateway binary: the gateway starts and is
// ready, CLIProxyAPIPlus is skipped with the command that installs it, and
// `down` stops everything.
func TestUpStartsTheGatewayAndSaysWhatIsMissing(t *testing.T) {
	t.Setenv("FLOWGATE_SELF", flowgateBinary(t))
	cfg := project(t) // init, so the port can be moved off 4000 for the test
	port := freePort(t)
	data, _ := os.ReadFile(cfg)
	os.WriteFile(cfg, []byte(strings.Replace(string(data), "    port: 4000\n", fmt.Sprintf("    port: %d\n", port), 1)), 0o600)

	r := runCLI(t, "--config", cfg, "up")
	t.Cleanup(func() { runCLI(t, "--config", cfg, "down") })
	if r.code != 0 {
		t.Fatalf("up: %+v", r)
	}
	for _, want := range []string{
		"profile=balanced",
		"gateway: started pid=",
		"cliproxyapi_plus: skipped (not installed)",
		"bootstrap download",
		fmt.Sprintf("FlowGate gateway: http://127.0.0.1:%d ", port),
		"integration apply claude-code",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("up output lacks %q:\n%s", want, r.stdout)
		}
	}
	r = runCLI(t, "--config", cfg, "up")
	if r.code != 0 || !strings.Contains(r.stdout, "gateway: already running") {
		t.Fatalf("second up must be a no-op: %+v", r)
	}
	r = runCLI(t, "--config", cfg, "down")
	if r.code != 0 || !strings.Contains(r.stdout, "gateway: stopped") {
		t.Fatalf("down: %+v", r)
	}
}
