package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/flowgate/flowgate/bench/internal/build"
	"github.com/flowgate/flowgate/bench/internal/procmem"
)

// Gateway aliases of the generated config.
const (
	aliasChat      = "soak-chat"      // openai/ok: Chat passthrough, Messages and Responses translated
	aliasAnthropic = "soak-anthropic" // anthropic/ok: Messages passthrough
	aliasFlaky     = "soak-flaky"     // openai/flaky, falls back to soak-chat
	aliasBroken    = "soak-broken"    // openai/broken: every request fails
)

// gatewayProc is a running `flowgate gateway serve` in its own process group.
type gatewayProc struct {
	cmd    *exec.Cmd
	base   string
	key    string
	host   string
	exited chan struct{}
	log    string
}

// buildFlowGate compiles ./cmd/flowgate into dir.
func buildFlowGate(ctx context.Context, dir string) (string, error) {
	root, err := build.ModuleRoot()
	if err != nil {
		return "", err
	}
	return build.FlowGate(ctx, root, dir, "flowgate")
}

// writeConfig writes <dir>/flowgate.yaml (JSON is valid YAML) and its
// secret files. The gateway runs with its default edge limits.
func writeConfig(dir, upstreamAddr, key string, port int) (string, error) {
	if err := os.MkdirAll(filepath.Join(dir, "secrets"), 0o700); err != nil {
		return "", err
	}
	for name, v := range map[string]string{"upstream_key": "sk-soak-upstream-key", "gateway_key": key} {
		if err := os.WriteFile(filepath.Join(dir, "secrets", name), []byte(v+"\n"), 0o600); err != nil {
			return "", err
		}
	}
	dep := func(alias, model, base string) map[string]any {
		return map[string]any{"model_name": alias, "litellm_params": map[string]any{"model": model, "api_base": base, "api_key_ref": "upstream_key"}}
	}
	chatBase, anthBase := "http://"+upstreamAddr+"/v1", "http://"+upstreamAddr
	doc := map[string]any{
		"config_version": 2,
		"paths":          map[string]any{"runtime_dir": "runtime"},
		"services":       map[string]any{"gateway": map[string]any{"engine": "builtin", "host": "127.0.0.1", "port": port}},
		"credentials": map[string]any{"upstream": map[string]any{
			"upstream_key": map[string]any{"file": "secrets/upstream_key"},
			"gateway_key":  map[string]any{"file": "secrets/gateway_key"},
		}},
		"litellm_base": map[string]any{
			"model_list": []any{
				dep(aliasChat, "openai/"+modelOK, chatBase),
				dep(aliasAnthropic, "anthropic/"+modelOK, anthBase),
				dep(aliasFlaky, "openai/"+modelFlaky, chatBase),
				dep(aliasBroken, "openai/"+modelBroken, chatBase),
			},
			"router_settings": map[string]any{"routing_strategy": "simple-shuffle"},
			"litellm_settings": map[string]any{"num_retries": 1, "request_timeout": 30,
				"fallbacks": []any{map[string]any{aliasFlaky: []any{aliasChat}}}},
			"general_settings": map[string]any{"master_key_ref": "gateway_key"},
		},
		"profiles":        map[string]any{"soak": map[string]any{}},
		"integration":     map[string]any{"default_model": aliasChat},
		"default_profile": "soak",
	}
	b, _ := json.MarshalIndent(doc, "", "  ")
	path := filepath.Join(dir, "flowgate.yaml")
	return path, os.WriteFile(path, b, 0o600)
}

// startGateway runs `flowgate --config CFG gateway serve` and waits until
// its readiness answers 200.
func startGateway(ctx context.Context, bin, dir, upstreamAddr string) (*gatewayProc, error) {
	port, err := build.FreePort()
	if err != nil {
		return nil, err
	}
	key := "sk-soak-gateway-key-0123456789"
	cfgPath, err := writeConfig(dir, upstreamAddr, key, port)
	if err != nil {
		return nil, err
	}
	logPath := filepath.Join(dir, "gateway.log")
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "--config", cfgPath, "gateway", "serve")
	cmd.Dir = dir
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "FLOWGATE_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("starting the gateway: %w", err)
	}
	host := "127.0.0.1:" + strconv.Itoa(port)
	g := &gatewayProc{cmd: cmd, base: "http://" + host, key: key, host: host, exited: make(chan struct{}), log: logPath}
	go func() { cmd.Wait(); logf.Close(); close(g.exited) }()
	hc := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := hc.Get(g.base + "/health/readiness")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return g, nil
			}
		}
		select {
		case <-g.exited:
			b, _ := os.ReadFile(logPath)
			return nil, fmt.Errorf("the gateway exited before it was ready (log %s): %s", logPath, tail(b, 1500))
		case <-ctx.Done():
			g.stop()
			return nil, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			g.stop()
			return nil, fmt.Errorf("the gateway was not ready within 30s (log %s)", logPath)
		}
	}
}

func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return strings.TrimSpace(string(b))
}

// stop sends SIGTERM to the group, then SIGKILL after a grace period.
func (g *gatewayProc) stop() {
	pid := g.cmd.Process.Pid
	syscall.Kill(-pid, syscall.SIGTERM)
	select {
	case <-g.exited:
	case <-time.After(10 * time.Second):
		syscall.Kill(-pid, syscall.SIGKILL)
		<-g.exited
	}
}

func (g *gatewayProc) alive() bool {
	select {
	case <-g.exited:
		return false
	default:
		return true
	}
}

// memKB reads the gateway's resident set now (VmRSS) and its peak (VmHWM).
func (g *gatewayProc) memKB() (rss, hwm uint64) {
	return procmem.KB(g.cmd.Process.Pid)
}

// resetPeak restarts VmHWM from the current RSS (proc(5), clear_refs 5).
func (g *gatewayProc) resetPeak() {
	procmem.ResetPeak(g.cmd.Process.Pid)
}
