package requestlog

import (
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Retention and capture defaults (services.gateway.request_log and
// services.gateway.capture).
const (
	// DefaultMaxAge keeps request rows 30 days.
	DefaultMaxAge = 30 * 24 * time.Hour
	// DefaultMaxBytes keeps the database under 256 MiB of data.
	DefaultMaxBytes = 256 << 20
	// DefaultCaptureMaxAge keeps captured bodies 24 hours.
	DefaultCaptureMaxAge = 24 * time.Hour
	// DefaultCaptureMaxBytes cuts each captured body at 256 KiB.
	DefaultCaptureMaxBytes = 256 << 10
	// DefaultQueue is how many records may wait for the writer; beyond it
	// records are dropped (and counted), never waited for.
	DefaultQueue = 1024
)

// Options configure a Log.
type Options struct {
	// Path is the database file. Required; see Path().
	Path string
	// MaxAge: rows older than this are deleted. Default: DefaultMaxAge.
	MaxAge time.Duration
	// MaxBytes bounds the data in the file. Default: DefaultMaxBytes.
	MaxBytes int64
	// Capture turns body capture on. Default: off.
	Capture bool
	// CaptureMaxBytes cuts each body. Default: DefaultCaptureMaxBytes.
	CaptureMaxBytes int
	// CaptureMaxAge: captures older than this are deleted. Default: DefaultCaptureMaxAge.
	CaptureMaxAge time.Duration
	// Queue is the writer's queue length. Default: DefaultQueue.
	Queue int
	// IdleClose closes the database after this long without writes, which
	// gives its page cache back. Default: 10s.
	IdleClose time.Duration
	// FlushDelay is the longest a row waits to be written with others.
	// Default: 250ms.
	FlushDelay time.Duration
	// Logger receives the one warning per failure streak. Default: discard.
	Logger *slog.Logger
}

type item struct {
	rec Record
	cap *Capture
}

// Log is the gateway's writer of the request log. Add never blocks.
type Log struct {
	opts Options
	ch   chan item
	kick chan struct{}
	quit chan struct{}
	done chan struct{}
	once sync.Once
	lost atomic.Uint64
	// lastID is the last id NewID handed out.
	lastID atomic.Int64
	// onLost is called (on any goroutine) with the number of rows lost.
	onLost atomic.Pointer[func(int)]

	mu      sync.Mutex
	lastErr string
	errAt   time.Time
	notes   []string

	// writer goroutine only
	db      *sql.DB
	dbFile  os.FileInfo
	failing bool
	written int
}

// New starts the writer. It opens the database at once so that a
// misconfigured path is reported at startup (as a warning: the log is then
// retried on every batch and never blocks requests).
func New(opts Options) (*Log, error) {
	if opts.Path == "" {
		return nil, fmt.Errorf("requestlog: no path")
	}
	if opts.MaxAge <= 0 {
		opts.MaxAge = DefaultMaxAge
	}
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = DefaultMaxBytes
	}
	if opts.CaptureMaxBytes <= 0 {
		opts.CaptureMaxBytes = DefaultCaptureMaxBytes
	}
	if opts.CaptureMaxAge <= 0 {
		opts.CaptureMaxAge = DefaultCaptureMaxAge
	}
	if opts.Queue <= 0 {
		opts.Queue = DefaultQueue
	}
	if opts.IdleClose <= 0 {
		opts.IdleClose = 10 * time.Second
	}
	if opts.FlushDelay <= 0 {
		opts.FlushDelay = 250 * time.Millisecond
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	l := &Log{opts: opts, ch: make(chan item, opts.Queue), kick: make(chan struct{}, 1), quit: make(chan struct{}), done: make(chan struct{})}
	err := l.open()
	if err == nil {
		err = prune(l.db, time.Now(), opts.MaxAge, opts.CaptureMaxAge, opts.MaxBytes)
	}
	if err != nil {
		l.fail(0, err)
	}
	go l.run()
	return l, err
}

// CaptureLimit is the size cut of a captured body, 0 when capture is off.
func (l *Log) CaptureLimit() int {
	if l == nil || !l.opts.Capture {
		return 0
	}
	return l.opts.CaptureMaxBytes
}

// Path is the database file.
func (l *Log) Path() string { return l.opts.Path }

// Add queues rec (and its capture, when c is not nil) for the writer. It
// never blocks: when the queue is full the row is dropped and counted.
func (l *Log) Add(rec Record, c *Capture) {
	select {
	case <-l.quit:
		return
	default:
	}
	select {
	case l.ch <- item{rec: rec, cap: c}:
		if len(l.ch) >= cap(l.ch)/2 {
			select {
			case l.kick <- struct{}{}:
			default:
			}
		}
	default:
		l.fail(1, fmt.Errorf("the writer is behind (queue of %d full): the disk or the database is too slow", l.opts.Queue))
	}
}

// SetOnLost makes f receive the number of rows lost at each loss (for a
// metrics counter); it is called on any goroutine.
func (l *Log) SetOnLost(f func(n int)) { l.onLost.Store(&f) }

// Lost is the number of rows dropped since start.
func (l *Log) Lost() uint64 { return l.lost.Load() }

// Warning says what went wrong with the log, for /health; "" when nothing
// did. It names the file and what to do.
func (l *Log) Warning() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := l.lost.Load()
	var s string
	if n > 0 {
		s = "request log " + l.opts.Path + ": " + strconv.FormatUint(n, 10) + " rows lost since the gateway started (requests were served normally); last error at " +
			l.errAt.UTC().Format(time.RFC3339) + ": " + l.lastErr + "; check that the file and its folder are writable and the disk has room"
	}
	for _, note := range l.notes {
		if s != "" {
			s += "; "
		}
		s += note
	}
	return s
}

// Close writes what is queued and closes the database. A nil Log (the
// request log is off) closes as nothing.
func (l *Log) Close() error {
	if l == nil {
		return nil
	}
	l.once.Do(func() { close(l.quit) })
	<-l.done
	return nil
}

// fail counts n lost rows and logs the first failure of a streak.
func (l *Log) fail(n int, err error) {
	if n > 0 {
		l.lost.Add(uint64(n))
		if f := l.onLost.Load(); f != nil {
			(*f)(n)
		}
	}
	l.mu.Lock()
	first := l.lastErr == "" || !l.failingLocked()
	l.lastErr, l.errAt = err.Error(), time.Now()
	l.mu.Unlock()
	if first {
		l.opts.Logger.Warn("request log: rows are being dropped; requests are not affected",
			"file", l.opts.Path, "error", err.Error(), "fix", "check that the file and its folder are writable and the disk has room")
	}
}

// failingLocked reports whether the last error is recent (a streak).
func (l *Log) failingLocked() bool { return time.Since(l.errAt) < time.Minute }

func (l *Log) note(s string) {
	l.mu.Lock()
	if len(l.notes) < 4 {
		l.notes = append(l.notes, s)
	}
	l.mu.Unlock()
	l.opts.Logger.Warn("request log: " + s)
}

func (l *Log) open() error {
	db, err := openDB(l.opts.Path, true)
	if err != nil {
		return fmt.Errorf("opening %s: %w", l.opts.Path, err)
	}
	fi, err := os.Stat(l.opts.Path)
	if err != nil {
		db.Close()
		return fmt.Errorf("opening %s: %w", l.opts.Path, err)
	}
	l.db, l.dbFile = db, fi
	return nil
}

func (l *Log) closeDB() {
	if l.db != nil {
		l.db.Close()
		l.db = nil
	}
}

// ensure (re)opens the database, noticing one deleted or replaced under
// the gateway: writes to it would go to a file nobody can read.
func (l *Log) ensure() error {
	replaced := false
	if l.db != nil {
		fi, err := os.Stat(l.opts.Path)
		if err == nil && os.SameFile(fi, l.dbFile) {
			return nil
		}
		l.closeDB()
		replaced = true
	}
	err := l.open()
	if replaced {
		l.note(l.opts.Path + " was deleted or replaced while the gateway ran (noticed " + time.Now().UTC().Format(time.RFC3339) + "); rows before that are gone; a new log was started")
	}
	return err
}

func (l *Log) run() {
	defer close(l.done)
	idle := time.NewTimer(l.opts.IdleClose)
	defer idle.Stop()
	tick := time.NewTicker(10 * time.Minute)
	defer tick.Stop()
	batch := make([]item, 0, 512)
	write := func() {
		for {
			batch = l.drain(batch)
			if len(batch) == 0 {
				return
			}
			l.write(batch)
			clear(batch)
			batch = batch[:0]
		}
	}
	for {
		select {
		case it := <-l.ch:
			// The first row of a batch wakes the writer; the rows after it
			// wait in the queue without waking anyone, until FlushDelay
			// passes or the queue is half full (Add kicks), so that one
			// transaction carries many: SQLite's cost is mostly per
			// transaction and a wake-up per request is not free either.
			batch = append(batch, it)
			wait := time.NewTimer(l.opts.FlushDelay)
			select {
			case <-wait.C:
			case <-l.kick:
			case <-l.quit:
			}
			wait.Stop()
			write()
			idle.Reset(l.opts.IdleClose)
		case <-idle.C:
			l.closeDB()
		case <-tick.C:
			l.retain()
		case <-l.quit:
			write()
			l.closeDB()
			return
		}
	}
}

// drain adds what is queued to batch, up to its capacity, without waiting.
func (l *Log) drain(batch []item) []item {
	for len(batch) < cap(batch) {
		select {
		case it := <-l.ch:
			batch = append(batch, it)
		default:
			return batch
		}
	}
	return batch
}

func (l *Log) write(batch []item) {
	err := l.ensure()
	if err == nil {
		err = writeBatch(l.db, batch)
		if err != nil {
			l.closeDB() // reopened (and re-checked) on the next batch
		}
	}
	if err != nil {
		l.failing = true
		l.fail(len(batch), err)
		return
	}
	if l.failing {
		l.failing = false
		l.opts.Logger.Info("request log: writing again", "file", l.opts.Path, "lost", l.lost.Load())
	}
	l.written += len(batch)
	if l.written >= 2000 {
		l.written = 0
		l.retain()
	}
}

func (l *Log) retain() {
	if err := l.ensure(); err != nil {
		return
	}
	if err := prune(l.db, time.Now(), l.opts.MaxAge, l.opts.CaptureMaxAge, l.opts.MaxBytes); err != nil {
		l.opts.Logger.Warn("request log: retention failed", "file", l.opts.Path, "error", err.Error())
	}
}
