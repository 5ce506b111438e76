package requestlog

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"
)

// Reader reads the request log (the CLI's side). The gateway may be
// writing at the same time: WAL mode lets both proceed.
type Reader struct {
	path string
	db   *sql.DB
	file os.FileInfo
	// columns is what a query selects for a Row (see selectColumns).
	columns string
}

// Open opens the request log at path for reading. A missing file is
// ErrNoLog, with what to check.
func Open(path string) (*Reader, error) {
	db, err := openDB(path, false)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, noLog(path)
		}
		return nil, fmt.Errorf("opening the request log %s: %w", path, err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		db.Close()
		return nil, noLog(path)
	}
	cols, err := selectColumns(db)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("reading the request log %s: %w", path, err)
	}
	return &Reader{path: path, db: db, file: fi, columns: cols}, nil
}

// selectColumns is the SELECT list of a Row: columns, then each of the
// addedColumns, or its default when the log predates it (a reader does not
// alter the log; the gateway adds the column when it next opens it).
func selectColumns(db *sql.DB) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	cols := columns
	for _, c := range addedColumns {
		has, err := hasColumn(ctx, db, c.name)
		if err != nil {
			return "", err
		}
		if has {
			cols += ", " + c.name
		} else {
			cols += ", ''"
		}
	}
	return cols, nil
}

// Stale reports whether the file at the Reader's path is no longer the one
// it opened: deleted, or replaced by a new log. A long-lived reader (the
// dashboard's) then reopens, or shows nothing, instead of reading a file
// nobody writes any more.
func (r *Reader) Stale() bool {
	fi, err := os.Stat(r.path)
	return err != nil || !os.SameFile(fi, r.file)
}

// Close closes the database.
func (r *Reader) Close() error { return r.db.Close() }

// Filter selects requests for List.
type Filter struct {
	// Limit is the number of most recent rows. Default: 20.
	Limit int
	// Alias keeps requests for this alias (asked for, or answered by).
	Alias string
	// Errors keeps failed requests only (status >= 400, or a stream that
	// broke after it started).
	Errors bool
	// After keeps rows after the one with this key (follow mode; see Row.Seq).
	After int64
}

// Row is a Record with its place in the log.
type Row struct {
	// Seq is the row's key, the id as a number: it increases with the
	// requests' start times; follow mode polls for higher ones.
	Seq int64 `json:"-"`
	Record
}

const columns = `id, ts, key_name, protocol, client, alias, model_group, deployment, model, tried, attempts, fallbacks,
 session_id, stream, status, error_class, latency_ms, ttfb_ms, upstream_ms, overhead_ms,
 tok_input, tok_output, tok_cache_read, tok_cache_write, tok_reasoning, cost_usd, captured`

func scanRow(s interface{ Scan(...any) error }) (Row, error) {
	var (
		row             Row
		ts              int64
		tried           string
		stream, capturd int
	)
	r := &row.Record
	t := &r.Tokens
	err := s.Scan(&row.Seq, &ts, &r.KeyName, &r.Protocol, &r.Client, &r.Alias, &r.Group, &r.Deployment, &r.Model,
		&tried, &r.Attempts, &r.Fallbacks, &r.SessionID, &stream, &r.Status, &r.ErrorClass,
		&r.LatencyMS, &r.TTFBMS, &r.UpstreamMS, &r.OverheadMS,
		&t.Input, &t.Output, &t.CacheRead, &t.CacheWrite, &t.Reasoning, &r.CostUSD, &capturd, &r.Reasoning)
	r.ID = formatID(row.Seq)
	r.Time = time.UnixMicro(ts).UTC()
	r.Tried = []string{}
	if tried != "" {
		r.Tried = strings.Split(tried, ",")
	}
	r.Stream, r.Captured = stream != 0, capturd != 0
	return row, err
}

// List returns the most recent requests matching f, oldest first.
func (r *Reader) List(ctx context.Context, f Filter) ([]Row, error) {
	if f.Limit <= 0 {
		f.Limit = 20
	}
	q := `SELECT ` + r.columns + ` FROM requests WHERE id > ?`
	args := []any{f.After}
	if f.Alias != "" {
		q += ` AND (alias = ? OR model_group = ?)`
		args = append(args, f.Alias, f.Alias)
	}
	if f.Errors {
		q += ` AND (status >= 400 OR error_class != '')`
	}
	q += ` ORDER BY id DESC LIMIT ?`
	args = append(args, f.Limit)
	rows, err := r.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("reading the request log %s: %w", r.path, err)
	}
	defer rows.Close()
	var out []Row
	for rows.Next() {
		row, err := scanRow(rows)
		if err != nil {
			return nil, fmt.Errorf("reading the request log %s: %w", r.path, err)
		}
		out = append(out, row)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading the request log %s: %w", r.path, err)
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out, nil
}

// ErrNotFound: no request with that id in the log.
var ErrNotFound = errors.New("no such request")

