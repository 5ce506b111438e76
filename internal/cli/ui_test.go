package cli

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flowgate/flowgate/internal/ui"
)

// noData is a dashboard source with nothing to show; these tests only sign in.
type noData struct{}

func (noData) Services(context.Context) ([]ui.Service, error)            { return nil, nil }
func (noData) Accounts(context.Context) ([]ui.Account, error)            { return nil, nil }
func (noData) Aliases(context.Context) ([]ui.Alias, error)               { return nil, nil }
func (noData) Requests(context.Context, ui.Filter) ([]ui.Request, error) { return nil, nil }
func (noData) Request(context.Context, string) (ui.Request, error) {
	return ui.Request{}, ui.ErrNotFound
}
func (noData) Series(context.Context, time.Time, time.Duration) ([]ui.Bucket, error) {
	return nil, nil
}
func (noData) Usage(context.Context, time.Time) ([]ui.UsageRow, error)    { return nil, nil }
func (noData) KeyUsage(context.Context, time.Time) ([]ui.UsageRow, error) { return nil, nil }

// dashboardProject serves a dashboard that accepts serverKey on 127.0.0.1
// and writes a config whose gateway listens on the port before it, with
// configKey as general_settings.master_key ("" for none).
func dashboardProject(t *testing.T, serverKey, configKey string) (cfgPath, base string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: ui.New(ui.Options{Source: noData{}, CheckKey: func(k string) bool {
		return subtle.ConstantTimeCompare([]byte(k), []byte(serverKey)) == 1
	}})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	port := ln.Addr().(*net.TCPAddr).Port
	gs := ""
	if configKey != "" {
		gs = fmt.Sprintf("\n  general_settings: {master_key: %s}", configKey)
	}
	root := t.TempDir()
	cfgPath = filepath.Join(root, "config", "flowgate.yaml")
	os.MkdirAll(filepath.Dir(cfgPath), 0o755)
	os.WriteFile(cfgPath, []byte(fmt.Sprintf(`config_version: 2
services:
  gateway: {port: %d}
litellm_base:
  model_list:
    - model_name: router-default
      litellm_params: {model: openai/m, api_base: "http://127.0.0.1:9/v1", api_key: x}%s
profiles:
  only: {}
`, port-1, gs)), 0o600)
	return cfgPath, fmt.Sprintf("http://127.0.0.1:%d", port)
}

func TestUIPrintsAOneTimeLinkThatSignsIn(t *testing.T) {
	cfg, base := dashboardProject(t, "sk-ui-test", "sk-ui-test")
	r := runCLI(t, "--config", cfg, "ui", "--no-open")
	if r.code != 0 {
		t.Fatalf("flowgate ui: %+v", r)
	}
	i := strings.Index(r.stdout, base+"/ui/login#once=")
	if i < 0 || !strings.Contains(r.stdout, "works once, within 2 minutes") {
		t.Fatalf("no link to the dashboard on the port after the gateway's (%s):\n%s", base, r.stdout)
	}
	if strings.Contains(r.stdout+r.stderr, "sk-ui-test") {
		t.Fatal("flowgate ui printed the gateway key")
	}
	once := strings.TrimSpace(r.stdout[i+len(base+"/ui/login#once="):])
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.PostForm(base+"/ui/login", url.Values{"once": {once}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || len(resp.Cookies()) != 1 {
		t.Fatalf("signing in with the printed link: %d %v", resp.StatusCode, resp.Cookies())
	}
}

func TestUIOpensTheBrowserAndPrintsNoToken(t *testing.T) {
	cfg, base := dashboardProject(t, "sk-ui-test", "sk-ui-test")
	var opened []string
	prev := openDashboard
	openDashboard = func(u string) (bool, error) { opened = append(opened, u); return true, nil }
	t.Cleanup(func() { openDashboard = prev })
	r := runCLI(t, "--config", cfg, "ui")
	if r.code != 0 || len(opened) != 1 || !strings.HasPrefix(opened[0], base+"/ui/login#once=") {
		t.Fatalf("flowgate ui: %+v opened %v", r, opened)
	}
	if strings.Contains(r.stdout+r.stderr, "once=") || !strings.Contains(r.stdout, base+"/ui/") {
		t.Fatalf("after opening the browser the output should name the dashboard without the token:\n%s%s", r.stdout, r.stderr)
	}
	r = runCLI(t, "--config", cfg, "--json", "ui", "--no-open")
	var res uiResult
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil || r.code != 0 || res.Opened || res.Home != base+"/ui/" || res.ExpiresIn != 120 || !strings.HasPrefix(res.URL, base+"/ui/login#once=") {
		t.Fatalf("--json: %+v %v %+v", r, err, res)
	}
	if len(opened) != 1 {
		t.Fatal("--no-open opened a browser")
	}
}

func TestUIExplainsAMissingKeyARefusedKeyAndAGatewayThatIsDown(t *testing.T) {
	cfg, _ := dashboardProject(t, "sk-running", "")
	if r := runCLI(t, "--config", cfg, "ui", "--no-open"); r.code != ExitUsage || !strings.Contains(r.stderr, "general_settings.master_key_ref") {
		t.Errorf("no key in the config: %+v, want exit 2 naming the field", r)
	}
	cfg, _ = dashboardProject(t, "sk-running", "sk-in-config")
	if r := runCLI(t, "--config", cfg, "ui", "--no-open"); r.code != ExitFailed || !strings.Contains(r.stderr, "flowgate service restart gateway") || strings.Contains(r.stderr, "sk-in-config") {
		t.Errorf("key refused: %+v, want exit 1 saying to restart the gateway", r)
	}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	dead := "http://" + ln.Addr().String()
	ln.Close()
	if r := runCLI(t, "--config", cfg, "ui", "--no-open", "--url", dead); r.code != ExitFailed || !strings.Contains(r.stderr, "flowgate up") {
		t.Errorf("nothing listening: %+v, want exit 1 saying how to start the gateway", r)
	}
	if r := runCLI(t, "--config", cfg, "ui", "--url", "127.0.0.1:4001"); r.code != ExitUsage {
		t.Errorf("--url without a scheme: %+v, want exit 2", r)
	}
}
