package router

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/flowgate/flowgate/internal/upstream"
)

func affinityRouter(t *testing.T, settings map[string]any) (*Router, *testClock) {
	t.Helper()
	var deps []any
	for _, id := range []string{"a", "b", "c", "e"} {
		dep := d("coder", "openai/"+id, "http://127.0.0.1:1/"+id)
		dep["model_info"] = map[string]any{"id": id}
		deps = append(deps, dep)
	}
	doc := testDoc(deps...)
	if settings != nil {
		doc["router_settings"] = settings
	}
	cfg, err := Parse(doc, nil)
	if err != nil {
		t.Fatal(err)
	}
	clock := &testClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	return New(cfg, clock, nil, nil), clock
}

func serve(t *testing.T, r *Router, session string) Trace {
	t.Helper()
	tr, err := r.DoSession(context.Background(), "coder", session, func(context.Context, *Attempt) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func TestSessionStaysOnOneDeploymentWhileOthersShareTheLoad(t *testing.T) {
	r, _ := affinityRouter(t, nil)
	first := serve(t, r, "session-1")
	if first.Affinity != AffinityNew {
		t.Fatalf("first request of a session: affinity %q, want new", first.Affinity)
	}
	for i := 0; i < 50; i++ {
		tr := serve(t, r, "session-1")
		if tr.Deployment != first.Deployment || tr.Affinity != AffinityHit {
			t.Fatalf("request %d went to %s (%s); the session is pinned to %s", i, tr.Deployment, tr.Affinity, first.Deployment)
		}
	}
	// Requests without a session, and other sessions, still spread.
	seen := map[string]bool{}
	for i := 0; i < 200; i++ {
		tr := serve(t, r, "")
		if tr.Affinity != "" {
			t.Fatalf("a request without a session says affinity %q", tr.Affinity)
		}
		seen[tr.Deployment] = true
		serve(t, r, "other-"+string(rune('a'+i%26))+strings.Repeat("x", i))
	}
	if len(seen) < 3 {
		t.Fatalf("requests without a session all went to %v", seen)
	}
	pinned := 0
	for _, h := range r.Health() {
		pinned += h.Sessions
		if h.ID == first.Deployment && h.Sessions < 1 {
			t.Fatalf("health of %s counts %d sessions", h.ID, h.Sessions)
		}
	}
	if pinned != 201 {
		t.Fatalf("health counts %d pinned sessions, want 201", pinned)
	}
}

func TestSessionMovesWhenItsDeploymentCoolsAndThePinFollows(t *testing.T) {
	r, clock := affinityRouter(t, map[string]any{"allowed_fails": 0, "cooldown_time": 30})
	pinned := serve(t, r, "s").Deployment
	// The pinned deployment fails once: it cools, the attempt moves on.
	tr, err := r.DoSession(context.Background(), "coder", "s", func(_ context.Context, a *Attempt) error {
		if a.Deployment.ID == pinned {
			return &upstream.Error{Kind: upstream.FailStatus, Status: 500}
		}
		return nil
	})
	if err != nil || tr.Deployment == pinned || tr.Affinity != AffinityMoved || tr.Attempts != 2 {
		t.Fatalf("after the pinned deployment failed: %+v, %v", tr, err)
	}
	moved := tr.Deployment
	for i := 0; i < 20; i++ {
		if tr := serve(t, r, "s"); tr.Deployment != moved || tr.Affinity != AffinityHit {
			t.Fatalf("request %d after the move went to %s (%s), want %s", i, tr.Deployment, tr.Affinity, moved)
		}
	}
	// The new pin cools down too: the session moves without a failure.
	r.Apply(Event{Kind: EventCooldown, Deployment: moved, Until: clock.Now().Add(time.Minute)})
	tr = serve(t, r, "s")
	if tr.Deployment == moved || tr.Affinity != AffinityMoved || tr.Attempts != 1 {
		t.Fatalf("a request of a session pinned to a cooling deployment: %+v", tr)
	}
	// An auth_failed pin is left as well.
	r.Apply(Event{Kind: EventAuthFailed, Deployment: tr.Deployment, At: clock.Now(), Status: 401})
	if next := serve(t, r, "s"); next.Deployment == tr.Deployment || next.Affinity != AffinityMoved {
		t.Fatalf("a request of a session pinned to an auth_failed deployment: %+v", next)
	}
}

func TestSessionPinExpiresAfterItsTTLUnlessUsed(t *testing.T) {
	r, clock := affinityRouter(t, map[string]any{"session_affinity": map[string]any{"ttl": "30m"}})
	if r.Config().Settings.SessionTTL != 30*time.Minute {
		t.Fatalf("ttl %v", r.Config().Settings.SessionTTL)
	}
	first := serve(t, r, "s")
	// Used every 20 minutes, the pin lives on past its 30 minutes.
	for i := 0; i < 4; i++ {
		clock.Advance(20 * time.Minute)
		if tr := serve(t, r, "s"); tr.Affinity != AffinityHit || tr.Deployment != first.Deployment {
			t.Fatalf("after %d×20m of use: %+v", i+1, tr)
		}
	}
	clock.Advance(31 * time.Minute)
	if tr := serve(t, r, "s"); tr.Affinity != AffinityNew {
		t.Fatalf("31 minutes after its last use the pin should be gone: %+v", tr)
	}
}

func TestSessionAffinityCanBeTurnedOff(t *testing.T) {
	r, _ := affinityRouter(t, map[string]any{"session_affinity": false})
	seen := map[string]bool{}
	for i := 0; i < 100; i++ {
		tr := serve(t, r, "s")
		if tr.Affinity != "" {
			t.Fatalf("affinity off, header value %q", tr.Affinity)
		}
		seen[tr.Deployment] = true
	}
	if len(seen) < 2 {
		t.Fatalf("affinity off, yet one session always went to %v", seen)
	}
}

func TestSessionAffinitySettingProblemsNameTheirField(t *testing.T) {
	for _, c := range []struct {
		v    any
		want string
	}{
		{"sometimes", "router_settings.session_affinity: must be true or false"},
		{42, "router_settings.session_affinity: must be true, false or a mapping"},
		{map[string]any{"ttl": "soon"}, "router_settings.session_affinity.ttl: must be a duration such as 30m"},
		{map[string]any{"ttl": 0}, "router_settings.session_affinity.ttl: must be positive"},
		{map[string]any{"tll": "1h"}, "router_settings.session_affinity.tll: unknown field"},
	} {
		doc := testDoc(d("coder", "openai/x", "http://127.0.0.1:1/v1"))
		doc["router_settings"] = map[string]any{"session_affinity": c.v}
		_, err := Parse(doc, nil)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("session_affinity %v: %v, want %q", c.v, err, c.want)
		}
	}
	cfg, err := Parse(testDoc(d("coder", "openai/x", "http://127.0.0.1:1/v1")), nil)
	if err != nil || !cfg.Settings.SessionAffinity || cfg.Settings.SessionTTL != time.Hour {
		t.Fatalf("defaults: %+v, %v", cfg.Settings, err)
	}
}

func TestAttemptOriginIsThePinBeforeTheRequestElseTheFirstAttempt(t *testing.T) {
	r, _ := affinityRouter(t, map[string]any{"allowed_fails": 0, "cooldown_time": 30})
	// origins serves one request, failing the attempts on deployments in
	// fail (or the first attempt, whatever it is, with failFirst).
	origins := func(session string, fail map[string]bool, failFirst bool) (deps, orig []string) {
		t.Helper()
		_, err := r.DoSession(context.Background(), "coder", session, func(_ context.Context, a *Attempt) error {
			if a.Origin == nil {
				t.Fatalf("attempt %d on %s has no origin", a.N, a.Deployment.ID)
			}
			deps, orig = append(deps, a.Deployment.ID), append(orig, a.Origin.ID)
			if fail[a.Deployment.ID] || (failFirst && a.N == 1) {
				return &upstream.Error{Kind: upstream.FailStatus, Status: 500}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return deps, orig
	}
	// No session: the first attempt's deployment is every attempt's origin.
	deps, orig := origins("", nil, true)
	if len(deps) < 2 || orig[0] != deps[0] || orig[1] != deps[0] {
		t.Fatalf("without a session: attempts %v, origins %v; want the first attempt's deployment throughout", deps, orig)
	}
	// A session pinned to p whose deployment fails: the retry elsewhere
	// still names p, where the reasoning state was made.
	p := serve(t, r, "s").Deployment
	deps, orig = origins("s", map[string]bool{p: true}, false)
	if len(deps) != 2 || deps[0] != p || orig[0] != p || orig[1] != p {
		t.Fatalf("session pinned to %s: attempts %v, origins %v", p, deps, orig)
	}
	// The pin moved to deps[1]; p is cooling, so the next request goes to
	// the new pin and that is its origin.
	deps, orig = origins("s", nil, false)
	if deps[0] == p || orig[0] != deps[0] {
		t.Fatalf("after the move: attempts %v, origins %v", deps, orig)
	}
}
