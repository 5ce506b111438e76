package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// report is everything one run produced; report.json is this struct.
type report struct {
	Generated string       `json:"generated"`
	Command   string       `json:"command"`
	Machine   machine      `json:"machine"`
	Mode      string       `json:"mode"`
	Reps      int          `json:"reps"`
	Mock      mockConfig   `json:"mock"`
	Scenarios []*scenario  `json:"scenarios"`
	Targets   []targetInfo `json:"targets"`
	Summary   []summary    `json:"summary"`
	Checks    []check      `json:"checks,omitempty"`
	Ratios    []ratio      `json:"litellm_ratios,omitempty"`
	Notes     []string     `json:"notes,omitempty"`
	Runs      []*runResult `json:"runs"`
	pooled    map[string][]float64
}

type machine struct {
	NProc     int    `json:"nproc"`
	CPU       string `json:"cpu_model"`
	Kernel    string `json:"kernel"`
	GoVersion string `json:"go_version"`
}

type targetInfo struct {
	Name  string        `json:"name"`
	Kind  string        `json:"kind"`
	Base  string        `json:"base"`
	Scale float64       `json:"n_scale"`
	Proc  *processFacts `json:"process,omitempty"`
}

// summary is one (scenario, target) over all repetitions: the median across
// repetitions of each per-repetition figure; added = target - direct in the
// same repetition, then the median.
type summary struct {
	Scenario    string  `json:"scenario"`
	Target      string  `json:"target"`
	N           int     `json:"n_total"`
	OK          int     `json:"n_ok"`
	Errors      int     `json:"errors"`
	FirstError  string  `json:"first_error,omitempty"`
	P50         float64 `json:"p50_ms"`
	P90         float64 `json:"p90_ms"`
	P99         float64 `json:"p99_ms"`
	Max         float64 `json:"max_ms"`
	AddedP50    float64 `json:"added_p50_ms"`
	AddedP99    float64 `json:"added_p99_ms"`
	RPS         float64 `json:"rps"`
	CPUPer1k    float64 `json:"cpu_s_per_1k"`
	MockCPUPer1 float64 `json:"mock_cpu_s_per_1k"`
	NewConnsPer float64 `json:"new_upstream_conns_per_req"`
	PeakRSSMB   float64 `json:"peak_rss_mb,omitempty"`
	MaxRSSMB    float64 `json:"max_sampled_rss_mb,omitempty"`
	TTFBP50     float64 `json:"ttfb_p50_ms,omitempty"`
	TTFBP99     float64 `json:"ttfb_p99_ms,omitempty"`
	AddedTTFB50 float64 `json:"added_ttfb_p50_ms,omitempty"`
	AddedTTFB99 float64 `json:"added_ttfb_p99_ms,omitempty"`
	GapP50      float64 `json:"gap_p50_ms,omitempty"`
	GapP99      float64 `json:"gap_p99_ms,omitempty"`
	DeltasSent  int     `json:"deltas_sent,omitempty"`
	DeltasRecv  int     `json:"deltas_recv,omitempty"`
	Coalesced   int     `json:"coalesced,omitempty"`
	Upstream    string  `json:"upstream_endpoint,omitempty"`
	stream      bool
}

// check is one performance target for FlowGate.
type check struct {
	Target   string `json:"target"`
	Measured string `json:"measured"`
	Met      bool   `json:"met"`
}

type ratio struct {
	Scenario string  `json:"scenario"`
	FlowGate float64 `json:"flowgate_rps"`
	LiteLLM  float64 `json:"litellm_rps"`
	Ratio    float64 `json:"ratio"`
}

func machineInfo() machine {
	m := machine{NProc: runtime.NumCPU(), GoVersion: runtime.Version()}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
	}
	if out, err := exec.Command("uname", "-r").Output(); err == nil {
		m.Kernel = strings.TrimSpace(string(out))
	}
	if out, err := exec.Command("go", "env", "GOVERSION").Output(); err == nil {
		m.GoVersion = strings.TrimSpace(string(out))
	}
	return m
}

