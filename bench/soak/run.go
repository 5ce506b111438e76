package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"
)

// maxAttackRSSMB is the gateway's allowed peak memory under the big-body
// attack.
const maxAttackRSSMB = 300

// minMixed is the shortest mixed-traffic phase.
const minMixed = 10 * time.Second

// sample is the gateway's memory at one moment of the run.
type sample struct {
	T     float64 `json:"t_s"`
	RSSMB float64 `json:"rss_mb"`
	Phase string  `json:"phase"`
}

// report is what one soak run found.
type report struct {
	Started     time.Time             `json:"started"`
	Duration    string                `json:"duration"`
	Workers     int                   `json:"workers"`
	CPUs        int                   `json:"cpus"`
	Requests    int64                 `json:"requests"`
	Unexpected  int64                 `json:"unexpected"`
	Kinds       map[string]*kindStats `json:"kinds"`
	Attack      attackResult          `json:"attack"`
	PeakRSSMB   float64               `json:"peak_rss_mb_after_attack"`
	FinalRSSMB  float64               `json:"final_rss_mb"`
	GatewayOK   bool                  `json:"gateway_alive_and_ready"`
	GatewayNote string                `json:"gateway_note,omitempty"`
	Samples     []sample              `json:"rss_samples"`
}

func (r *report) ok() bool {
	return r.Unexpected == 0 && r.GatewayOK && r.Attack.PeakRSSMB < maxAttackRSSMB && len(r.Attack.Failures) == 0
}

// run starts the upstream and the gateway, runs the attack and the mixed
// traffic until o.Duration has passed, and reports.
func run(ctx context.Context, o options, logf func(string, ...any)) (*report, error) {
	start := time.Now()
	deadline := start.Add(o.Duration)
	work := filepath.Join(o.Out, "work")
	if err := os.MkdirAll(work, 0o700); err != nil {
		return nil, err
	}
	work, _ = filepath.Abs(work)
	up, err := startUpstream()
	if err != nil {
		return nil, err
	}
	defer up.close()
	bin := o.FlowGateBin
	if bin == "" {
		logf("building ./cmd/flowgate")
		if bin, err = buildFlowGate(ctx, work); err != nil {
			return nil, err
		}
	}
	g, err := startGateway(ctx, bin, work, up.addr())
	if err != nil {
		return nil, err
	}
	defer g.stop()
	rep := &report{Started: start, Duration: o.Duration.String(), Workers: o.Workers, CPUs: runtime.NumCPU()}

	// Memory over time, one sample a second.
	var (
		smu   sync.Mutex
		phase = "attack"
	)
	sampleNow := func() {
		rss, _ := g.memKB()
		smu.Lock()
		rep.Samples = append(rep.Samples, sample{T: time.Since(start).Seconds(), RSSMB: mb(rss), Phase: phase})
		smu.Unlock()
	}
	sctx, stopSampling := context.WithCancel(ctx)
	var swg sync.WaitGroup
	swg.Add(1)
	go func() {
		defer swg.Done()
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			sampleNow()
			select {
			case <-sctx.Done():
				return
			case <-t.C:
			}
		}
	}()

	logf("attack: %d concurrent chunked bodies of %d bytes", o.AttackBodies, o.AttackBytes)
	rep.Attack = bigBodyAttack(ctx, g, o.AttackBodies, o.AttackBytes)
	logf("attack: statuses %v, peak RSS %.0f MB", rep.Attack.Statuses, rep.Attack.PeakRSSMB)
	g.resetPeak()
	smu.Lock()
	phase = "mixed"
	smu.Unlock()

	// The mixed phase lasts at least minMixed, however long the attack took,
	// so that the slow hostile clients (a trickled body takes 5 s) finish.
	if d := time.Now().Add(minMixed); deadline.Before(d) {
		deadline = d
	}
	logf("mixed traffic with faults until %s", deadline.Format(time.TimeOnly))
	mctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	t := newTally()
	c := newClient(g, o.Workers)
	sc := scenarios()
	total := 0
	for _, s := range sc {
		total += s.weight
	}
	var wg sync.WaitGroup
	for i := 0; i < o.Workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for mctx.Err() == nil {
				s := pick(sc, total)
				err := s.run(mctx, c)
				if mctx.Err() != nil {
					return // cut by the end of the run, not by the gateway
				}
				t.add(s.name, err)
			}
		}()
	}
	// Hostile clients beside the traffic.
	hostile := func(name string, every time.Duration, f func() error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for mctx.Err() == nil {
				err := f()
				if mctx.Err() != nil {
					return
				}
				t.add(name, err)
				select {
				case <-mctx.Done():
				case <-time.After(every):
				}
			}
		}()
	}
	hostile("keyless-body-withheld", time.Second, func() error { return keylessTrickle(g) })
	hostile("body-trickled", 0, func() error { return authedTrickle(mctx, g) })
	hostile("body-over-limit", 15*time.Second, func() error {
		if time.Until(deadline) < 10*time.Second {
			<-mctx.Done()
			return nil
		}
		_, err := bigChunked(mctx, g, o.AttackBytes)
		return err
	})
	wg.Wait()

	stopSampling()
	swg.Wait()
	rss, hwm := g.memKB()
	rep.FinalRSSMB, rep.PeakRSSMB = mb(rss), mb(hwm)
	rep.GatewayOK, rep.GatewayNote = gatewayReady(g)
	rep.Kinds = t.kinds
	for _, k := range t.kinds {
		rep.Requests += k.Requests
		rep.Unexpected += k.Unexpected
	}
	return rep, nil
}

