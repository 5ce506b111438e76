package router

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"
)

// Session affinity: the requests of one agent session (a Claude Code or
// Codex conversation) go to the deployment that served the session's last
// request in that group while it stays available, so the provider's prompt
// cache keeps hitting. The pin lives in the router's State (shared by
// replicas through Redis) for Settings.SessionTTL after its last use. When
// the pinned deployment is cooling, at its limit or refusing its
// credential, or its attempt fails, the request goes where the router
// would send it anyway, and the pin follows the deployment that answers.

// Affinity outcomes, as the X-Flowgate-Session-Affinity header says them.
const (
	// AffinityHit: the session's pinned deployment served the attempt.
	AffinityHit = "hit"
	// AffinityNew: the session had no pin in this group; it is pinned now.
	AffinityNew = "new"
	// AffinityMoved: the pinned deployment could not serve; the pin moves
	// to the one that did.
	AffinityMoved = "moved"
)

// DefaultSessionTTL is how long a session stays pinned after its last request.
const DefaultSessionTTL = time.Hour

// affinityKey names a session's pin in group g. The session id is hashed:
// it comes from the client, and the key must stay short and printable.
func affinityKey(g *Group, session string) string {
	sum := sha256.Sum256([]byte(session))
	return "aff:" + g.Name + ":" + hex.EncodeToString(sum[:12])
}

// sessionPin is one group's pin for the request in progress.
type sessionPin struct {
	key    string
	pinned *Deployment // nil: no pin, or it names no deployment of the group
	had    bool        // a pin existed (even for a deployment no longer in the group)
}

// lookupPin reads (and refreshes) the session's pin in g.
func (r *Router) lookupPin(ctx context.Context, g *Group, session string) sessionPin {
	s := &r.cfg.Settings
	if session == "" || !s.SessionAffinity {
		return sessionPin{}
	}
	p := sessionPin{key: affinityKey(g, session)}
	id := r.state.Affinity(ctx, p.key, s.SessionTTL)
	if id == "" {
		return p
	}
	p.had = true
	for _, d := range g.Deployments {
		if d.ID == id {
			p.pinned = d
		}
	}
	return p
}

// outcome is what serving the session with d means for its pin.
func (p *sessionPin) outcome(d *Deployment) string {
	switch {
	case p.key == "":
		return ""
	case p.pinned == d:
		return AffinityHit
	case p.had && p.pinned != nil:
		return AffinityMoved
	}
	return AffinityNew
}

// settle records that d served the session: a new or moved pin is stored;
// a hit was already refreshed when it was read.
func (r *Router) settle(ctx context.Context, p *sessionPin, d *Deployment) {
	if p.key != "" && p.pinned != d {
		r.state.SetAffinity(ctx, p.key, d.ID, r.cfg.Settings.SessionTTL)
	}
}

// available reports whether pick could choose d now: in the group, not
// skipped or tried, not cooling, limited or refusing its credential.
func (r *Router) available(d *Deployment, tried, skip []*Deployment) bool {
	if d == nil || contains(tried, d) || contains(skip, d) {
		return false
	}
	now := r.clock.Now().UnixNano()
	if max(d.st.coolUntil.Load(), d.st.limitedUntil.Load()) > now {
		return false
	}
	af := d.st.authFailedAt.Load()
	return af == 0 || now-af >= int64(authRecheck)
}

// sessionAffinity reads router_settings.session_affinity: true, false, or
// a mapping {enabled, ttl}.
func (p *parser) sessionAffinity(path string, v any, s *Settings) {
	switch tv := v.(type) {
	case bool, string:
		s.SessionAffinity = p.boolean(path, tv)
	case map[string]any:
		s.SessionAffinity = true
		for k, fv := range tv {
			switch k {
			case "enabled":
				s.SessionAffinity = p.boolean(path+".enabled", fv)
			case "ttl":
				ttl := p.duration(path+".ttl", fv, s.SessionTTL)
				if ttl <= 0 {
					p.add(path+".ttl", "must be positive, such as 30m or 3600; to turn affinity off write session_affinity: false")
				} else {
					s.SessionTTL = ttl
				}
			default:
				p.add(path+"."+k, "unknown field; session_affinity takes enabled and ttl (for example {ttl: 30m})")
			}
		}
	default:
		p.add(path, "must be true, false or a mapping such as {ttl: 30m}; got %s", describe(v))
	}
}

func describe(v any) string {
	if v == nil {
		return "nothing"
	}
	return fmt.Sprintf("%T %v", v, v)
}
