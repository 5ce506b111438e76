package sharedstate_test

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/flowgate/flowgate/internal/sharedstate"
	"github.com/flowgate/flowgate/internal/sharedstate/redistest"
)

func TestSessionPinsAreSharedRefreshedOnUseAndSurviveRedisGoingAway(t *testing.T) {
	rs := redistest.Start(t, "")
	a := open(t, sharedstate.Options{URL: rs.URL()})
	b := open(t, sharedstate.Options{URL: rs.URL()})
	ctx := context.Background()
	if got := b.Affinity(ctx, "aff:coder:s1", time.Hour); got != "" {
		t.Fatalf("an unknown session is pinned to %q", got)
	}
	a.SetAffinity(ctx, "aff:coder:s1", "dep-2", 2*time.Second)
	if got := b.Affinity(ctx, "aff:coder:s1", time.Hour); got != "dep-2" {
		t.Fatalf("the other replica reads the pin as %q; want dep-2", got)
	}
	// Reading it gave the pin its full lifetime again.
	rdb := redis.NewClient(&redis.Options{Addr: rs.Addr()})
	defer rdb.Close()
	if ttl := rdb.TTL(ctx, "flowgate:pin:aff:coder:s1").Val(); ttl < time.Minute {
		t.Fatalf("after a read the pin lives %v more; want about an hour", ttl)
	}
	if n := b.Pinned()["dep-2"]; n != 1 {
		t.Fatalf("b counts %d sessions on dep-2", n)
	}
	b.SetAffinity(ctx, "aff:coder:s1", "dep-3", time.Hour)
	if got := a.Affinity(ctx, "aff:coder:s1", time.Hour); got != "dep-3" {
		t.Fatalf("after b moved the pin, a reads %q", got)
	}

	rs.Kill()
	start := time.Now()
	if got := a.Affinity(ctx, "aff:coder:s1", time.Hour); got != "dep-3" {
		t.Fatalf("with Redis down a forgot the pin it knew: %q", got)
	}
	a.SetAffinity(ctx, "aff:coder:s2", "dep-1", time.Hour)
	if got := a.Affinity(ctx, "aff:coder:s2", time.Hour); got != "dep-1" {
		t.Fatalf("with Redis down a new pin reads %q", got)
	}
	if el := time.Since(start); el > 2*time.Second {
		t.Fatalf("pin calls with Redis down took %v", el)
	}
}
