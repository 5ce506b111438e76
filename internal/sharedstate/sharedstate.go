// Package sharedstate is the router.State that replicas of one gateway
// share through Redis (or Valkey): rate-limit and usage counters, session
// affinity pins, and deployment events (cooldowns, limits reached, refused
// credentials).
//
// The hot path stays off Redis where it can: deployment events are
// published (PUBLISH) and kept as keys that expire with them, and every
// replica applies what it hears to its own router, so choosing a
// deployment reads memory only. Counters are one atomic script call
// (INCRBY, and PEXPIRE on the first add), made only for deployments and
// keys that have limits, because a limit of N per minute must hold across
// replicas.
//
// When Redis cannot be reached the replica goes on with local state (a
// router.Memory seeded with the last shared totals), reports itself
// degraded (Status), logs one warning, and checks again every half second;
// once Redis answers it tells the others its current state, reads theirs
// and goes back to shared counters. No request fails because Redis is down.
package sharedstate

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/flowgate/flowgate/internal/router"
)

// prefix starts every key and channel FlowGate uses.
const prefix = "flowgate:"

const (
	channel     = prefix + "events"
	depPrefix   = prefix + "dep:"
	counterPref = prefix + "c:"
	pinPref     = prefix + "pin:"
	// authTTL bounds how long a refused credential is remembered in Redis
	// when no replica clears it (a success clears it at once).
	authTTL = 10 * time.Minute
	// callTimeout bounds one counter call: past it the replica counts
	// locally instead of holding the request.
	callTimeout = 300 * time.Millisecond
)

// Options say where Redis is and how the replica's router is reached.
type Options struct {
	// URL is the Redis URL (router.Redis.URL); Password overrides its
	// password; Setting names where it came from, for messages.
	URL, Password, Setting string
	// Logger receives the warning when Redis goes away and the note when it
	// is back. Default: discard.
	Logger *slog.Logger
	// Apply receives every event another replica announces.
	Apply func(router.Event)
	// Active lists this replica's current events; they are told again
	// after Redis comes back.
	Active func() []router.Event
}

// Store is a router.State kept in Redis. Create it with Open.
type Store struct {
	opts   Options
	rdb    *redis.Client
	local  *router.Memory
	id     string
	addr   string
	out    chan router.Event
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu     sync.Mutex
	down   bool
	reason string
}

// incr adds to a counter and gives it its lifetime on the first add, in
// one atomic call.
var incr = redis.NewScript(`local v = redis.call('INCRBY', KEYS[1], ARGV[1])
if v == tonumber(ARGV[1]) then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return v`)

// quiet drops the Redis client's own log lines: their text can hold the
// server's address and repeats on every retry; the store reports an outage
// once, in the gateway's log, and in health.
type quiet struct{}

func (quiet) Printf(context.Context, string, ...any) {}

func init() { redis.SetLogger(quiet{}) }

// Open connects to Redis. A malformed URL or a password Redis refuses is
// an error naming the setting; a Redis that does not answer is not: the
// store starts degraded and connects when Redis is up.
func Open(opts Options) (*Store, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if opts.Setting == "" {
		opts.Setting = "router_settings.redis_url"
	}
	if err := router.CheckRedisURL(opts.URL); err != nil {
		return nil, fmt.Errorf("%s: %w", opts.Setting, err)
	}
	ro, err := redis.ParseURL(opts.URL)
	if err != nil {
		return nil, fmt.Errorf("%s: %v; write redis://[:password@]host:6379[/db]", opts.Setting, redactErr(err, opts))
	}
	if opts.Password != "" {
		ro.Password = opts.Password
	}
	ro.DialTimeout, ro.ReadTimeout, ro.WriteTimeout, ro.PoolTimeout = time.Second, time.Second, time.Second, time.Second
	ro.MaxRetries = -1 // the store falls back to local state instead of retrying
	ctx, cancel := context.WithCancel(context.Background())
	var idb [6]byte
	rand.Read(idb[:])
	s := &Store{opts: opts, rdb: redis.NewClient(ro), local: router.NewMemory(), id: hex.EncodeToString(idb[:]), addr: ro.Addr,
		out: make(chan router.Event, 1024), ctx: ctx, cancel: cancel}
	pctx, pcancel := context.WithTimeout(ctx, 2*time.Second)
	err = s.rdb.Ping(pctx).Err()
	pcancel()
	if err != nil && isAuthError(err) {
		s.rdb.Close()
		cancel()
		setting := opts.Setting
		if opts.Password != "" {
			setting = "router_settings.redis_password"
		}
		return nil, fmt.Errorf("%s: Redis at %s refused the password (%v); set the password the server expects (its requirepass) in %s", setting, ro.Addr, redactErr(err, opts), setting)
	}
	if err != nil {
		s.markDown(err)
	} else {
		s.resync()
	}
	s.wg.Add(3)
	go s.subscribe()
	go s.publish()
	go s.monitor()
	return s, nil
}

