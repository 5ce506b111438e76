package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/flowgate/flowgate/bench/internal/build"
	"github.com/flowgate/flowgate/internal/config"
	"github.com/flowgate/flowgate/internal/litellm"
)

// Target kinds.
const (
	kindDirect   = "direct"
	kindFlowGate = "flowgate"
	// flowGateName is FlowGate as shipped; flowGateNoLogName the same with
	// its request log off.
	flowGateName      = "flowgate"
	flowGateNoLogName = "flowgate-nolog"
	kindLiteLLM       = "litellm"
	kindExtra         = "extra"
)

// Gateway aliases in the generated config.
const (
	aliasChat      = "bench-chat"      // openai/mock: Chat passthrough, Anthropic->Chat, Responses->Chat
	aliasAnthropic = "bench-anthropic" // anthropic/mock: Messages passthrough
)

// target is one base URL under test.
type target struct {
	Name string
	Kind string
	Base string // http://127.0.0.1:port
	Key  string
	// Scale multiplies every scenario's request count (LiteLLM gets less).
	Scale float64
	proc  *child // the process measured for CPU and memory; nil for extra targets
	cl    *processFacts
}

// processFacts are measured once per started gateway.
type processFacts struct {
	ColdStartMS []float64 `json:"cold_start_ms"`
	ReadyRSSMB  []float64 `json:"ready_rss_mb"`
	IdleRSSMB   float64   `json:"idle_rss_mb"`
	IdleAfterS  float64   `json:"idle_after_s"`
}

func (t *target) pgid() int {
	if t.proc == nil {
		return 0
	}
	return t.proc.pgid
}

// model and path the target is sent for a scenario. The direct target is
// asked in the client's protocol natively (the floor for translation).
func (t *target) model(sc *scenario) string {
	if t.Kind == kindDirect {
		return "mock"
	}
	return sc.Alias
}

// startUpstream runs this binary as the fake upstream and waits for its
// "listening ADDR" line.
func startUpstream(ctx context.Context, dir string, mc mockConfig, addr string) (*child, string, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, "", err
	}
	mj, _ := json.Marshal(mc)
	env := append(os.Environ(), roleEnv+"=upstream", "FLOWGATE_BENCH_MOCK="+string(mj), "FLOWGATE_BENCH_ADDR="+addr)
	c, err := startChild([]string{self}, env, dir, filepath.Join(dir, "upstream.log"))
	if err != nil {
		return nil, "", fmt.Errorf("starting the fake upstream: %w", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		b, _ := os.ReadFile(c.logPath)
		if s, ok := strings.CutPrefix(string(b), "listening "); ok {
			if i := strings.IndexByte(s, '\n'); i > 0 {
				return c, s[:i], nil
			}
		}
		select {
		case <-c.exited:
			return nil, "", fmt.Errorf("fake upstream exited: %s", c.logTail(500))
		case <-ctx.Done():
			c.stop(time.Second)
			return nil, "", ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
	c.stop(time.Second)
	return nil, "", fmt.Errorf("fake upstream did not report its address")
}

// benchConfigDoc is the FlowGate config (config_version 2) the gateway
// under test runs with. Written as JSON, which is valid YAML.
func benchConfigDoc(upstreamAddr string, port int) map[string]any {
	return map[string]any{
		"config_version": 2,
		"paths":          map[string]any{"runtime_dir": "runtime"},
		"services": map[string]any{
			"gateway": map[string]any{"engine": "builtin", "host": "127.0.0.1", "port": port, "readiness_path": "/health/readiness"},
		},
		"credentials": map[string]any{"upstream": map[string]any{
			"mock_key":    map[string]any{"file": "secrets/upstream_key"},
			"gateway_key": map[string]any{"file": "secrets/gateway_key"},
		}},
		"litellm_base": map[string]any{
			"model_list": []any{
				map[string]any{"model_name": aliasChat, "litellm_params": map[string]any{
					"model": "openai/mock", "api_base": "http://" + upstreamAddr + "/v1", "api_key_ref": "mock_key"}},
				map[string]any{"model_name": aliasAnthropic, "litellm_params": map[string]any{
					"model": "anthropic/mock", "api_base": "http://" + upstreamAddr, "api_key_ref": "mock_key"}},
			},
			"router_settings": map[string]any{"routing_strategy": "simple-shuffle"},
			// Anthropic Messages for an openai/ deployment go to Chat in
			// both engines (LiteLLM would otherwise use the Responses API).
			"litellm_settings": map[string]any{"num_retries": 0, "request_timeout": 120,
				"use_chat_completions_url_for_anthropic_messages": true},
			"general_settings": map[string]any{"master_key_ref": "gateway_key"},
		},
		"profiles":        map[string]any{"bench": map[string]any{}},
		"integration":     map[string]any{"default_model": aliasChat},
		"default_profile": "bench",
	}
}

// writeBenchConfig writes <dir>/flowgate.yaml and its secret files, and
// checks the result with FlowGate's own loader.
func writeBenchConfig(dir, upstreamAddr, key string, port int, requestLog bool) (*config.Config, error) {
	if err := os.MkdirAll(filepath.Join(dir, "secrets"), 0o700); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "secrets", "upstream_key"), []byte(upstreamKey+"\n"), 0o600); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "secrets", "gateway_key"), []byte(key+"\n"), 0o600); err != nil {
		return nil, err
	}
	doc := benchConfigDoc(upstreamAddr, port)
	doc["services"].(map[string]any)["gateway"].(map[string]any)["request_log"] = requestLog
	b, _ := json.MarshalIndent(doc, "", "  ")
	path := filepath.Join(dir, "flowgate.yaml")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return nil, err
	}
	cfg, err := config.Load(path)
	if err != nil {
		return nil, fmt.Errorf("generated bench config does not load: %w", err)
	}
	return cfg, nil
}

