package supervisor

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/flowgate/flowgate/internal/runtime"
)

// KeeperState is the keeper's view, saved in Keeper.StatePath for other
// processes: where its control API listens (with the token that opens it)
// and how each kept service is doing.
type KeeperState struct {
	Pid       int                   `json:"pid"`
	StartTime uint64                `json:"start_time"`
	StartedAt time.Time             `json:"started_at"`
	Addr      string                `json:"addr"`
	Token     string                `json:"token,omitempty"`
	Services  map[string]KeptStatus `json:"services"`
}

// KeptStatus is one service as the keeper sees it.
type KeptStatus struct {
	// State is running, starting, backoff, crash_loop or stopped.
	State   string `json:"state"`
	Desired bool   `json:"desired"`
	Pid     int    `json:"pid,omitempty"`
	// Attempt counts restarts since the service was last healthy.
	Attempt       int       `json:"attempt,omitempty"`
	ExitsInWindow int       `json:"exits_in_window,omitempty"`
	LastExit      string    `json:"last_exit,omitempty"`
	LastExitAt    time.Time `json:"last_exit_at,omitzero"`
	NextAttemptAt time.Time `json:"next_attempt_at,omitzero"`
	// Note says it in words, with what to do.
	Note string `json:"note,omitempty"`
}

type apiInfo struct {
	addr  string
	token string
}

// snapshot is the current state; the caller holds k.mu.
func (k *Keeper) snapshotLocked(now time.Time) KeeperState {
	st := KeeperState{Pid: os.Getpid(), Addr: k.api.addr, Token: k.api.token, Services: map[string]KeptStatus{}}
	if p, err := readProc(st.Pid); err == nil {
		st.StartTime = p.StartTime
	}
	st.StartedAt = processStart
	for _, name := range k.order {
		s := k.services[name]
		ks := KeptStatus{Desired: s.desired, Pid: s.pid, Attempt: s.attempt, LastExit: s.lastExit, LastExitAt: s.lastAt, NextAttemptAt: s.nextAt}
		p := k.policy(name)
		for _, t := range s.exits {
			if now.Sub(t) <= p.Window {
				ks.ExitsInWindow++
			}
		}
		switch {
		case !s.desired:
			ks.State = KeepStopped
		case s.gaveUp:
			ks.State = KeepCrashLoop
			span := time.Duration(0)
			if len(s.exits) > 0 {
				span = s.exits[len(s.exits)-1].Sub(s.exits[0])
			}
			ks.Note = crashLoopText(name, len(s.exits), span, s.lastExit) + fmt.Sprintf(", then run `flowgate service start %s`", name)
			if p.Never {
				ks.Note = fmt.Sprintf("exited (%s) and services.%s.restart is never; see flowgate logs %s, then run `flowgate service start %s`", s.lastExit, name, name, name)
			}
		case !s.nextAt.IsZero():
			ks.State = KeepBackoff
			ks.Note = fmt.Sprintf("exited (%s); restart %d in %s", s.lastExit, s.attempt, s.nextAt.Sub(now).Round(100*time.Millisecond))
		case s.busy:
			ks.State = KeepStarting
		default:
			ks.State = KeepRunning
		}
		st.Services[name] = ks
	}
	return st
}

var processStart = time.Now().UTC()

// save writes the state file atomically with mode 0600 (it holds the token).
func (k *Keeper) save() {
	if k.StatePath == "" {
		return
	}
	k.mu.Lock()
	st := k.snapshotLocked(time.Now())
	k.mu.Unlock()
	data, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return
	}
	_ = runtime.WriteFileAtomic(k.StatePath, append(data, '\n'), 0o600)
}

func (k *Keeper) removeState() {
	if k.StatePath != "" {
		_ = os.Remove(k.StatePath)
	}
}

// serveAPI listens on a loopback port for commands, authenticated by a
// random token that only the state file (0600) carries.
func (k *Keeper) serveAPI() (func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("supervisor control port: %w", err)
	}
	tok := make([]byte, 24)
	if _, err := rand.Read(tok); err != nil {
		ln.Close()
		return nil, err
	}
	k.api = apiInfo{addr: ln.Addr().String(), token: hex.EncodeToString(tok)}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/do", func(w http.ResponseWriter, r *http.Request) {
		var req Request
		if err := json.NewDecoder(io.LimitReader(r.Body, 4<<20)).Decode(&req); err != nil {
			http.Error(w, "request body: "+err.Error(), http.StatusBadRequest)
			return
		}
		writeJSON(w, map[string]any{"results": k.Do(k.ctx, req)})
	})
	mux.HandleFunc("GET /v1/state", func(w http.ResponseWriter, r *http.Request) {
		k.mu.Lock()
		st := k.snapshotLocked(time.Now())
		k.mu.Unlock()
		st.Token = ""
		writeJSON(w, st)
	})
	want := []byte("Bearer " + k.api.token)
	srv := &http.Server{
		ReadHeaderTimeout: 5 * time.Second,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), want) != 1 {
				http.Error(w, "missing or wrong supervisor token", http.StatusUnauthorized)
				return
			}
			mux.ServeHTTP(w, r)
		}),
	}
	go srv.Serve(ln)
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	}, nil
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

// ErrNoKeeper means no live supervisor serves the runtime folder.
var ErrNoKeeper = errors.New("no flowgate supervisor is running")

// ReadKeeperState reads path and reports whether the keeper that wrote it
// still runs. A missing file is (nil, false, nil).
func ReadKeeperState(path string) (*KeeperState, bool, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	var st KeeperState
	if err := json.Unmarshal(data, &st); err != nil {
		return nil, false, fmt.Errorf("supervisor state %s is not valid JSON: %v; remove it, then run `flowgate up`", path, err)
	}
	return &st, st.Alive(), nil
}

// Alive reports whether the keeper that wrote st still runs.
func (st *KeeperState) Alive() bool {
	return st != nil && st.Pid > 0 && isAlive(&PidRecord{Pid: st.Pid, StartTime: st.StartTime})
}

// KeeperClient talks to a running keeper.
type KeeperClient struct {
	addr, token string
	hc          *http.Client
}

// ConnectKeeper returns a client for the keeper whose state file is path,
// or ErrNoKeeper when none runs.
func ConnectKeeper(path string) (*KeeperClient, error) {
	st, alive, err := ReadKeeperState(path)
	if err != nil {
		return nil, err
	}
	if st == nil || !alive || st.Addr == "" || st.Token == "" {
		return nil, ErrNoKeeper
	}
	c := &KeeperClient{addr: st.Addr, token: st.Token, hc: &http.Client{}}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if _, err := c.State(ctx); err != nil {
		return nil, fmt.Errorf("%w (pid %d does not answer on %s: %v)", ErrNoKeeper, st.Pid, st.Addr, err)
	}
	return c, nil
}

func (c *KeeperClient) call(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://"+c.addr+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := c.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return fmt.Errorf("supervisor answered %d: %s", resp.StatusCode, bytes.TrimSpace(msg))
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

// State asks the keeper for its view.
func (c *KeeperClient) State(ctx context.Context) (KeeperState, error) {
	var st KeeperState
	err := c.call(ctx, http.MethodGet, "/v1/state", nil, &st)
	return st, err
}

// Do sends req and waits for its results.
func (c *KeeperClient) Do(ctx context.Context, req Request) ([]Result, error) {
	var out struct {
		Results []Result `json:"results"`
	}
	if err := c.call(ctx, http.MethodPost, "/v1/do", req, &out); err != nil {
		return nil, err
	}
	return out.Results, nil
}
