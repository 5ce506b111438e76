package supervisor

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestLogIsRotatedAtStartWhenOverLimitKeepingNOldFiles(t *testing.T) {
	sup, _ := newSupervisor(t)
	spec := helperSpec(t, "gateway", "sleep", 0)
	spec.LogMaxBytes = 64
	spec.LogKeep = 2
	stopAtEnd(t, sup, spec)
	os.MkdirAll(sup.LogDir, 0o700)
	path := sup.LogPath("gateway")
	os.WriteFile(path, bytes.Repeat([]byte("first run\n"), 10), 0o600)

	for run := 1; run <= 3; run++ {
		if res := sup.Start(context.Background(), spec); res.Result != ResultStarted {
			t.Fatalf("start %d = %+v", run, res)
		}
		if res := sup.Stop(context.Background(), spec); res.Result != ResultStopped {
			t.Fatalf("stop %d = %+v", run, res)
		}
		// Make the current log exceed the limit for the next start.
		f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0o600)
		f.WriteString(strings.Repeat("run "+strconv.Itoa(run)+"\n", 20))
		f.Close()
	}
	// Three starts each rotated once: .1 = run 2's log, .2 = run 1's log,
	// and the original "first run" log fell off (keep = 2).
	one, _ := os.ReadFile(path + ".1")
	two, _ := os.ReadFile(path + ".2")
	if !strings.Contains(string(one), "run 2") || !strings.Contains(string(two), "run 1") {
		t.Errorf("rotated logs: .1=%q .2=%q", one, two)
	}
	if _, err := os.Stat(path + ".3"); !os.IsNotExist(err) {
		t.Errorf("kept more than 2 old logs: %v", err)
	}
	cur, _ := os.ReadFile(path)
	if strings.Contains(string(cur), "first run") || strings.Contains(string(cur), "run 2") {
		t.Errorf("current log holds old content: %q", cur)
	}
	fi, _ := os.Stat(path)
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("log mode = %v, want 0600", fi.Mode().Perm())
	}
}

func TestLogUnderLimitIsNotRotated(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.log")
	os.WriteFile(path, []byte("small\n"), 0o600)
	if err := rotateLog(path, 100, 3); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path + ".1"); !os.IsNotExist(err) {
		t.Errorf("rotated a small log")
	}
}

func TestInspectProbeAndTailLogCreateNoFilesOrFolders(t *testing.T) {
	root := filepath.Join(t.TempDir(), "project")
	sup := &Supervisor{PidDir: filepath.Join(root, ".router/runtime/pids"), LogDir: filepath.Join(root, ".router/runtime/process-logs")}
	spec := helperSpec(t, "gateway", "serve", freePort(t))
	st, err := sup.Inspect(spec)
	if err != nil || st.State != StateStopped {
		t.Fatalf("inspect = %+v, %v", st, err)
	}
	if lines, err := sup.TailLog("gateway", 10); err != nil || lines != nil {
		t.Errorf("tail = %q, %v", lines, err)
	}
	Probe(context.Background(), spec.ReadinessURL, 200*time.Millisecond)
	if _, err := os.Stat(root); !os.IsNotExist(err) {
		t.Errorf("read-only calls created %s (%v)", root, err)
	}
}

func TestProbeClassifiesReadyRefusedStatusAndTimeout(t *testing.T) {
	ready := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/ok":
			w.WriteHeader(http.StatusNoContent)
		case "/redirect":
			http.Redirect(w, r, "/ok", http.StatusFound)
		default:
			w.WriteHeader(http.StatusUnauthorized)
		}
	}))
	defer ready.Close()
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer slow.Close()
	defer close(release)
	ctx := context.Background()

	for _, tc := range []struct {
		url  string
		ok   bool
		kind string
		code int
	}{
		{ready.URL + "/ok", true, ProbeOK, 204},
		{ready.URL + "/v1/models", false, ProbeStatus, 401},
		{ready.URL + "/redirect", false, ProbeStatus, 302},
		{URLFor("127.0.0.1", freePort(t), "/health"), false, ProbeRefused, 0},
		{slow.URL, false, ProbeTimeout, 0},
	} {
		p := Probe(ctx, tc.url, 200*time.Millisecond)
		if p.OK != tc.ok || p.Kind != tc.kind || p.Code != tc.code {
			t.Errorf("probe %s = %+v, want ok=%v kind=%s code=%d", tc.url, p, tc.ok, tc.kind, tc.code)
		}
	}
}

func TestURLForBracketsIPv6AndMapsWildcardToLoopback(t *testing.T) {
	for host, want := range map[string]string{
		"":          "http://127.0.0.1:4000/health",
		"0.0.0.0":   "http://127.0.0.1:4000/health",
		"::":        "http://[::1]:4000/health",
		"::1":       "http://[::1]:4000/health",
		"localhost": "http://localhost:4000/health",
	} {
		if got := URLFor(host, 4000, "health"); got != want {
			t.Errorf("URLFor(%q) = %q, want %q", host, got, want)
		}
	}
}

// lockedBuffer is a bytes.Buffer safe for a writer and a reader goroutine.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestFollowLogPrintsTailThenAppendsAcrossRotation(t *testing.T) {
	sup, _ := newSupervisor(t)
	os.MkdirAll(sup.LogDir, 0o700)
	path := sup.LogPath("gateway")
	os.WriteFile(path, []byte("old 1\nold 2\nold 3\n"), 0o600)

	ctx, cancel := context.WithCancel(context.Background())
	var out lockedBuffer
	done := make(chan error, 1)
	go func() { done <- sup.FollowLog(ctx, "gateway", 2, &out) }()

	waitFor(t, 5*time.Second, "tail", func() bool { return out.String() == "old 2\nold 3\n" })
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0o600)
	f.WriteString("new 1\n")
	f.Close()
	waitFor(t, 5*time.Second, "appended line", func() bool { return strings.HasSuffix(out.String(), "new 1\n") })
	if err := rotateLog(path, 1, 3); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(path, []byte("after rotation\n"), 0o600)
	waitFor(t, 5*time.Second, "line after rotation", func() bool { return strings.HasSuffix(out.String(), "after rotation\n") })
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := out.String(); got != "old 2\nold 3\nnew 1\nafter rotation\n" {
		t.Errorf("followed = %q", got)
	}
}