func isAuthError(err error) bool {
	m := err.Error()
	return strings.Contains(m, "WRONGPASS") || strings.Contains(m, "NOAUTH") || strings.Contains(m, "invalid password") || strings.Contains(m, "invalid username-password")
}

// redactErr is err's text without the password.
func redactErr(err error, o Options) string {
	m := err.Error()
	for _, p := range []string{o.Password, urlPassword(o.URL)} {
		if p != "" {
			m = strings.ReplaceAll(m, p, "[redacted]")
		}
	}
	return m
}

func urlPassword(u string) string {
	ro, err := redis.ParseURL(u)
	if err != nil {
		return ""
	}
	return ro.Password
}

// Close stops the store's goroutines and closes the connections.
func (s *Store) Close() error {
	s.cancel()
	err := s.rdb.Close()
	s.wg.Wait()
	return err
}

// Status is "ok", or "degraded" with the reason.
func (s *Store) Status() (state, reason string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.down {
		return "degraded", s.reason
	}
	return "ok", ""
}

// Addr is the Redis address, for reports.
func (s *Store) Addr() string { return s.addr }

func (s *Store) isDown() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.down
}

// markDown records that Redis failed; the first failure of an outage is
// logged once.
func (s *Store) markDown(err error) {
	if s.ctx.Err() != nil {
		return
	}
	reason := fmt.Sprintf("Redis at %s (%s) is unreachable: %s; this replica uses local state until it is back (cooldowns and limits are per replica meanwhile)",
		s.addr, s.opts.Setting, redactErr(err, s.opts))
	s.mu.Lock()
	was := s.down
	s.down, s.reason = true, reason
	s.mu.Unlock()
	if !was {
		s.opts.Logger.Warn("shared state degraded: " + reason)
	}
}

// Add implements router.State.
func (s *Store) Add(ctx context.Context, name string, n int64, ttl time.Duration) int64 {
	if s.isDown() {
		return s.local.Add(ctx, name, n, ttl)
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), callTimeout)
	defer cancel()
	v, err := incr.Run(cctx, s.rdb, []string{counterPref + name}, n, ttl.Milliseconds()).Int64()
	if err != nil {
		s.markDown(err)
		return s.local.Add(ctx, name, n, ttl)
	}
	s.local.Set(name, v, ttl)
	return v
}

// Get implements router.State.
func (s *Store) Get(ctx context.Context, names ...string) []int64 {
	if len(names) == 0 {
		return nil
	}
	if s.isDown() {
		return s.local.Get(ctx, names...)
	}
	keys := make([]string, len(names))
	for i, n := range names {
		keys[i] = counterPref + n
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), callTimeout)
	defer cancel()
	vals, err := s.rdb.MGet(cctx, keys...).Result()
	if err != nil {
		s.markDown(err)
		return s.local.Get(ctx, names...)
	}
	out := make([]int64, len(names))
	for i, v := range vals {
		if str, ok := v.(string); ok {
			fmt.Sscan(str, &out[i])
		}
	}
	return out
}

// Affinity implements router.State: GET and EXPIRE in one round trip, so
// a pin in use stays alive. This replica's copy (used while Redis is down)
// follows what Redis says.
func (s *Store) Affinity(ctx context.Context, key string, ttl time.Duration) string {
	if s.isDown() {
		return s.local.Affinity(ctx, key, ttl)
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), callTimeout)
	defer cancel()
	p := s.rdb.Pipeline()
	get := p.Get(cctx, pinPref+key)
	p.Expire(cctx, pinPref+key, ttl)
	_, err := p.Exec(cctx)
	if err != nil && !errors.Is(err, redis.Nil) {
		s.markDown(err)
		return s.local.Affinity(ctx, key, ttl)
	}
	id := get.Val()
	if id == "" {
		// Not in Redis: expired, or set while this replica could not
		// reach it; this replica's own pin, if any, stands.
		return s.local.Affinity(ctx, key, ttl)
	}
	s.local.SetAffinity(ctx, key, id, ttl)
	return id
}

// SetAffinity implements router.State: SET with the pin's lifetime.
func (s *Store) SetAffinity(ctx context.Context, key, deployment string, ttl time.Duration) {
	s.local.SetAffinity(ctx, key, deployment, ttl)
	if s.isDown() {
		return
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), callTimeout)
	defer cancel()
	if err := s.rdb.Set(cctx, pinPref+key, deployment, ttl).Err(); err != nil {
		s.markDown(err)
	}
}

// Pinned implements router.State with the pins this replica has read or set.
func (s *Store) Pinned() map[string]int { return s.local.Pinned() }

