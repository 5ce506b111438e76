package runtime

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestMain lets the test binary act as a second process that appends events.
func TestMain(m *testing.M) {
	if path := os.Getenv("FG_EVENTS_WRITER"); path != "" {
		n, _ := strconv.Atoi(os.Getenv("FG_EVENTS_N"))
		maxBytes, _ := strconv.ParseInt(os.Getenv("FG_EVENTS_MAX"), 10, 64)
		if maxBytes <= 0 {
			maxBytes = EventsMaxBytes
		}
		keep, _ := strconv.Atoi(os.Getenv("FG_EVENTS_KEEP"))
		if keep <= 0 {
			keep = EventsKeep
		}
		for i := 0; i < n; i++ {
			if err := appendEvent(path, Event{Event: "service_start", Service: "proc", Result: "success", Detail: strings.Repeat("x", 300) + strconv.Itoa(i)}, maxBytes, keep); err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

var wantKeys = []string{"detail", "event", "profile", "provider", "result", "service", "timestamp"}

func checkEventsFile(t *testing.T, path string, want int) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	n := 0
	for sc.Scan() {
		n++
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("line %d is not JSON (interleaved write?): %q", n, sc.Text())
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sortStrings(keys)
		if !reflect.DeepEqual(keys, wantKeys) {
			t.Fatalf("line %d keys = %v, want exactly %v", n, keys, wantKeys)
		}
		ts, _ := m["timestamp"].(string)
		if _, err := time.Parse(time.RFC3339, ts); err != nil || !strings.HasSuffix(ts, "Z") {
			t.Fatalf("line %d timestamp %q is not RFC 3339 UTC", n, ts)
		}
	}
	if n != want {
		t.Fatalf("got %d lines, want %d", n, want)
	}
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

func TestEventsFromManyGoroutinesNeverInterleave(t *testing.T) {
	path := filepath.Join(t.TempDir(), "runtime", "events.log")
	var wg sync.WaitGroup
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				if err := AppendEvent(path, Event{Event: "profile_switch", Profile: "p" + strconv.Itoa(g), Result: "success", Detail: strings.Repeat("d", 500)}); err != nil {
					t.Error(err)
				}
			}
		}(g)
	}
	wg.Wait()
	checkEventsFile(t, path, 800)
}

func TestEventsFromTwoProcessesNeverInterleave(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.log")
	var cmds []*exec.Cmd
	for i := 0; i < 2; i++ {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "FG_EVENTS_WRITER="+path, "FG_EVENTS_N=400")
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, cmd)
	}
	for _, c := range cmds {
		if err := c.Wait(); err != nil {
			t.Fatal(err)
		}
	}
	checkEventsFile(t, path, 800)
}

func TestEventsUseNullForEmptyFieldsAndRedactSecrets(t *testing.T) {
	line, err := EncodeEvent(Event{Event: "oauth_login", Provider: "codex", Result: "failed", Detail: "upstream said Bearer sk-live-abcdef123456 was bad"}, time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("x", 3600)))
	if err != nil {
		t.Fatal(err)
	}
	s := string(line)
	if !strings.HasPrefix(s, `{"timestamp": "2026-01-02T02:04:05Z", "event": "oauth_login", "service": null, "profile": null, "provider": "codex", "result": "failed", "detail": "`) || !strings.HasSuffix(s, "\"}\n") {
		t.Fatalf("unexpected shape: %s", s)
	}
	var back map[string]any
	if err := json.Unmarshal(line, &back); err != nil || len(back) != 7 {
		t.Fatalf("not one JSON object with seven keys: %v %s", err, s)
	}
	if strings.Contains(s, "sk-live-abcdef123456") {
		t.Fatalf("secret leaked: %s", s)
	}
}

func TestStateWriteIsAtomicAndPrivate(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "state.json")
	if s, err := ReadState(path); err != nil || s.CurrentProfile != "" {
		t.Fatalf("missing state must be empty: %+v %v", s, err)
	}
	// Concurrent writers and readers: a reader never sees a torn file.
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := ReadState(path); err != nil {
				t.Errorf("reader saw a torn state file: %v", err)
				return
			}
		}
	}()
	for i := 0; i < 200; i++ {
		if err := WriteState(path, State{CurrentProfile: "p" + strings.Repeat("x", i), UpdatedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode = %o", fi.Mode().Perm())
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("temp files left behind: %v", entries)
	}
}

func TestLockSerialisesHolders(t *testing.T) {
	path := filepath.Join(t.TempDir(), ".lock")
	l1, err := AcquireLock(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := AcquireLock(ctx, path); err == nil {
		t.Fatal("second holder must wait while the first holds the lock")
	}
	l1.Unlock()
	l2, err := AcquireLock(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	l2.Unlock()
}

func TestAuditSecretsFlagsGroupOrWorldBits(t *testing.T) {
	root := t.TempDir()
	auths, secrets := filepath.Join(root, "auths"), filepath.Join(root, "secrets")
	os.MkdirAll(auths, 0o700)
	os.MkdirAll(secrets, 0o700)
	os.WriteFile(filepath.Join(auths, "codex.json"), []byte("{}"), 0o644)
	os.WriteFile(filepath.Join(auths, "ok.json"), []byte("{}"), 0o600)
	os.WriteFile(filepath.Join(secrets, "strict"), []byte("k"), 0o400)
	extra := filepath.Join(root, "cred.txt")
	os.WriteFile(extra, []byte("k"), 0o640)
	os.Chmod(filepath.Join(auths, "codex.json"), 0o644)
	os.Chmod(extra, 0o640)
	issues := AuditSecrets(auths, secrets, []string{extra, filepath.Join(root, "missing")})
	if len(issues) != 2 {
		t.Fatalf("want 2 issues, got %+v", issues)
	}
	if issues[0].Path != filepath.Join(auths, "codex.json") || issues[0].Fix != "chmod 600 "+issues[0].Path || issues[0].ModeString != "0644" {
		t.Errorf("issue = %+v", issues[0])
	}
}

func TestEnsureCreatesPrivateSecretFolders(t *testing.T) {
	root := t.TempDir()
	l := Layout{RuntimeDir: filepath.Join(root, "runtime"), StateFile: filepath.Join(root, "runtime", "state.json"), EventsLog: filepath.Join(root, "runtime", "events.log"), AuthDir: filepath.Join(root, "auths"), SecretsDir: filepath.Join(root, "secrets")}
	if err := l.Ensure(); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{l.AuthDir, l.SecretsDir} {
		fi, err := os.Stat(d)
		if err != nil || fi.Mode().Perm() != 0o700 {
			t.Errorf("%s mode = %v %v", d, fi.Mode().Perm(), err)
		}
	}
	for _, d := range []string{l.PidDir(), l.LogDir(), l.BinDir()} {
		if _, err := os.Stat(d); err != nil {
			t.Errorf("%s missing", d)
		}
	}
}

// TestEventsMatchTheRunbookSearches appends events the way every command does
// and greps the file the way the runbook does.
func TestEventsMatchTheRunbookSearches(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rt", "events.log")
	if err := AppendEvent(path, Event{Event: "oauth_login", Provider: "codex", Result: "success", Detail: "a <b> & c\nsecond line"}); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	line := string(data)
	if strings.Count(line, "\n") != 1 {
		t.Fatalf("one event must be one line: %q", line)
	}
	for _, search := range []string{`"event": "oauth_login"`, `"result": "success"`, `"detail": "a <b> & c\nsecond line"`} {
		if !strings.Contains(line, search) {
			t.Errorf("grep %s does not match %s", search, line)
		}
	}
	checkEventsFile(t, path, 1)
}