func (b *bench) report(scs []*scenario) *report {
	mode := "full"
	if b.o.Quick {
		mode = "quick"
	}
	rep := &report{Generated: time.Now().UTC().Format(time.RFC3339), Command: strings.Join(os.Args, " "), Machine: machineInfo(),
		Mode: mode, Reps: b.o.Reps, Mock: b.o.Mock, Scenarios: scs, Notes: b.notes, Runs: b.results, pooled: map[string][]float64{}}
	for _, t := range b.targets {
		rep.Targets = append(rep.Targets, targetInfo{Name: t.Name, Kind: t.Kind, Base: t.Base, Scale: t.Scale, Proc: t.cl})
	}
	for _, sc := range scs {
		direct := map[int]*runResult{}
		for _, r := range b.results {
			if r.Scenario == sc.Name && r.Target == "direct" {
				direct[r.Rep] = r
			}
		}
		for _, t := range b.targets {
			s := summary{Scenario: sc.Name, Target: t.Name, stream: sc.Stream}
			var p50, p90, p99, mx, a50, a99, rps, cpu, mcpu, conns, peak, maxr, tb50, tb99, at50, at99, g50, g99 []float64
			ups := map[string]int64{}
			for _, r := range b.results {
				if r.Scenario != sc.Name || r.Target != t.Name {
					continue
				}
				s.N += r.N
				s.OK += len(r.lat)
				s.Errors += r.Errors
				if s.FirstError == "" {
					s.FirstError = r.FirstError
				}
				rep.pooled[sc.Name+"/"+t.Name] = append(rep.pooled[sc.Name+"/"+t.Name], r.lat...)
				if r.LatMS.N == 0 {
					continue
				}
				p50, p90, p99, mx = append(p50, r.LatMS.P50), append(p90, r.LatMS.P90), append(p99, r.LatMS.P99), append(mx, r.LatMS.Max)
				rps, mcpu, conns = append(rps, r.RPS), append(mcpu, r.MockCPUPer1), append(conns, r.NewConnsPer)
				if r.CPUSecPer1k >= 0 {
					cpu = append(cpu, r.CPUSecPer1k)
				}
				if r.PeakRSSMB > 0 {
					peak, maxr = append(peak, r.PeakRSSMB), append(maxr, r.MaxRSSMB)
				}
				d := direct[r.Rep]
				if d != nil && d.LatMS.N > 0 {
					a50, a99 = append(a50, r.LatMS.P50-d.LatMS.P50), append(a99, r.LatMS.P99-d.LatMS.P99)
				}
				if r.TTFBMS != nil {
					tb50, tb99 = append(tb50, r.TTFBMS.P50), append(tb99, r.TTFBMS.P99)
					g50, g99 = append(g50, r.GapMS.P50), append(g99, r.GapMS.P99)
					if d != nil && d.TTFBMS != nil && d.TTFBMS.N > 0 {
						at50, at99 = append(at50, r.TTFBMS.P50-d.TTFBMS.P50), append(at99, r.TTFBMS.P99-d.TTFBMS.P99)
					}
					s.DeltasSent += r.DeltasSent
					s.DeltasRecv += r.DeltasRecv
					s.Coalesced += r.Coalesced
				}
				for k, v := range r.Upstream {
					ups[k] += v
				}
			}
			s.P50, s.P90, s.P99, s.Max = median(p50), median(p90), median(p99), maxOf(mx)
			s.AddedP50, s.AddedP99 = median(a50), median(a99)
			s.RPS, s.MockCPUPer1, s.NewConnsPer = median(rps), median(mcpu), median(conns)
			s.CPUPer1k = -1
			if len(cpu) > 0 {
				s.CPUPer1k = median(cpu)
			}
			s.PeakRSSMB, s.MaxRSSMB = maxOf(peak), maxOf(maxr)
			s.TTFBP50, s.TTFBP99, s.AddedTTFB50, s.AddedTTFB99 = median(tb50), median(tb99), median(at50), median(at99)
			s.GapP50, s.GapP99 = median(g50), median(g99)
			var eps []string
			for k := range ups {
				eps = append(eps, k)
			}
			s.Upstream = strings.Join(sortedStrings(eps), "+")
			rep.Summary = append(rep.Summary, s)
		}
	}
	rep.Checks, rep.Ratios = b.checks(rep)
	return rep
}

