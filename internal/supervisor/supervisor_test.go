package supervisor

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flowgate/flowgate/internal/runtime"
)

// recorder collects emitted events.
type recorder struct {
	mu     sync.Mutex
	events []runtime.Event
}

func (r *recorder) emit(ev runtime.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, ev)
}

func (r *recorder) list() []runtime.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]runtime.Event(nil), r.events...)
}

func newSupervisor(t *testing.T) (*Supervisor, *recorder) {
	t.Helper()
	dir := t.TempDir()
	rec := &recorder{}
	return &Supervisor{
		PidDir: filepath.Join(dir, "runtime", "pids"),
		LogDir: filepath.Join(dir, "runtime", "process-logs"),
		Emit:   rec.emit,
	}, rec
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func helperExe(t *testing.T) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return exe
}

// helperSpec runs the test binary in the given helper mode. A non-zero
// port makes it a served service with a readiness URL.
func helperSpec(t *testing.T, name, mode string, port int, env ...string) Spec {
	spec := Spec{
		Name:         name,
		Args:         []string{helperExe(t)},
		Env:          append([]string{helperEnv + "=" + mode, "FG_HELPER_PORT=" + strconv.Itoa(port)}, env...),
		Port:         port,
		StopTimeout:  5 * time.Second,
		ReadyTimeout: 20 * time.Second, // generous: -race binaries on a shared 2-core box
	}
	if port > 0 {
		spec.ReadinessURL = URLFor("127.0.0.1", port, "/ready")
	}
	return spec
}

// stopAtEnd makes sure no test leaves children behind.
func stopAtEnd(t *testing.T, sup *Supervisor, specs ...Spec) {
	t.Cleanup(func() { sup.StopAll(context.Background(), specs) })
}

func waitFor(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func listening(port int) bool {
	c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), time.Second)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

func alive(pid int) bool {
	p, err := readProc(pid)
	return err == nil && !p.Zombie()
}

func mustState(t *testing.T, sup *Supervisor, spec Spec, want State) Status {
	t.Helper()
	st, err := sup.Inspect(spec)
	if err != nil {
		t.Fatalf("inspect %s: %v", spec.Name, err)
	}
	if st.State != want {
		t.Fatalf("state of %s = %s (%s), want %s", spec.Name, st.State, st.Note, want)
	}
	return st
}