// gatewayEnv is the child environment: ours without FlowGate variables that
// would point it at another config.
func gatewayEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "FLOWGATE_") {
			continue
		}
		env = append(env, kv)
	}
	return env
}

// startFlowGate measures cold starts (exec to first 200 on readiness, 2 ms
// polling; each start but the last is stopped) and returns the last
// instance, left running for the scenarios. name is the target's name; the
// request log is on or off as requestLog says.
func startFlowGate(ctx context.Context, name, bin, dir, upstreamAddr, key string, requestLog bool, starts int, settle time.Duration, logf func(string, ...any)) (*target, error) {
	port, err := build.FreePort()
	if err != nil {
		return nil, err
	}
	cfg, err := writeBenchConfig(dir, upstreamAddr, key, port, requestLog)
	if err != nil {
		return nil, err
	}
	argv := []string{bin, "--config", cfg.File, "gateway", "serve"}
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	facts := &processFacts{}
	var c *child
	for i := 0; i < starts; i++ {
		c, err = startChild(argv, gatewayEnv(), dir, filepath.Join(dir, fmt.Sprintf("flowgate-%d.log", i)))
		if err != nil {
			return nil, err
		}
		d, err := c.waitReady(ctx, base+"/health/readiness", 2*time.Millisecond, 15*time.Second)
		if err != nil {
			c.stop(2 * time.Second)
			return nil, fmt.Errorf("flowgate gateway serve: %w", err)
		}
		facts.ColdStartMS = append(facts.ColdStartMS, ms(d))
		facts.ReadyRSSMB = append(facts.ReadyRSSMB, mb(sampleGroup(c.pgid).RSSKB))
		if i < starts-1 {
			c.stop(5 * time.Second)
		}
	}
	logf("%s: cold start %s ms (median of %d)", name, f3(median(facts.ColdStartMS)), starts)
	time.Sleep(settle)
	facts.IdleRSSMB = mb(sampleGroup(c.pgid).RSSKB)
	facts.IdleAfterS = settle.Seconds()
	return &target{Name: name, Kind: kindFlowGate, Base: base, Key: key, Scale: 1, proc: c, cl: facts}, nil
}

