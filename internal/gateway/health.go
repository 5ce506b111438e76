package gateway

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/flowgate/flowgate/internal/upstream"
)

// readiness is unauthenticated: status, the config generation and profile.
// A caller that reloaded waits until generation reaches the value Reload returned.
func (s *Server) readiness(w http.ResponseWriter, r *http.Request) {
	g := s.gen.Load()
	b, _ := json.Marshal(struct {
		Status     string    `json:"status"`
		Generation uint64    `json:"generation"`
		Profile    string    `json:"profile"`
		Models     int       `json:"models"`
		LoadedAt   time.Time `json:"loaded_at"`
	}{"ready", g.id, g.profile, len(g.router.Config().Aliases), g.loadedAt.UTC()})
	writeJSON(w, http.StatusOK, b)
}

type probeResult struct {
	OK        bool    `json:"ok"`
	Status    int     `json:"status,omitempty"`
	LatencyMS float64 `json:"latency_ms"`
	Error     string  `json:"error,omitempty"`
}

type deploymentReport struct {
	DeploymentState
	Probe *probeResult `json:"probe,omitempty"`
}

// health answers GET /health (gateway key required, like inference): the
// passive state of every deployment, and with ?probe=true a minimal real
// call to each (a probe does not change cooldown state). `flowgate health`
// and `flowgate status` read it. The shape is stable; times are RFC 3339 in
// UTC; fields marked "omitted" are left out when empty:
//
//	{
//	  "status": "healthy",            // healthy: none cooling, auth_failed or failing a probe;
//	                                  // degraded: some, or the shared state (Redis) is unreachable;
//	                                  // unhealthy: all
//	  "generation": 3,                // config generation (see /health/readiness)
//	  "profile": "work",
//	  "checked_at": "2026-01-01T00:00:00Z",
//	  "healthy_count": 1,
//	  "unhealthy_count": 1,
//	  "deployments": [{
//	    "id": "a1b2c3d4",             // model_info.id or a stable hash
//	    "model_group": "coder",       // the alias
//	    "model": "gpt-4o",            // upstream model name
//	    "api_base": "https://api.example.com/v1",
//	    "state": "cooling",           // healthy | degraded (half-open after a cooldown) | cooling
//	                                  // | limited (at its rpm/tpm limit: skipped until limited_until)
//	                                  // | auth_failed (the upstream refused its credential)
//	    "cooling_until": "2026-01-01T00:00:30Z",   // null unless cooling
//	    "limited_until": "2026-01-01T00:01:00Z",   // omitted unless limited
//	    "auth_failed_since": "2026-01-01T00:00:00Z", // omitted unless auth_failed
//	    "auth_status": 401,           // upstream status of the refusal; omitted unless auth_failed
//	    "fix": "run: flowgate auth login codex",    // omitted unless auth_failed
//	    "consecutive_failures": 2,
//	    "last_error": "upstream returned 500: ...", // omitted if none; secrets redacted
//	    "last_error_at": "2026-01-01T00:00:00Z",    // omitted if none
//	    "last_status": 500,           // upstream HTTP status of the last error; omitted if none
//	    "in_flight": 0,
//	    "sessions": 3,                // agent sessions pinned here (session affinity), as far as
//	                                  // this replica knows
//	    "latency_ms": 12.5,           // moving average of time to first byte
//	    "probe": {"ok": true, "status": 200, "latency_ms": 80.1, "error": "..."}  // only with ?probe=true
//	  }],
//	  "shared_state": {               // omitted without router_settings.redis_url
//	    "backend": "redis", "address": "10.0.0.5:6379",
//	    "state": "degraded",          // ok | degraded (this replica uses local state meanwhile)
//	    "reason": "Redis at ... is unreachable: ..."  // omitted when ok; also listed in warnings
//	  },
//	  "warnings": ["request log ...: 3 rows lost ..."]  // omitted if none; does not change status
//	}
func (s *Server) health(w http.ResponseWriter, r *http.Request) {
	a := apiFromHeaders(r)
	if !s.authorized(r) {
		writeError(w, a, http.StatusUnauthorized, "invalid_api_key", "missing or wrong gateway key: send it as Authorization: Bearer <key> or x-api-key")
		return
	}
	snap, g := s.snapshot()
	reps := make([]deploymentReport, len(snap.Deployments))
	for i, d := range snap.Deployments {
		reps[i].DeploymentState = d
	}
	if r.URL.Query().Get("probe") == "true" {
		var wg sync.WaitGroup
		for i, d := range g.router.Config().Deployments {
			wg.Add(1)
			go func() {
				defer wg.Done()
				reps[i].Probe = s.probe(r.Context(), d.Target)
			}()
		}
		wg.Wait()
	}
	healthy := 0
	for _, rep := range reps {
		ok := rep.State != "cooling" && rep.State != "auth_failed"
		if rep.Probe != nil {
			ok = rep.Probe.OK
		}
		if ok {
			healthy++
		}
	}
	status := "healthy"
	shared := s.sharedStatus()
	switch {
	case healthy == 0 && len(reps) > 0:
		status = "unhealthy"
	case healthy < len(reps):
		status = "degraded"
	case shared != nil && shared.State != "ok":
		status = "degraded"
	}
	b, _ := json.Marshal(struct {
		Status         string             `json:"status"`
		Generation     uint64             `json:"generation"`
		Profile        string             `json:"profile"`
		CheckedAt      time.Time          `json:"checked_at"`
		HealthyCount   int                `json:"healthy_count"`
		UnhealthyCount int                `json:"unhealthy_count"`
		Deployments    []deploymentReport `json:"deployments"`
		SharedState    *sharedReport      `json:"shared_state,omitempty"`
		Warnings       []string           `json:"warnings,omitempty"`
	}{status, snap.Generation, snap.Profile, snap.CheckedAt, healthy, len(reps) - healthy, reps, shared, snap.Warnings})
	writeJSON(w, http.StatusOK, b)
}

func (s *Server) probe(ctx context.Context, t *upstream.Target) *probeResult {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	p := t.PreferredNative()
	m := string(t.ModelJSON)
	var body string
	switch p {
	case upstream.Messages:
		body = `{"model":` + m + `,"max_tokens":1,"messages":[{"role":"user","content":"ping"}]}`
	case upstream.Responses:
		body = `{"model":` + m + `,"input":"ping","max_output_tokens":16}`
	default:
		body = `{"model":` + m + `,"max_tokens":1,"messages":[{"role":"user","content":"ping"}]}`
	}
	start := time.Now()
	resp, err := s.client.Do(ctx, &upstream.Call{Target: t, Op: upstream.OpFor(p), Body: upstream.NewBody([]byte(body), nil, nil), Header: http.Header{}, Protocol: p})
	res := &probeResult{LatencyMS: float64(time.Since(start).Microseconds()) / 1000}
	if err != nil {
		res.Error = redactMessage(err.Error())
		if ue, ok := err.(*upstream.Error); ok {
			res.Status = ue.Status
		}
		return res
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	res.OK, res.Status = true, resp.StatusCode
	return res
}

// now is the gateway's clock (Options.Clock when set), so health reports
// agree with the cooldown times it shows.
func (s *Server) now() time.Time {
	if s.opts.Clock != nil {
		return s.opts.Clock.Now()
	}
	return time.Now()
}
