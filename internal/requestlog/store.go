package requestlog

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	_ "modernc.org/sqlite" // the pure-Go SQLite driver, registered as "sqlite"
)

// FileName is the request log's name inside the runtime folder.
const FileName = "requests.db"

// Path is the request log of a runtime folder: <runtime_dir>/requests.db.
func Path(runtimeDir string) string { return filepath.Join(runtimeDir, FileName) }

const schema = `
CREATE TABLE IF NOT EXISTS requests(
  id INTEGER PRIMARY KEY,
  ts INTEGER NOT NULL,
  key_name TEXT NOT NULL, protocol TEXT NOT NULL, client TEXT NOT NULL,
  alias TEXT NOT NULL, model_group TEXT NOT NULL, deployment TEXT NOT NULL, model TEXT NOT NULL,
  tried TEXT NOT NULL, attempts INTEGER NOT NULL, fallbacks INTEGER NOT NULL,
  session_id TEXT NOT NULL, stream INTEGER NOT NULL, status INTEGER NOT NULL, error_class TEXT NOT NULL,
  latency_ms REAL NOT NULL, ttfb_ms REAL NOT NULL, upstream_ms REAL NOT NULL, overhead_ms REAL NOT NULL,
  tok_input INTEGER NOT NULL, tok_output INTEGER NOT NULL, tok_cache_read INTEGER NOT NULL,
  tok_cache_write INTEGER NOT NULL, tok_reasoning INTEGER NOT NULL,
  cost_usd REAL NOT NULL, captured INTEGER NOT NULL, reasoning TEXT NOT NULL DEFAULT '');
CREATE TABLE IF NOT EXISTS captures(
  id INTEGER PRIMARY KEY, path TEXT NOT NULL,
  request TEXT NOT NULL, response TEXT NOT NULL, truncated INTEGER NOT NULL);`

const insertRequest = `INSERT OR REPLACE INTO requests(id, ts, key_name, protocol, client, alias, model_group, deployment, model,
 tried, attempts, fallbacks, session_id, stream, status, error_class, latency_ms, ttfb_ms, upstream_ms, overhead_ms,
 tok_input, tok_output, tok_cache_read, tok_cache_write, tok_reasoning, cost_usd, captured, reasoning)
 VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`

// addedColumns are the requests columns added after the first release, with
// their definitions: a log written by an older gateway gets them when the
// gateway opens it (ALTER TABLE), and readers of a log not yet upgraded
// read their default instead.
var addedColumns = []struct{ name, def string }{
	{"reasoning", "TEXT NOT NULL DEFAULT ''"},
}

const insertCapture = `INSERT OR REPLACE INTO captures(id, path, request, response, truncated) VALUES(?,?,?,?,?)`

// openDB opens (creating when create is set) the database at path in WAL
// mode. A new file is created 0600 (captures may hold conversation text);
// SQLite gives its -wal and -shm files the same mode.
func openDB(path string, create bool) (*sql.DB, error) {
	if create {
		// A gateway started on its own (`flowgate gateway serve`) may be the
		// first to use the runtime folder.
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, err
		}
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
		if err != nil {
			return nil, err
		}
		f.Close()
		if err := os.Chmod(path, 0o600); err != nil {
			return nil, err
		}
	} else if _, err := os.Stat(path); err != nil {
		return nil, err
	}
	// auto_vacuum must come before the first table is created.
	dsn := path + "?_pragma=busy_timeout(250)&_pragma=auto_vacuum(INCREMENTAL)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if create {
		if _, err = db.ExecContext(ctx, schema); err == nil {
			err = addColumns(ctx, db)
		}
	} else {
		err = db.PingContext(ctx)
	}
	if err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// addColumns adds the addedColumns a log made by an older gateway lacks.
func addColumns(ctx context.Context, db *sql.DB) error {
	for _, c := range addedColumns {
		has, err := hasColumn(ctx, db, c.name)
		if err != nil {
			return err
		}
		if has {
			continue
		}
		if _, err := db.ExecContext(ctx, "ALTER TABLE requests ADD COLUMN "+c.name+" "+c.def); err != nil {
			return fmt.Errorf("adding column %s to the request log: %w", c.name, err)
		}
	}
	return nil
}

