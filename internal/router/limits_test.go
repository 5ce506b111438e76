package router

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
)

type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func limitedDoc() map[string]any {
	a := d("coder", "openai/a", "http://127.0.0.1:1/v1")
	a["litellm_params"].(map[string]any)["rpm"] = 2
	a["litellm_params"].(map[string]any)["weight"] = 1
	a["model_info"] = map[string]any{"id": "a"}
	b := d("coder", "openai/b", "http://127.0.0.1:2/v1")
	b["litellm_params"].(map[string]any)["tpm"] = 100
	b["litellm_params"].(map[string]any)["weight"] = 1
	b["model_info"] = map[string]any{"id": "b"}
	return testDoc(a, b)
}

func TestDeploymentAtItsRPMLimitIsSkippedUntilTheMinuteEnds(t *testing.T) {
	cfg, err := Parse(limitedDoc(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Deployments[0].RPM != 2 || cfg.Deployments[1].TPM != 100 {
		t.Fatalf("limits not read: %+v %+v", cfg.Deployments[0], cfg.Deployments[1])
	}
	clock := &testClock{now: time.Date(2026, 1, 1, 0, 0, 10, 0, time.UTC)}
	r := New(cfg, clock, nil, nil)
	served := map[string]int{}
	try := func(_ context.Context, a *Attempt) error { served[a.Deployment.ID]++; return nil }
	for i := 0; i < 20; i++ {
		tr, err := r.Do(context.Background(), "coder", try)
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		if tr.Attempts != 1 {
			t.Fatalf("a deployment at its limit cost an attempt: %+v", tr)
		}
	}
	if served["a"] != 2 || served["b"] != 18 {
		t.Fatalf("served %v; want a (rpm 2) twice, b the rest", served)
	}
	var h DeploymentHealth
	for _, x := range r.Health() {
		if x.ID == "a" {
			h = x
		}
	}
	if h.State != "limited" || h.LimitedUntil == nil || !h.LimitedUntil.Equal(time.Date(2026, 1, 1, 0, 1, 0, 0, time.UTC)) {
		t.Fatalf("health of a = %+v", h)
	}
	clock.Advance(time.Minute)
	clear(served)
	for i := 0; i < 20 && served["a"] == 0; i++ {
		r.Do(context.Background(), "coder", try)
	}
	if served["a"] == 0 {
		t.Fatal("a is still skipped in the next minute")
	}
}

func TestGroupWhoseDeploymentsAreAllAtTheirLimitAnswersWithTheWait(t *testing.T) {
	cfg, err := Parse(limitedDoc(), nil)
	if err != nil {
		t.Fatal(err)
	}
	clock := &testClock{now: time.Date(2026, 1, 1, 0, 0, 45, 0, time.UTC)}
	r := New(cfg, clock, nil, nil)
	r.Used(context.Background(), cfg.Deployments[1], 150) // b over its tpm
	ok := func(context.Context, *Attempt) error { return nil }
	r.Do(context.Background(), "coder", ok)
	r.Do(context.Background(), "coder", ok)
	_, err = r.Do(context.Background(), "coder", ok)
	var nod *NoDeploymentsError
	if !errors.As(err, &nod) {
		t.Fatalf("third request: %v; want NoDeploymentsError", err)
	}
	if nod.RetryAfter != 15*time.Second || !strings.Contains(nod.Error(), "rpm/tpm limit") {
		t.Fatalf("retry after %v, %v", nod.RetryAfter, nod)
	}
}

type recordingState struct {
	*Memory
	mu     sync.Mutex
	events []Event
}

func (s *recordingState) Announce(ev Event) {
	s.mu.Lock()
	s.events = append(s.events, ev)
	s.mu.Unlock()
}

func TestCooldownsAndRefusedCredentialsAreAnnouncedAndAppliedByID(t *testing.T) {
	cfg, _ := Parse(limitedDoc(), nil)
	clock := &testClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	r := New(cfg, clock, nil, nil)
	st := &recordingState{Memory: NewMemory()}
	r.SetState(st)
	r.failed(cfg.Deployments[0], ClassServer, table[ClassServer], errors.New("boom"))
	r.failed(cfg.Deployments[0], ClassServer, table[ClassServer], errors.New("boom"))
	r.failed(cfg.Deployments[0], ClassServer, table[ClassServer], errors.New("boom"))
	r.failed(cfg.Deployments[0], ClassServer, table[ClassServer], errors.New("boom"))
	if len(st.events) != 1 || st.events[0].Kind != EventCooldown || st.events[0].Deployment != "a" {
		t.Fatalf("events %+v; want one cooldown of a", st.events)
	}

	// Another replica's router with the same config applies it.
	cfg2, _ := Parse(limitedDoc(), nil)
	r2 := New(cfg2, clock, nil, nil)
	for _, ev := range r.Active() {
		r2.Apply(ev)
	}
	r2.Apply(Event{Kind: EventAuthFailed, Deployment: "b", At: clock.Now(), Status: 401})
	states := map[string]string{}
	for _, h := range r2.Health() {
		states[h.ID] = h.State
	}
	if states["a"] != "cooling" || states["b"] != "auth_failed" {
		t.Fatalf("states on the other replica: %v", states)
	}
	r2.Apply(Event{Kind: EventAuthCleared, Deployment: "b"})
	r2.Apply(Event{Kind: EventCooldown, Deployment: "unknown-id", Until: clock.Now().Add(time.Hour)})
	for _, h := range r2.Health() {
		if h.ID == "b" && h.State != "healthy" {
			t.Fatalf("b after a cleared event: %+v", h)
		}
	}
}

func TestRedisSettingsAreReadAndAMalformedURLNamesItsSetting(t *testing.T) {
	doc := testDoc(d("a", "openai/m", ""))
	doc["router_settings"] = map[string]any{"redis_host": "10.0.0.5", "redis_port": 6380, "redis_password": "pw-123"}
	c, err := Parse(doc, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Settings.Redis.URL != "redis://10.0.0.5:6380" || c.Settings.Redis.Password != "pw-123" || c.Settings.Redis.Setting != "router_settings.redis_host" {
		t.Fatalf("%+v", c.Settings.Redis)
	}
	for _, bad := range []string{"localhost:6379", "http://x:6379", "redis://:secretpw@/0", "redis://h:port", "redis://h:6379/db1"} {
		doc["router_settings"] = map[string]any{"redis_url": bad}
		_, err := Parse(doc, nil)
		if err == nil || !strings.Contains(err.Error(), "router_settings.redis_url: ") || !strings.Contains(err.Error(), "redis://[:password@]host:6379") {
			t.Errorf("%q: %v", bad, err)
		}
		if err != nil && strings.Contains(err.Error(), "secretpw") {
			t.Errorf("the error repeats the password: %v", err)
		}
	}
	doc["router_settings"] = map[string]any{"redis_url": "rediss://:pw@cache.internal:6380/2"}
	if _, err := Parse(doc, nil); err != nil {
		t.Fatal(err)
	}
}

func TestExtraKeysHaveNamesAndLimits(t *testing.T) {
	doc := testDoc(d("coder", "openai/m", ""), d("fast", "openai/f", ""))
	doc["general_settings"] = map[string]any{"master_key": "sk-master", "extra_keys": []any{
		map[string]any{"key": "sk-alice", "name": "alice", "rpm": 10, "tpd": 1000, "budget_usd": 2.5, "aliases": []any{"coder"}},
		"sk-plain",
	}}
	c, err := Parse(doc, nil)
	if err != nil {
		t.Fatal(err)
	}
	g := c.General
	if strings.Join(g.KeyNames, ",") != "master_key,alice,extra_keys[1]" {
		t.Fatalf("names %v", g.KeyNames)
	}
	if l := g.KeyLimits[1]; l.RPM != 10 || l.TPD != 1000 || l.BudgetUSD != 2.5 || len(l.Aliases) != 1 {
		t.Fatalf("limits %+v", l)
	}
	doc["general_settings"] = map[string]any{"extra_keys": []any{
		map[string]any{"key": "sk-a", "name": "bob", "aliases": []any{"nope"}, "rmp": 3},
		map[string]any{"key": "sk-b", "name": "bob"},
	}}
	_, err = Parse(doc, nil)
	for _, w := range []string{"general_settings.extra_keys[0].rmp: unknown field", "(key bob).aliases: names \"nope\"", "general_settings.extra_keys[1].name: \"bob\" names another key"} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("missing %q in %v", w, err)
		}
	}
}
