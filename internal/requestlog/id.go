package requestlog

import (
	"strconv"
	"time"
)

// A request id is a number, written in base 36: the request's start in
// microseconds since the Unix epoch times 16, plus what keeps it unique in
// the process. Ids therefore increase with time and are the rows' keys in
// the database: no index to maintain on each insert, and a time range is a
// key range.

// idAt is the smallest id of a request that started at t.
func idAt(t time.Time) int64 { return t.UnixMicro() << 4 }

// NewID returns a fresh request id for a request that started at t.
func (l *Log) NewID(t time.Time) string {
	want := idAt(t)
	for {
		last := l.lastID.Load()
		next := max(want, last+1)
		if l.lastID.CompareAndSwap(last, next) {
			return strconv.FormatInt(next, 36)
		}
	}
}

// parseID reads an id; ok is false for text that is not one.
func parseID(s string) (int64, bool) {
	n, err := strconv.ParseInt(s, 36, 64)
	return n, err == nil && n > 0
}

func formatID(n int64) string { return strconv.FormatInt(n, 36) }
