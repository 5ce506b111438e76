package supervisor

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// instances counts helper servers ever spawned (each writes a marker file
// named by its pid at start, before binding).
func instances(t *testing.T, dir string) int {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	return len(entries)
}

func countResults(results [][]Result, service, result string) int {
	n := 0
	for _, rs := range results {
		for _, r := range rs {
			if r.Service == service && r.Result == result {
				n++
			}
		}
	}
	return n
}

func markedSpecs(t *testing.T) ([]Spec, map[string]string) {
	t.Helper()
	marks := map[string]string{}
	var specs []Spec
	for _, name := range []string{"cliproxyapi_plus", "gateway"} {
		dir := filepath.Join(t.TempDir(), name)
		os.MkdirAll(dir, 0o700)
		marks[name] = dir
		specs = append(specs, helperSpec(t, name, "serve", freePort(t), "FG_HELPER_MARKS="+dir))
	}
	return specs, marks
}

func checkExactlyOne(t *testing.T, specs []Spec, marks map[string]string, results [][]Result) {
	t.Helper()
	for _, spec := range specs {
		if got := countResults(results, spec.Name, ResultStarted); got != 1 {
			t.Errorf("%s: %d starts succeeded, want 1: %+v", spec.Name, got, results)
		}
		if got := countResults(results, spec.Name, ResultAlreadyRunning); got != len(results)-1 {
			t.Errorf("%s: %d already-running, want %d: %+v", spec.Name, got, len(results)-1, results)
		}
		if got := instances(t, marks[spec.Name]); got != 1 {
			t.Errorf("%s: %d instances spawned, want 1", spec.Name, got)
		}
	}
}

func TestConcurrentStartAllInGoroutinesYieldsOneInstancePerService(t *testing.T) {
	sup, _ := newSupervisor(t)
	specs, marks := markedSpecs(t)
	stopAtEnd(t, sup, specs...)

	results := make([][]Result, 2)
	var wg sync.WaitGroup
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = sup.StartAll(context.Background(), specs)
		}()
	}
	wg.Wait()
	checkExactlyOne(t, specs, marks, results)
}

func TestConcurrentStartAllInTwoProcessesYieldsOneInstancePerService(t *testing.T) {
	sup, _ := newSupervisor(t)
	specs, marks := markedSpecs(t)
	stopAtEnd(t, sup, specs...)
	specJSON, err := json.Marshal(specs)
	if err != nil {
		t.Fatal(err)
	}

	cmds := make([]*exec.Cmd, 2)
	outs := make([][]byte, 2)
	var wg sync.WaitGroup
	for i := range cmds {
		cmds[i] = exec.Command(helperExe(t))
		cmds[i].Env = append(os.Environ(), helperEnv+"=startall",
			"FG_HELPER_PIDDIR="+sup.PidDir, "FG_HELPER_LOGDIR="+sup.LogDir, "FG_HELPER_SPECS="+string(specJSON))
		wg.Add(1)
		go func() {
			defer wg.Done()
			outs[i], _ = cmds[i].Output()
		}()
	}
	wg.Wait()
	results := make([][]Result, 2)
	for i, out := range outs {
		if err := json.Unmarshal(out, &results[i]); err != nil {
			t.Fatalf("process %d printed %q: %v", i, out, err)
		}
	}
	checkExactlyOne(t, specs, marks, results)
	for _, spec := range specs {
		mustState(t, sup, spec, StateRunning)
	}
}
