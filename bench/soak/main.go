// Command soak runs FlowGate's built-in gateway (a real `flowgate gateway
// serve` process) against a fake upstream for a while, under mixed traffic
// with faults: every client protocol, streams, translation, a flaky and a
// broken upstream, clients that abort streams, keyless, foreign-Host and
// cross-origin requests, malformed bodies, trickling bodies and bodies over
// the size limit. It starts with 24 concurrent 33 MB chunked bodies and
// records the gateway's peak memory. It reports requests, unexpected
// outcomes and RSS over time in DIR/report.md and DIR/report.json (see
// docs/reliability.md).
//
//	go run ./bench/soak -duration 10m -out soak-out
//	go run ./bench/soak -duration 20s -out soak-out    # short mode (CI)
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"
)

type options struct {
	Duration    time.Duration
	Out         string
	Workers     int
	FlowGateBin string
	// AttackBodies and AttackBytes size the opening big-body attack.
	AttackBodies int
	AttackBytes  int64
}

func main() { os.Exit(cliMain(os.Args[1:])) }

func cliMain(args []string) int {
	fs := flag.NewFlagSet("soak", flag.ContinueOnError)
	var o options
	fs.DurationVar(&o.Duration, "duration", 10*time.Minute, "how long to run, the opening attack included (the mixed traffic runs at least 10s)")
	fs.StringVar(&o.Out, "out", "soak-out", "folder for report.md, report.json and rss.csv")
	fs.IntVar(&o.Workers, "workers", 8, "concurrent clients of the mixed traffic")
	fs.StringVar(&o.FlowGateBin, "flowgate-bin", "", "use this flowgate binary instead of building ./cmd/flowgate")
	fs.IntVar(&o.AttackBodies, "attack-bodies", 24, "concurrent chunked bodies of the opening attack")
	fs.Int64Var(&o.AttackBytes, "attack-bytes", 33<<20, "size of each attack body (33 MiB, over the 32 MiB default limit)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if o.Duration < 5*time.Second || o.Workers < 1 {
		fmt.Fprintln(os.Stderr, "soak: -duration must be at least 5s and -workers at least 1")
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, err := run(ctx, o, func(f string, a ...any) { fmt.Fprintf(os.Stderr, f+"\n", a...) })
	if err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		return 1
	}
	if err := rep.write(o.Out); err != nil {
		fmt.Fprintln(os.Stderr, "soak: writing the report:", err)
		return 1
	}
	fmt.Printf("%d requests, %d unexpected, gateway RSS %.0f MB at the end (peak %.0f MB; %.0f MB during the big-body attack); report in %s\n",
		rep.Requests, rep.Unexpected, rep.FinalRSSMB, rep.PeakRSSMB, rep.Attack.PeakRSSMB, filepath.Join(o.Out, "report.md"))
	if !rep.ok() {
		return 1
	}
	return 0
}
