package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flowgate/flowgate/internal/sharedstate/redistest"
)

// replica is one `flowgate gateway serve` process of a team deployment.
type replica struct {
	base string
	cmd  *exec.Cmd
	log  *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

const (
	teamMaster = "sk-master-0123456789abcdef"
	teamKey    = "sk-team-0123456789abcdef"
	teamRPM    = 5
)

// startReplica runs a real gateway process with its own project folder,
// sharing state through the Redis at redisURL.
func startReplica(t *testing.T, bin, upstream, redisURL string) *replica {
	t.Helper()
	root := t.TempDir()
	port := freePort(t)
	cfg := filepath.Join(root, "config", "flowgate.yaml")
	os.MkdirAll(filepath.Dir(cfg), 0o755)
	os.WriteFile(cfg, []byte(fmt.Sprintf(`
config_version: 2
services:
  gateway: {port: %d, ui_port: off}
litellm_base:
  model_list:
    - model_name: solo
      litellm_params: {model: openai/fail-a, api_base: %q, api_key: sk-up-0123456789}
      model_info: {id: dep-a}
    - model_name: coder
      litellm_params: {model: openai/ok-b, api_base: %q, api_key: sk-up-0123456789}
      model_info: {id: dep-b}
%s  router_settings: {redis_url: %q, allowed_fails: 0, cooldown_time: 60, num_retries: 0}
  general_settings:
    master_key: %s
    extra_keys:
      - {key: %s, name: team, rpm: %d}
integration: {default_model: coder}
profiles:
  only: {}
`, port, upstream, upstream, poolEntries(upstream), redisURL, teamMaster, teamKey, teamRPM)), 0o600)
	r := &replica{base: fmt.Sprintf("http://127.0.0.1:%d", port), log: &syncBuffer{}}
	r.cmd = exec.Command(bin, "--config", cfg, "gateway", "serve")
	r.cmd.Stdout, r.cmd.Stderr = r.log, r.log
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.cmd.Process.Kill(); r.cmd.Wait() })
	waitUntil(t, "replica "+r.base+" ready", 20*time.Second, func() bool {
		if r.cmd.ProcessState != nil || strings.Contains(r.log.String(), "flowgate: ") {
			t.Fatalf("replica exited:\n%s", r.log.String())
		}
		resp, err := http.Get(r.base + "/health/readiness")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil && resp.StatusCode == 200
	})
	return r
}

// poolEntries are four healthy deployments of the alias pool, among which
// session affinity must keep one session on one deployment.
func poolEntries(upstream string) string {
	var b strings.Builder
	for i := 1; i <= 4; i++ {
		fmt.Fprintf(&b, "    - model_name: pool\n      litellm_params: {model: openai/ok-p%d, api_base: %q, api_key: sk-up-0123456789}\n      model_info: {id: dep-p%d}\n", i, upstream, i)
	}
	return b.String()
}

func waitUntil(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func (r *replica) chat(t *testing.T, key, model string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", r.base+"/v1/chat/completions", strings.NewReader(`{"model":"`+model+`","messages":[{"role":"user","content":"hi"}]}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s: %v\n%s", r.base, err, r.log.String())
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp.StatusCode, string(b)
}

type replicaHealth struct {
	Status      string `json:"status"`
	Deployments []struct {
		ID    string `json:"id"`
		State string `json:"state"`
	} `json:"deployments"`
	SharedState *struct {
		State  string `json:"state"`
		Reason string `json:"reason"`
	} `json:"shared_state"`
}

func (r *replica) health(t *testing.T) replicaHealth {
	t.Helper()
	req, _ := http.NewRequest("GET", r.base+"/health", nil)
	req.Header.Set("Authorization", "Bearer "+teamMaster)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var h replicaHealth
	json.NewDecoder(resp.Body).Decode(&h)
	return h
}

// healthDeployments reads /health as `flowgate health` does.
func (r *replica) healthDeployments(t *testing.T) []deploymentState {
	t.Helper()
	req, _ := http.NewRequest("GET", r.base+"/health", nil)
	req.Header.Set("Authorization", "Bearer "+teamMaster)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var h gatewayHealth
	if err := json.NewDecoder(resp.Body).Decode(&h); err != nil {
		t.Fatal(err)
	}
	return h.Deployments
}

func (h replicaHealth) state(id string) string {
	for _, d := range h.Deployments {
		if d.ID == id {
			return d.State
		}
	}
	return ""
}

