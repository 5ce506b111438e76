package router

import (
	"context"
	"sync"
	"time"
)

// State is the routing state that replicas of one gateway share: counters
// for rate limits and usage, and events about deployments (cooldowns,
// limits reached, refused credentials). Memory, the default, keeps both in
// this process; internal/sharedstate keeps them in Redis so that replicas
// behind one load balancer act as one gateway.
//
// Reading a deployment's state never asks the State: events are applied
// to the router's own copy (Apply) as they arrive, so the hot path makes no
// round trip for cooldowns. Counters are only touched for deployments and
// keys that have limits.
type State interface {
	// Add adds n to the counter name (created with a lifetime of ttl) and
	// returns its new total, across replicas when shared. It never fails:
	// when the shared store is unreachable the total is this replica's.
	Add(ctx context.Context, name string, n int64, ttl time.Duration) int64
	// Get returns the totals of the counters names, 0 for unknown ones.
	Get(ctx context.Context, names ...string) []int64
	// Announce tells the other replicas about a deployment's new state.
	// It never blocks the caller.
	Announce(ev Event)
	// Affinity returns the deployment id pinned to the session key ("" for
	// none) and extends the pin's life to ttl from now. SetAffinity pins
	// key to deployment for ttl. Neither fails: when the shared store is
	// unreachable they use this replica's pins.
	Affinity(ctx context.Context, key string, ttl time.Duration) string
	SetAffinity(ctx context.Context, key, deployment string, ttl time.Duration)
	// Pinned counts the live session pins per deployment id, as far as
	// this replica knows them (for health).
	Pinned() map[string]int
}

// EventKind says what happened to a deployment.
type EventKind uint8

const (
	// EventCooldown: the deployment cools down until Until.
	EventCooldown EventKind = iota + 1
	// EventLimited: the deployment is at its rpm or tpm limit until Until.
	EventLimited
	// EventAuthFailed: the upstream refused the deployment's credential
	// at At with Status.
	EventAuthFailed
	// EventAuthCleared: the deployment's credential works again.
	EventAuthCleared
)

// Event is one change of a deployment's shared state.
type Event struct {
	Kind       EventKind `json:"kind"`
	Deployment string    `json:"deployment"`
	Until      time.Time `json:"until,omitzero"`
	At         time.Time `json:"at,omitzero"`
	Status     int       `json:"status,omitempty"`
}

// Memory is the in-process State: counters and session pins in maps,
// events go nowhere.
type Memory struct {
	mu   sync.Mutex
	m    map[string]memCounter
	adds int
	pins map[string]memPin
	sets int
	// now is the clock pins expire by (the router's, so tests can move it).
	now func() time.Time
}

type memPin struct {
	deployment string
	expires    time.Time
}

type memCounter struct {
	n       int64
	expires time.Time
}

// NewMemory returns an empty in-process State.
func NewMemory() *Memory { return newMemory(time.Now) }

func newMemory(now func() time.Time) *Memory {
	return &Memory{m: map[string]memCounter{}, pins: map[string]memPin{}, now: now}
}

// Add implements State.
func (s *Memory) Add(_ context.Context, name string, n int64, ttl time.Duration) int64 {
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.m[name]
	if c.expires.IsZero() || !now.Before(c.expires) {
		c = memCounter{expires: now.Add(ttl)}
	}
	c.n += n
	s.m[name] = c
	if s.adds++; s.adds >= 4096 {
		s.adds = 0
		for k, v := range s.m {
			if !now.Before(v.expires) {
				delete(s.m, k)
			}
		}
	}
	return c.n
}

// Get implements State.
func (s *Memory) Get(_ context.Context, names ...string) []int64 {
	now := time.Now()
	out := make([]int64, len(names))
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, name := range names {
		if c, ok := s.m[name]; ok && now.Before(c.expires) {
			out[i] = c.n
		}
	}
	return out
}

