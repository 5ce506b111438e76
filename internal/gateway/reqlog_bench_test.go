package gateway_test

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/flowgate/flowgate/internal/gateway"
	"github.com/flowgate/flowgate/internal/requestlog"
)

// BenchmarkPassthroughRequestLog is the passthrough at c=1 (one request at
// a time, so ns/op is the latency) with the request log off and on, and on
// with the writer held back until the loop ends (on-writer-deferred: the
// request path's own share, without the writer competing for the CPU). It
// reports cpu-ns/op, the process CPU per request, and "on" also
// reports rss-delta-MB: the process RSS after the log wrote every row
// and closed its idle database, minus the RSS before it was opened.
//
//	go test -run '^$' -bench PassthroughRequestLog -count 5 ./internal/gateway
func BenchmarkPassthroughRequestLog(b *testing.B) {
	up := benchUpstream(b)
	body := []byte(`{"model":"coder","messages":[{"role":"user","content":"` + strings.Repeat("x", 200) + `"}]}`)
	for _, mode := range []string{"off", "on", "on-writer-deferred"} {
		on := mode != "off"
		b.Run(mode, func(b *testing.B) {
			runtime.GC()
			debug.FreeOSMemory()
			rss0 := rssBytes()
			var l *requestlog.Log
			if on {
				var err error
				opts := requestlog.Options{Path: filepath.Join(b.TempDir(), requestlog.FileName), IdleClose: 50 * time.Millisecond}
				if mode == "on-writer-deferred" {
					// The rows wait in the queue until the loop is done:
					// ns/op is the request path's own cost.
					opts.Queue, opts.FlushDelay = 2*b.N+1, time.Hour
				}
				l, err = requestlog.New(opts)
				if err != nil {
					b.Fatal(err)
				}
			}
			s, err := gateway.New(gateway.Options{Doc: doc([]any{dep("coder", "openai/up-model", up.URL+"/v1", nil)}, nil),
				Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), RequestLog: l})
			if err != nil {
				b.Fatal(err)
			}
			h := s.Handler()
			w := &discardWriter{h: http.Header{}}
			rd := bytes.NewReader(body)
			b.ReportAllocs()
			b.ResetTimer()
			cpu0 := cpuTime()
			for i := 0; i < b.N; i++ {
				rd.Reset(body)
				req, _ := http.NewRequest("POST", "/v1/chat/completions", io.NopCloser(rd))
				req.ContentLength = int64(len(body))
				req.Header.Set("Authorization", "Bearer "+gatewayKey)
				clear(w.h)
				h.ServeHTTP(w, req)
				if w.code != http.StatusOK {
					b.Fatalf("status %d", w.code)
				}
			}
			b.StopTimer()
			if l != nil {
				l.Close() // writes what is queued, closes the database
				if l.Lost() > 0 {
					b.Logf("%d rows dropped (writer behind)", l.Lost())
				}
			}
			// CPU of the whole process (gateway, writer and the fake
			// upstream), so the writer's work counts even when it ran on
			// another core; less disturbed by a busy machine than ns/op.
			b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
			if l != nil {
				runtime.GC()
				debug.FreeOSMemory()
				b.ReportMetric(float64(rssBytes()-rss0)/(1<<20), "rss-delta-MB")
			}
		})
	}
}

// cpuTime is this process's user+system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// rssBytes is this process's resident set (Linux), 0 elsewhere.
func rssBytes() int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	pages, _ := strconv.ParseInt(f[1], 10, 64)
	return pages * int64(os.Getpagesize())
}
