package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/flowgate/flowgate/bench/internal/build"
)

// scenario is one kind of request at one concurrency.
type scenario struct {
	Name      string `json:"name"`
	Desc      string `json:"desc"`
	Proto     string `json:"proto"` // the client's protocol
	Alias     string `json:"alias"` // the gateway model alias
	Stream    bool   `json:"stream"`
	C         int    `json:"concurrency"`
	N         int    `json:"n"`
	BodyBytes int    `json:"body_bytes"`
	// Translated is true when a gateway must translate (the direct target
	// answers natively: the floor).
	Translated bool `json:"translated"`
}

// scenarios for a run; quick mode shrinks n.
func scenarios(quick bool, chunks int) []*scenario {
	n := func(full, q int) int {
		if quick {
			return q
		}
		return full
	}
	return []*scenario{
		{Name: "chat-c1", Desc: "Chat passthrough, 300 B, c=1", Proto: protoChat, Alias: aliasChat, C: 1, N: n(2000, 100), BodyBytes: 300},
		{Name: "chat-c64", Desc: "Chat passthrough, 300 B, c=64", Proto: protoChat, Alias: aliasChat, C: 64, N: n(10000, 640), BodyBytes: 300},
		{Name: "chat-stream-c1", Desc: fmt.Sprintf("Chat stream passthrough, %d chunks, c=1", chunks), Proto: protoChat, Alias: aliasChat, Stream: true, C: 1, N: n(100, 15), BodyBytes: 300},
		{Name: "messages-c1", Desc: "Anthropic Messages -> Chat, 300 B, c=1", Proto: protoMessages, Alias: aliasChat, C: 1, N: n(2000, 100), BodyBytes: 300, Translated: true},
		{Name: "messages-stream-c1", Desc: "Anthropic Messages -> Chat stream, c=1", Proto: protoMessages, Alias: aliasChat, Stream: true, C: 1, N: n(100, 15), BodyBytes: 300, Translated: true},
		{Name: "responses-c1", Desc: "Responses -> Chat, 300 B, c=1", Proto: protoResponses, Alias: aliasChat, C: 1, N: n(2000, 100), BodyBytes: 300, Translated: true},
		{Name: "responses-stream-c1", Desc: "Responses -> Chat stream, c=1", Proto: protoResponses, Alias: aliasChat, Stream: true, C: 1, N: n(100, 15), BodyBytes: 300, Translated: true},
		{Name: "messages-native-c1", Desc: "Anthropic Messages passthrough (anthropic/ deployment), c=1", Proto: protoMessages, Alias: aliasAnthropic, C: 1, N: n(1000, 50), BodyBytes: 300},
		{Name: "chat-200k-c1", Desc: "Chat passthrough, 200 KB body, c=1", Proto: protoChat, Alias: aliasChat, C: 1, N: n(300, 20), BodyBytes: 200 << 10},
		{Name: "messages-200k-c1", Desc: "Anthropic Messages -> Chat, 200 KB body, c=1", Proto: protoMessages, Alias: aliasChat, C: 1, N: n(300, 20), BodyBytes: 200 << 10, Translated: true},
	}
}

// options of one benchmark run.
type options struct {
	Out          string
	Quick        bool
	Reps         int
	NoFlowGate   bool
	NoLiteLLM    bool
	NoLogTarget  bool
	FlowGateBin  string
	Extras       []string
	Key          string
	UpstreamAddr string
	Mock         mockConfig
	ColdStarts   int
	LiteLLMScale float64
	Only         string // comma-separated scenario names; empty = all
	Profile      string // comma-separated scenarios to profile FlowGate under (perf)
	MaxRun       time.Duration
	Log          io.Writer
}

// runResult is one (scenario, target, repetition).
type runResult struct {
	Scenario    string           `json:"scenario"`
	Target      string           `json:"target"`
	Rep         int              `json:"rep"`
	N           int              `json:"n"`
	Errors      int              `json:"errors"`
	FirstError  string           `json:"first_error,omitempty"`
	ElapsedS    float64          `json:"elapsed_s"`
	RPS         float64          `json:"rps"`
	LatMS       dist             `json:"latency_ms"`
	TTFBMS      *dist            `json:"ttfb_ms,omitempty"`
	TTFTMS      *dist            `json:"ttft_ms,omitempty"`
	GapMS       *dist            `json:"gap_ms,omitempty"`
	DeltasSent  int              `json:"deltas_sent,omitempty"`
	DeltasRecv  int              `json:"deltas_recv,omitempty"`
	Coalesced   int              `json:"coalesced,omitempty"`
	CPUSecPer1k float64          `json:"cpu_s_per_1k"` // the target's process group; -1 when unknown
	MockCPUPer1 float64          `json:"mock_cpu_s_per_1k"`
	NewConnsPer float64          `json:"new_upstream_conns_per_req"`
	PeakRSSMB   float64          `json:"peak_rss_mb,omitempty"` // VmHWM, reset before the run
	MaxRSSMB    float64          `json:"max_sampled_rss_mb,omitempty"`
	Upstream    map[string]int64 `json:"upstream_calls,omitempty"` // mock endpoint -> calls during the run

	lat, ttfb []float64
}

