package router

import (
	"math/rand/v2"
	"time"
)

// pick chooses a deployment of g that is not cooling down, not at its
// rpm/tpm limit and not in skip,
// preferring ones not in tried. A deployment whose credential was refused
// within authRecheck is only picked when no other is available. When none
// is available it returns the shortest remaining cooldown and the ids cooling.
func (r *Router) pick(g *Group, tried, skip []*Deployment) (*Deployment, time.Duration, []string) {
	now := r.clock.Now().UnixNano()
	var buf [16]*Deployment
	var lastBuf [4]*Deployment
	avail, last := buf[:0], lastBuf[:0]
	fresh := 0
	var wait int64
	var cooling []string
	for _, d := range g.Deployments {
		if contains(skip, d) {
			continue
		}
		if cu := max(d.st.coolUntil.Load(), d.st.limitedUntil.Load()); cu > now {
			if w := cu - now; wait == 0 || w < wait {
				wait = w
			}
			cooling = append(cooling, d.ID)
			continue
		}
		if af := d.st.authFailedAt.Load(); af != 0 && now-af < int64(authRecheck) {
			last = append(last, d)
			continue
		}
		if !contains(tried, d) {
			// keep untried first
			avail = append(avail, d)
			avail[fresh], avail[len(avail)-1] = avail[len(avail)-1], avail[fresh]
			fresh++
		} else {
			avail = append(avail, d)
		}
	}
	if len(avail) == 0 {
		if len(last) > 0 {
			for _, d := range last {
				if !contains(tried, d) {
					return d, 0, nil
				}
			}
			return last[0], 0, nil
		}
		return nil, time.Duration(wait), cooling
	}
	if fresh > 0 {
		avail = avail[:fresh]
	}
	if g.hasOrder {
		lo := avail[0].Order
		for _, d := range avail[1:] {
			if d.Order < lo {
				lo = d.Order
			}
		}
		n := 0
		for _, d := range avail {
			if d.Order == lo {
				avail[n] = d
				n++
			}
		}
		avail = avail[:n]
	}
	if len(avail) == 1 {
		return avail[0], 0, nil
	}
	return r.choose(avail), 0, nil
}

func contains(list []*Deployment, d *Deployment) bool {
	for _, x := range list {
		if x == d {
			return true
		}
	}
	return false
}

// choose applies the routing strategy to two or more available deployments.
func (r *Router) choose(avail []*Deployment) *Deployment {
	switch r.cfg.Settings.RoutingStrategy {
	case "least-busy":
		off := rand.IntN(len(avail))
		best := avail[off]
		bl := best.st.inflight.Load()
		for i := 1; i < len(avail); i++ {
			d := avail[(off+i)%len(avail)]
			if l := d.st.inflight.Load(); l < bl {
				best, bl = d, l
			}
		}
		return best
	case "latency-based-routing":
		off := rand.IntN(len(avail))
		best := avail[off]
		bl := best.st.latency.Load()
		for i := 1; i < len(avail); i++ {
			d := avail[(off+i)%len(avail)]
			if l := d.st.latency.Load(); l < bl {
				best, bl = d, l
			}
		}
		return best
	}
	// simple-shuffle: weighted random
	total := 0.0
	for _, d := range avail {
		total += d.Weight
	}
	x := rand.Float64() * total
	for _, d := range avail {
		x -= d.Weight
		if x < 0 {
			return d
		}
	}
	return avail[len(avail)-1]
}
