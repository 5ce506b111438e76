package gateway

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/flowgate/flowgate/internal/router"
	"github.com/flowgate/flowgate/internal/runtime"
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
	router.DeploymentHealth
	Probe *probeResult `json:"probe,omitempty"`
}

// health reports per-deployment passive state (healthy / degraded /
// cooling until when / last error). ?probe=true also makes a minimal real
// call to each deployment (it does not change cooldown state).
func (s *Server) health(w http.ResponseWriter, r *http.Request) {
	g := s.gen.Load()
	a := apiFromHeaders(r)
	if !g.authorized(r) {
		writeError(w, a, http.StatusUnauthorized, "invalid_api_key", "missing or wrong gateway key: send it as Authorization: Bearer <key> or x-api-key")
		return
	}
	hs := g.router.Health()
	reps := make([]deploymentReport, len(hs))
	for i, h := range hs {
		reps[i].DeploymentHealth = h
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
		ok := rep.State != "cooling"
		if rep.Probe != nil {
			ok = rep.Probe.OK
		}
		if ok {
			healthy++
		}
	}
	b, _ := json.Marshal(struct {
		Generation     uint64             `json:"generation"`
		Profile        string             `json:"profile"`
		HealthyCount   int                `json:"healthy_count"`
		UnhealthyCount int                `json:"unhealthy_count"`
		Deployments    []deploymentReport `json:"deployments"`
	}{g.id, g.profile, healthy, len(reps) - healthy, reps})
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
		res.Error = runtime.RedactSecrets(err.Error())
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
