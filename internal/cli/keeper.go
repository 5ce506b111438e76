package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/flowgate/flowgate/internal/config"
	rt "github.com/flowgate/flowgate/internal/runtime"
	"github.com/flowgate/flowgate/internal/supervisor"
)

// The supervisor ("keeper") is one flowgate process per runtime folder that
// starts the services and brings them back when they exit. Commands that
// start, stop or restart services ask it through its control API, starting
// it first when none runs.

// keeperIdle is how long a supervisor started by a command lingers with
// nothing to keep.
const keeperIdle = 5 * time.Second

// supervisorLogName names the supervisor's own log in process-logs
// (`flowgate logs supervisor`).
const supervisorLogName = "supervisor"

func keeperStatePath(l rt.Layout) string { return filepath.Join(l.PidDir(), "supervisor.json") }
func keeperLockPath(l rt.Layout) string  { return filepath.Join(l.PidDir(), "supervisor.lock") }

func (a *app) serviceRunCommand() *cobra.Command {
	var start bool
	var idle time.Duration
	cmd := &cobra.Command{
		Use:   "run [all|NAME...]",
		Short: "Run the FlowGate supervisor in the foreground: start services and keep them up",
		Long: `run is the supervisor that the OS service manager (flowgate service install)
or the other commands start: it starts the named services (default all) and
restarts any that exits or is killed, with exponential backoff (services.NAME.restart),
until a crash loop makes it give up; status and health then say so. SIGTERM or
SIGINT stops every service it keeps and ends it. One supervisor runs per runtime
folder; the other commands (service start|stop|restart, up, down) talk to it.`,
		Example: "  flowgate service run\n  flowgate service run gateway",
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := a.load()
			if err != nil {
				return err
			}
			var names []string
			for _, arg := range args {
				n, err := serviceNames(cfg, arg)
				if err != nil {
					return err
				}
				names = append(names, n...)
			}
			if len(args) == 0 {
				names = cfg.ServiceOrder
			}
			return a.runKeeper(cfg, names, start, idle)
		},
	}
	cmd.Flags().BoolVar(&start, "start", true, "start the services at once (false: only keep what is asked later)")
	cmd.Flags().DurationVar(&idle, "idle", 0, "exit after this long with nothing to keep (0: never)")
	return cmd
}

