package requestlog

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// writeAt writes records that started at the given times through a real Log
// and opens the file for reading.
func writeAt(t *testing.T, recs ...Record) *Reader {
	t.Helper()
	path := filepath.Join(t.TempDir(), FileName)
	l, err := New(Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		l.Add(r, nil)
	}
	l.Close()
	rd, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rd.Close() })
	return rd
}

func recAt(at time.Time, seq int64, alias string, status int, latencyMS, ttfbMS float64, tok Tokens, cost float64) Record {
	return Record{ID: formatID(idAt(at) + seq), Time: at, Protocol: "chat", Client: "sdk", Alias: alias, Group: alias,
		Deployment: "d-" + alias, Tried: []string{"d-" + alias}, Attempts: 1, Status: status,
		LatencyMS: latencyMS, TTFBMS: ttfbMS, Tokens: tok, CostUSD: cost}
}

func TestSeriesBucketsRequestsWithPercentilesAndTokens(t *testing.T) {
	since := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	min := func(m int, s int) time.Time {
		return since.Add(time.Duration(m)*time.Minute + time.Duration(s)*time.Second)
	}
	var recs []Record
	// Minute 0: latencies 10..100 ms, one failure without a first byte.
	for i := 1; i <= 10; i++ {
		status, ttfb := 200, float64(i)
		if i == 10 {
			status, ttfb = 502, 0
		}
		recs = append(recs, recAt(min(0, i), int64(i), "coder", status, float64(i*10), ttfb, Tokens{Input: 1, Output: 2, CacheRead: 3, CacheWrite: 4}, 0))
	}
	// Minute 2: one request. Minute 1 has none. One before the window.
	recs = append(recs, recAt(min(2, 30), 1, "fast", 200, 7, 3, Tokens{Input: 100}, 0))
	recs = append(recs, recAt(since.Add(-time.Second), 1, "old", 200, 999, 999, Tokens{Input: 5000}, 0))
	r := writeAt(t, recs...)

	got, err := r.Series(context.Background(), since, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("want 2 buckets (the empty minute left out, the older request outside), got %+v", got)
	}
	b := got[0]
	if !b.Start.Equal(since) || b.Requests != 10 || b.Errors != 1 {
		t.Errorf("first bucket %+v", b)
	}
	if b.LatencyP50MS != 50 || b.LatencyP95MS != 100 || b.TTFBP50MS != 5 {
		t.Errorf("percentiles: p50 %v p95 %v ttfb p50 %v, want 50, 100, 5 (the failure without a first byte left out of ttfb)", b.LatencyP50MS, b.LatencyP95MS, b.TTFBP50MS)
	}
	if b.Tokens != (Tokens{Input: 10, Output: 20, CacheRead: 30, CacheWrite: 40}) {
		t.Errorf("tokens %+v", b.Tokens)
	}
	if c := got[1]; !c.Start.Equal(since.Add(2*time.Minute)) || c.Requests != 1 || c.LatencyP50MS != 7 || c.LatencyP95MS != 7 || c.Tokens.Input != 100 {
		t.Errorf("second bucket %+v", c)
	}
	if _, err := r.Series(context.Background(), since, 0); err == nil {
		t.Error("a zero step must be refused")
	}
}

func TestUsageByAliasDayIsPerUTCDayNewestFirstAndFlagsUnpricedRequests(t *testing.T) {
	d1 := time.Date(2026, 3, 1, 23, 59, 0, 0, time.UTC)
	d2 := time.Date(2026, 3, 2, 0, 1, 0, 0, time.UTC)
	r := writeAt(t,
		recAt(d1, 1, "coder", 200, 1, 1, Tokens{Input: 10, Output: 1, CacheRead: 5}, 0.5),
		recAt(d2, 1, "coder", 200, 1, 1, Tokens{Input: 20, Output: 2}, 0.25),
		recAt(d2, 2, "coder", 429, 1, 0, Tokens{}, 0),
		recAt(d2, 3, "local", 200, 1, 1, Tokens{Input: 7}, 0),
	)
	got, err := r.UsageByAliasDay(context.Background(), d1.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	want := []DayUsage{
		{Day: "2026-03-02", Alias: "coder", Requests: 2, Errors: 1, Tokens: Tokens{Input: 20, Output: 2}, CostUSD: 0.25},
		{Day: "2026-03-02", Alias: "local", Requests: 1, Tokens: Tokens{Input: 7}, Unpriced: 1},
		{Day: "2026-03-01", Alias: "coder", Requests: 1, Tokens: Tokens{Input: 10, Output: 1, CacheRead: 5}, CostUSD: 0.5},
	}
	if len(got) != len(want) {
		t.Fatalf("got %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("row %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
	if got, _ := r.UsageByAliasDay(context.Background(), d2); len(got) != 2 {
		t.Errorf("since the second day: %+v", got)
	}
}

func TestAReaderNoticesItsFileDeletedOrReplaced(t *testing.T) {
	r := writeAt(t, recAt(time.Now(), 1, "a", 200, 1, 1, Tokens{}, 0))
	if r.Stale() {
		t.Fatal("a fresh reader is stale")
	}
	for _, p := range []string{r.path, r.path + "-wal", r.path + "-shm"} {
		os.Remove(p)
	}
	if !r.Stale() {
		t.Fatal("a deleted file is not noticed")
	}
	l, err := New(Options{Path: r.path})
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
	if !r.Stale() {
		t.Fatal("a replaced file is not noticed")
	}
}