// liteLLMVenv finds an installed LiteLLM venv: $FLOWGATE_LITELLM_VENV, else
// the cache folder internal/litellm/ci-setup.sh fills.
func liteLLMVenv() string {
	if v := os.Getenv("FLOWGATE_LITELLM_VENV"); v != "" {
		return v
	}
	cache := os.Getenv("FLOWGATE_CACHE")
	if cache == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return ""
		}
		cache = filepath.Join(home, ".cache", "flowgate")
	}
	v := filepath.Join(cache, "litellm-venv-"+litellm.DefaultVersion)
	if _, err := os.Stat(filepath.Join(v, "bin", "litellm")); err != nil {
		return ""
	}
	return v
}

// startLiteLLM runs LiteLLM the way the supervisor does (runner, generated
// config, env from Generate) with the same model_list as FlowGate.
func startLiteLLM(ctx context.Context, venv, dir, upstreamAddr, key string, scale float64, settle time.Duration) (*target, error) {
	rt := filepath.Join(dir, "runtime")
	if err := litellm.WriteRunner(rt, venv); err != nil {
		return nil, err
	}
	port, err := build.FreePort()
	if err != nil {
		return nil, err
	}
	cfg, err := writeBenchConfig(dir, upstreamAddr, key, port, false)
	if err != nil {
		return nil, err
	}
	doc, err := cfg.ProfileDocument("bench")
	if err != nil {
		return nil, err
	}
	creds := map[string]litellm.CredentialSource{}
	for name, c := range cfg.Credentials.Upstream {
		creds[name] = litellm.CredentialSource{File: c.File, Env: c.Env}
	}
	data, env, _, err := litellm.Generate(doc, creds, litellm.CredentialSource{Value: key})
	if err != nil {
		return nil, fmt.Errorf("litellm config: %w", err)
	}
	lcfg := filepath.Join(rt, "litellm.active.yaml")
	if err := litellm.WriteConfig(lcfg, data); err != nil {
		return nil, err
	}
	argv := litellm.Command(rt, lcfg, "127.0.0.1", port)
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	cenv := append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + rt, "LANG=C.UTF-8"}, env...)
	c, err := startChild(argv, cenv, dir, filepath.Join(dir, "litellm.log"))
	if err != nil {
		return nil, err
	}
	d, err := c.waitReady(ctx, base+litellm.ReadinessPath, 20*time.Millisecond, litellm.DefaultReadinessTimeout)
	if err != nil {
		c.stop(5 * time.Second)
		return nil, fmt.Errorf("litellm: %w", err)
	}
	facts := &processFacts{ColdStartMS: []float64{ms(d)}, ReadyRSSMB: []float64{mb(sampleGroup(c.pgid).RSSKB)}}
	time.Sleep(settle)
	facts.IdleRSSMB = mb(sampleGroup(c.pgid).RSSKB)
	facts.IdleAfterS = settle.Seconds()
	return &target{Name: "litellm", Kind: kindLiteLLM, Base: base, Key: key, Scale: scale, proc: c, cl: facts}, nil
}

// parseExtra reads -extra name=URL; the URL must be loopback.
func parseExtra(s, key string) (*target, error) {
	name, raw, ok := strings.Cut(s, "=")
	if !ok || name == "" || raw == "" {
		return nil, fmt.Errorf("-extra %q: want name=http://127.0.0.1:port", s)
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "http" || u.Host == "" {
		return nil, fmt.Errorf("-extra %q: want an http:// base URL", s)
	}
	host := u.Hostname()
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, fmt.Errorf("-extra %q: the benchmark calls loopback addresses only", s)
	}
	base := strings.TrimSuffix(strings.TrimSuffix(u.Scheme+"://"+u.Host+u.Path, "/"), "/v1")
	return &target{Name: name, Kind: kindExtra, Base: base, Key: key, Scale: 1}, nil
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
func mb(kb uint64) float64       { return float64(kb) / 1024 }

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
