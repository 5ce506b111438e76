package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flowgate/flowgate/internal/config"
	"github.com/flowgate/flowgate/internal/gateway"
	"github.com/flowgate/flowgate/internal/requestlog"
	"github.com/flowgate/flowgate/internal/ui"
)

// inProcessGateway runs a real gateway with its real request log in this
// process, as `gateway serve` does, and returns the dashboard's source.
func inProcessGateway(t *testing.T, gatewayYAML string) (*uiSource, *config.Config, string) {
	t.Helper()
	up := dashUpstream(t, false)
	root := t.TempDir()
	path := filepath.Join(root, "config", "flowgate.yaml")
	os.MkdirAll(filepath.Dir(path), 0o755)
	os.WriteFile(path, []byte(fmt.Sprintf(`config_version: 2
services:
  gateway: %s
litellm_base:
  model_list:
    - model_name: gpt-fast
      litellm_params: {model: openai/gpt-4.1-mini, api_base: %q, api_key: x}
  general_settings: {master_key: sk-gateway-test}
profiles:
  only: {}
integration: {default_model: gpt-fast}
`, gatewayYAML, up.URL+"/v1")), 0o600)
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(cfg.Paths.RuntimeDir, 0o700)
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	rlog := startRequestLog(cfg, logger)
	doc, err := cfg.ProfileDocument("only")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := gateway.New(gateway.Options{Addr: "127.0.0.1:0", Doc: doc, Profile: "only", ResolveRef: cfg.ResolveCredential, RequestLog: rlog})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	src := newUISource(cfg, srv)
	t.Cleanup(func() {
		src.close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		rlog.Close()
	})
	return src, cfg, "http://" + ln.Addr().String()
}

func TestADeletedRequestLogBlanksOnlyTheRequestSectionsUntilTheGatewayWritesANewOne(t *testing.T) {
	src, cfg, gw := inProcessGateway(t, "{}")
	ctx := context.Background()
	chat := `{"model":"gpt-fast","messages":[{"role":"user","content":"hi"}]}`
	first, _ := send(t, gw, "/v1/chat/completions", chat)
	waitFor(t, 10*time.Second, "the first request in the dashboard", func() bool {
		reqs, err := src.Requests(ctx, ui.Filter{Limit: 50})
		return err == nil && len(reqs) == 1 && reqs[0].ID == first
	})
	got, err := src.Request(ctx, first)
	if err != nil || got.Alias != "gpt-fast" || got.Deployment != "openai/gpt-4.1-mini" || got.TokensIn != 900 || got.TokensCacheRead != 600 ||
		len(got.Tries) != 1 || got.Tries[0].Status != 200 || got.Protocol != "chat" || !got.CostKnown {
		t.Fatalf("the request's detail: %+v %v", got, err)
	}
	if _, err := src.Request(ctx, "no-such-id"); err != ui.ErrNotFound {
		t.Errorf("an unknown id: %v, want ui.ErrNotFound", err)
	}

	db := requestlog.Path(cfg.Paths.RuntimeDir)
	for _, p := range []string{db, db + "-wal", db + "-shm"} {
		os.Remove(p)
	}
	if _, err := src.Requests(ctx, ui.Filter{Limit: 50}); err == nil || !strings.Contains(err.Error(), db) {
		t.Errorf("requests with the log deleted: %v, want an error naming %s", err, db)
	}
	if _, err := src.Usage(ctx, time.Now().Add(-time.Hour)); err == nil {
		t.Error("usage with the log deleted: no error")
	}
	if _, err := src.Series(ctx, time.Now().Add(-time.Hour), time.Minute); err == nil {
		t.Error("charts with the log deleted: no error")
	}
	if aliases, err := src.Aliases(ctx); err != nil || len(aliases) != 1 || aliases[0].Name != "gpt-fast" || aliases[0].Deployments[0].State != "healthy" {
		t.Errorf("aliases with the log deleted: %+v %v", aliases, err)
	}
	if svcs, err := src.Services(ctx); err != nil || len(svcs) != 2 {
		t.Errorf("services with the log deleted: %+v %v", svcs, err)
	}

	second, _ := send(t, gw, "/v1/chat/completions", chat)
	waitFor(t, 10*time.Second, "the request in the new log", func() bool {
		reqs, err := src.Requests(ctx, ui.Filter{Limit: 50})
		return err == nil && len(reqs) == 1 && reqs[0].ID == second
	})
	usage, err := src.Usage(ctx, time.Now().UTC().Truncate(24*time.Hour))
	if err != nil || len(usage) != 1 || usage[0].Requests != 1 || usage[0].TokensIn != 900 || usage[0].TokensCacheRead != 600 || !usage[0].CostKnown {
		t.Errorf("usage from the new log: %+v %v", usage, err)
	}
	buckets, err := src.Series(ctx, time.Now().Add(-time.Hour), time.Minute)
	if err != nil || len(buckets) != 1 || buckets[0].Requests != 1 || buckets[0].LatencyP50 <= 0 {
		t.Errorf("charts from the new log: %+v %v", buckets, err)
	}
}

func TestTheGatewayProcessShowsItselfRunningEvenWhenStartedByHand(t *testing.T) {
	src, _, _ := inProcessGateway(t, "{request_log: false}")
	svcs, err := src.Services(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var gw ui.Service
	for _, s := range svcs {
		if s.Name == config.ServiceGateway {
			gw = s
		}
	}
	if gw.State != "running" || gw.Pid != os.Getpid() || !strings.Contains(gw.Note, "flowgate service start gateway") {
		t.Errorf("the gateway serving the page: %+v", gw)
	}
	if _, err := src.Requests(context.Background(), ui.Filter{Limit: 5}); err == nil || !strings.Contains(err.Error(), "request_log") {
		t.Errorf("requests with the log off: %v, want an error naming services.gateway.request_log", err)
	}
}
