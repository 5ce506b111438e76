package router

import "time"

// DeploymentHealth is the passive health of one deployment.
type DeploymentHealth struct {
	ID           string     `json:"id"`
	ModelGroup   string     `json:"model_group"`
	Model        string     `json:"model"`
	APIBase      string     `json:"api_base"`
	State        string     `json:"state"` // healthy | degraded | limited | cooling | auth_failed
	CoolingUntil *time.Time `json:"cooling_until"`
	// LimitedUntil is when the deployment's rpm/tpm minute ends (state
	// limited: healthy, but skipped until then).
	LimitedUntil *time.Time `json:"limited_until,omitempty"`
	// AuthFailedSince is when the upstream began refusing the deployment's
	// credential (state auth_failed; cleared by a success). The refusal's
	// status and message are LastStatus and LastError.
	AuthFailedSince *time.Time `json:"auth_failed_since,omitempty"`
	// AuthStatus is the upstream status of the last refusal (401, 402, 403).
	AuthStatus          int        `json:"auth_status,omitempty"`
	ConsecutiveFailures int        `json:"consecutive_failures"`
	LastError           string     `json:"last_error,omitempty"`
	LastErrorAt         *time.Time `json:"last_error_at,omitempty"`
	LastStatus          int        `json:"last_status,omitempty"`
	InFlight            int64      `json:"in_flight"`
	// Sessions is how many agent sessions are pinned to the deployment
	// (session affinity), as far as this replica knows.
	Sessions  int     `json:"sessions"`
	LatencyMS float64 `json:"latency_ms"`
}

// Health reports every deployment's passive state.
func (r *Router) Health() []DeploymentHealth {
	now := r.clock.Now()
	out := make([]DeploymentHealth, 0, len(r.cfg.Deployments))
	pinned := r.state.Pinned()
	for _, d := range r.cfg.Deployments {
		st := d.st
		h := DeploymentHealth{ID: d.ID, ModelGroup: d.Group, Model: d.Model, APIBase: d.Target.Base, State: "healthy",
			InFlight: st.inflight.Load(), Sessions: pinned[d.ID], LatencyMS: float64(st.latency.Load()) / 1e6}
		if lu := st.limitedUntil.Load(); lu > now.UnixNano() {
			t := time.Unix(0, lu).UTC()
			h.State, h.LimitedUntil = "limited", &t
		}
		if cu := st.coolUntil.Load(); cu > now.UnixNano() {
			t := time.Unix(0, cu).UTC()
			h.State, h.CoolingUntil = "cooling", &t
		}
		st.mu.Lock()
		h.ConsecutiveFailures = st.fails
		if st.halfOpen && h.State == "healthy" {
			h.State = "degraded"
		}
		if st.lastErr != "" {
			t := st.lastErrAt.UTC()
			h.LastError, h.LastErrorAt, h.LastStatus = st.lastErr, &t, st.lastStatus
		}
		if st.authFailedAt.Load() != 0 {
			t := st.authSince.UTC()
			h.State, h.AuthFailedSince, h.AuthStatus = "auth_failed", &t, st.authStatus
		}
		st.mu.Unlock()
		out = append(out, h)
	}
	return out
}