// TestReplicasShareCooldownsKeyLimitsAndSurviveRedisGoingAway runs a real
// redis-server and three real gateway processes sharing it.
func TestReplicasShareCooldownsKeyLimitsAndSurviveRedisGoingAway(t *testing.T) {
	rs := redistest.Start(t, "")
	bin := flowgateBinary(t)
	var failHits, okHits atomic.Int64
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		if strings.Contains(string(body), "fail-a") {
			failHits.Add(1)
			w.WriteHeader(500)
			io.WriteString(w, `{"error":{"message":"boom","type":"server_error"}}`)
			return
		}
		okHits.Add(1)
		io.WriteString(w, `{"id":"c1","object":"chat.completion","created":1,"model":"ok-b","choices":[{"index":0,"message":{"role":"assistant","content":"PONG"},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4}}`)
	}))
	t.Cleanup(up.Close)
	reps := []*replica{
		startReplica(t, bin, up.URL+"/v1", rs.URL()),
		startReplica(t, bin, up.URL+"/v1", rs.URL()),
		startReplica(t, bin, up.URL+"/v1", rs.URL()),
	}
	for _, r := range reps {
		waitUntil(t, "shared state ok on "+r.base, 10*time.Second, func() bool {
			h := r.health(t)
			return h.SharedState != nil && h.SharedState.State == "ok"
		})
	}

	t.Run("a cooldown caused through one replica is honoured by the others within 100ms", func(t *testing.T) {
		if code, body := reps[0].chat(t, teamMaster, "solo"); code != 500 {
			t.Fatalf("the failing deployment answered %d %s", code, body)
		}
		start := time.Now()
		for _, r := range reps[1:] {
			waitUntil(t, "dep-a cooling on "+r.base, 5*time.Second, func() bool { return r.health(t).state("dep-a") == "cooling" })
		}
		if el := time.Since(start); el > 100*time.Millisecond {
			t.Errorf("the other replicas saw the cooldown after %v; want within 100ms", el)
		}
		for _, r := range reps[1:] {
			if code, body := r.chat(t, teamMaster, "solo"); code != 429 || !strings.Contains(body, "no_deployments_available") {
				t.Fatalf("%s served a cooling deployment: %d %s", r.base, code, body)
			}
		}
		if n := failHits.Load(); n != 1 {
			t.Fatalf("the cooling deployment was called %d times; want once", n)
		}
	})

	t.Run("a key limited to N per minute gets N across all replicas", func(t *testing.T) {
		// The limit is per calendar minute: keep the burst inside one.
		waitUntil(t, "a minute with time left", 70*time.Second, func() bool { return time.Now().Second() < 45 })
		var ok, limited atomic.Int64
		var wg sync.WaitGroup
		for i := 0; i < 4*len(reps); i++ {
			wg.Add(1)
			go func(r *replica) {
				defer wg.Done()
				code, body := r.chat(t, teamKey, "coder")
				switch {
				case code == 200:
					ok.Add(1)
				case code == 429 && strings.Contains(body, "key team is over its limit of 5 requests per minute"):
					limited.Add(1)
				default:
					t.Errorf("%d %s", code, body)
				}
			}(reps[i%len(reps)])
		}
		wg.Wait()
		if ok.Load() != teamRPM || limited.Load() != int64(4*len(reps))-teamRPM {
			t.Fatalf("%d served, %d limited; want %d served across the replicas", ok.Load(), limited.Load(), teamRPM)
		}
	})

	// pins are the sessions' deployments; sessionSend sends a session's request.
	pins := map[string]string{}
	var sessionSend func(*replica, string) (string, string)
	t.Run("one session's requests land on one deployment whichever replica takes them", func(t *testing.T) {
		send := func(r *replica, session string) (string, string) {
			t.Helper()
			req, _ := http.NewRequest("POST", r.base+"/v1/chat/completions",
				strings.NewReader(`{"model":"pool","prompt_cache_key":"`+session+`","messages":[{"role":"user","content":"hi"}]}`))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+teamMaster)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Fatalf("%s answered %d", r.base, resp.StatusCode)
			}
			return resp.Header.Get("X-Flowgate-Deployment"), resp.Header.Get("X-Flowgate-Session-Affinity")
		}
		used := map[string]bool{}
		sessionSend = send
		for s := 0; s < 12; s++ {
			session := fmt.Sprintf("codex-session-%d", s)
			pinned, aff := send(reps[s%len(reps)], session)
			if aff != "new" || !strings.HasPrefix(pinned, "dep-p") {
				t.Fatalf("first request of %s: deployment %q, affinity %q", session, pinned, aff)
			}
			used[pinned] = true
			pins[session] = pinned
			for i := 1; i <= 3*len(reps); i++ {
				r := reps[(s+i)%len(reps)]
				if d, aff := send(r, session); d != pinned || aff != "hit" {
					t.Fatalf("request %d of %s through %s went to %s (affinity %q); the session is on %s", i, session, r.base, d, aff, pinned)
				}
			}
		}
		if len(used) < 2 {
			t.Errorf("twelve sessions all pinned to %v: sessions are not spread", used)
		}
		// Health counts the sessions each deployment holds; health's line says so.
		h := reps[0].healthDeployments(t)
		total := 0
		for _, d := range h {
			total += d.Sessions
			if d.Sessions > 0 && !strings.Contains(d.line(), fmt.Sprintf(" sessions=%d", d.Sessions)) {
				t.Errorf("health line %q does not show %d sessions", d.line(), d.Sessions)
			}
		}
		if total != 12 {
			t.Errorf("health counts %d pinned sessions; want 12", total)
		}
	})

	t.Run("Redis killed mid-run changes no request's outcome; health degrades, then recovers", func(t *testing.T) {
		rs.Kill()
		if sessionSend != nil {
			for _, r := range reps {
				if d, _ := sessionSend(r, "codex-session-0"); d != pins["codex-session-0"] {
					t.Fatalf("with Redis down %s moved a session from %s to %s", r.base, pins["codex-session-0"], d)
				}
			}
		}
		for i := 0; i < 6; i++ {
			r := reps[i%len(reps)]
			if code, body := r.chat(t, teamMaster, "coder"); code != 200 {
				t.Fatalf("with Redis down %s answered %d %s", r.base, code, body)
			}
			if code, _ := r.chat(t, teamMaster, "solo"); code != 429 {
				t.Fatalf("with Redis down %s forgot the cooldown: %d", r.base, code)
			}
		}
		for _, r := range reps {
			waitUntil(t, "degraded health on "+r.base, 10*time.Second, func() bool {
				h := r.health(t)
				return h.Status == "degraded" && h.SharedState != nil && h.SharedState.State == "degraded" && strings.Contains(h.SharedState.Reason, "unreachable")
			})
		}
		rs.Restart()
		for _, r := range reps {
			waitUntil(t, "healthy again on "+r.base, 15*time.Second, func() bool {
				h := r.health(t)
				return h.SharedState != nil && h.SharedState.State == "ok"
			})
		}
		for _, r := range reps {
			if strings.Contains(r.log.String(), "pool.go") {
				t.Errorf("the Redis client's own log reached the gateway log:\n%s", r.log.String())
			}
			if n := strings.Count(r.log.String(), "shared state degraded"); n != 1 {
				t.Errorf("%s warned %d times about Redis; want once:\n%s", r.base, n, r.log.String())
			}
			if code, body := r.chat(t, teamMaster, "coder"); code != 200 {
				t.Fatalf("after Redis came back %s answered %d %s", r.base, code, body)
			}
		}
	})
}

func TestGatewayRefusesAWrongRedisPasswordNamingTheSetting(t *testing.T) {
	rs := redistest.Start(t, "the-right-one")
	bin := flowgateBinary(t)
	root := t.TempDir()
	cfg := filepath.Join(root, "config", "flowgate.yaml")
	os.MkdirAll(filepath.Dir(cfg), 0o755)
	os.WriteFile(cfg, []byte(fmt.Sprintf(`
config_version: 2
services:
  gateway: {port: %d, ui_port: off}
litellm_base:
  model_list:
    - model_name: coder
      litellm_params: {model: openai/m, api_base: "http://127.0.0.1:9/v1"}
  router_settings: {redis_host: 127.0.0.1, redis_port: %d, redis_password: not-the-password}
integration: {default_model: coder}
profiles:
  only: {}
`, freePort(t), rs.Port)), 0o600)
	out, err := exec.Command(bin, "--config", cfg, "gateway", "serve").CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != ExitUsage {
		t.Fatalf("exit %v; want %d\n%s", err, ExitUsage, out)
	}
	if !strings.Contains(string(out), "router_settings.redis_password: Redis at "+rs.Addr()+" refused the password") || strings.Contains(string(out), "not-the-password") {
		t.Fatalf("%s", out)
	}
}
