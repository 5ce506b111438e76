package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/flowgate/flowgate/internal/cliproxy"
	"github.com/flowgate/flowgate/internal/config"
	"github.com/flowgate/flowgate/internal/supervisor"
)

// deploymentState is one entry of the builtin gateway's GET /health.
type deploymentState struct {
	ID                  string     `json:"id"`
	ModelGroup          string     `json:"model_group"`
	Model               string     `json:"model"`
	APIBase             string     `json:"api_base"`
	State               string     `json:"state"`
	CoolingUntil        *time.Time `json:"cooling_until"`
	AuthFailedSince     *time.Time `json:"auth_failed_since,omitempty"`
	AuthStatus          int        `json:"auth_status,omitempty"`
	Fix                 string     `json:"fix,omitempty"`
	ConsecutiveFailures int        `json:"consecutive_failures"`
	LastError           string     `json:"last_error,omitempty"`
	LastStatus          int        `json:"last_status,omitempty"`
	// Sessions is how many agent sessions are pinned to the deployment
	// (router_settings.session_affinity).
	Sessions int `json:"sessions"`
	Probe    *struct {
		OK        bool    `json:"ok"`
		Status    int     `json:"status,omitempty"`
		LatencyMS float64 `json:"latency_ms"`
		Error     string  `json:"error,omitempty"`
	} `json:"probe,omitempty"`
}

type gatewayHealth struct {
	Generation  uint64            `json:"generation"`
	Profile     string            `json:"profile"`
	Deployments []deploymentState `json:"deployments"`
	// Warnings are the gateway's non-fatal problems (a request log losing rows).
	Warnings []string `json:"warnings"`
}

// fetchDeployments asks the running builtin gateway which deployments are
// healthy, cooling (until when) or failing, with the gateway key. probe
// makes the gateway send a minimal real request to each.
func fetchDeployments(ctx context.Context, cfg *config.Config, probe bool) (*gatewayHealth, error) {
	gw := cfg.Services[config.ServiceGateway]
	url := supervisor.URLFor(gw.Host, gw.Port, "/health")
	timeout := 3 * time.Second
	if probe {
		url += "?probe=true"
		timeout = 20 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	if key := cfg.GatewayKey(); key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s answered %d", url, resp.StatusCode)
	}
	var h gatewayHealth
	if err := json.NewDecoder(resp.Body).Decode(&h); err != nil {
		return nil, fmt.Errorf("%s: %v", url, err)
	}
	// The CLI knows where CLIProxyAPIPlus listens from the config, so it
	// names the login to renew even when the gateway could not tell.
	base := cliproxyBase(cfg)
	for i := range h.Deployments {
		d := &h.Deployments[i]
		if d.State == "auth_failed" && cliproxy.OnService(d.APIBase, base) {
			d.Fix = "run: " + cliproxy.LoginCommand(cliproxy.ProviderForModel(d.Model))
		}
	}
	return &h, nil
}

func (d deploymentState) line() string {
	s := fmt.Sprintf("  deployment %s -> %s state=%s", d.ModelGroup, d.Model, d.State)
	if d.CoolingUntil != nil && d.State == "cooling" {
		s += " cooling_until=" + d.CoolingUntil.UTC().Format(time.RFC3339)
	}
	if d.State == "auth_failed" {
		if d.AuthFailedSince != nil {
			s += " since=" + d.AuthFailedSince.UTC().Format(time.RFC3339)
		}
		s += fmt.Sprintf(" auth_status=%d", d.AuthStatus)
	}
	if d.ConsecutiveFailures > 0 {
		s += fmt.Sprintf(" consecutive_failures=%d", d.ConsecutiveFailures)
	}
	if d.LastError != "" {
		s += fmt.Sprintf(" last_error=%q", d.LastError)
	}
	if d.Fix != "" {
		s += fmt.Sprintf(" fix=%q", d.Fix)
	}
	if d.Sessions > 0 {
		s += fmt.Sprintf(" sessions=%d", d.Sessions)
	}
	if d.Probe != nil {
		if d.Probe.OK {
			s += fmt.Sprintf(" probe=ok (%.0fms)", d.Probe.LatencyMS)
		} else {
			s += fmt.Sprintf(" probe=fail status=%d error=%q", d.Probe.Status, d.Probe.Error)
		}
	}
	return s
}