func TestStartInspectProbeRestartStopRoundTripEmitsEvents(t *testing.T) {
	sup, rec := newSupervisor(t)
	port := freePort(t)
	spec := helperSpec(t, "gateway", "serve", port)
	stopAtEnd(t, sup, spec)
	ctx := context.Background()

	mustState(t, sup, spec, StateStopped)
	res := sup.Start(ctx, spec)
	if res.Result != ResultStarted || res.Pid == 0 || res.ReadyIn <= 0 {
		t.Fatalf("start = %+v", res)
	}
	if want := "gateway: started pid=" + strconv.Itoa(res.Pid) + " ready in "; !strings.HasPrefix(res.String(), want) {
		t.Errorf("line = %q, want prefix %q", res.String(), want)
	}
	st := mustState(t, sup, spec, StateRunning)
	if st.Pid != res.Pid || st.PortHolder != nil || st.Port != port {
		t.Errorf("status = %+v", st)
	}
	if p := Probe(ctx, spec.ReadinessURL, time.Second); !p.OK || p.Code != 200 {
		t.Errorf("probe = %+v", p)
	}
	fi, err := os.Stat(sup.PidPath("gateway"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("pid file: %v %v", fi, err)
	}

	again := sup.Start(ctx, spec)
	if again.Result != ResultAlreadyRunning || again.Pid != res.Pid {
		t.Fatalf("second start = %+v", again)
	}
	if want := "gateway: already running pid=" + strconv.Itoa(res.Pid); again.String() != want {
		t.Errorf("line = %q, want %q", again.String(), want)
	}

	re := sup.Restart(ctx, spec)
	if re.Result != ResultRestarted || re.Pid == 0 || re.Pid == res.Pid {
		t.Fatalf("restart = %+v", re)
	}
	if alive(res.Pid) {
		t.Errorf("old pid %d survived restart", res.Pid)
	}

	stop := sup.Stop(ctx, spec)
	if stop.Result != ResultStopped || stop.Pid != re.Pid {
		t.Fatalf("stop = %+v", stop)
	}
	mustState(t, sup, spec, StateStopped)
	if p := Probe(ctx, spec.ReadinessURL, time.Second); p.OK || p.Kind != ProbeRefused {
		t.Errorf("probe after stop = %+v", p)
	}
	if again := sup.Stop(ctx, spec); again.Result != ResultNotRunning {
		t.Errorf("second stop = %+v", again)
	}

	var got []string
	for _, ev := range rec.list() {
		if ev.Service != "gateway" {
			t.Errorf("event for %q", ev.Service)
		}
		got = append(got, ev.Event+":"+ev.Result+":"+ev.Detail)
	}
	want := []string{
		"service_start:success:pid=" + strconv.Itoa(res.Pid),
		"service_start:already-running:pid=" + strconv.Itoa(res.Pid),
		"service_restart:success:pid=" + strconv.Itoa(re.Pid),
		"service_stop:success:pid=" + strconv.Itoa(re.Pid),
		"service_stop:not-running:",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestStartFailsFastNamingPortHolderAndOtherServicesStillStart(t *testing.T) {
	sup, rec := newSupervisor(t)
	heldPort, freeP := freePort(t), freePort(t)

	// Another process (not a supervised one) holds the port.
	squatter := helperSpec(t, "squatter", "serve", heldPort)
	other := &Supervisor{PidDir: t.TempDir(), LogDir: t.TempDir()}
	sq := other.Start(context.Background(), squatter)
	stopAtEnd(t, other, squatter)
	if sq.Result != ResultStarted {
		t.Fatalf("squatter: %+v", sq)
	}

	blocked := helperSpec(t, "cliproxyapi_plus", "serve", heldPort)
	fine := helperSpec(t, "gateway", "serve", freeP)
	stopAtEnd(t, sup, blocked, fine)
	res := sup.StartAll(context.Background(), []Spec{blocked, fine})

	if res[0].Result != ResultFailed || res[0].Pid != 0 {
		t.Fatalf("blocked start = %+v", res[0])
	}
	for _, want := range []string{
		"pid " + strconv.Itoa(sq.Pid),
		"lsof -nP -iTCP:" + strconv.Itoa(heldPort) + " -sTCP:LISTEN",
		"services.cliproxyapi_plus.port",
	} {
		if !strings.Contains(res[0].Error, want) {
			t.Errorf("error %q lacks %q", res[0].Error, want)
		}
	}
	if _, err := os.Stat(sup.LogPath("cliproxyapi_plus")); !os.IsNotExist(err) {
		t.Errorf("blocked service was spawned anyway (log exists: %v)", err)
	}
	if res[1].Result != ResultStarted {
		t.Errorf("other service = %+v", res[1])
	}
	st := mustState(t, sup, blocked, StateStopped)
	if st.PortHolder == nil || st.PortHolder.Pid != sq.Pid {
		t.Errorf("status port holder = %+v, want pid %d", st.PortHolder, sq.Pid)
	}
	evs := rec.list()
	if len(evs) != 2 || evs[0].Result != "failed" || evs[1].Result != "success" {
		t.Errorf("events = %+v", evs)
	}
}

func TestStartReportsFailedWithLogTailWhenChildExitsZeroAtOnce(t *testing.T) {
	sup, rec := newSupervisor(t)
	spec := helperSpec(t, "cliproxyapi_plus", "exit0", freePort(t))
	stopAtEnd(t, sup, spec)

	res := sup.Start(context.Background(), spec)
	if res.Result != ResultFailed {
		t.Fatalf("start = %+v", res)
	}
	if !strings.Contains(res.Error, "exited with status 0") || !strings.Contains(res.Error, "flowgate logs cliproxyapi_plus") {
		t.Errorf("error = %q", res.Error)
	}
	if len(res.LogTail) == 0 || !strings.Contains(strings.Join(res.LogTail, "\n"), "failed to load config") {
		t.Errorf("log tail = %q", res.LogTail)
	}
	if _, err := os.Stat(sup.PidPath(spec.Name)); !os.IsNotExist(err) {
		t.Errorf("pid file left behind: %v", err)
	}
	if res.Pid != 0 && alive(res.Pid) {
		t.Errorf("pid %d still alive", res.Pid)
	}
	mustState(t, sup, spec, StateStopped)
	if evs := rec.list(); len(evs) != 1 || evs[0].Result != "failed" {
		t.Errorf("events = %+v", evs)
	}
}

func TestStartThatNeverBecomesReadyIsKilledAndReported(t *testing.T) {
	sup, _ := newSupervisor(t)
	port := freePort(t)
	spec := helperSpec(t, "litellm", "serve", port)
	spec.ReadinessURL = URLFor("127.0.0.1", port, "/never-ready")
	spec.ReadyTimeout = time.Second
	stopAtEnd(t, sup, spec)

	res := sup.Start(context.Background(), spec)
	if res.Result != ResultFailed || !strings.Contains(res.Error, "did not become ready") || !strings.Contains(res.Error, "status 503") {
		t.Fatalf("start = %+v", res)
	}
	waitFor(t, 5*time.Second, "port to be released", func() bool { return !listening(port) })
	if alive(res.Pid) {
		t.Errorf("pid %d still alive", res.Pid)
	}
	mustState(t, sup, spec, StateStopped)
}

// grandchildPid reads the wrapper's "grandchild pid N" line from its log.
func grandchildPid(t *testing.T, sup *Supervisor, name string) int {
	t.Helper()
	lines, err := sup.TailLog(name, 50)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range lines {
		if rest, ok := strings.CutPrefix(l, "wrapper: grandchild pid "); ok {
			pid, _ := strconv.Atoi(rest)
			return pid
		}
	}
	t.Fatalf("no grandchild pid in log: %q", lines)
	return 0
}

func TestStopLeavesNoGrandchildHoldingThePort(t *testing.T) {
	for _, tc := range []struct {
		name   string
		ignore string
	}{
		{"grandchild honours SIGTERM", "0"},
		{"grandchild ignores SIGTERM", "1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sup, _ := newSupervisor(t)
			port := freePort(t)
			spec := helperSpec(t, "litellm", "wrapper", port, "FG_HELPER_GRANDCHILD_IGNORE_TERM="+tc.ignore)
			spec.StopTimeout = 300 * time.Millisecond
			stopAtEnd(t, sup, spec)

			res := sup.Start(context.Background(), spec)
			if res.Result != ResultStarted {
				t.Fatalf("start = %+v", res)
			}
			gc := grandchildPid(t, sup, spec.Name)
			st := mustState(t, sup, spec, StateRunning)
			if st.PortHolder != nil {
				t.Errorf("own grandchild reported as foreign port holder: %+v", st.PortHolder)
			}
			stop := sup.Stop(context.Background(), spec)
			if stop.Result != ResultStopped || stop.Note != "" {
				t.Fatalf("stop = %+v", stop)
			}
			if listening(port) {
				t.Errorf("port %d still listening after stop", port)
			}
			if alive(gc) {
				t.Errorf("grandchild %d survived stop", gc)
			}
		})
	}
}

func TestStopOfCrashedLeaderStopsOrphanedGroupMembers(t *testing.T) {
	sup, _ := newSupervisor(t)
	port := freePort(t)
	spec := helperSpec(t, "litellm", "wrapper", port)
	stopAtEnd(t, sup, spec)
	res := sup.Start(context.Background(), spec)
	if res.Result != ResultStarted {
		t.Fatalf("start = %+v", res)
	}
	gc := grandchildPid(t, sup, spec.Name)
	// The wrapper dies; the server it spawned keeps the port.
	if err := syscallKill(res.Pid); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "wrapper to die", func() bool { return !alive(res.Pid) })
	st := mustState(t, sup, spec, StateCrashed)
	if !strings.Contains(st.Note, "still run") {
		t.Errorf("crashed note = %q", st.Note)
	}
	stop := sup.Stop(context.Background(), spec)
	if stop.Result != ResultNotRunning || !strings.Contains(stop.Note, "leftover") {
		t.Fatalf("stop = %+v", stop)
	}
	if alive(gc) || listening(port) {
		t.Errorf("orphaned grandchild %d survived (listening=%v)", gc, listening(port))
	}
	mustState(t, sup, spec, StateStopped)
}

func TestStartWaitsForTheReadyLogLineAfterTheProbe(t *testing.T) {
	sup, _ := newSupervisor(t)
	port := freePort(t)
	spec := helperSpec(t, "cliproxyapi_plus", "serve", port, "FG_HELPER_LATE_LINE=full client load complete")
	spec.ReadinessURL = fmt.Sprintf("http://127.0.0.1:%d/ready", port)
	spec.ReadyLogLine = "full client load complete"
	stopAtEnd(t, sup, spec)
	res := sup.Start(context.Background(), spec)
	if res.Result != ResultStarted {
		t.Fatalf("start: %+v", res)
	}
	log, _ := os.ReadFile(sup.LogPath(spec.Name))
	if !strings.Contains(string(log), "full client load complete") {
		t.Fatalf("start returned before the ready line was written:\n%s", log)
	}

	// A child that never writes the line still counts as started.
	other := helperSpec(t, "gateway", "serve", freePort(t))
	other.ReadyLogLine, other.ReadyLogWait = "never printed", 100*time.Millisecond
	stopAtEnd(t, sup, other)
	if res := sup.Start(context.Background(), other); res.Result != ResultStarted {
		t.Fatalf("start without the line: %+v", res)
	}
}