// Announce implements router.State: the event is published in the
// background; while Redis is down it is dropped (resync tells it later).
func (s *Store) Announce(ev router.Event) {
	select {
	case s.out <- ev:
	default:
	}
}

type message struct {
	From  string       `json:"from"`
	Event router.Event `json:"event"`
}

func eventKey(ev router.Event) string {
	kind := "cool"
	switch ev.Kind {
	case router.EventLimited:
		kind = "limit"
	case router.EventAuthFailed, router.EventAuthCleared:
		kind = "auth"
	}
	return depPrefix + ev.Deployment + ":" + kind
}

// send stores and publishes one event.
func (s *Store) send(ctx context.Context, ev router.Event) error {
	b, _ := json.Marshal(message{From: s.id, Event: ev})
	p := s.rdb.TxPipeline()
	switch ev.Kind {
	case router.EventCooldown, router.EventLimited:
		if ttl := time.Until(ev.Until); ttl > 0 {
			p.Set(ctx, eventKey(ev), b, ttl)
		}
	case router.EventAuthFailed:
		p.Set(ctx, eventKey(ev), b, authTTL)
	case router.EventAuthCleared:
		p.Del(ctx, eventKey(ev))
	}
	p.Publish(ctx, channel, b)
	_, err := p.Exec(ctx)
	return err
}

func (s *Store) publish() {
	defer s.wg.Done()
	for {
		select {
		case <-s.ctx.Done():
			return
		case ev := <-s.out:
			if s.isDown() {
				continue
			}
			ctx, cancel := context.WithTimeout(s.ctx, time.Second)
			if err := s.send(ctx, ev); err != nil {
				s.markDown(err)
			}
			cancel()
		}
	}
}

func (s *Store) subscribe() {
	defer s.wg.Done()
	ps := s.rdb.Subscribe(s.ctx, channel)
	defer ps.Close()
	ch := ps.ChannelWithSubscriptions(redis.WithChannelHealthCheckInterval(time.Second))
	for {
		select {
		case <-s.ctx.Done():
			return
		case v, ok := <-ch:
			if !ok {
				return
			}
			m, isMsg := v.(*redis.Message)
			if !isMsg {
				// (Re)subscribed: what was announced while the
				// subscription was down is in the event keys.
				if !s.isDown() {
					ctx, cancel := context.WithTimeout(s.ctx, 3*time.Second)
					if err := s.pull(ctx); err != nil {
						s.markDown(err)
					}
					cancel()
				}
				continue
			}
			var msg message
			if json.Unmarshal([]byte(m.Payload), &msg) != nil || msg.From == s.id {
				continue
			}
			if s.opts.Apply != nil {
				s.opts.Apply(msg.Event)
			}
		}
	}
}

// monitor checks Redis (every half second while it is down, every two
// seconds while it is up) and re-syncs when it comes back.
func (s *Store) monitor() {
	defer s.wg.Done()
	for {
		wait := 2 * time.Second
		if s.isDown() {
			wait = 500 * time.Millisecond
		}
		t := time.NewTimer(wait)
		select {
		case <-s.ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(s.ctx, time.Second)
		err := s.rdb.Ping(ctx).Err()
		cancel()
		if err != nil {
			s.markDown(err)
			continue
		}
		if s.isDown() {
			s.resync()
		}
	}
}

// resync tells the others this replica's state and takes theirs, then
// marks Redis usable again.
func (s *Store) resync() {
	ctx, cancel := context.WithTimeout(s.ctx, 3*time.Second)
	defer cancel()
	if s.opts.Active != nil {
		for _, ev := range s.opts.Active() {
			if err := s.send(ctx, ev); err != nil {
				s.markDown(err)
				return
			}
		}
	}
	if err := s.pull(ctx); err != nil {
		s.markDown(err)
		return
	}
	s.mu.Lock()
	was := s.down
	s.down, s.reason = false, ""
	s.mu.Unlock()
	if was {
		s.opts.Logger.Info("shared state restored: Redis at " + s.addr + " answers again; state re-synced")
	}
}

// pull applies every deployment event the replicas have stored.
func (s *Store) pull(ctx context.Context) error {
	var keys []string
	iter := s.rdb.Scan(ctx, 0, depPrefix+"*", 256).Iterator()
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil {
		return err
	}
	if len(keys) == 0 {
		return nil
	}
	vals, err := s.rdb.MGet(ctx, keys...).Result()
	if err != nil && !errors.Is(err, redis.Nil) {
		return err
	}
	for _, v := range vals {
		var msg message
		if str, ok := v.(string); ok && json.Unmarshal([]byte(str), &msg) == nil && s.opts.Apply != nil {
			s.opts.Apply(msg.Event)
		}
	}
	return nil
}
