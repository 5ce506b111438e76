package supervisor

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/flowgate/flowgate/internal/runtime"
)

// Keeper states of a service, as status shows them.
const (
	KeepRunning   = "running"
	KeepBackoff   = "backoff"
	KeepCrashLoop = "crash_loop"
	KeepStopped   = "stopped"
	KeepStarting  = "starting"
)

// Keeper keeps the services it was asked to run up: it is the one process
// per runtime folder that starts them (so it learns their exit codes), and
// when one exits or is killed it starts it again after a backoff, until a
// crash loop makes it give up. Commands reach it through its control API
// (keeper_api.go); its view is saved in StatePath for `flowgate status`.
type Keeper struct {
	// Sup starts and stops the children. Its OnExit is set by Run.
	Sup *Supervisor
	// StartSpec builds the spec to start name with, from the config as it
	// is now, with env as the children's base environment. An error means
	// the start must not happen; a restart then stops nothing.
	StartSpec func(name string, env []string) (Spec, error)
	// StopSpec builds the spec to stop or inspect name; it must work while
	// the config is broken (only the name and timeouts matter).
	StopSpec func(name string) Spec
	// Policy is name's restart policy.
	Policy func(name string) RestartPolicy
	// LogLimits is the size past which name's log is rotated while it runs
	// and how many rotated logs are kept; it is called every tick, so it
	// must be cheap (no config reload). Default: DefaultLogMaxBytes,
	// DefaultLogKeep.
	LogLimits func(name string) (maxBytes int64, keep int)
	// SelfLog names the keeper's own log in LogDir (its stdout and stderr),
	// rotated like the services' with the default limits. Default: none.
	SelfLog string
	// StatePath is where the keeper's view is saved (0600, it holds the
	// control token).
	StatePath string
	// Emit receives service_crash, service_restart and service_giveup.
	Emit runtime.Emitter
	// Idle is how long the keeper lingers with nothing to keep before Run
	// returns. Zero means it never exits on its own.
	Idle time.Duration
	// Tick is how often adopted services (not started by this keeper) are
	// checked. Default 500ms.
	Tick time.Duration

	mu       sync.Mutex
	services map[string]*kept
	order    []string // services in the order they were first started
	exits    map[int]ExitInfo
	wake     chan struct{}
	ctx      context.Context
	api      apiInfo
	lastBusy time.Time
	inflight int
	quit     chan struct{}
	quitOnce sync.Once
}

// kept is the keeper's record of one service.
type kept struct {
	desired   bool
	gaveUp    bool
	op        sync.Mutex // held while starting or stopping the service
	attempt   int        // restarts since it was last healthy
	exits     []time.Time
	lastExit  string
	lastAt    time.Time
	nextAt    time.Time // a restart is due then (zero: none scheduled)
	pid       int
	startedAt time.Time
	env       []string
	busy      bool // a start, stop or restart attempt is under way
	// rotateFailed is set while rotating the log fails (reported once).
	rotateFailed bool
}

// ActionExit stops every service the keeper keeps (and those named) and
// ends the keeper: `flowgate down`.
const ActionExit = "exit"

// Request is one command for the keeper.
type Request struct {
	// Action is start, stop, restart or exit.
	Action string `json:"action"`
	// Services in dependency order (stop reverses it itself).
	Services []string `json:"services"`
	// Env is the environment of the command that asks; children started
	// for it (and restarted later) get it.
	Env []string `json:"env,omitempty"`
	// KeepTrying makes a failed start count as a crash (backoff and retry)
	// instead of giving the service up; `service run` uses it at boot.
	KeepTrying bool `json:"keep_trying,omitempty"`
}

func (k *Keeper) init(ctx context.Context) {
	k.services = map[string]*kept{}
	k.exits = map[int]ExitInfo{}
	k.wake = make(chan struct{}, 1)
	k.quit = make(chan struct{})
	k.ctx = ctx
	k.lastBusy = time.Now()
	if k.Tick <= 0 {
		k.Tick = 500 * time.Millisecond
	}
	k.Sup.OnExit = func(e ExitInfo) {
		k.mu.Lock()
		k.exits[e.Pid] = e
		k.mu.Unlock()
		k.poke()
	}
}

func (k *Keeper) poke() {
	select {
	case k.wake <- struct{}{}:
	default:
	}
}

func (k *Keeper) svc(name string) *kept {
	s := k.services[name]
	if s == nil {
		s = &kept{}
		k.services[name] = s
		k.order = append(k.order, name)
	}
	return s
}

func (k *Keeper) policy(name string) RestartPolicy {
	if k.Policy == nil {
		return RestartPolicy{}.WithDefaults()
	}
	return k.Policy(name).WithDefaults()
}

