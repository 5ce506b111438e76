package supervisor

import "time"

// RestartPolicy says how the keeper brings a crashed service back: after
// the n-th exit in a row it waits Backoff*2^(n-1), at most MaxBackoff; when
// MaxExits exits fall within Window it gives up (crash loop) until someone
// starts the service again. A service that stayed up for Window starts over
// at Backoff.
type RestartPolicy struct {
	// Never turns automatic restarts off for the service.
	Never bool
	// Backoff is the first delay. Default 1s.
	Backoff time.Duration
	// MaxBackoff caps the delay. Default 60s.
	MaxBackoff time.Duration
	// MaxExits within Window make a crash loop. Default 5.
	MaxExits int
	// Window is the crash-loop window and the uptime that counts as
	// healthy again. Default 2m.
	Window time.Duration
}

// Restart policy defaults.
const (
	DefaultBackoff    = time.Second
	DefaultMaxBackoff = time.Minute
	DefaultMaxExits   = 5
	DefaultWindow     = 2 * time.Minute
)

// WithDefaults fills zero fields.
func (p RestartPolicy) WithDefaults() RestartPolicy {
	if p.Backoff <= 0 {
		p.Backoff = DefaultBackoff
	}
	if p.MaxBackoff <= 0 {
		p.MaxBackoff = DefaultMaxBackoff
	}
	if p.MaxBackoff < p.Backoff {
		p.MaxBackoff = p.Backoff
	}
	if p.MaxExits <= 0 {
		p.MaxExits = DefaultMaxExits
	}
	if p.Window <= 0 {
		p.Window = DefaultWindow
	}
	return p
}

// delay is the wait before restart attempt n (1-based).
func (p RestartPolicy) delay(n int) time.Duration {
	d := p.Backoff
	for i := 1; i < n && d < p.MaxBackoff; i++ {
		d *= 2
	}
	return min(d, p.MaxBackoff)
}