func maxOf(v []float64) float64 {
	m := 0.0
	for _, x := range v {
		m = max(m, x)
	}
	return m
}

func sortedStrings(s []string) []string {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
	return s
}

func (r *report) find(sc, t string) *summary {
	for i := range r.Summary {
		if r.Summary[i].Scenario == sc && r.Summary[i].Target == t {
			return &r.Summary[i]
		}
	}
	return nil
}

// checks evaluates FlowGate against the targets.
func (b *bench) checks(rep *report) ([]check, []ratio) {
	var cs []check
	var rs []ratio
	var fg *target
	var nolog *target
	for _, t := range b.targets {
		switch t.Name {
		case flowGateName:
			fg = t
		case flowGateNoLogName:
			nolog = t
		}
	}
	for _, s := range rep.Summary {
		if s.Target != flowGateName {
			continue
		}
		if l := rep.find(s.Scenario, "litellm"); l != nil && l.RPS > 0 && s.OK > 0 && s.Errors == 0 {
			rs = append(rs, ratio{Scenario: s.Scenario, FlowGate: s.RPS, LiteLLM: l.RPS, Ratio: s.RPS / l.RPS})
		}
	}
	if fg == nil {
		return nil, rs
	}
	add := func(target string, ok bool, f string, a ...any) {
		cs = append(cs, check{Target: target, Measured: fmt.Sprintf(f, a...), Met: ok})
	}
	// failed reports a scenario whose requests failed: its figures mean nothing.
	failed := func(target string, s *summary) bool {
		if s == nil || s.N == 0 {
			return true
		}
		if s.Errors > 0 {
			add(target, false, "%d of %d requests failed (%s)", s.Errors, s.N, clip(s.FirstError, 100))
			return true
		}
		return false
	}
	if s, t := rep.find("chat-c1", "flowgate"), "added latency p99 <= 1 ms, passthrough c=1"; !failed(t, s) {
		add(t, s.AddedP99 <= 1, "%s ms (p50 %s)", f3(s.AddedP99), f3(s.AddedP50))
	}
	if s, t := rep.find("chat-c64", "flowgate"), "added latency p99 <= 5 ms, passthrough c=64"; !failed(t, s) {
		add(t, s.AddedP99 <= 5, "%s ms (p50 %s)", f3(s.AddedP99), f3(s.AddedP50))
	}
	// Translation budget: what a translated request adds stays far below
	// model time (seconds) and other gateways (tens of ms); the 200 KB
	// Claude Code turn is the heaviest case.
	for _, name := range []string{"messages-c1", "responses-c1", "messages-200k-c1"} {
		const lim = 3.0
		t := fmt.Sprintf("translation %s added p50 <= %g ms", name, lim)
		if s := rep.find(name, "flowgate"); !failed(t, s) {
			add(t, s.AddedP50 <= lim, "%s ms", f3(s.AddedP50))
		}
	}
	for _, r := range rs {
		if r.Scenario == "chat-c64" {
			add("throughput >= 10x LiteLLM (chat c=64)", r.Ratio >= 10, "%.1fx (%.0f vs %.0f req/s)", r.Ratio, r.FlowGate, r.LiteLLM)
		}
	}
	if fg.cl != nil {
		add("idle RSS <= 30 MB", fg.cl.IdleRSSMB <= 30, "%.1f MB", fg.cl.IdleRSSMB)
		cold := median(fg.cl.ColdStartMS)
		add("cold start to ready <= 100 ms", cold <= 100, "%s ms median of %d", f3(cold), len(fg.cl.ColdStartMS))
	}
	if on, off := rep.find("chat-c1", flowGateName), rep.find("chat-c1", flowGateNoLogName); on != nil && off != nil && on.N > 0 && off.N > 0 && on.Errors == 0 && off.Errors == 0 {
		// Added latency (over direct calls) with the log against without.
		d := on.AddedP50 - off.AddedP50
		add("request log: added latency p50 grows <= 5 %, passthrough c=1", d <= 0.05*off.AddedP50,
			"%+.3f ms (%+.1f %% of %s ms added without the log)", d, d/max(off.AddedP50, 0.001)*100, f3(off.AddedP50))
	}
	if nolog != nil && nolog.cl != nil && fg.cl != nil {
		d := fg.cl.IdleRSSMB - nolog.cl.IdleRSSMB
		add("request log: idle RSS grows <= 5 MB", d <= 5, "%+.1f MB (%.1f vs %.1f MB)", d, fg.cl.IdleRSSMB, nolog.cl.IdleRSSMB)
	}
	if s := rep.find("chat-c64", "flowgate"); s != nil && s.N > 0 {
		peak := max(s.PeakRSSMB, s.MaxRSSMB)
		add("RSS <= 100 MB at c=64", peak <= 100, "%.1f MB peak (VmHWM)", peak)
	}
	coal, floor, ttfbOK, worst := 0, 0, true, 0.0
	for _, s := range rep.Summary {
		if s.Target == "direct" && s.stream {
			floor += s.Coalesced
		}
		if s.Target == "flowgate" && s.stream && s.OK > 0 {
			coal += s.Coalesced
			if s.AddedTTFB50 > worst {
				worst = s.AddedTTFB50
			}
			if s.Scenario == "chat-stream-c1" && s.AddedTTFB50 > 1 {
				ttfbOK = false
			}
		}
	}
	if s, t := rep.find("chat-stream-c1", "flowgate"), "streaming added TTFB <= 1 ms (p50, chat)"; !failed(t, s) {
		add(t, ttfbOK, "%s ms p50, %s ms p99; worst stream p50 %s ms", f3(s.AddedTTFB50), f3(s.AddedTTFB99), f3(worst))
		// The client itself sometimes reads two chunks at once when it is
		// descheduled (2 shared cores); direct's count is that floor.
		add("zero coalesced chunks (beyond direct's client-side floor)", coal <= floor,
			"%d coalesced over all streams (direct: %d)", coal, floor)
	}
	return cs, rs
}