// Do carries out one request and returns a result per service.
func (k *Keeper) Do(ctx context.Context, req Request) []Result {
	k.mu.Lock()
	k.inflight++
	k.mu.Unlock()
	defer func() {
		k.mu.Lock()
		k.inflight--
		k.lastBusy = time.Now()
		k.mu.Unlock()
		k.save()
		k.poke()
	}()
	var out []Result
	switch req.Action {
	case ActionExit:
		k.mu.Lock()
		names := slices.Clone(k.order)
		k.mu.Unlock()
		for _, n := range req.Services {
			if !slices.Contains(names, n) {
				names = append(names, n)
			}
		}
		for i := len(names) - 1; i >= 0; i-- {
			out = append(out, k.stop(ctx, names[i]))
		}
		k.quitOnce.Do(func() { close(k.quit) })
	case ActionStop:
		for i := len(req.Services) - 1; i >= 0; i-- {
			out = append(out, k.stop(ctx, req.Services[i]))
		}
	case ActionStart, ActionRestart:
		for _, name := range req.Services {
			out = append(out, k.start(ctx, name, req))
		}
	default:
		out = append(out, failed("all", req.Action, fmt.Sprintf("unknown action %q; use start, stop or restart", req.Action)))
	}
	return out
}

func (k *Keeper) start(ctx context.Context, name string, req Request) Result {
	k.mu.Lock()
	s := k.svc(name)
	s.desired, s.gaveUp, s.attempt, s.exits, s.nextAt = true, false, 0, nil, time.Time{}
	if req.Env != nil {
		s.env = req.Env
	}
	env := s.env
	s.busy = true
	k.mu.Unlock()
	k.save()

	s.op.Lock()
	defer s.op.Unlock()
	spec, err := k.StartSpec(name, env)
	var res Result
	switch {
	case err != nil:
		res = failed(name, req.Action, err.Error())
		k.Sup.emit("service_"+req.Action, res)
	case req.Action == ActionRestart:
		res = k.Sup.Restart(ctx, spec)
	default:
		res = k.Sup.Start(ctx, spec)
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	s.busy = false
	switch {
	case res.OK():
		s.pid, s.startedAt = res.Pid, time.Now()
		if res.Result == ResultAlreadyRunning {
			s.startedAt = time.Time{} // adopted: its uptime is in its pid file
		}
	case req.KeepTrying:
		k.crashedLocked(name, s, "start failed: "+res.Error, time.Now())
	case req.Action == ActionRestart && k.aliveLocked(name):
		// The restart was refused before anything was stopped: keep
		// watching the process that still serves.
	default:
		s.desired = false
	}
	return res
}

func (k *Keeper) stop(ctx context.Context, name string) Result {
	k.mu.Lock()
	s := k.svc(name)
	s.desired, s.nextAt, s.gaveUp = false, time.Time{}, false
	s.busy = true
	k.mu.Unlock()
	k.save()

	s.op.Lock()
	res := k.Sup.Stop(ctx, k.StopSpec(name))
	s.op.Unlock()

	k.mu.Lock()
	s.busy, s.pid = false, 0
	k.mu.Unlock()
	return res
}

// aliveLocked reports whether name's pid file names a live process.
func (k *Keeper) aliveLocked(name string) bool {
	rec, err := readPidRecord(k.Sup.PidPath(name))
	return err == nil && rec != nil && classify(rec).State == StateRunning
}

// crashedLocked records an exit of name and schedules the next attempt, or
// gives up when the exits make a crash loop.
func (k *Keeper) crashedLocked(name string, s *kept, desc string, now time.Time) {
	p := k.policy(name)
	s.exits = append(slices.DeleteFunc(s.exits, func(t time.Time) bool { return now.Sub(t) > p.Window }), now)
	s.lastExit, s.lastAt, s.pid = desc, now, 0
	if p.Never {
		s.gaveUp = true
		k.Emit.Emit(runtime.Event{Event: "service_giveup", Service: name, Result: "failed",
			Detail: fmt.Sprintf("restart is off for %s (services.%s.restart); last exit %s", name, name, desc)})
		return
	}
	if len(s.exits) >= p.MaxExits {
		s.gaveUp, s.nextAt = true, time.Time{}
		k.Emit.Emit(runtime.Event{Event: "service_giveup", Service: name, Result: "failed", Detail: crashLoopText(name, len(s.exits), now.Sub(s.exits[0]), desc)})
		return
	}
	s.attempt++
	s.nextAt = now.Add(p.delay(s.attempt))
}

func crashLoopText(name string, n int, span time.Duration, last string) string {
	return fmt.Sprintf("crash loop: %d exits in %d s, last exit %s, see flowgate logs %s", n, int(span.Round(time.Second)/time.Second), last, name)
}

// Run keeps the services up until ctx ends (then it stops every service it
// keeps, dependents first) or, with Idle set, until nothing has been kept
// for Idle. ready is called once the control API listens.
func (k *Keeper) Run(ctx context.Context, adopt []string, ready func()) error {
	k.init(ctx)
	stopAPI, err := k.serveAPI()
	if err != nil {
		return err
	}
	defer stopAPI()
	k.mu.Lock()
	for _, name := range adopt {
		k.svc(name).desired = true
	}
	k.mu.Unlock()
	k.save()
	if ready != nil {
		ready()
	}
	t := time.NewTicker(k.Tick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			k.shutdown()
			return nil
		case <-k.quit:
			k.removeState()
			return nil
		case <-t.C:
		case <-k.wake:
		}
		if k.reconcile(time.Now()) {
			k.removeState()
			return nil
		}
		k.rotateLogs()
	}
}

