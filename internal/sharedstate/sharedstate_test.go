package sharedstate_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flowgate/flowgate/internal/router"
	"github.com/flowgate/flowgate/internal/sharedstate"
	"github.com/flowgate/flowgate/internal/sharedstate/redistest"
)

type events struct {
	mu  sync.Mutex
	got []router.Event
}

func (e *events) apply(ev router.Event) { e.mu.Lock(); e.got = append(e.got, ev); e.mu.Unlock() }
func (e *events) has(dep string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, ev := range e.got {
		if ev.Deployment == dep {
			return true
		}
	}
	return false
}

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func open(t *testing.T, o sharedstate.Options) *sharedstate.Store {
	t.Helper()
	s, err := sharedstate.Open(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func waitFor(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func TestCountersAddUpAcrossReplicasAndEventsReachTheOthers(t *testing.T) {
	rs := redistest.Start(t, "")
	var evB events
	a := open(t, sharedstate.Options{URL: rs.URL()})
	b := open(t, sharedstate.Options{URL: rs.URL(), Apply: evB.apply})
	ctx := context.Background()
	for i := 0; i < 3; i++ {
		a.Add(ctx, "k", 1, time.Minute)
		b.Add(ctx, "k", 2, time.Minute)
	}
	if got := a.Get(ctx, "k", "unknown"); got[0] != 9 || got[1] != 0 {
		t.Fatalf("totals %v; want [9 0]", got)
	}
	// b's subscription may still be starting: announce until it hears.
	waitFor(t, "an event to reach the other replica", 5*time.Second, func() bool {
		a.Announce(router.Event{Kind: router.EventCooldown, Deployment: "warmup", Until: time.Now().Add(time.Minute)})
		time.Sleep(5 * time.Millisecond)
		return evB.has("warmup")
	})
	start := time.Now()
	a.Announce(router.Event{Kind: router.EventCooldown, Deployment: "d1", Until: time.Now().Add(time.Minute)})
	waitFor(t, "the cooldown at the other replica", time.Second, func() bool { return evB.has("d1") })
	if el := time.Since(start); el > 100*time.Millisecond {
		t.Errorf("the cooldown took %v to reach the other replica; want under 100ms", el)
	}
	// A replica that starts later learns the cooldowns still running.
	var evC events
	open(t, sharedstate.Options{URL: rs.URL(), Apply: evC.apply})
	if !evC.has("d1") {
		t.Fatal("a new replica did not learn the running cooldown")
	}
}

func TestMalformedURLAndWrongPasswordNameTheSettingAndNeverThePassword(t *testing.T) {
	_, err := sharedstate.Open(sharedstate.Options{URL: "redis://:hunter2secret@:6379", Setting: "router_settings.redis_url"})
	if err == nil || !strings.Contains(err.Error(), "router_settings.redis_url: ") || strings.Contains(err.Error(), "hunter2secret") {
		t.Fatalf("malformed URL: %v", err)
	}
	rs := redistest.Start(t, "right-password")
	_, err = sharedstate.Open(sharedstate.Options{URL: rs.URL(), Password: "wrong-password", Setting: "router_settings.redis_url"})
	if err == nil || !strings.Contains(err.Error(), "router_settings.redis_password: Redis at "+rs.Addr()+" refused the password") || strings.Contains(err.Error(), "wrong-password") {
		t.Fatalf("wrong password: %v", err)
	}
	_, err = sharedstate.Open(sharedstate.Options{URL: "redis://:wrong-password@" + rs.Addr(), Setting: "router_settings.redis_url"})
	if err == nil || !strings.Contains(err.Error(), "router_settings.redis_url: Redis at") || strings.Contains(err.Error(), "wrong-password") {
		t.Fatalf("wrong password in the URL: %v", err)
	}
	s := open(t, sharedstate.Options{URL: rs.URL(), Password: "right-password"})
	if st, why := s.Status(); st != "ok" {
		t.Fatalf("with the right password: %s %s", st, why)
	}
}

func TestRedisGoingAwayDegradesToLocalStateAndComingBackResyncs(t *testing.T) {
	rs := redistest.Start(t, "")
	logs := &syncBuf{}
	var evB events
	a := open(t, sharedstate.Options{URL: rs.URL(), Logger: slog.New(slog.NewTextHandler(logs, nil)),
		Active: func() []router.Event {
			return []router.Event{{Kind: router.EventCooldown, Deployment: "during-outage", Until: time.Now().Add(time.Minute)}}
		}})
	b := open(t, sharedstate.Options{URL: rs.URL(), Apply: evB.apply})
	ctx := context.Background()
	a.Add(ctx, "n", 5, time.Minute)

	rs.Kill()
	start := time.Now()
	if got := a.Add(ctx, "n", 1, time.Minute); got != 6 {
		t.Fatalf("with Redis down the count went on from %d; want 6 (the last shared total + 1)", got)
	}
	if el := time.Since(start); el > time.Second {
		t.Fatalf("a counter call with Redis down took %v", el)
	}
	waitFor(t, "degraded", 5*time.Second, func() bool { st, _ := a.Status(); return st == "degraded" })
	_, why := a.Status()
	if !strings.Contains(why, rs.Addr()) || !strings.Contains(why, "local state") {
		t.Fatalf("reason %q", why)
	}
	a.Add(ctx, "n", 1, time.Minute)

	rs.Restart()
	waitFor(t, "healthy again", 10*time.Second, func() bool { st, _ := a.Status(); return st == "ok" })
	waitFor(t, "b healthy again", 10*time.Second, func() bool { st, _ := b.Status(); return st == "ok" })
	if !strings.Contains(logs.String(), "shared state restored") {
		t.Fatalf("no note that Redis is back:\n%s", logs.String())
	}
	// The monitor saw the outage on every check; it warned once.
	if n := strings.Count(logs.String(), "shared state degraded"); n != 1 {
		t.Fatalf("warned %d times; want once:\n%s", n, logs.String())
	}
	// a told its state again on reconnecting; b hears it (over pub/sub
	// or, when its subscription came back after a's resync, from the keys
	// its own resync reads).
	waitFor(t, "the re-synced cooldown at the other replica", 10*time.Second, func() bool { return evB.has("during-outage") })
	if got := a.Add(ctx, "fresh", 1, time.Minute); got != 1 {
		t.Fatalf("after the restart: %d", got)
	}
}
