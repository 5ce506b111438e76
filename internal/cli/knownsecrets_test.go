package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowgate/flowgate/internal/cliproxy"
	rt "github.com/flowgate/flowgate/internal/runtime"
)

// TestEveryKnownSecretIsRedactedFromEventsWhateverItsShape: once a command
// has loaded the config, the gateway key, the upstream key files, an
// environment-variable key, CLIProxyAPIPlus's client keys and its
// management password never reach events.log, even in shapes the
// pattern-based redaction does not know.
func TestEveryKnownSecretIsRedactedFromEventsWhateverItsShape(t *testing.T) {
	cfgPath := project(t)
	root := filepath.Dir(filepath.Dir(cfgPath))
	const (
		upKey    = "zz9-plural-z-alpha-0123456789"
		cpaOnly  = "cpa.client.key.Of.Another.Shape"
		mgmt     = "Mgmt_Pw-0f-0dd-Shape-42"
		envValue = "env:key/with+odd=chars"
	)
	os.WriteFile(filepath.Join(root, ".router", "secrets", "upstream_cliproxyapi_api_key"), []byte(upKey+"\n"), 0o600)
	os.WriteFile(filepath.Join(root, ".router", "secrets", cliproxy.ManagementPasswordFile), []byte(mgmt+"\n"), 0o600)
	cpPath := filepath.Join(root, "config", "cliproxyapi.yaml")
	cp, _ := os.ReadFile(cpPath)
	os.WriteFile(cpPath, []byte(strings.Replace(string(cp), "api-keys:\n", "api-keys:\n  - \""+cpaOnly+"\"\n", 1)), 0o600)
	t.Setenv("FG_TEST_ENV_GATEWAY_KEY", envValue)
	data, _ := os.ReadFile(cfgPath)
	cfgText := strings.Replace(string(data), "credentials:\n  upstream:\n", "credentials:\n  upstream:\n    from_env:\n      env: FG_TEST_ENV_GATEWAY_KEY\n", 1)
	if cfgText == string(data) {
		t.Fatal("the template has no credentials.upstream block to extend")
	}
	os.WriteFile(cfgPath, []byte(cfgText), 0o600)
	gwKey := strings.TrimSpace(string(must(os.ReadFile(filepath.Join(root, ".router", "secrets", "gateway_key")))))

	if r := runCLI(t, "--config", cfgPath, "events", "-n", "0"); r.code != 0 {
		t.Fatalf("events: %+v", r)
	}
	events := filepath.Join(root, ".router", "runtime", "events.log")
	secrets := []string{upKey, cpaOnly, mgmt, envValue, gwKey}
	if err := rt.AppendEvent(events, rt.Event{Event: "service_start", Service: "cliproxyapi_plus", Result: "failed",
		Detail: "log tail: " + strings.Join(secrets, " | ") + " Bearer " + upKey}); err != nil {
		t.Fatal(err)
	}
	got := string(must(os.ReadFile(events)))
	for _, s := range secrets {
		if strings.Contains(got, s) {
			t.Errorf("events.log shows %q:\n%s", s, got)
		}
	}
	if strings.Count(got, "[redacted]") < len(secrets) {
		t.Errorf("events.log lost the detail instead of redacting it:\n%s", got)
	}
}
