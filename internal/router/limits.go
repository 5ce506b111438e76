package router

import (
	"context"
	"strconv"
	"time"
)

// Deployment limits: rpm and tpm are limits per calendar minute, counted
// in the router's State (shared by replicas when it is Redis). A request
// takes one from the rpm counter before its attempt; a deployment whose
// count passes its rpm is skipped until the minute ends, and the request
// moves on to another deployment of the group without using up a retry.
// Tokens are counted when a request ends (Used); a deployment whose tokens
// reach its tpm is skipped for the rest of the minute. Either way the other
// replicas are told (EventLimited), so they skip it too without counting.

// counterTTL keeps a minute's counter a little past its minute, so a
// replica whose clock is slightly behind still finds it.
const counterTTL = 2 * time.Minute

// minuteWindow is the current calendar minute's number and end.
func minuteWindow(now time.Time) (string, time.Time) {
	m := now.Unix() / 60
	return strconv.FormatInt(m, 10), time.Unix((m+1)*60, 0)
}

// admit takes one request from d's rpm limit. It reports false, and marks
// d limited until the minute ends, when the limit is used up.
func (r *Router) admit(ctx context.Context, d *Deployment) bool {
	if d.RPM <= 0 {
		return true
	}
	win, end := minuteWindow(r.clock.Now())
	if n := r.state.Add(ctx, "dep:rpm:"+d.ID+":"+win, 1, counterTTL); n <= d.RPM {
		return true
	}
	r.limit(d, end)
	return false
}

// Used counts a finished request's tokens against its deployment's tpm.
func (r *Router) Used(ctx context.Context, d *Deployment, tokens int64) {
	if d == nil || d.TPM <= 0 || tokens <= 0 {
		return
	}
	win, end := minuteWindow(r.clock.Now())
	if n := r.state.Add(ctx, "dep:tpm:"+d.ID+":"+win, tokens, counterTTL); n >= d.TPM {
		r.limit(d, end)
	}
}

func (r *Router) limit(d *Deployment, until time.Time) {
	if until.UnixNano() > d.st.limitedUntil.Load() {
		extend(&d.st.limitedUntil, until.UnixNano())
		r.state.Announce(Event{Kind: EventLimited, Deployment: d.ID, Until: until})
	}
}