type bench struct {
	o        options
	log      func(string, ...any)
	mockProc *child
	mockBase string
	targets  []*target
	notes    []string
	results  []*runResult
	statsHC  *http.Client
	clients  map[string]*http.Client
}

func run(ctx context.Context, o options) (*report, error) {
	if o.Log == nil {
		o.Log = os.Stderr
	}
	b := &bench{o: o, statsHC: &http.Client{Timeout: 5 * time.Second}, clients: map[string]*http.Client{}}
	b.log = func(f string, a ...any) { fmt.Fprintf(o.Log, "bench: "+f+"\n", a...) }
	if err := os.MkdirAll(o.Out, 0o755); err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp("", "flowgate-bench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	defer b.stopAll()

	settle := 3 * time.Second
	if o.Quick {
		settle = 500 * time.Millisecond
	}
	mc, addr, err := startUpstream(ctx, tmp, o.Mock, o.UpstreamAddr)
	if err != nil {
		return nil, err
	}
	b.mockProc, b.mockBase = mc, "http://"+addr
	b.log("fake upstream on %s (pid %d)", addr, mc.pgid)
	b.targets = append(b.targets, &target{Name: "direct", Kind: kindDirect, Base: b.mockBase, Key: upstreamKey, Scale: 1, proc: mc})

	root, err := build.ModuleRoot()
	if err != nil {
		return nil, err
	}
	bin := o.FlowGateBin
	if !o.NoFlowGate && bin == "" {
		b.log("building ./cmd/flowgate")
		if bin, err = build.FlowGate(ctx, root, tmp, "flowgate-bin"); err != nil {
			b.note("flowgate target skipped: %v", err)
		}
	}
	if !o.NoLiteLLM {
		if venv := liteLLMVenv(); venv == "" {
			b.note("litellm target skipped: LiteLLM is not installed (run `flowgate bootstrap litellm`, or internal/litellm/ci-setup.sh and set FLOWGATE_LITELLM_VENV)")
		} else {
			b.log("starting LiteLLM from %s (10-20 s)", venv)
			dir := filepath.Join(tmp, "litellm")
			t, err := startLiteLLM(ctx, venv, dir, addr, o.Key, o.LiteLLMScale, settle)
			if err != nil {
				b.note("litellm target skipped: %v", err)
			} else {
				b.log("litellm ready in %.1f s", t.cl.ColdStartMS[0]/1000)
				b.targets = append(b.targets, t)
			}
		}
	}
	if !o.NoFlowGate && bin != "" {
		// flowgate runs as shipped (request log on); flowgate-nolog with the
		// request log off shows what the log costs.
		variants := []struct {
			name string
			log  bool
		}{{flowGateName, true}, {flowGateNoLogName, false}}
		if o.NoLogTarget {
			variants = variants[:1]
		}
		for i, v := range variants {
			dir := filepath.Join(tmp, v.name)
			if err := os.MkdirAll(dir, 0o700); err != nil {
				return nil, err
			}
			t, err := startFlowGate(ctx, v.name, bin, dir, addr, o.Key, v.log, o.ColdStarts, settle, b.log)
			if err != nil {
				b.note("%s target skipped: %s", v.name, firstLine(err.Error()))
				b.log("%s: %v", v.name, err)
				continue
			}
			// FlowGate goes right after direct so tables read direct, flowgate, ...
			at := min(1+i, len(b.targets))
			b.targets = append(b.targets[:at], append([]*target{t}, b.targets[at:]...)...)
		}
	}
	for _, e := range o.Extras {
		t, err := parseExtra(e, o.Key)
		if err != nil {
			return nil, err
		}
		b.targets = append(b.targets, t)
	}
	if o.Only == "" {
		b.log("targets: %s", targetNames(b.targets))
	}

	scs := scenarios(o.Quick, o.Mock.Chunks)
	if o.Only != "" {
		keep := map[string]bool{}
		for _, s := range strings.Split(o.Only, ",") {
			keep[strings.TrimSpace(s)] = true
		}
		var f []*scenario
		for _, s := range scs {
			if keep[s.Name] {
				f = append(f, s)
			}
		}
		scs = f
	}
	for _, t := range b.targets {
		b.clients[t.Name] = newClient(128)
	}
	started := time.Now()
	for _, sc := range scs {
		for rep := 0; rep < o.Reps; rep++ {
			for _, t := range interleave(b.targets, rep) {
				r := b.measure(ctx, t, sc, rep)
				b.results = append(b.results, r)
				if ctx.Err() != nil {
					return nil, ctx.Err()
				}
			}
		}
	}
	b.log("scenarios took %.0f s", time.Since(started).Seconds())
	if o.Profile != "" {
		b.profileFlowGate(ctx, scs, strings.Split(o.Profile, ","))
	}
	rep := b.report(scs)
	if err := rep.write(o.Out); err != nil {
		return nil, err
	}
	return rep, nil
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

func targetNames(ts []*target) string {
	var n []string
	for _, t := range ts {
		n = append(n, t.Name)
	}
	return strings.Join(n, ", ")
}

// interleave orders targets for a repetition: rotate by rep and reverse on
// odd reps, so no target always runs first or right after another.
func interleave(ts []*target, rep int) []*target {
	out := make([]*target, len(ts))
	for i := range ts {
		out[i] = ts[(i+rep)%len(ts)]
	}
	if rep%2 == 1 {
		for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
			out[i], out[j] = out[j], out[i]
		}
	}
	return out
}

func (b *bench) note(f string, a ...any) {
	s := fmt.Sprintf(f, a...)
	b.notes = append(b.notes, s)
	b.log("%s", s)
}

func (b *bench) stopAll() {
	for _, t := range b.targets {
		if t.Kind != kindDirect && t.proc != nil {
			t.proc.stop(5 * time.Second)
		}
	}
	b.mockProc.stop(2 * time.Second)
}

func (b *bench) mockStats() mockStats {
	var st mockStats
	resp, err := b.statsHC.Get(b.mockBase + statsPath)
	if err != nil {
		return st
	}
	defer resp.Body.Close()
	_ = json.NewDecoder(resp.Body).Decode(&st)
	return st
}

// measure runs one scenario against one target: warm-up, then the timed
// phase with CPU, memory and upstream counters read around it.
func (b *bench) measure(ctx context.Context, t *target, sc *scenario, rep int) *runResult {
	n := int(float64(sc.N)*t.Scale + 0.5)
	if min := 4 * sc.C; n < min && t.Scale < 1 {
		n = min
	}
	if n < 10 {
		n = 10
	}
	want := expectedText(b.o.Mock.RespBytes)
	if sc.Stream {
		want = expectedStreamText(b.o.Mock.Chunks)
	}
	j := &job{client: b.clients[t.Name], url: t.Base + pathFor(sc.Proto), key: t.Key, proto: sc.Proto, stream: sc.Stream,
		body: requestBody(sc.Proto, t.model(sc), sc.Stream, sc.BodyBytes), want: want, nChunks: b.o.Mock.Chunks}
	warm := max(2*sc.C, 50)
	if sc.Stream || sc.BodyBytes > 100<<10 {
		warm = max(2*sc.C, 10)
	}
	load(ctx, j, sc.C, warm, b.o.MaxRun)

	pg := t.pgid()
	var pids []int
	if t.Kind != kindDirect && pg > 0 {
		resetPeak(pg)
		pids = groupPids(pg)
	}
	var maxRSS uint64
	stopSampler := make(chan struct{})
	var wg sync.WaitGroup
	if len(pids) > 0 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tk := time.NewTicker(100 * time.Millisecond)
			defer tk.Stop()
			for {
				select {
				case <-stopSampler:
					return
				case <-tk.C:
					if s := samplePids(pids); s.RSSKB > maxRSS {
						maxRSS = s.RSSKB
					}
				}
			}
		}()
	}
	m0, p0, g0 := b.mockStats(), sampleGroup(b.mockProc.pgid), procSample{}
	if len(pids) > 0 {
		g0 = samplePids(pids)
	}
	maxRun := b.o.MaxRun
	if t.Scale < 1 {
		// A slow target gets a shorter time cap, so it cannot dominate the run.
		maxRun = min(maxRun, 12*time.Second)
	}
	samples, elapsed := load(ctx, j, sc.C, n, maxRun)
	m1, p1 := b.mockStats(), sampleGroup(b.mockProc.pgid)
	close(stopSampler)
	wg.Wait()

	r := &runResult{Scenario: sc.Name, Target: t.Name, Rep: rep, N: len(samples), ElapsedS: elapsed.Seconds(), CPUSecPer1k: -1}
	for _, s := range samples {
		if !s.ok {
			r.Errors++
			if r.FirstError == "" {
				r.FirstError = s.err
			}
			continue
		}
		r.lat = append(r.lat, ms(s.lat))
		if sc.Stream {
			r.ttfb = append(r.ttfb, ms(s.ttfb))
			r.DeltasSent += b.o.Mock.Chunks
			r.DeltasRecv += s.deltas
			if b.o.Mock.ChunkDelay > 0 && s.groups < b.o.Mock.Chunks {
				r.Coalesced += b.o.Mock.Chunks - s.groups
			}
		}
	}
	r.LatMS = newDist(r.lat)
	if sc.Stream {
		var ttft, gaps []float64
		for _, s := range samples {
			if s.ok {
				ttft = append(ttft, ms(s.ttft))
				for _, g := range s.gaps {
					gaps = append(gaps, ms(g))
				}
			}
		}
		d1, d2, d3 := newDist(r.ttfb), newDist(ttft), newDist(gaps)
		r.TTFBMS, r.TTFTMS, r.GapMS = &d1, &d2, &d3
	}
	if elapsed > 0 {
		r.RPS = float64(len(r.lat)) / elapsed.Seconds()
	}
	if r.N > 0 {
		per1k := 1000 / float64(r.N)
		r.MockCPUPer1 = (p1.cpuSeconds() - p0.cpuSeconds()) * per1k
		r.NewConnsPer = float64(m1.Conns-m0.Conns) / float64(r.N)
		if t.Kind == kindDirect {
			r.CPUSecPer1k = r.MockCPUPer1
		} else if len(pids) > 0 {
			g1 := samplePids(pids)
			r.CPUSecPer1k = (g1.cpuSeconds() - g0.cpuSeconds()) * per1k
			r.PeakRSSMB = mb(g1.HWMKB)
			r.MaxRSSMB = mb(max(maxRSS, g1.RSSKB))
		}
	}
	r.Upstream = map[string]int64{}
	for k, v := range m1.ByPath {
		if d := v - m0.ByPath[k]; d > 0 {
			r.Upstream[k] = d
		}
	}
	line := fmt.Sprintf("%-20s %-9s rep %d: n=%d p50 %s p99 %s ms, %.0f req/s, errors %d", sc.Name, t.Name, rep+1, r.N,
		f3(r.LatMS.P50), f3(r.LatMS.P99), r.RPS, r.Errors)
	if r.TTFBMS != nil {
		line += fmt.Sprintf(", ttfb p50 %s, coalesced %d", f3(r.TTFBMS.P50), r.Coalesced)
	}
	if r.FirstError != "" {
		line += " (first: " + clip(r.FirstError, 160) + ")"
	}
	b.log("%s", line)
	return r
}

