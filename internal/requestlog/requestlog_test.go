package requestlog

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

var (
	testIDMu sync.Mutex
	testIDs  = map[string]string{}
	testSeq  int64
)

// tid is the request id the test calls name: fresh ids, in order of first use.
func tid(name string) string {
	testIDMu.Lock()
	defer testIDMu.Unlock()
	if id, ok := testIDs[name]; ok {
		return id
	}
	testSeq++
	id := formatID(idAt(time.Now()) + testSeq)
	testIDs[name] = id
	return id
}

func rec(id, alias string, status int, tok Tokens, cost float64) Record {
	return Record{ID: tid(id), Time: time.Now().UTC(), KeyName: "master_key", Protocol: "chat", Client: "sdk", Alias: alias,
		Group: alias, Deployment: "d-" + alias, Tried: []string{"d-" + alias}, Attempts: 1, Status: status, Tokens: tok, CostUSD: cost}
}

func TestRecordsRoundTripThroughTheDatabaseFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	l, err := New(Options{Path: path, Capture: true})
	if err != nil {
		t.Fatal(err)
	}
	r1 := rec("a1", "coder", 200, Tokens{Input: 10, Output: 5, CacheRead: 30, CacheWrite: 2, Reasoning: 1}, 0.5)
	r1.Tried, r1.Attempts, r1.Fallbacks, r1.Captured = []string{"d1", "d2"}, 2, 1, true
	r1.Reasoning = "dropped=2 from=d1 to=d2; thinking=disabled"
	l.Add(r1, &Capture{ID: tid("a1"), Path: "/v1/chat/completions", Request: `{"model":"coder","messages":"my key is sk-live-abcdefghijkl and zz-secret-value"}`,
		Response: `{"ok":true}`, Secrets: []string{"zz-secret-value"}})
	l.Add(rec("a2", "coder", 502, Tokens{}, 0), nil)
	l.Add(rec("a3", "fast", 200, Tokens{Input: 1, Output: 1}, 0.25), nil)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		if fi, err := os.Stat(p); err == nil && fi.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", p, fi.Mode().Perm())
		}
	}
	r, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ctx := context.Background()
	rows, err := r.List(ctx, Filter{Limit: 10})
	if err != nil || len(rows) != 3 {
		t.Fatalf("List: %v %d rows", err, len(rows))
	}
	if rows[0].ID != tid("a1") || rows[2].ID != tid("a3") {
		t.Errorf("rows must come oldest first: %s %s", rows[0].ID, rows[2].ID)
	}
	got := rows[0].Record
	if got.Attempts != 2 || got.Fallbacks != 1 || strings.Join(got.Tried, ",") != "d1,d2" || got.Tokens != r1.Tokens || got.KeyName != "master_key" ||
		got.Reasoning != r1.Reasoning {
		t.Errorf("a1 came back as %+v", got)
	}
	if rows, _ := r.List(ctx, Filter{Errors: true}); len(rows) != 1 || rows[0].ID != tid("a2") {
		t.Errorf("--errors: %+v", rows)
	}
	if rows, _ := r.List(ctx, Filter{Alias: "fast"}); len(rows) != 1 || rows[0].ID != tid("a3") {
		t.Errorf("--alias fast: %+v", rows)
	}
	if rows, _ := r.List(ctx, Filter{Limit: 1}); len(rows) != 1 || rows[0].ID != tid("a3") {
		t.Errorf("-n 1 must give the newest: %+v", rows)
	}
	c, err := r.Capture(ctx, tid("a1"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(c.Request, "sk-live-abcdefghijkl") || strings.Contains(c.Request, "zz-secret-value") || !strings.Contains(c.Request, `"model":"coder"`) {
		t.Errorf("capture not redacted: %s", c.Request)
	}
	if _, err := r.Capture(ctx, tid("a2")); err == nil || !strings.Contains(err.Error(), "services.gateway.capture") {
		t.Errorf("a request without capture: %v", err)
	}
	if _, err := r.Get(ctx, "nope"); err == nil || !strings.Contains(err.Error(), "flowgate requests") {
		t.Errorf("unknown id: %v", err)
	}
	usage, total, err := r.Usage(ctx, time.Now().Add(-time.Hour), "alias")
	if err != nil {
		t.Fatal(err)
	}
	if len(usage) != 2 || usage[0].Key != "coder" || usage[0].Requests != 2 || usage[0].Errors != 1 || usage[0].CostUSD != 0.5 {
		t.Errorf("usage by alias: %+v", usage)
	}
	if total.Requests != 3 || total.Tokens.Input != 11 || total.Tokens.CacheRead != 30 || total.CostUSD != 0.75 {
		t.Errorf("total: %+v", total)
	}
	if want := 30.0 / 43; total.CacheHitRatio != want {
		t.Errorf("cache hit ratio %v, want %v", total.CacheHitRatio, want)
	}
	if _, _, err := r.Usage(ctx, time.Time{}, "colour"); err == nil || !strings.Contains(err.Error(), "alias, deployment, key, day") {
		t.Errorf("unknown dimension: %v", err)
	}
}

func TestANewLogCreatesItsRuntimeFolder(t *testing.T) {
	path := filepath.Join(t.TempDir(), ".router", "runtime", FileName)
	l, err := New(Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	l.Add(rec("m1", "coder", 200, Tokens{Input: 1}, 0), nil)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if l.Lost() != 0 {
		t.Fatalf("rows lost: %d (%s)", l.Lost(), l.Warning())
	}
	if fi, err := os.Stat(filepath.Dir(path)); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("runtime folder: %v %v, want a 0700 folder", fi, err)
	}
}

// oldSchema is the requests table as gateways before the reasoning column
// created it.
const oldSchema = `CREATE TABLE requests(id INTEGER PRIMARY KEY, ts INTEGER NOT NULL,
  key_name TEXT NOT NULL, protocol TEXT NOT NULL, client TEXT NOT NULL,
  alias TEXT NOT NULL, model_group TEXT NOT NULL, deployment TEXT NOT NULL, model TEXT NOT NULL,
  tried TEXT NOT NULL, attempts INTEGER NOT NULL, fallbacks INTEGER NOT NULL,
  session_id TEXT NOT NULL, stream INTEGER NOT NULL, status INTEGER NOT NULL, error_class TEXT NOT NULL,
  latency_ms REAL NOT NULL, ttfb_ms REAL NOT NULL, upstream_ms REAL NOT NULL, overhead_ms REAL NOT NULL,
  tok_input INTEGER NOT NULL, tok_output INTEGER NOT NULL, tok_cache_read INTEGER NOT NULL,
  tok_cache_write INTEGER NOT NULL, tok_reasoning INTEGER NOT NULL,
  cost_usd REAL NOT NULL, captured INTEGER NOT NULL);
INSERT INTO requests VALUES(?, 0, 'open', 'chat', 'sdk', 'coder', 'coder', 'd', 'm', 'd', 1, 0, '', 0, 200, '', 1, 1, 1, 0, 1, 1, 0, 0, 0, 0, 0);`

func TestALogFromAnOlderGatewayIsReadAndGetsTheReasoningColumn(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(oldSchema, idAt(time.Now())); err != nil {
		t.Fatal(err)
	}
	db.Close()
	// A reader does not change the file: the old row reads with no reasoning.
	r, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := r.List(context.Background(), Filter{})
	r.Close()
	if err != nil || len(rows) != 1 || rows[0].Alias != "coder" || rows[0].Reasoning != "" {
		t.Fatalf("old log: %+v, %v", rows, err)
	}
	// The gateway's writer adds the column and records reasoning in it.
	l, err := New(Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	x := rec("migrated", "coder", 200, Tokens{}, 0)
	x.Reasoning = "dropped=1 from=a to=b"
	l.Add(x, nil)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	r, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	rows, err = r.List(context.Background(), Filter{})
	if err != nil || len(rows) != 2 || rows[0].Reasoning != "" || rows[1].Reasoning != x.Reasoning {
		t.Fatalf("after the upgrade: %+v, %v (lost %d)", rows, err, l.Lost())
	}
}

func TestOpeningAMissingLogSaysWhatToCheck(t *testing.T) {
	_, err := Open(filepath.Join(t.TempDir(), FileName))
	if err == nil || !strings.Contains(err.Error(), "request_log") {
		t.Fatalf("got %v", err)
	}
}

func TestRetentionDropsRowsOlderThanMaxAge(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	l, err := New(Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	old := rec("old", "a", 200, Tokens{}, 0)
	old.Time = time.Now().Add(-48 * time.Hour)
	old.ID = formatID(idAt(old.Time))
	l.Add(old, nil)
	l.Add(rec("new", "a", 200, Tokens{}, 0), nil)
	l.Close()
	// Reopening with a one-day retention prunes at start.
	l, err = New(Options{Path: path, MaxAge: 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
	r, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	rows, _ := r.List(context.Background(), Filter{})
	if len(rows) != 1 || rows[0].ID != tid("new") {
		t.Fatalf("after retention: %+v", rows)
	}
}

func TestRetentionKeepsTheDataUnderMaxBytes(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	l, err := New(Options{Path: path, Capture: true})
	if err != nil {
		t.Fatal(err)
	}
	big := strings.Repeat("x", 64<<10)
	for i := range 40 {
		id := "r" + string(rune('a'+i%26)) + string(rune('a'+i/26))
		l.Add(rec(id, "a", 200, Tokens{}, 0), &Capture{ID: tid(id), Path: "/v1/messages", Request: big, Response: big})
	}
	l.Close()
	l, err = New(Options{Path: path, MaxBytes: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
	db, err := openDB(path, false)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	used, err := usedBytes(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	if used > 1<<20 {
		t.Fatalf("data is %d bytes, over the 1 MiB bound", used)
	}
	var n int
	db.QueryRow(`SELECT count(*) FROM requests`).Scan(&n)
	if n != 40 {
		t.Errorf("the captures should go before the request rows; %d rows left", n)
	}
	fi, _ := os.Stat(path)
	if fi.Size() > 2<<20 {
		t.Errorf("the file stays %d bytes: freed pages were not returned", fi.Size())
	}
}

func TestALockedDatabaseDropsAndCountsRowsAndRecovers(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	l, err := New(Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var lostSeen int
	l.SetOnLost(func(n int) { lostSeen += n })
	other, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	other.SetMaxOpenConns(1)
	tx, err := other.Begin()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(`INSERT INTO captures(id, path, request, response, truncated) VALUES(1, '', '', '', 0)`); err != nil {
		t.Fatal(err)
	}
	l.Add(rec("while-locked", "a", 200, Tokens{}, 0), nil)
	waitFor(t, "the locked write to be counted as lost", func() bool { return l.Lost() == 1 })
	if w := l.Warning(); !strings.Contains(w, "1 rows lost") || !strings.Contains(w, path) || !strings.Contains(w, "requests were served normally") {
		t.Errorf("warning: %q", w)
	}
	tx.Rollback()
	l.Add(rec("after", "a", 200, Tokens{}, 0), nil)
	r, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	waitFor(t, "the next row to be written", func() bool {
		rows, _ := r.List(context.Background(), Filter{})
		return len(rows) == 1 && rows[0].ID == tid("after")
	})
}

func TestADeletedDatabaseIsReportedAndStartedAgain(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	l, err := New(Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	l.Add(rec("before", "a", 200, Tokens{}, 0), nil)
	waitFor(t, "the first row", func() bool { return countRows(t, path) == 1 })
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		os.Remove(p)
	}
	l.Add(rec("after", "a", 200, Tokens{}, 0), nil)
	waitFor(t, "the deletion to be noticed", func() bool { return strings.Contains(l.Warning(), "deleted or replaced") })
	r, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	waitFor(t, "the row in the new file", func() bool {
		rows, _ := r.List(context.Background(), Filter{})
		return len(rows) == 1 && rows[0].ID == tid("after")
	})
}

func TestADatabaseReplacedByGarbageLosesRowsOnly(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	l, err := New(Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	os.Remove(path)
	os.WriteFile(path, []byte(strings.Repeat("not a database ", 512)), 0o600)
	l.Add(rec("x", "a", 200, Tokens{}, 0), nil)
	waitFor(t, "the row to be counted as lost", func() bool { return l.Lost() == 1 })
	if w := l.Warning(); !strings.Contains(w, "not a database") {
		t.Errorf("warning should say why: %q", w)
	}
}

func TestAReadOnlyDatabaseLosesRowsOnly(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root writes read-only files; the locked, deleted and garbage cases cover the same path")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, FileName)
	l, err := New(Options{Path: path, IdleClose: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	os.Chmod(path, 0o400)
	os.Chmod(dir, 0o500)
	defer os.Chmod(dir, 0o700)
	waitFor(t, "the idle close", func() bool { return l.db == nil })
	l.Add(rec("x", "a", 200, Tokens{}, 0), nil)
	waitFor(t, "the row to be counted as lost", func() bool { return l.Lost() == 1 })
}

func TestAFullQueueDropsInsteadOfBlocking(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	l, err := New(Options{Path: path, Queue: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for i := range 500 {
		l.Add(rec("q"+string(rune('a'+i%26))+string(rune('a'+i/26)), "a", 200, Tokens{}, 0), nil)
	}
	if l.Lost() == 0 {
		t.Skip("the writer kept up with 500 rows through a queue of one")
	}
	if !strings.Contains(l.Warning(), "queue") {
		t.Errorf("warning: %q", l.Warning())
	}
}

func countRows(t *testing.T, path string) int {
	r, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	rows, _ := r.List(context.Background(), Filter{})
	return len(rows)
}