func (r *report) write(dir string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "report.json"), b, 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "report.md"), []byte(r.markdown()), 0o644); err != nil {
		return err
	}
	return writeChart(filepath.Join(dir, "latency.png"), r)
}

func cpuCell(v float64) string {
	if v < 0 {
		return "n/a"
	}
	return f3(v)
}

func (r *report) markdown() string {
	var w strings.Builder
	p := func(f string, a ...any) { fmt.Fprintf(&w, f, a...) }
	p("# FlowGate benchmark (%s mode)\n\n", r.Mode)
	p("Generated %s by `%s`.\n\n", r.Generated, r.Command)
	p("Machine: nproc %d, %s, kernel %s, %s.\n\n", r.Machine.NProc, r.Machine.CPU, r.Machine.Kernel, r.Machine.GoVersion)
	p("Fake upstream: answer %d B, streams of %d content chunks %s apart. %d repetition(s), targets interleaved; figures are the median over repetitions",
		r.Mock.RespBytes, r.Mock.Chunks, r.Mock.ChunkDelay, r.Reps)
	p(" (max: the highest). Added = target - direct in the same repetition; for translated scenarios direct is the upstream answering in the client's protocol natively.\n\n")
	for _, t := range r.Targets {
		if t.Scale != 1 {
			p("Target %s ran %.0f%% of each scenario's requests (it is slow).\n\n", t.Name, 100*t.Scale)
		}
	}
	if len(r.Checks) > 0 {
		p("## FlowGate against its targets\n\n| target | measured | met |\n|---|---|---|\n")
		for _, c := range r.Checks {
			met := "yes"
			if !c.Met {
				met = "**no**"
			}
			p("| %s | %s | %s |\n", c.Target, c.Measured, met)
		}
		p("\n")
	}
	if len(r.Ratios) > 0 {
		p("## Throughput ratio FlowGate / LiteLLM\n\n| scenario | FlowGate req/s | LiteLLM req/s | ratio |\n|---|---|---|---|\n")
		for _, x := range r.Ratios {
			p("| %s | %.0f | %.1f | %.1fx |\n", x.Scenario, x.FlowGate, x.LiteLLM, x.Ratio)
		}
		p("\n")
	}
	p("## Latency (ms; streams: whole stream)\n\n")
	p("| scenario | target | n | p50 | p90 | p99 | max | added p50 | added p99 | req/s | CPU s/1k req | mock CPU s/1k | new upstream conns/req | upstream endpoint | errors |\n")
	p("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, s := range r.Summary {
		added50, added99 := "-", "-"
		if s.Target != "direct" && s.N > 0 {
			added50, added99 = f3(s.AddedP50), f3(s.AddedP99)
		}
		errs := fmt.Sprint(s.Errors)
		if s.FirstError != "" {
			errs += " (" + strings.ReplaceAll(clip(s.FirstError, 80), "|", "/") + ")"
		}
		if s.OK == 0 {
			p("| %s | %s | %d | - | - | - | - | - | - | - | - | - | - | - | %s |\n", s.Scenario, s.Target, s.N, errs)
			continue
		}
		p("| %s | %s | %d | %s | %s | %s | %s | %s | %s | %.0f | %s | %s | %.3f | %s | %s |\n", s.Scenario, s.Target, s.N,
			f3(s.P50), f3(s.P90), f3(s.P99), f3(s.Max), added50, added99, s.RPS, cpuCell(s.CPUPer1k), f3(s.MockCPUPer1), s.NewConnsPer, s.Upstream, errs)
	}
	p("\n## Streaming (ms)\n\n")
	p("| scenario | target | TTFB p50 | TTFB p99 | added TTFB p50 | added TTFB p99 | inter-chunk gap p50 | gap p99 | deltas sent / received | coalesced |\n")
	p("|---|---|---|---|---|---|---|---|---|---|\n")
	for _, s := range r.Summary {
		if !s.stream || s.OK == 0 {
			continue
		}
		a50, a99 := "-", "-"
		if s.Target != "direct" && s.N > 0 {
			a50, a99 = f3(s.AddedTTFB50), f3(s.AddedTTFB99)
		}
		p("| %s | %s | %s | %s | %s | %s | %s | %s | %d / %d | %d |\n", s.Scenario, s.Target, f3(s.TTFBP50), f3(s.TTFBP99), a50, a99,
			f3(s.GapP50), f3(s.GapP99), s.DeltasSent, s.DeltasRecv, s.Coalesced)
	}
	p("\n## Process (the gateway's process group; direct = the fake upstream)\n\n")
	p("| target | cold start ms, median (min-max) | starts | RSS at ready MB | idle RSS MB | peak RSS MB at c=64 (VmHWM) | peak RSS MB, any scenario |\n|---|---|---|---|---|---|---|\n")
	for _, t := range r.Targets {
		if t.Proc == nil {
			continue
		}
		c64 := 0.0
		if s := r.find("chat-c64", t.Name); s != nil {
			c64 = max(s.PeakRSSMB, s.MaxRSSMB)
		}
		anyPeak := 0.0
		for _, s := range r.Summary {
			if s.Target == t.Name {
				anyPeak = max(anyPeak, s.PeakRSSMB, s.MaxRSSMB)
			}
		}
		cs := t.Proc.ColdStartMS
		p("| %s | %s (%s-%s) | %d | %.1f | %.1f (after %.1f s) | %.1f | %.1f |\n", t.Name, f3(median(cs)), f3(minOf(cs)), f3(maxOf(cs)), len(cs),
			median(t.Proc.ReadyRSSMB), t.Proc.IdleRSSMB, t.Proc.IdleAfterS, c64, anyPeak)
	}
	if len(r.Notes) > 0 {
		p("\n## Notes\n\n")
		for _, n := range r.Notes {
			p("- %s\n", n)
		}
	}
	p("\nChart: latency.png (box: p25-p75, bar: p50, whiskers: p1-p99, dot: max; log scale).\n")
	return w.String()
}

func minOf(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	m := v[0]
	for _, x := range v {
		m = min(m, x)
	}
	return m
}