// hasColumn reports whether the requests table has column name.
func hasColumn(ctx context.Context, db *sql.DB, name string) (bool, error) {
	var n int
	err := db.QueryRowContext(ctx, "SELECT count(*) FROM pragma_table_info('requests') WHERE name = ?", name).Scan(&n)
	return n > 0, err
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// rowsPerInsert is how many request rows one INSERT statement carries:
// SQLite's cost is mostly per statement, not per value.
const rowsPerInsert = 32

var insertRequests = func() string {
	one := "(" + strings.TrimSuffix(strings.Repeat("?,", requestColumns), ",") + ")"
	return insertRequest[:strings.Index(insertRequest, "VALUES(")] + "VALUES" + strings.TrimSuffix(strings.Repeat(one+",", rowsPerInsert), ",")
}()

const requestColumns = 28

func requestArgs(args []any, r *Record) []any {
	t := r.Tokens
	id, _ := parseID(r.ID)
	return append(args, id, r.Time.UnixMicro(), r.KeyName, r.Protocol, r.Client, r.Alias, r.Group,
		r.Deployment, r.Model, strings.Join(r.Tried, ","), r.Attempts, r.Fallbacks, r.SessionID, boolInt(r.Stream),
		r.Status, r.ErrorClass, r.LatencyMS, r.TTFBMS, r.UpstreamMS, r.OverheadMS,
		t.Input, t.Output, t.CacheRead, t.CacheWrite, t.Reasoning, r.CostUSD, boolInt(r.Captured), r.Reasoning)
}

// writeBatch inserts the batch in one transaction. Captures are redacted
// first, outside the transaction and its deadline.
func writeBatch(db *sql.DB, batch []item) error {
	for i := range batch {
		if c := batch[i].cap; c != nil {
			c.redact()
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var capStmt *sql.Stmt
	for i := range batch {
		if c := batch[i].cap; c != nil {
			if capStmt == nil {
				if capStmt, err = tx.PrepareContext(ctx, insertCapture); err != nil {
					return err
				}
			}
			id, _ := parseID(c.ID)
			if _, err := capStmt.ExecContext(ctx, id, c.Path, c.Request, c.Response, boolInt(c.Truncated)); err != nil {
				return err
			}
		}
	}
	args := make([]any, 0, rowsPerInsert*requestColumns)
	rest := batch
	if len(rest) >= rowsPerInsert {
		many, err := tx.PrepareContext(ctx, insertRequests)
		if err != nil {
			return err
		}
		for ; len(rest) >= rowsPerInsert; rest = rest[rowsPerInsert:] {
			args = args[:0]
			for i := range rowsPerInsert {
				args = requestArgs(args, &rest[i].rec)
			}
			if _, err := many.ExecContext(ctx, args...); err != nil {
				return err
			}
		}
	}
	if len(rest) > 0 {
		one, err := tx.PrepareContext(ctx, insertRequest)
		if err != nil {
			return err
		}
		for i := range rest {
			if _, err := one.ExecContext(ctx, requestArgs(args[:0], &rest[i].rec)...); err != nil {
				return err
			}
		}
	}
	return tx.Commit()
}

// prune applies retention: rows older than maxAge (captures older than
// captureAge) go, then the oldest fifth of the rows while the data is
// larger than maxBytes; freed pages are returned to the file system.
func prune(db *sql.DB, now time.Time, maxAge, captureAge time.Duration, maxBytes int64) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := db.ExecContext(ctx, `DELETE FROM requests WHERE id < ?`, idAt(now.Add(-maxAge))); err != nil {
		return err
	}
	if _, err := db.ExecContext(ctx, `DELETE FROM captures WHERE id < ?`, idAt(now.Add(-captureAge))); err != nil {
		return err
	}
	for range 10 {
		used, err := usedBytes(ctx, db)
		if err != nil {
			return err
		}
		if used <= maxBytes {
			break
		}
		var ncap int64
		if err := db.QueryRowContext(ctx, `SELECT count(*) FROM captures`).Scan(&ncap); err != nil {
			return err
		}
		q := `DELETE FROM requests WHERE id IN (SELECT id FROM requests ORDER BY id LIMIT (SELECT max(count(*)/5, 1) FROM requests))`
		if ncap > 0 { // the bodies are the bulk: they go first
			q = `DELETE FROM captures WHERE id IN (SELECT id FROM captures ORDER BY id LIMIT (SELECT max(count(*)/2, 1) FROM captures))`
		}
		if _, err := db.ExecContext(ctx, q); err != nil {
			return err
		}
	}
	if _, err := db.ExecContext(ctx, `PRAGMA incremental_vacuum`); err != nil {
		return err
	}
	_, err := db.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`)
	return err
}

func usedBytes(ctx context.Context, db *sql.DB) (int64, error) {
	var pages, free, size int64
	if err := db.QueryRowContext(ctx, `PRAGMA page_count`).Scan(&pages); err != nil {
		return 0, err
	}
	if err := db.QueryRowContext(ctx, `PRAGMA freelist_count`).Scan(&free); err != nil {
		return 0, err
	}
	if err := db.QueryRowContext(ctx, `PRAGMA page_size`).Scan(&size); err != nil {
		return 0, err
	}
	return (pages - free) * size, nil
}

// ErrNoLog: the request log does not exist (yet).
var ErrNoLog = errors.New("no request log")

func noLog(path string) error {
	return fmt.Errorf("%w at %s: the gateway creates it when it serves its first request (check that services.gateway.request_log is not off and the gateway runs: `flowgate status`)", ErrNoLog, path)
}