// Set replaces the counter name's total; a shared State uses it to seed
// its fallback with the shared totals.
func (s *Memory) Set(name string, n int64, ttl time.Duration) {
	s.mu.Lock()
	s.m[name] = memCounter{n: n, expires: time.Now().Add(ttl)}
	s.mu.Unlock()
}

// Announce implements State: with one process there is nobody to tell.
func (*Memory) Announce(Event) {}

// Affinity implements State.
func (s *Memory) Affinity(_ context.Context, key string, ttl time.Duration) string {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.pins[key]
	if !ok || !now.Before(p.expires) {
		return ""
	}
	p.expires = now.Add(ttl)
	s.pins[key] = p
	return p.deployment
}

// SetAffinity implements State; expired pins are swept every 1024 sets.
func (s *Memory) SetAffinity(_ context.Context, key, deployment string, ttl time.Duration) {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pins[key] = memPin{deployment: deployment, expires: now.Add(ttl)}
	if s.sets++; s.sets >= 1024 {
		s.sets = 0
		for k, p := range s.pins {
			if !now.Before(p.expires) {
				delete(s.pins, k)
			}
		}
	}
}

// Pinned implements State.
func (s *Memory) Pinned() map[string]int {
	now := s.now()
	out := map[string]int{}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.pins {
		if now.Before(p.expires) {
			out[p.deployment]++
		}
	}
	return out
}

// Apply makes an event from another replica part of this router's state.
// A cooldown or limit is only ever extended by it, never shortened.
func (r *Router) Apply(ev Event) {
	d := r.byID(ev.Deployment)
	if d == nil {
		return
	}
	st := d.st
	switch ev.Kind {
	case EventCooldown:
		extend(&st.coolUntil, ev.Until.UnixNano())
		st.mu.Lock()
		st.halfOpen, st.fails = true, 0
		st.mu.Unlock()
	case EventLimited:
		extend(&st.limitedUntil, ev.Until.UnixNano())
	case EventAuthFailed:
		st.mu.Lock()
		if st.authFailedAt.Load() == 0 {
			st.authSince = ev.At
		}
		st.authStatus = ev.Status
		if ev.At.UnixNano() > st.authFailedAt.Load() {
			st.authFailedAt.Store(ev.At.UnixNano())
		}
		st.mu.Unlock()
	case EventAuthCleared:
		st.mu.Lock()
		st.authFailedAt.Store(0)
		st.authSince, st.authStatus = time.Time{}, 0
		st.mu.Unlock()
	}
}

// Active lists the events that describe this router's current shared
// state (cooldowns and limits not yet over, refused credentials), so a
// replica that lost its connection to the others can tell them again.
func (r *Router) Active() []Event {
	now := r.clock.Now().UnixNano()
	var out []Event
	for _, d := range r.cfg.Deployments {
		st := d.st
		if cu := st.coolUntil.Load(); cu > now {
			out = append(out, Event{Kind: EventCooldown, Deployment: d.ID, Until: time.Unix(0, cu)})
		}
		if lu := st.limitedUntil.Load(); lu > now {
			out = append(out, Event{Kind: EventLimited, Deployment: d.ID, Until: time.Unix(0, lu)})
		}
		if af := st.authFailedAt.Load(); af != 0 {
			st.mu.Lock()
			status := st.authStatus
			st.mu.Unlock()
			out = append(out, Event{Kind: EventAuthFailed, Deployment: d.ID, At: time.Unix(0, af), Status: status})
		}
	}
	return out
}

// SetState makes the router count limits in st and announce deployment
// events to it. Without it the router uses a Memory of its own.
func (r *Router) SetState(st State) {
	if st != nil {
		r.state = st
	}
}

func (r *Router) byID(id string) *Deployment {
	for _, d := range r.cfg.Deployments {
		if d.ID == id {
			return d
		}
	}
	return nil
}

// extend raises v to until; it never lowers it.
func extend(v interface {
	Load() int64
	CompareAndSwap(old, new int64) bool
}, until int64) {
	for {
		cur := v.Load()
		if until <= cur || v.CompareAndSwap(cur, until) {
			return
		}
	}
}