// runKeeper runs the supervisor until a signal, `flowgate down` or, with
// idle set, until it has had nothing to keep for idle.
func (a *app) runKeeper(cfg *config.Config, names []string, start bool, idle time.Duration) error {
	l := layoutOf(cfg)
	if err := l.Ensure(); err != nil {
		return err
	}
	lockCtx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	lock, err := rt.AcquireLock(lockCtx, keeperLockPath(l))
	cancel()
	if err != nil {
		st, alive, _ := supervisor.ReadKeeperState(keeperStatePath(l))
		if alive {
			return failed("a flowgate supervisor already runs for %s (pid %d); use `flowgate service start|stop|restart`, or stop it with `flowgate down`", l.RuntimeDir, st.Pid)
		}
		return failed("another flowgate supervisor holds %s; wait a moment and retry", keeperLockPath(l))
	}
	defer lock.Unlock()

	// Services a previous supervisor kept (it was killed) are kept again.
	var adopt []string
	if prev, alive, _ := supervisor.ReadKeeperState(keeperStatePath(l)); prev != nil && !alive {
		for _, n := range cfg.ServiceOrder {
			if prev.Services[n].Desired {
				adopt = append(adopt, n)
			}
		}
	}
	kc := &keeperConfig{path: cfg.File, cfg: cfg}
	k := &supervisor.Keeper{
		Sup:       supervisorFor(cfg),
		StartSpec: kc.startSpec,
		StopSpec:  kc.stopSpec,
		Policy:    kc.policy,
		LogLimits: kc.logLimits,
		StatePath: keeperStatePath(l),
		SelfLog:   supervisorLogName,
		Emit:      l.Emitter(),
		Idle:      idle,
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	fmt.Fprintf(a.stderr, "flowgate supervisor pid %d for %s\n", os.Getpid(), l.RuntimeDir)
	ready := func() {
		if !start || len(names) == 0 {
			return
		}
		go func() {
			for _, r := range k.Do(ctx, supervisor.Request{Action: supervisor.ActionStart, Services: names, Env: os.Environ(), KeepTrying: true}) {
				fmt.Fprintln(a.stderr, r.String())
			}
		}()
	}
	_ = l.Emit(rt.Event{Event: "supervisor_start", Result: "success", Detail: fmt.Sprintf("pid=%d", os.Getpid())})
	err = k.Run(ctx, adopt, ready)
	_ = l.Emit(rt.Event{Event: "supervisor_stop", Result: "success", Detail: fmt.Sprintf("pid=%d", os.Getpid())})
	return err
}

// keeperConfig gives the supervisor the config as it is at each start: a
// restart picks up edits, and a config that does not load fails the start
// (and stops nothing) instead of the running service.
type keeperConfig struct {
	path string
	mu   sync.Mutex
	cfg  *config.Config // the last config that loaded
}

func (kc *keeperConfig) current() (*config.Config, error) {
	cfg, err := config.Load(kc.path)
	kc.mu.Lock()
	defer kc.mu.Unlock()
	if err != nil {
		return kc.cfg, err
	}
	kc.cfg = cfg
	registerKnownSecrets(cfg)
	return cfg, nil
}

func (kc *keeperConfig) startSpec(name string, env []string) (supervisor.Spec, error) {
	cfg, err := kc.current()
	if err != nil {
		return supervisor.Spec{}, fmt.Errorf("%v; the running %s was left as it is", err, name)
	}
	if _, ok := cfg.Services[name]; !ok {
		return supervisor.Spec{}, fmt.Errorf("services.%s is no longer in %s", name, cfg.File)
	}
	spec, err := startSpec(cfg, name)
	if err != nil {
		return spec, err
	}
	if err := preflight(cfg, name); err != nil {
		return spec, fmt.Errorf("%v; the running %s was left as it is", err, name)
	}
	spec.BaseEnv = env
	return spec, nil
}

func (kc *keeperConfig) stopSpec(name string) supervisor.Spec {
	cfg, _ := kc.current()
	if cfg == nil || cfg.Services[name] == nil {
		return supervisor.Spec{Name: name, Args: []string{name}}
	}
	return baseSpec(cfg, name)
}

// logLimits is services.NAME.log_max_bytes and log_keep of the last
// config that loaded (zero: the supervisor's defaults).
func (kc *keeperConfig) logLimits(name string) (int64, int) {
	kc.mu.Lock()
	defer kc.mu.Unlock()
	if kc.cfg == nil || kc.cfg.Services[name] == nil {
		return 0, 0
	}
	return kc.cfg.Services[name].LogMaxBytes, kc.cfg.Services[name].LogKeep
}

func (kc *keeperConfig) policy(name string) supervisor.RestartPolicy {
	kc.mu.Lock()
	defer kc.mu.Unlock()
	if kc.cfg == nil || kc.cfg.Services[name] == nil {
		return supervisor.RestartPolicy{}
	}
	r := kc.cfg.Services[name].Restart
	return supervisor.RestartPolicy{Never: r.Never, Backoff: r.Backoff, MaxBackoff: r.MaxBackoff, MaxExits: r.MaxExits, Window: r.Window}
}

// preflight checks what a service needs beyond its binary, the way the
// service itself would, so that a restart fails before it stops anything.
func preflight(cfg *config.Config, name string) error {
	svc := cfg.Services[name]
	if name == config.ServiceGateway && svc.Engine != config.EngineLiteLLM && !svc.CommandSet {
		profile := activeProfile(cfg)
		doc, err := cfg.ProfileDocument(profile)
		if err != nil {
			return err
		}
		if err := cfg.ValidateGatewayDoc(profile, doc); err != nil {
			return fmt.Errorf("gateway config (profile %s): %w", profile, err)
		}
	}
	return nil
}

// keeperFor returns a client of the supervisor of cfg's runtime folder.
// With spawn it starts one when none runs; without, it returns (nil, nil)
// when none runs.
func (a *app) keeperFor(ctx context.Context, cfg *config.Config, spawn bool) (*supervisor.KeeperClient, error) {
	l := layoutOf(cfg)
	c, err := supervisor.ConnectKeeper(keeperStatePath(l))
	if err == nil || !errors.Is(err, supervisor.ErrNoKeeper) {
		return c, err
	}
	if !spawn {
		return nil, nil
	}
	self, err := installSelf(l)
	if err != nil {
		return nil, err
	}
	logPath := filepath.Join(l.LogDir(), supervisorLogName+".log")
	logf, err := os.OpenFile(logPath, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening the supervisor log: %w", err)
	}
	defer logf.Close()
	offset, _ := logf.Seek(0, 2)
	cmd := exec.Command(self, "--config", cfg.File, "service", "run", "--start=false", "--idle", keeperIdle.String())
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := startRetryingBusy(cmd); err != nil {
		return nil, fmt.Errorf("starting the flowgate supervisor (%s): %w", self, err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := supervisor.ConnectKeeper(keeperStatePath(l))
		if err == nil {
			return c, nil
		}
		select {
		case <-exited:
			// Another command may have started one at the same moment.
			if c, err := supervisor.ConnectKeeper(keeperStatePath(l)); err == nil {
				return c, nil
			}
			return nil, fmt.Errorf("the flowgate supervisor exited at once; its log %s says: %s", logPath, strings.Join(tailFile(logPath, offset, 5), " | "))
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("the flowgate supervisor (pid %d) did not answer within 10s; see %s", cmd.Process.Pid, logPath)
		}
	}
}

// startRetryingBusy starts cmd, retrying for a moment while its executable
// is "text file busy": a copy of it was just installed and a process forked
// at that moment may still hold the new file open for writing.
func startRetryingBusy(cmd *exec.Cmd) error {
	deadline := time.Now().Add(2 * time.Second)
	for {
		err := cmd.Start()
		if err == nil || !errors.Is(err, syscall.ETXTBSY) || time.Now().After(deadline) {
			return err
		}
		time.Sleep(20 * time.Millisecond)
		c := exec.Command(cmd.Path, cmd.Args[1:]...)
		c.Dir, c.Env, c.Stdout, c.Stderr, c.SysProcAttr = cmd.Dir, cmd.Env, cmd.Stdout, cmd.Stderr, cmd.SysProcAttr
		*cmd = *c
	}
}

// tailFile returns up to n lines of path written after offset.
func tailFile(path string, offset int64, n int) []string {
	data, err := os.ReadFile(path)
	if err != nil || offset > int64(len(data)) {
		return nil
	}
	lines := strings.Split(strings.TrimSpace(string(data[offset:])), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return lines
}
