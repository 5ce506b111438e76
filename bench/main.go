// Command bench compares FlowGate's built-in gateway with calling the
// upstream directly, LiteLLM (when installed) and any extra base URL, in one
// interleaved run against a fast fake upstream, and writes report.md,
// report.json and latency.png. See docs/performance.md.
//
//	go run ./bench -out bench-out          # full run, about 3-5 minutes on 2 cores
//	go run ./bench -quick -out bench-out   # smoke run, a few seconds
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(s string) error { *m = append(*m, s); return nil }

func main() {
	if os.Getenv(roleEnv) == "upstream" {
		runUpstreamChild()
		return
	}
	os.Exit(cliMain(os.Args[1:]))
}

func cliMain(args []string) int {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	var o options
	var extras multiFlag
	fs.StringVar(&o.Out, "out", "bench-out", "folder for report.md, report.json and latency.png")
	fs.BoolVar(&o.Quick, "quick", false, "smoke mode: small n, one repetition, a few seconds")
	fs.IntVar(&o.Reps, "reps", 0, "repetitions per scenario, targets interleaved (default 3; 1 with -quick)")
	fs.BoolVar(&o.NoFlowGate, "no-flowgate", false, "skip the FlowGate target")
	fs.BoolVar(&o.NoLiteLLM, "no-litellm", false, "skip the LiteLLM target even when installed")
	fs.BoolVar(&o.NoLogTarget, "no-nolog", false, "skip the flowgate-nolog target (FlowGate with its request log off)")
	fs.StringVar(&o.FlowGateBin, "flowgate-bin", "", "use this flowgate binary instead of building ./cmd/flowgate")
	fs.Var(&extras, "extra", "extra target name=http://127.0.0.1:PORT (repeatable); it gets the aliases bench-chat and bench-anthropic and -key")
	fs.StringVar(&o.Key, "key", "sk-bench-gateway", "client key sent to gateways (FlowGate's and LiteLLM's master key)")
	fs.StringVar(&o.UpstreamAddr, "upstream-addr", "127.0.0.1:0", "listen address of the fake upstream (fix it to pre-configure an -extra gateway)")
	fs.IntVar(&o.Mock.RespBytes, "resp-bytes", 300, "size of the fake upstream's non-streamed answer text")
	fs.IntVar(&o.Mock.Chunks, "chunks", 20, "content chunks per streamed answer")
	fs.DurationVar(&o.Mock.ChunkDelay, "chunk-delay", 2*time.Millisecond, "pause between streamed chunks (> 0 makes coalescing visible)")
	fs.IntVar(&o.ColdStarts, "cold-starts", 0, "FlowGate cold starts to measure (default 5; 2 with -quick)")
	fs.Float64Var(&o.LiteLLMScale, "litellm-scale", 0.05, "fraction of each scenario's requests sent to LiteLLM")
	fs.StringVar(&o.Only, "only", "", "comma-separated scenario names to run (default all)")
	fs.StringVar(&o.Profile, "profile", "", "after measuring, profile FlowGate with perf under these scenarios (e.g. chat-c64,messages-200k-c1)")
	fs.DurationVar(&o.MaxRun, "max-run", 0, "time cap of one timed run (default 45s; 10s with -quick)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	o.Extras = extras
	if o.Reps <= 0 {
		o.Reps = 3
		if o.Quick {
			o.Reps = 1
		}
	}
	if o.ColdStarts <= 0 {
		o.ColdStarts = 5
		if o.Quick {
			o.ColdStarts = 2
		}
	}
	if o.MaxRun <= 0 {
		o.MaxRun = 45 * time.Second
		if o.Quick {
			o.MaxRun = 10 * time.Second
		}
	}
	if o.Mock.Chunks < 1 {
		fmt.Fprintln(os.Stderr, "bench: -chunks must be at least 1")
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, err := run(ctx, o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return 1
	}
	fmt.Printf("wrote %s/report.md, %s/report.json, %s/latency.png\n", o.Out, o.Out, o.Out)
	for _, c := range rep.Checks {
		met := "met"
		if !c.Met {
			met = "MISSED"
		}
		fmt.Printf("  %-6s %s: %s\n", met, c.Target, c.Measured)
	}
	return 0
}