func gatewayReady(g *gatewayProc) (bool, string) {
	if !g.alive() {
		return false, "the gateway process exited during the run; see " + g.log
	}
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Get(g.base + "/health/readiness")
	if err != nil {
		return false, "readiness: " + err.Error()
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		return false, fmt.Sprintf("readiness answered %d", resp.StatusCode)
	}
	return true, ""
}

// write saves report.json, report.md and rss.csv into dir.
func (r *report) write(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	j, _ := json.MarshalIndent(r, "", "  ")
	if err := os.WriteFile(filepath.Join(dir, "report.json"), j, 0o644); err != nil {
		return err
	}
	var csv strings.Builder
	csv.WriteString("t_s,rss_mb,phase\n")
	for _, s := range r.Samples {
		fmt.Fprintf(&csv, "%.1f,%.1f,%s\n", s.T, s.RSSMB, s.Phase)
	}
	if err := os.WriteFile(filepath.Join(dir, "rss.csv"), []byte(csv.String()), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "report.md"), []byte(r.markdown()), 0o644)
}

func (r *report) markdown() string {
	var b strings.Builder
	verdict := "PASS"
	if !r.ok() {
		verdict = "FAIL"
	}
	fmt.Fprintf(&b, "# FlowGate soak: %s\n\n", verdict)
	fmt.Fprintf(&b, "Started %s, duration %s, %d workers, %d CPUs.\n\n", r.Started.Format(time.RFC3339), r.Duration, r.Workers, r.CPUs)
	fmt.Fprintf(&b, "- requests: %d, unexpected outcomes: %d\n", r.Requests, r.Unexpected)
	fmt.Fprintf(&b, "- big-body attack: %d concurrent chunked bodies of %d bytes in %d ms, answers %v; gateway peak RSS %.0f MB (limit %d), %.0f MB before, %.0f MB after\n",
		r.Attack.Bodies, r.Attack.BodyBytes, r.Attack.DurationMS, r.Attack.Statuses, r.Attack.PeakRSSMB, maxAttackRSSMB, r.Attack.BeforeMB, r.Attack.AfterMB)
	for _, f := range r.Attack.Failures {
		fmt.Fprintf(&b, "  - attack failure: %s\n", f)
	}
	fmt.Fprintf(&b, "- mixed traffic: gateway peak RSS %.0f MB, %.0f MB at the end\n", r.PeakRSSMB, r.FinalRSSMB)
	if r.GatewayOK {
		b.WriteString("- gateway alive and ready at the end\n")
	} else {
		fmt.Fprintf(&b, "- gateway NOT ready at the end: %s\n", r.GatewayNote)
	}
	b.WriteString("\n| kind | requests | unexpected | examples |\n| --- | ---: | ---: | --- |\n")
	names := make([]string, 0, len(r.Kinds))
	for n := range r.Kinds {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		k := r.Kinds[n]
		fmt.Fprintf(&b, "| %s | %d | %d | %s |\n", n, k.Requests, k.Unexpected, strings.ReplaceAll(strings.Join(k.Examples, "; "), "|", "\\|"))
	}
	b.WriteString("\nGateway RSS over time (all samples in rss.csv):\n\n| t (s) | RSS (MB) | phase |\n| ---: | ---: | --- |\n")
	step := max(1, len(r.Samples)/20)
	for i := 0; i < len(r.Samples); i += step {
		s := r.Samples[i]
		fmt.Fprintf(&b, "| %.0f | %.1f | %s |\n", s.T, s.RSSMB, s.Phase)
	}
	if n := len(r.Samples); n > 0 && (n-1)%step != 0 {
		s := r.Samples[n-1]
		fmt.Fprintf(&b, "| %.0f | %.1f | %s |\n", s.T, s.RSSMB, s.Phase)
	}
	return b.String()
}