// reconcile notices exits and starts due restarts. It reports whether the
// keeper has been idle long enough to leave.
func (k *Keeper) reconcile(now time.Time) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	changed, anyDesired := false, false
	for _, name := range k.order {
		s := k.services[name]
		if !s.desired {
			continue
		}
		anyDesired = true
		if s.gaveUp || s.busy {
			continue
		}
		if !s.nextAt.IsZero() {
			if !now.Before(s.nextAt) {
				s.busy = true
				go k.attemptRestart(name, s)
			}
			continue
		}
		rec, err := readPidRecord(k.Sup.PidPath(name))
		if err != nil {
			continue
		}
		if rec != nil && isAlive(rec) {
			if s.pid != rec.Pid {
				s.pid, s.startedAt = rec.Pid, rec.StartedAt
			}
			if s.attempt > 0 && !s.startedAt.IsZero() && now.Sub(s.startedAt) >= k.policy(name).Window {
				s.attempt, changed = 0, true
			}
			continue
		}
		desc := "exit status unknown (it was not started by this supervisor)"
		pid := s.pid
		if rec != nil {
			pid = rec.Pid
		}
		if e, ok := k.exits[pid]; ok {
			desc = e.String()
			delete(k.exits, pid)
		}
		uptime := ""
		if rec != nil && !rec.StartedAt.IsZero() {
			uptime = fmt.Sprintf(" uptime=%s", now.Sub(rec.StartedAt).Round(100*time.Millisecond))
		}
		k.Emit.Emit(runtime.Event{Event: "service_crash", Service: name, Result: "failed", Detail: fmt.Sprintf("pid=%d %s%s", pid, desc, uptime)})
		k.crashedLocked(name, s, desc, now)
		changed = true
	}
	if changed {
		go k.save()
	}
	return !anyDesired && k.inflight == 0 && k.Idle > 0 && now.Sub(k.lastBusy) >= k.Idle
}

// isAlive is the cheap check of a pid record: the process with the
// recorded start time still runs.
func isAlive(rec *PidRecord) bool {
	p, err := readProc(rec.Pid)
	return err == nil && !p.Zombie() && rec.StartTime != 0 && p.StartTime == rec.StartTime
}

func (k *Keeper) attemptRestart(name string, s *kept) {
	s.op.Lock()
	defer s.op.Unlock()
	k.mu.Lock()
	if !s.desired || s.gaveUp {
		s.busy = false
		k.mu.Unlock()
		return
	}
	attempt, env := s.attempt, s.env
	delay := k.policy(name).delay(attempt)
	s.nextAt = time.Time{}
	k.mu.Unlock()

	spec, err := k.StartSpec(name, env)
	res := failed(name, ActionStart, "")
	if err != nil {
		res.Error = err.Error()
	} else {
		res = k.Sup.Start(k.ctx, spec)
	}
	ev := runtime.Event{Event: "service_restart", Service: name, Result: "success",
		Detail: fmt.Sprintf("attempt=%d delay=%s pid=%d", attempt, delay, res.Pid)}
	k.mu.Lock()
	s.busy = false
	if res.OK() {
		s.pid, s.startedAt = res.Pid, time.Now()
	} else {
		ev.Result = "failed"
		ev.Detail = fmt.Sprintf("attempt=%d delay=%s %s", attempt, delay, res.Error)
		if s.desired {
			k.crashedLocked(name, s, "restart failed: "+res.Error, time.Now())
		}
	}
	k.mu.Unlock()
	k.Emit.Emit(ev)
	k.save()
	k.poke()
}

// shutdown stops every kept service, dependents first.
func (k *Keeper) shutdown() {
	k.mu.Lock()
	names := slices.Clone(k.order)
	k.mu.Unlock()
	k.Do(context.Background(), Request{Action: ActionStop, Services: names})
	k.removeState()
}
