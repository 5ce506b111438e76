package supervisor

import (
	"context"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func syscallKill(pid int) error { return syscall.Kill(pid, syscall.SIGKILL) }

// spawnUnsupervised starts a helper that is not managed by any Supervisor.
func spawnUnsupervised(t *testing.T, mode string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(helperExe(t))
	cmd.Env = append(os.Environ(), helperEnv+"="+mode)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd
}

func TestStaleRecordNamingAnotherLiveProcessIsNeverSignalled(t *testing.T) {
	sup, rec := newSupervisor(t)
	bystander := spawnUnsupervised(t, "sleep")
	t.Cleanup(func() { bystander.Process.Kill(); bystander.Wait() })
	info, err := readProc(bystander.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	// A pid file from an earlier run whose pid got recycled by the bystander.
	os.MkdirAll(sup.PidDir, 0o700)
	old := &PidRecord{Pid: info.Pid, Pgid: info.Pid, StartTime: info.StartTime - 1, Argv: []string{"litellm"}, StartedAt: time.Now().Add(-time.Hour)}
	if err := writePidRecord(sup.PidPath("litellm"), old); err != nil {
		t.Fatal(err)
	}
	spec := helperSpec(t, "litellm", "sleep", 0)
	stopAtEnd(t, sup, spec)

	st := mustState(t, sup, spec, StateStale)
	if st.Pid != info.Pid || !strings.Contains(st.Note, "left untouched") {
		t.Errorf("status = %+v", st)
	}
	res := sup.Stop(context.Background(), spec)
	if res.Result != ResultStale || !res.OK() {
		t.Fatalf("stop = %+v", res)
	}
	if !alive(info.Pid) {
		t.Fatal("stop signalled the unrelated process")
	}
	if _, err := os.Stat(sup.PidPath("litellm") + ".stale"); err != nil {
		t.Errorf("stale record not kept aside: %v", err)
	}
	mustState(t, sup, spec, StateStopped)
	if evs := rec.list(); len(evs) != 1 || evs[0].Result != "stale-pid" {
		t.Errorf("events = %+v", evs)
	}

	// A start with a stale record moves it aside and starts normally.
	writePidRecord(sup.PidPath("litellm"), old)
	start := sup.Start(context.Background(), spec)
	if start.Result != ResultStarted || start.Pid == info.Pid || !strings.Contains(start.Note, "stale") {
		t.Fatalf("start = %+v", start)
	}
	if !alive(info.Pid) {
		t.Fatal("start signalled the unrelated process")
	}
}

func TestLegacyPidFileWithoutStartTimeIsNeverSignalled(t *testing.T) {
	sup, _ := newSupervisor(t)
	bystander := spawnUnsupervised(t, "sleep")
	t.Cleanup(func() { bystander.Process.Kill(); bystander.Wait() })
	os.MkdirAll(sup.PidDir, 0o700)
	os.WriteFile(sup.PidPath("litellm"), []byte(strconv.Itoa(bystander.Process.Pid)), 0o600)
	spec := helperSpec(t, "litellm", "sleep", 0)
	mustState(t, sup, spec, StateStale)
	if res := sup.Stop(context.Background(), spec); res.Result != ResultStale {
		t.Fatalf("stop = %+v", res)
	}
	if !alive(bystander.Process.Pid) {
		t.Fatal("legacy pid was signalled")
	}
}

func TestZombieCountsAsDead(t *testing.T) {
	sup, _ := newSupervisor(t)
	child := spawnUnsupervised(t, "exit0")
	pid := child.Process.Pid
	// Not reaped yet: it stays a zombie until Wait.
	waitFor(t, 10*time.Second, "child to become a zombie", func() bool {
		p, err := readProc(pid)
		return err == nil && p.Zombie()
	})
	info, _ := readProc(pid)
	os.MkdirAll(sup.PidDir, 0o700)
	writePidRecord(sup.PidPath("gateway"), &PidRecord{Pid: pid, Pgid: info.Pgid, StartTime: info.StartTime, StartedAt: time.Now()})
	spec := helperSpec(t, "gateway", "sleep", 0)

	mustState(t, sup, spec, StateCrashed)
	if res := sup.Stop(context.Background(), spec); res.Result != ResultNotRunning {
		t.Errorf("stop = %+v", res)
	}
	child.Wait()
}
