package ui

import (
	"fmt"
	"math/rand/v2"
	"time"
)

// demoSource is a fake with an hour of plausible traffic, for the browser
// test and the screenshot.
func demoSource(now time.Time) *fakeSource {
	f := &fakeSource{priceIn: 3, priceOut: 15, priceCache: 0.3}
	f.services = []Service{
		{Name: "gateway", State: "running", Pid: 48213, Addr: "127.0.0.1:4000", Since: now.Add(-3*time.Hour - 12*time.Minute)},
		{Name: "cliproxyapi_plus", State: "running", Pid: 48190, Addr: "127.0.0.1:8317", Since: now.Add(-3*time.Hour - 13*time.Minute), Note: "6.8.16-0 · 2 logins loaded"},
	}
	f.accounts = []Account{
		{Provider: "codex", Account: "dana@example.com", Expires: now.Add(9 * 24 * time.Hour), State: "ok"},
		{Provider: "github-copilot", Account: "dana-gh", Expires: now.Add(-2 * time.Hour), State: "expired", Note: "flowgate auth login github-copilot"},
	}
	f.aliases = []Alias{
		{Name: "claude-sonnet", Deployments: []Deployment{
			{Name: "anthropic/claude-sonnet-4-5", APIBase: "https://api.anthropic.com", State: "healthy"},
			{Name: "openrouter/anthropic/claude-sonnet-4.5", APIBase: "https://openrouter.ai/api/v1", State: "healthy"},
		}},
		{Name: "gpt-5-codex", Deployments: []Deployment{
			{Name: "cliproxy/gpt-5-codex", APIBase: "http://127.0.0.1:8317/v1", State: "healthy"},
		}},
		{Name: "copilot-fast", Deployments: []Deployment{
			{Name: "cliproxy/gpt-4.1", APIBase: "http://127.0.0.1:8317/v1", State: "auth_failed", LastError: "401 token expired", Fix: "run: flowgate auth login github-copilot"},
			{Name: "openai/gpt-4.1-mini", APIBase: "https://api.openai.com/v1", State: "cooling", CoolingUntil: now.Add(4 * time.Minute), LastError: "429 rate limited"},
		}},
	}
	rng := rand.New(rand.NewPCG(1, 2))
	type pick struct {
		alias, dep, client, proto string
		base                      time.Duration
	}
	picks := []pick{
		{"claude-sonnet", "anthropic/claude-sonnet-4-5", "claude-code", "messages", 2400 * time.Millisecond},
		{"claude-sonnet", "anthropic/claude-sonnet-4-5", "claude-code", "messages", 3100 * time.Millisecond},
		{"gpt-5-codex", "cliproxy/gpt-5-codex", "codex", "responses", 4200 * time.Millisecond},
		{"copilot-fast", "openai/gpt-4.1-mini", "sdk", "chat", 900 * time.Millisecond},
	}
	for i := 0; i < 240; i++ {
		p := picks[rng.IntN(len(picks))]
		at := now.Add(-time.Duration(rng.Int64N(int64(58*time.Minute))) - time.Second)
		lat := p.base + time.Duration(rng.NormFloat64()*float64(p.base)/4)
		if lat < 200*time.Millisecond {
			lat = 200 * time.Millisecond
		}
		r := Request{
			ID: fmt.Sprintf("req_%04d%s", i, "a7f3"), Time: at, Alias: p.alias, Deployment: p.dep,
			Status: 200, Latency: lat, TTFB: lat / 5, ClientFamily: p.client, Protocol: p.proto,
			Attempts: 1, Stream: p.client != "sdk",
			TokensIn: 800 + rng.Int64N(4000), TokensOut: 150 + rng.Int64N(1200),
			Upstream: lat - 2*time.Millisecond, Overhead: 2 * time.Millisecond, CostKnown: true,
		}
		if p.client == "claude-code" {
			r.TokensCacheRead = 12000 + rng.Int64N(30000)
			r.TokensCacheWrite = rng.Int64N(2000)
		}
		switch rng.IntN(30) {
		case 0:
			r.Status, r.ErrorClass, r.Error = 429, "rate_limited", "upstream answered 429: rate limit reached for requests"
			r.TokensIn, r.TokensOut, r.TokensCacheRead, r.TokensCacheWrite = 0, 0, 0, 0
		case 1:
			r.Attempts, r.Fallbacks = 2, 1
			r.Deployment = "openrouter/anthropic/claude-sonnet-4.5"
			r.Tries = []Try{{Deployment: p.dep, Status: 529, ErrorClass: "overloaded", Latency: 600 * time.Millisecond}, {Deployment: r.Deployment, Status: 200, Latency: lat}}
		}
		f.reqs = append(f.reqs, r)
	}
	// Earlier days, for the usage table.
	for d := 1; d < 5; d++ {
		for i := 0; i < 20; i++ {
			p := picks[i%len(picks)]
			f.reqs = append(f.reqs, Request{
				ID: fmt.Sprintf("old_%d_%02d", d, i), Time: now.AddDate(0, 0, -d).Add(-time.Duration(i) * time.Minute),
				Alias: p.alias, Deployment: p.dep, Status: 200, Latency: p.base, TTFB: p.base / 5, ClientFamily: p.client,
				Attempts: 1, TokensIn: 2000 + int64(i*40), TokensOut: 600, TokensCacheRead: int64(d * 9000),
			})
		}
	}
	return f
}
