package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"syscall"
	"time"

	"github.com/flowgate/flowgate/internal/config"
	"github.com/flowgate/flowgate/internal/supervisor"
)

type readiness struct {
	Status     string `json:"status"`
	Generation uint64 `json:"generation"`
	Profile    string `json:"profile"`
}

func readReadiness(ctx context.Context, url string) (readiness, error) {
	var r readiness
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return r, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return r, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return r, fmt.Errorf("readiness answered %d", resp.StatusCode)
	}
	return r, json.NewDecoder(resp.Body).Decode(&r)
}

// reloadGateway makes a running gateway take the profile just written. The
// builtin engine reloads in place on SIGHUP and confirms through the
// generation it reports on /health/readiness; LiteLLM cannot reload, so it
// is restarted with a readiness wait. It returns what happened:
// not-running, reloaded or restarted.
func (a *app) reloadGateway(ctx context.Context, cfg *config.Config, profile string, timeout time.Duration) (string, uint64, error) {
	gw := cfg.Services[config.ServiceGateway]
	spec := baseSpec(cfg, config.ServiceGateway)
	st, err := supervisorFor(cfg).Inspect(spec)
	if err != nil || st.State != supervisor.StateRunning {
		return "not-running", 0, nil
	}
	if gw.Engine == config.EngineLiteLLM {
		res := a.runServices(ctx, cfg, supervisor.ActionRestart, []string{config.ServiceGateway})
		if len(res) == 0 || !res[0].OK() {
			msg := "restart failed"
			if len(res) > 0 {
				msg = res[0].Error
			}
			return "restart-failed", 0, fmt.Errorf("%s", msg)
		}
		return "restarted", 0, nil
	}
	url := supervisor.URLFor(gw.Host, gw.Port, "/health/readiness")
	before, err := readReadiness(ctx, url)
	if err != nil {
		return "unreachable", 0, fmt.Errorf("the gateway (pid %d) does not answer %s: %v", st.Pid, url, err)
	}
	if err := syscall.Kill(st.Pid, syscall.SIGHUP); err != nil {
		return "signal-failed", 0, fmt.Errorf("signalling the gateway (pid %d): %v", st.Pid, err)
	}
	deadline := time.Now().Add(timeout)
	for {
		now, err := readReadiness(ctx, url)
		if err == nil && now.Generation > before.Generation && now.Profile == profile {
			return "reloaded", now.Generation, nil
		}
		if time.Now().After(deadline) {
			return "reload-unconfirmed", before.Generation, fmt.Errorf("the gateway kept generation %d (profile %s) for %s; it logs why it rejected the new config", before.Generation, before.Profile, timeout)
		}
		select {
		case <-ctx.Done():
			return "reload-unconfirmed", before.Generation, ctx.Err()
		case <-time.After(25 * time.Millisecond):
		}
	}
}
