package supervisor

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"
)

var lineRe = regexp.MustCompile(`^line (\d{6}) x+$`)

// lastLineNumber checks that data holds only whole spew lines (after an
// optional supervisor banner) and returns the number of the last one.
func lastLineNumber(t *testing.T, name string, data []byte) int {
	t.Helper()
	if bytes.IndexByte(data, 0) >= 0 {
		t.Fatalf("%s has NUL bytes: a writer did not continue at the new end", name)
	}
	last := 0
	for _, l := range bytes.Split(bytes.TrimSuffix(data, []byte("\n")), []byte("\n")) {
		if len(l) == 0 || bytes.HasPrefix(l, []byte("--- flowgate:")) {
			continue
		}
		m := lineRe.FindSubmatch(l)
		if m == nil {
			t.Fatalf("%s has a broken line %q", name, l)
		}
		last, _ = strconv.Atoi(string(m[1]))
	}
	return last
}

func TestRunningLogIsCopiedAndTruncatedAndTheChildKeepsWriting(t *testing.T) {
	sup, _ := newSupervisor(t)
	spec := helperSpec(t, "spew", "spew", 0, "FG_HELPER_LINES=3000", "FG_HELPER_BURST=1")
	stopAtEnd(t, sup, spec)
	res := sup.Start(context.Background(), spec)
	if !res.OK() {
		t.Fatalf("start: %+v", res)
	}
	path := sup.LogPath("spew")
	waitFor(t, 30*time.Second, "the log to pass 8 KiB", func() bool {
		fi, err := os.Stat(path)
		return err == nil && fi.Size() > 8<<10
	})
	rotated, err := sup.RotateRunningLog("spew", 8<<10, 2)
	if err != nil || !rotated {
		t.Fatalf("RotateRunningLog = %v, %v", rotated, err)
	}
	old, _ := os.ReadFile(path + ".1")
	if fi, err := os.Stat(path + ".1"); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("rotated copy: %v %v", fi, err)
	}
	lastOld := lastLineNumber(t, "spew.log.1", old)
	if lastOld == 0 {
		t.Fatal("the rotated copy holds no line")
	}
	// The same child writes on into the truncated file, from its start.
	waitFor(t, 30*time.Second, "the child to write lines after the rotation", func() bool {
		data, _ := os.ReadFile(path)
		return bytes.Contains(data, []byte("line 003000"))
	})
	data, _ := os.ReadFile(path)
	if first := lineRe.FindSubmatch(bytes.SplitN(data, []byte("\n"), 2)[0]); first == nil {
		t.Fatalf("the current log does not start with a whole line: %.80q", data)
	}
	if n := lastLineNumber(t, "spew.log", data); n != 3000 {
		t.Fatalf("last line %d, want 3000", n)
	}
	if int64(len(data)) >= int64(3000*64) {
		t.Fatalf("the current log still holds everything (%d bytes)", len(data))
	}
	if !alive(res.Pid) {
		t.Fatal("the child died")
	}
	// Under the limit nothing happens.
	if rotated, err := sup.RotateRunningLog("spew", 1<<30, 2); err != nil || rotated {
		t.Fatalf("under the limit: %v, %v", rotated, err)
	}
}

func TestKeeperRotatesTheLogsOfRunningServicesBySize(t *testing.T) {
	sup, rec := newSupervisor(t)
	const maxBytes = 16 << 10
	spec := helperSpec(t, "spew", "spew", 0, "FG_HELPER_LINES=6000", "FG_HELPER_BURST=4")
	spec.LogMaxBytes, spec.LogKeep = maxBytes, 2
	stopAtEnd(t, sup, spec)
	k := &Keeper{
		Sup:       sup,
		StartSpec: func(string, []string) (Spec, error) { return spec, nil },
		StopSpec:  func(string) Spec { return spec },
		LogLimits: func(string) (int64, int) { return spec.LogMaxBytes, spec.LogKeep },
		StatePath: filepath.Join(t.TempDir(), "supervisor.json"),
		Emit:      rec.emit,
		Tick:      20 * time.Millisecond,
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	ready := make(chan struct{})
	go func() { done <- k.Run(ctx, nil, func() { close(ready) }) }()
	t.Cleanup(func() { cancel(); <-done })
	<-ready
	res := k.Do(ctx, Request{Action: ActionStart, Services: []string{"spew"}})
	if len(res) != 1 || !res[0].OK() {
		t.Fatalf("start: %+v", res)
	}
	path := sup.LogPath("spew")
	// The last line is in the current log, or (when the child wrote more
	// than the limit between the keeper's last two looks) in the copy.
	waitFor(t, 60*time.Second, "all 6000 lines written and two rotations", func() bool {
		data, _ := os.ReadFile(path)
		prev, _ := os.ReadFile(path + ".1")
		_, err := os.Stat(path + ".2")
		return err == nil && (bytes.Contains(data, []byte("line 006000")) || bytes.Contains(prev, []byte("line 006000")))
	})
	// 6000 lines are ~384 KB; what is on disk stays near the limit (the
	// slack covers what the child writes between two ticks on a busy box).
	for _, p := range []string{path, path + ".1", path + ".2"} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Size() > maxBytes+128<<10 {
			t.Fatalf("%s is %d bytes; limit %d", filepath.Base(p), fi.Size(), maxBytes)
		}
		if data, _ := os.ReadFile(p); len(data) > 0 {
			lastLineNumber(t, filepath.Base(p), data)
		}
	}
	if _, err := os.Stat(path + ".3"); !os.IsNotExist(err) {
		t.Fatalf("keep=2 left spew.log.3 (%v)", err)
	}
	if !alive(res[0].Pid) {
		t.Fatal("the service was restarted or died during rotation")
	}
	for _, ev := range rec.list() {
		if ev.Event == "log_rotate" || ev.Event == "service_crash" {
			t.Fatalf("unexpected event %+v", ev)
		}
	}
}