// Get returns one request by id.
func (r *Reader) Get(ctx context.Context, id string) (Row, error) {
	n, _ := parseID(id)
	row, err := scanRow(r.db.QueryRowContext(ctx, `SELECT `+r.columns+` FROM requests WHERE id = ?`, n))
	if errors.Is(err, sql.ErrNoRows) {
		return Row{}, fmt.Errorf("%w %q in %s: `flowgate requests` lists the ids of recent requests (rows older than the retention are gone)", ErrNotFound, id, r.path)
	}
	if err != nil {
		return Row{}, fmt.Errorf("reading the request log %s: %w", r.path, err)
	}
	return row, nil
}

// ErrNoCapture: the request's bodies were not captured.
var ErrNoCapture = errors.New("no captured bodies")

// Capture returns the captured bodies of one request.
func (r *Reader) Capture(ctx context.Context, id string) (Capture, error) {
	var (
		c  = Capture{ID: id}
		tr int
	)
	n, _ := parseID(id)
	err := r.db.QueryRowContext(ctx, `SELECT path, request, response, truncated FROM captures WHERE id = ?`, n).
		Scan(&c.Path, &c.Request, &c.Response, &tr)
	if errors.Is(err, sql.ErrNoRows) {
		return Capture{}, fmt.Errorf("%w for request %s: capture is off (set services.gateway.capture: true and `flowgate service restart gateway`), or the capture is older than its retention", ErrNoCapture, id)
	}
	if err != nil {
		return Capture{}, fmt.Errorf("reading the request log %s: %w", r.path, err)
	}
	c.Truncated = tr != 0
	return c, nil
}

// Dimensions Usage can group by.
var Dimensions = []string{"alias", "deployment", "key", "day"}

// UsageRow is the usage of one group (one alias, deployment, key or day).
type UsageRow struct {
	Key      string `json:"key"`
	Requests int64  `json:"requests"`
	Errors   int64  `json:"errors"`
	Tokens   Tokens `json:"tokens"`
	// CacheHitRatio is cache_read / (input + cache_read + cache_write).
	CacheHitRatio float64 `json:"cache_hit_ratio"`
	// CostUSD is an estimate (see Record.CostUSD).
	CostUSD float64 `json:"cost_usd_estimate"`
}

// Usage sums the requests since the given time, grouped by one of
// Dimensions. The day is the UTC date. Rows are sorted by key; the second
// result is the total.
func (r *Reader) Usage(ctx context.Context, since time.Time, by string) ([]UsageRow, UsageRow, error) {
	var expr string
	switch by {
	case "alias":
		expr = "alias"
	case "deployment":
		expr = "deployment"
	case "key":
		expr = "key_name"
	case "day":
		expr = "strftime('%Y-%m-%d', ts / 1000000, 'unixepoch')"
	default:
		return nil, UsageRow{}, fmt.Errorf("cannot group usage by %q: use one of %s", by, strings.Join(Dimensions, ", "))
	}
	rows, err := r.db.QueryContext(ctx, `SELECT `+expr+`, count(*), sum(status >= 400 OR error_class != ''), sum(tok_input), sum(tok_output),
 sum(tok_cache_read), sum(tok_cache_write), sum(tok_reasoning), sum(cost_usd) FROM requests WHERE id >= ? GROUP BY 1`, idAt(since))
	if err != nil {
		return nil, UsageRow{}, fmt.Errorf("reading the request log %s: %w", r.path, err)
	}
	defer rows.Close()
	var (
		out   []UsageRow
		total = UsageRow{Key: "total"}
	)
	for rows.Next() {
		var u UsageRow
		t := &u.Tokens
		if err := rows.Scan(&u.Key, &u.Requests, &u.Errors, &t.Input, &t.Output, &t.CacheRead, &t.CacheWrite, &t.Reasoning, &u.CostUSD); err != nil {
			return nil, UsageRow{}, fmt.Errorf("reading the request log %s: %w", r.path, err)
		}
		u.CacheHitRatio = u.Tokens.CacheHitRatio()
		out = append(out, u)
		total.Requests += u.Requests
		total.Errors += u.Errors
		total.Tokens = total.Tokens.Add(u.Tokens)
		total.CostUSD += u.CostUSD
	}
	if err := rows.Err(); err != nil {
		return nil, UsageRow{}, fmt.Errorf("reading the request log %s: %w", r.path, err)
	}
	total.CacheHitRatio = total.Tokens.CacheHitRatio()
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, total, nil
}

// Bucket is the requests that started in [Start, Start+step) of a Series.
type Bucket struct {
	Start    time.Time
	Requests int64
	Errors   int64
	// LatencyP50MS and LatencyP95MS are nearest-rank percentiles of the
	// requests' latency_ms; TTFBP50MS the median ttfb_ms of those that sent
	// a first byte.
	LatencyP50MS float64
	LatencyP95MS float64
	TTFBP50MS    float64
	Tokens       Tokens
}

