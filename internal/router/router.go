package router

import (
	"sort"
	"time"
)

// Clock is the time source; tests inject a fake one.
type Clock interface{ Now() time.Time }

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

// Observer receives routing events (metrics). Every method must be cheap.
type Observer interface {
	Attempt(group, deployment, outcome string)
	Retry(group string)
	Fallback(from, to string)
	Cooldown(deployment string, d time.Duration)
}

type nopObserver struct{}

func (nopObserver) Attempt(string, string, string) {}
func (nopObserver) Retry(string)                   {}
func (nopObserver) Fallback(string, string)        {}
func (nopObserver) Cooldown(string, time.Duration) {}

// Router routes requests for one config generation.
type Router struct {
	cfg   *Config
	clock Clock
	obs   Observer
	state State
}

// New builds a router. Deployment state (cooldowns, failure counts,
// latency) carries over from prev for deployments with the same ID, so a
// reload neither forgets nor resets a cooldown; so does prev's State.
func New(cfg *Config, clock Clock, obs Observer, prev *Router) *Router {
	if clock == nil {
		clock = systemClock{}
	}
	if obs == nil {
		obs = nopObserver{}
	}
	old := map[string]*deployState{}
	var state State = newMemory(clock.Now)
	if prev != nil {
		state = prev.state
		for _, d := range prev.cfg.Deployments {
			old[d.ID] = d.st
		}
	}
	for _, d := range cfg.Deployments {
		if st := old[d.ID]; st != nil {
			d.st = st
		} else {
			d.st = &deployState{}
		}
	}
	return &Router{cfg: cfg, clock: clock, obs: obs, state: state}
}

// Config is the router's configuration.
func (r *Router) Config() *Config { return r.cfg }

// Lookup finds a group by alias or model_group_alias.
func (r *Router) Lookup(alias string) (*Group, bool) {
	if g, ok := r.cfg.Groups[alias]; ok {
		return g, true
	}
	if t, ok := r.cfg.GroupAliases[alias]; ok {
		g, ok := r.cfg.Groups[t]
		return g, ok
	}
	return nil, false
}

// Visible lists the aliases clients may use, in config order.
func (r *Router) Visible() []string {
	out := make([]string, 0, len(r.cfg.Aliases)+len(r.cfg.GroupAliases))
	out = append(out, r.cfg.Aliases...)
	extra := make([]string, 0, len(r.cfg.GroupAliases))
	for a := range r.cfg.GroupAliases {
		if !r.cfg.HiddenAliases[a] && r.cfg.Groups[a] == nil {
			extra = append(extra, a)
		}
	}
	sort.Strings(extra)
	return append(out, extra...)
}
