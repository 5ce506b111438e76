package gateway

import (
	"github.com/flowgate/flowgate/internal/router"
	"github.com/flowgate/flowgate/internal/sharedstate"
)

// Replicas behind one load balancer share routing state through Redis
// when router_settings.redis_url (or redis_host) is set: see
// internal/sharedstate. The store is opened once, with the first
// generation's settings; a reload that changes them takes effect at the
// next restart, and says so.

// sharedState is what the gateway uses of sharedstate.Store.
type sharedState interface {
	Close() error
	Status() (state, reason string)
	Addr() string
}

// sharedReport is /health's "shared_state".
type sharedReport struct {
	Backend string `json:"backend"` // redis
	Address string `json:"address"`
	State   string `json:"state"` // ok | degraded
	Reason  string `json:"reason,omitempty"`
}

// openShared connects the Redis the first generation names, if any, and
// makes it every router's State. A Redis that does not answer is no error
// (the gateway starts degraded and connects later); a malformed URL or a
// refused password is.
func (s *Server) openShared(g *generation) error {
	rc := g.router.Config().Settings.Redis
	if rc.URL == "" {
		return nil
	}
	current := func() *router.Router {
		if cur := s.gen.Load(); cur != nil {
			return cur.router
		}
		return g.router
	}
	st, err := sharedstate.Open(sharedstate.Options{URL: rc.URL, Password: rc.Password, Setting: rc.Setting, Logger: s.log,
		Apply:  func(ev router.Event) { current().Apply(ev) },
		Active: func() []router.Event { return current().Active() }})
	if err != nil {
		return err
	}
	s.shared, s.state = st, st
	g.router.SetState(st)
	return nil
}

// sharedReloaded warns when a reload changed the Redis settings, which
// only a restart applies.
func (s *Server) sharedReloaded(prev, g *generation) {
	if prev.router.Config().Settings.Redis != g.router.Config().Settings.Redis {
		msg := "router_settings.redis_* changed; the running gateway keeps the Redis it started with until it restarts: `flowgate service restart gateway`"
		s.log.Warn(msg)
		s.Warn(msg)
	}
}

// sharedStatus is /health's report of the shared state, nil without Redis.
func (s *Server) sharedStatus() *sharedReport {
	if s.shared == nil {
		return nil
	}
	state, reason := s.shared.Status()
	return &sharedReport{Backend: "redis", Address: s.shared.Addr(), State: state, Reason: reason}
}
