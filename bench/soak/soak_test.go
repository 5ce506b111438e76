package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestShortSoakHasNoUnexpectedOutcomesAndBoundedMemory is the soak's short
// mode, run by CI: a real gateway process, 24 concurrent 33 MiB chunked
// bodies (peak RSS under 300 MB), then mixed traffic with faults that must
// all end as a healthy gateway answers them.
func TestShortSoakHasNoUnexpectedOutcomesAndBoundedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a real gateway and sends about 800 MB over loopback")
	}
	out := t.TempDir()
	o := options{Duration: 15 * time.Second, Out: out, Workers: 4, AttackBodies: 24, AttackBytes: 33 << 20}
	rep, err := run(context.Background(), o, t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	if err := rep.write(out); err != nil {
		t.Fatal(err)
	}
	md, _ := os.ReadFile(filepath.Join(out, "report.md"))
	if !rep.ok() {
		t.Fatalf("soak failed:\n%s", md)
	}
	for st := range rep.Attack.Statuses {
		if st != 413 && st != 503 {
			t.Fatalf("attack answered %d; want only 413 or 503:\n%s", st, md)
		}
	}
	if rep.Attack.PeakRSSMB <= 0 || rep.Attack.PeakRSSMB >= maxAttackRSSMB {
		t.Fatalf("peak RSS under the attack %.0f MB, want (0, %d)", rep.Attack.PeakRSSMB, maxAttackRSSMB)
	}
	for _, kind := range []string{"chat-stream", "messages-stream-passthrough", "responses-stream-translated", "flaky-upstream-recovered",
		"keyless-body-withheld", "body-trickled", "cross-origin", "foreign-host"} {
		if k := rep.Kinds[kind]; k == nil || k.Requests == 0 {
			t.Errorf("no %s requests ran:\n%s", kind, md)
		}
	}
	if !strings.Contains(string(md), "| t (s) | RSS (MB) |") || len(rep.Samples) < 5 {
		t.Errorf("report lacks the RSS timeline:\n%s", md)
	}
}
