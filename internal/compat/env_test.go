package compat_test

import (
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/flowgate/flowgate/internal/gateway"
	"github.com/flowgate/flowgate/internal/gateway/gatewaytest"
)

const (
	gatewayKey  = "sk-gateway-secret-matrix-1"
	upstreamKey = "sk-upstream-secret-matrix-2"
	alias       = "coder"
)

// deployment is a model_list entry of kind k on u; id names it in the
// X-Flowgate-Deployment header.
func deployment(name, id string, u *fakeUpstream, info map[string]any) map[string]any {
	base := u.URL + "/v1"
	if u.kind == kAnthropic {
		base = u.URL
	}
	if info == nil {
		info = map[string]any{}
	}
	info["id"] = id
	return map[string]any{"model_name": name, "model_info": info,
		"litellm_params": map[string]any{"model": u.kind.prefix() + "up-model", "api_base": base, "api_key": upstreamKey}}
}

// gw is a real gateway (internal/gateway) serving on 127.0.0.1.
type gw struct{ URL string }

// startGateway serves model_list deps with router settings rs (num_retries
// 0 and no cooldown from single failures unless rs says otherwise). cpa is
// the CLIProxyAPIPlus base the gateway knows ("" for none).
func startGateway(t *testing.T, deps []any, rs map[string]any, cpa string) *gw {
	t.Helper()
	router := map[string]any{"num_retries": 0, "allowed_fails": 1000}
	for k, v := range rs {
		router[k] = v
	}
	opts := gateway.Options{Addr: "127.0.0.1:0", Profile: "matrix", CLIProxyBase: cpa,
		Doc:    map[string]any{"model_list": deps, "router_settings": router, "general_settings": map[string]any{"master_key": gatewayKey}},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	_, url := gatewaytest.Serve(t, opts)
	return &gw{URL: url}
}

// single starts one upstream of kind k in mode m behind alias, with
// model_info info.
func single(t *testing.T, k kind, m mode, info map[string]any) (*gw, *fakeUpstream) {
	u := newUpstream(t, k, m)
	cpa := ""
	if k == kCPA {
		cpa = u.URL
	}
	return startGateway(t, []any{deployment(alias, "dep-"+strings.TrimSuffix(k.prefix(), "/"), u, info)}, nil, cpa), u
}

// get is a GET with the gateway key and extra headers.
func (g *gw) get(t *testing.T, path string, hdr map[string]string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", g.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+gatewayKey)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