// seriesQuery buckets the rows by id, which is the start time scaled (see
// id.go): the window is a key range and a bucket is id / step, so nothing
// but the primary key is read to select and group. The window functions
// rank each row within its bucket for the percentiles.
const seriesQuery = `SELECT b, count(*), sum(err), sum(tok_input), sum(tok_output), sum(tok_cache_read), sum(tok_cache_write),
 max(CASE WHEN lr = (n*50+99)/100 THEN latency_ms END),
 max(CASE WHEN lr = (n*95+99)/100 THEN latency_ms END),
 max(CASE WHEN ttfb_ms > 0 AND tr = (tn*50+99)/100 THEN ttfb_ms END)
FROM (SELECT b, err, latency_ms, ttfb_ms, tok_input, tok_output, tok_cache_read, tok_cache_write,
  row_number() OVER (PARTITION BY b ORDER BY latency_ms) AS lr,
  count(*) OVER (PARTITION BY b) AS n,
  row_number() OVER (PARTITION BY b, ttfb_ms > 0 ORDER BY ttfb_ms) AS tr,
  count(*) OVER (PARTITION BY b, ttfb_ms > 0) AS tn
 FROM (SELECT (id - ?1) / ?2 AS b, (status >= 400 OR error_class != '') AS err, latency_ms, ttfb_ms,
   tok_input, tok_output, tok_cache_read, tok_cache_write FROM requests WHERE id >= ?1))
GROUP BY b ORDER BY b`

// Series aggregates the requests since `since` into buckets of step,
// oldest first; buckets without requests are left out. One query over the
// key range.
func (r *Reader) Series(ctx context.Context, since time.Time, step time.Duration) ([]Bucket, error) {
	if step < time.Millisecond {
		return nil, fmt.Errorf("series step %s: must be at least 1ms", step)
	}
	rows, err := r.db.QueryContext(ctx, seriesQuery, idAt(since), step.Microseconds()<<4)
	if err != nil {
		return nil, fmt.Errorf("reading the request log %s: %w", r.path, err)
	}
	defer rows.Close()
	var out []Bucket
	for rows.Next() {
		var (
			b             Bucket
			n             int64
			p50, p95, ttf sql.NullFloat64
		)
		t := &b.Tokens
		if err := rows.Scan(&n, &b.Requests, &b.Errors, &t.Input, &t.Output, &t.CacheRead, &t.CacheWrite, &p50, &p95, &ttf); err != nil {
			return nil, fmt.Errorf("reading the request log %s: %w", r.path, err)
		}
		b.Start = since.Add(time.Duration(n) * step)
		b.LatencyP50MS, b.LatencyP95MS, b.TTFBP50MS = p50.Float64, p95.Float64, ttf.Float64
		out = append(out, b)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading the request log %s: %w", r.path, err)
	}
	return out, nil
}

// DayUsage is the usage of one alias on one UTC day.
type DayUsage struct {
	// Day is the UTC date, YYYY-MM-DD.
	Day      string
	Alias    string
	Requests int64
	Errors   int64
	Tokens   Tokens
	// CostUSD is an estimate (see Record.CostUSD).
	CostUSD float64
	// Unpriced counts the requests with tokens but no cost: their model
	// has no price, so CostUSD is short of the true figure.
	Unpriced int64
}

// UsageByAliasDay sums the requests since `since` per alias (as the client
// asked for it, like Usage's "alias") and UTC day, newest day first and
// aliases by name. One query over the key range.
func (r *Reader) UsageByAliasDay(ctx context.Context, since time.Time) ([]DayUsage, error) {
	rows, err := r.db.QueryContext(ctx, `SELECT strftime('%Y-%m-%d', ts / 1000000, 'unixepoch') AS day, alias, count(*),
 sum(status >= 400 OR error_class != ''), sum(tok_input), sum(tok_output), sum(tok_cache_read), sum(tok_cache_write),
 sum(tok_reasoning), sum(cost_usd), sum(cost_usd = 0 AND tok_input + tok_output + tok_cache_read + tok_cache_write > 0)
 FROM requests WHERE id >= ? GROUP BY day, alias ORDER BY day DESC, alias`, idAt(since))
	if err != nil {
		return nil, fmt.Errorf("reading the request log %s: %w", r.path, err)
	}
	defer rows.Close()
	var out []DayUsage
	for rows.Next() {
		var u DayUsage
		t := &u.Tokens
		if err := rows.Scan(&u.Day, &u.Alias, &u.Requests, &u.Errors, &t.Input, &t.Output, &t.CacheRead, &t.CacheWrite,
			&t.Reasoning, &u.CostUSD, &u.Unpriced); err != nil {
			return nil, fmt.Errorf("reading the request log %s: %w", r.path, err)
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading the request log %s: %w", r.path, err)
	}
	return out, nil
}