// samplePids is sampleGroup over a fixed pid list (cheaper than a /proc scan).
func samplePids(pids []int) procSample {
	var s procSample
	for _, pid := range pids {
		one := sampleGroupPid(pid)
		s.CPUTicks += one.CPUTicks
		s.RSSKB += one.RSSKB
		s.HWMKB += one.HWMKB
		s.Procs += one.Procs
	}
	return s
}

// dist is a latency distribution summary in milliseconds.
type dist struct {
	N   int     `json:"n"`
	Min float64 `json:"min"`
	P25 float64 `json:"p25"`
	P50 float64 `json:"p50"`
	P75 float64 `json:"p75"`
	P90 float64 `json:"p90"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
}

func newDist(v []float64) dist {
	if len(v) == 0 {
		return dist{}
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	return dist{N: len(s), Min: s[0], P25: pct(s, 25), P50: pct(s, 50), P75: pct(s, 75), P90: pct(s, 90), P99: pct(s, 99), Max: s[len(s)-1]}
}

// pct is the nearest-rank percentile of sorted s.
func pct(s []float64, p float64) float64 {
	i := int(p/100*float64(len(s))+0.999999) - 1
	if i < 0 {
		i = 0
	}
	if i >= len(s) {
		i = len(s) - 1
	}
	return s[i]
}

func f3(v float64) string {
	switch {
	case v == 0:
		return "0"
	case v >= 100 || v <= -100:
		return fmt.Sprintf("%.0f", v)
	case v >= 10 || v <= -10:
		return fmt.Sprintf("%.1f", v)
	case v >= 1 || v <= -1:
		return fmt.Sprintf("%.2f", v)
	}
	return fmt.Sprintf("%.3f", v)
}
