package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// profileFlowGate samples the gateway with Linux perf while one extra,
// unmeasured load of each named scenario runs (FlowGate exposes no
// net/http/pprof endpoint, so a sampling profiler from outside is the way
// to see its hot path). It writes <out>/flowgate-<scenario>.perf.txt.
func (b *bench) profileFlowGate(ctx context.Context, scs []*scenario, names []string) {
	var fg *target
	for _, t := range b.targets {
		if t.Kind == kindFlowGate {
			fg = t
		}
	}
	if fg == nil {
		return
	}
	perf, err := exec.LookPath("perf")
	if err != nil {
		b.note("no CPU profile: FlowGate exposes no pprof endpoint and perf is not installed")
		return
	}
	for _, sc := range scs {
		want := false
		for _, n := range names {
			want = want || n == sc.Name
		}
		if !want {
			continue
		}
		data := filepath.Join(b.o.Out, "flowgate-"+sc.Name+".perf.data")
		rec := exec.CommandContext(ctx, perf, "record", "-F", "999", "-g", "-p", strconv.Itoa(fg.pgid()), "-o", data)
		if out, err := os.Create(data + ".log"); err == nil {
			rec.Stdout, rec.Stderr = out, out
			defer out.Close()
		}
		if err := rec.Start(); err != nil {
			b.note("perf record failed: %v", err)
			return
		}
		time.Sleep(300 * time.Millisecond)
		b.measure(ctx, fg, sc, -1)
		_ = rec.Process.Signal(syscall.SIGINT)
		_ = rec.Wait()
		txt := filepath.Join(b.o.Out, "flowgate-"+sc.Name+".perf.txt")
		rep := exec.CommandContext(ctx, perf, "report", "-i", data, "--stdio", "--no-children", "--percent-limit", "1", "-g", "none", "--sort", "symbol")
		out, err := rep.Output()
		if err != nil {
			b.note("perf report failed: %v", err)
			continue
		}
		if err := os.WriteFile(txt, out, 0o644); err != nil {
			b.note("writing %s: %v", txt, err)
			continue
		}
		_ = os.Remove(data)
		b.note("%s", fmt.Sprintf("CPU profile of FlowGate under %s (perf, unmeasured extra run): %s", sc.Name, filepath.Base(txt)))
	}
}
