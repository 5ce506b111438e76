package ui

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"sync"
	"time"
)

// Session and link limits.
const (
	// DefaultSessionTTL is how long a login lasts without Options.SessionTTL.
	DefaultSessionTTL = 12 * time.Hour
	// LinkTTL is how long a one-time link from `flowgate ui` can be used.
	LinkTTL = 2 * time.Minute
	// maxTokens bounds each token table; the oldest entry goes first.
	maxTokens = 256
	// loginFailLimit failed logins within loginFailWindow lock the form
	// until the window has passed.
	loginFailLimit  = 10
	loginFailWindow = time.Minute
)

// tokens is a table of random bearer tokens (sessions or one-time links).
// It keeps only each token's SHA-256, so a lookup's timing says nothing
// about a token and a memory dump holds no usable one.
type tokens struct {
	mu      sync.Mutex
	expires map[[sha256.Size]byte]time.Time
}

func newTokens() *tokens {
	return &tokens{expires: make(map[[sha256.Size]byte]time.Time)}
}

// mint makes a new token valid until now+ttl.
func (t *tokens) mint(now time.Time, ttl time.Duration) string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		// crypto/rand does not fail on supported systems.
		panic("ui: reading random bytes: " + err.Error())
	}
	tok := base64.RawURLEncoding.EncodeToString(b[:])
	t.mu.Lock()
	defer t.mu.Unlock()
	t.sweep(now)
	if len(t.expires) >= maxTokens {
		var oldest [sha256.Size]byte
		var oldestAt time.Time
		for h, at := range t.expires {
			if oldestAt.IsZero() || at.Before(oldestAt) {
				oldest, oldestAt = h, at
			}
		}
		delete(t.expires, oldest)
	}
	t.expires[sha256.Sum256([]byte(tok))] = now.Add(ttl)
	return tok
}

// valid reports whether tok is a live token.
func (t *tokens) valid(tok string, now time.Time) bool {
	if tok == "" {
		return false
	}
	h := sha256.Sum256([]byte(tok))
	t.mu.Lock()
	defer t.mu.Unlock()
	at, ok := t.expires[h]
	if ok && !now.Before(at) {
		delete(t.expires, h)
		return false
	}
	return ok
}

// take reports whether tok is a live token and removes it: a one-time
// link works once.
func (t *tokens) take(tok string, now time.Time) bool {
	if tok == "" {
		return false
	}
	h := sha256.Sum256([]byte(tok))
	t.mu.Lock()
	defer t.mu.Unlock()
	at, ok := t.expires[h]
	delete(t.expires, h)
	return ok && now.Before(at)
}

// drop ends tok (logout).
func (t *tokens) drop(tok string) {
	h := sha256.Sum256([]byte(tok))
	t.mu.Lock()
	delete(t.expires, h)
	t.mu.Unlock()
}

// clear ends every token.
func (t *tokens) clear() {
	t.mu.Lock()
	clear(t.expires)
	t.mu.Unlock()
}

func (t *tokens) sweep(now time.Time) {
	for h, at := range t.expires {
		if !now.Before(at) {
			delete(t.expires, h)
		}
	}
}

// failures throttles wrong keys on the login form: after loginFailLimit
// failures within loginFailWindow every attempt is refused until the window
// ends, which makes guessing the key by the form hopeless.
type failures struct {
	mu    sync.Mutex
	start time.Time
	n     int
}

// blocked reports whether logins are refused at now.
func (f *failures) blocked(now time.Time) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if now.Sub(f.start) >= loginFailWindow {
		f.start, f.n = now, 0
	}
	return f.n >= loginFailLimit
}

func (f *failures) add(now time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if now.Sub(f.start) >= loginFailWindow {
		f.start, f.n = now, 0
	}
	f.n++
}
