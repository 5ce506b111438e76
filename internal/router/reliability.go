package router

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/flowgate/flowgate/internal/runtime"
	"github.com/flowgate/flowgate/internal/upstream"
)

// This file holds all of FlowGate's reliability knowledge: how a failure is
// classified, whether it is retried, cools the deployment down or moves on
// to fallback groups, and the loop that applies those decisions.
//
// Deliberate differences from LiteLLM's router, which retries every error
// but a few and cools deployments by failures per minute:
//   - connection errors and timeouts count toward cooldown;
//   - failures are counted consecutively within cooldown_time, with no
//     per-minute volume requirement;
//   - 400/413/422 are returned at once: never retried, never cooled down;
//   - a re-failure extends a cooldown, never shortens it;
//   - after a cooldown the deployment is half-open: its next failure cools it
//     again at once, a success closes it;
//   - Retry-After drives the cooldown only up to max_cooldown_time (60 s) so
//     one upstream answer cannot take the only deployment out for minutes;
//   - nothing is retried once the first byte has reached the client;
//   - a refused credential (401/402/403) never cools a deployment down: the
//     deployment is marked auth_failed (see authRecheck for when it is tried
//     again), the request moves on to the next deployment without using up
//     a retry, and when the credentials were what failed the client gets an
//     AuthFailedError (401/403 with the fix), never a 429.

// Class is the router's view of one failed attempt.
type Class uint8

const (
	ClassClient        Class = iota // 400, 413, 422 and other 4xx: the request is wrong
	ClassContextWindow              // a 4xx saying the prompt exceeds the context window
	ClassAuth                       // 401, 402, 403: this deployment's credential is refused
	ClassNotFound                   // 404: this deployment does not have the model or path
	ClassRateLimit                  // 429
	ClassServer                     // 5xx, 408, 409
	ClassConnect                    // refused, reset, DNS, TLS
	ClassTimeout                    // attempt or first-byte timeout
	ClassBadResponse                // 2xx that is not parseable: never passed on as a success
	ClassCanceled                   // the client went away
	ClassUnsupported                // this deployment cannot serve the protocol (no translator)
	numClasses
)

type coolMode uint8

const (
	coolNever coolMode = iota // does not count toward cooldown
	coolCount                 // counts; cools after allowed_fails consecutive failures
	coolAuth                  // never cools; marks the deployment auth_failed (credential refused)
)

// authRecheck is how long an auth_failed deployment is ordered after every
// other available deployment of its group. It is still tried when nothing
// else is left (so an alias with one deployment tries it on every request),
// and once authRecheck has passed since its last refusal it competes
// normally again: a new login or key is noticed within authRecheck without
// a restart, while healthy deployments keep serving meanwhile. A success
// clears auth_failed.
const authRecheck = 30 * time.Second

// policy is one row of the classification table.
type policy struct {
	name string
	// retry: try again within the group (another deployment preferred).
	retry bool
	// fallback: after the group's retries, move to the fallback groups.
	fallback bool
	// cool: how the failure affects the deployment's cooldown.
	cool coolMode
	// returnNow: hand the upstream's answer to the client as is, once.
	returnNow bool
}

// table is THE failure classification: (status / error kind) -> what happens.
var table = [numClasses]policy{
	ClassClient:        {name: "client_error", returnNow: true},
	ClassContextWindow: {name: "context_window", fallback: false, returnNow: true}, // context_window_fallbacks, if any, are tried first
	ClassAuth:          {name: "auth", retry: true, fallback: true, cool: coolAuth},
	ClassNotFound:      {name: "not_found", retry: true, fallback: true, cool: coolCount},
	ClassRateLimit:     {name: "rate_limit", retry: true, fallback: true, cool: coolCount},
	ClassServer:        {name: "server_error", retry: true, fallback: true, cool: coolCount},
	ClassConnect:       {name: "connect", retry: true, fallback: true, cool: coolCount},
	ClassTimeout:       {name: "timeout", retry: true, fallback: true, cool: coolCount},
	ClassBadResponse:   {name: "bad_response", retry: true, fallback: true, cool: coolCount},
	ClassCanceled:      {name: "canceled"},
	ClassUnsupported:   {name: "unsupported", retry: true, fallback: true},
}

func (c Class) String() string {
	if c < numClasses {
		return table[c].name
	}
	return "unknown"
}

// contextWindowMarkers are lower-case phrases upstreams use for a prompt
// that does not fit (OpenAI, Anthropic, vLLM, llama.cpp, Ollama).
var contextWindowMarkers = []string{
	"context_length_exceeded", "context length", "context window", "maximum context",
	"prompt is too long", "input is too long", "too many tokens", "exceeds the context",
	"exceed_context_size", "model_context_window_exceeded",
}

// Classify maps an attempt error to its Class.
func Classify(err error) Class {
	var ue *upstream.Error
	if !errors.As(err, &ue) {
		if errors.Is(err, context.Canceled) {
			return ClassCanceled
		}
		return ClassServer
	}
	switch ue.Kind {
	case upstream.FailConnect:
		return ClassConnect
	case upstream.FailTimeout:
		return ClassTimeout
	case upstream.FailBadResponse:
		return ClassBadResponse
	case upstream.FailCanceled:
		return ClassCanceled
	case upstream.FailUnsupported:
		return ClassUnsupported
	}
	s := ue.Status
	switch {
	case s == 401 || s == 402 || s == 403:
		return ClassAuth
	case s == 404:
		return ClassNotFound
	case s == 429:
		return ClassRateLimit
	case s == 408 || s == 409 || s >= 500:
		return ClassServer
	case s == 400 || s == 413 || s == 422:
		if isContextWindow(ue.Body) {
			return ClassContextWindow
		}
		return ClassClient
	}
	return ClassClient
}

func isContextWindow(body []byte) bool {
	if len(body) == 0 {
		return false
	}
	low := strings.ToLower(string(body))
	for _, m := range contextWindowMarkers {
		if strings.Contains(low, m) {
			return true
		}
	}
	return false
}

// deployState is one deployment's live routing state, carried across reloads.
type deployState struct {
	coolUntil atomic.Int64 // unix nanos; 0 = not cooling
	// limitedUntil: at its rpm or tpm limit until then (unix nanos).
	limitedUntil atomic.Int64
	inflight     atomic.Int64
	latency      atomic.Int64 // EWMA of successful attempt latency, ns; 0 = unknown

	mu          sync.Mutex
	fails       int       // consecutive counted failures
	windowStart time.Time // first failure of the current count
	halfOpen    bool      // cooled before; next failure re-cools at once
	lastErr     string
	lastErrAt   time.Time
	lastStatus  int
	// authFailedAt is when the upstream last refused this deployment's
	// credential (unix nanos; 0 = not auth_failed); authSince is when the
	// current run of refusals began and authStatus its HTTP status.
	authFailedAt atomic.Int64
	authSince    time.Time
	authStatus   int
}

// Attempt describes the attempt in progress; the try function reads it to
// build its request and response headers and sets Committed / TTFB.
type Attempt struct {
	Group      *Group
	Deployment *Deployment
	// N is the 1-based attempt number within the request.
	N int
	// Fallbacks is the number of fallback hops taken before this attempt.
	Fallbacks int
	// Committed must be set by try once any byte has reached the client;
	// from then on nothing is retried.
	Committed bool
	// TTFB may be set by try: upstream time to first byte, used by
	// latency-based routing. When zero the attempt's duration is used.
	TTFB time.Duration
	// Affinity is what serving the request's session here means: hit,
	// new or moved (AffinityHit...); "" without a session or with session
	// affinity off. It is final once the attempt succeeds.
	Affinity string
	// Origin is the deployment that produced the reasoning state (signed
	// thinking, encrypted reasoning) the request carries: the session's
	// pinned deployment before this request when it had one, else the
	// request's first attempt's deployment. The same on every attempt of
	// the request; the try function compares it with Deployment to decide
	// what the target can verify.
	Origin *Deployment
}

// TryFunc performs one attempt. It returns nil on success (the response is
// then written), or the failure.
type TryFunc func(ctx context.Context, a *Attempt) error

// Trace is what happened, for response headers and logs.
type Trace struct {
	Group      string
	Deployment string
	Attempts   int
	Fallbacks  int
	// Affinity is the last attempt's Attempt.Affinity.
	Affinity string
}

// Do runs the retry / fallback / cooldown loop for one request that
// belongs to no session.
func (r *Router) Do(ctx context.Context, alias string, try TryFunc) (Trace, error) {
	return r.DoSession(ctx, alias, "", try)
}

// DoSession is Do for a request of the agent session session (any
// client-chosen id; "" for none): while session affinity is on, the
// deployment that served the session last in a group is preferred while it
// is available, and the one that answers becomes the session's pin.
func (r *Router) DoSession(ctx context.Context, alias, session string, try TryFunc) (Trace, error) {
	return r.DoCounted(ctx, alias, session, nil, try)
}

// InputCounter returns the request's input tokens as deployment d's
// upstream would count them, and how they were counted ("tokenizer=o200k_base",
// "estimate"). It is called only for deployments with a context window.
type InputCounter func(d *Deployment) (tokens int, method string)

// DoCounted is DoSession with a pre-call context-window check: a deployment
// whose model_info context window (Deployment.MaxInputTokens) is below
// count's answer is not tried; another deployment of the group is, then
// the group's context_window_fallbacks. When nothing fits, the error is a
// *ContextWindowError. count nil skips the check.
func (r *Router) DoCounted(ctx context.Context, alias, session string, count InputCounter, try TryFunc) (Trace, error) {
	g, ok := r.Lookup(alias)
	if !ok {
		return Trace{}, &UnknownModelError{Model: alias, Known: r.Visible()}
	}
	s := &r.cfg.Settings
	var (
		a              Attempt
		tr             Trace
		primaryErr     error
		primaryDep     *Deployment
		authRefused    []*Deployment
		unsupportedErr error
		minWait        time.Duration
		cooling        []string
		list           = g.chain
		next           = 0
		onCW           bool // list is a context_window_fallbacks chain
		cur            = g
		origin         *Deployment // see Attempt.Origin
		triedBuf       [8]*Deployment
		skipBuf        [4]*Deployment
	)
	maxHops := s.MaxFallbacks
	for {
		tried, skip := triedBuf[:0], skipBuf[:0]
		overWindow := false
		pin := r.lookupPin(ctx, cur, session)
		if tr.Attempts == 0 && origin == nil {
			origin = pin.pinned
		}
		for retry := 0; retry <= s.NumRetries; {
			var (
				d    *Deployment
				wait time.Duration
				cool []string
			)
			if r.available(pin.pinned, tried, skip) {
				d = pin.pinned
			} else {
				d, wait, cool = r.pick(cur, tried, skip)
			}
			if d == nil {
				if wait > 0 && (minWait == 0 || wait < minWait) {
					minWait = wait
				}
				cooling = append(cooling, cool...)
				break
			}
			if count != nil && d.MaxInputTokens > 0 {
				if n, how := count(d); n > d.MaxInputTokens {
					// Not sent: the upstream would refuse it. Not a failure of
					// the deployment either, so nothing cools down.
					if primaryErr == nil {
						primaryErr, primaryDep = &ContextWindowError{Alias: alias, Group: cur.Name, Deployment: d.ID, Path: d.Path, Tokens: n, Method: how, Window: d.MaxInputTokens}, d
					}
					skip = append(skip, d)
					overWindow = true
					continue
				}
			}
			if !r.admit(ctx, d) {
				continue // at its rpm limit: pick skips it now
			}
			if origin == nil {
				origin = d
			}
			a = Attempt{Group: cur, Deployment: d, N: tr.Attempts + 1, Fallbacks: tr.Fallbacks, Affinity: pin.outcome(d), Origin: origin}
			tr.Attempts++
			tr.Group, tr.Deployment, tr.Affinity = cur.Name, d.ID, a.Affinity
			start := r.clock.Now()
			d.st.inflight.Add(1)
			err := try(ctx, &a)
			d.st.inflight.Add(-1)
			if err == nil {
				lat := a.TTFB
				if lat <= 0 {
					lat = r.clock.Now().Sub(start)
				}
				r.succeeded(d, lat)
				r.settle(ctx, &pin, d)
				r.obs.Attempt(cur.Name, d.ID, "ok")
				return tr, nil
			}
			cls := Classify(err)
			pol := table[cls]
			r.failed(d, cls, pol, err)
			r.obs.Attempt(cur.Name, d.ID, pol.name)
			if a.Committed || cls == ClassCanceled || ctx.Err() != nil {
				return tr, err
			}
			if cls == ClassUnsupported {
				unsupportedErr = err
			} else {
				if tr.Fallbacks == 0 || primaryErr == nil {
					primaryErr, primaryDep = err, d
				}
			}
			if cls == ClassAuth {
				authRefused = append(authRefused, d)
			}
			if cls == ClassContextWindow && (onCW || len(cur.cwChain) > 0) {
				if !onCW {
					list, next, onCW = cur.cwChain, 0, true
				}
				break
			}
			if pol.returnNow {
				return tr, err
			}
			if cls == ClassUnsupported || cls == ClassAuth {
				// Does not use up a retry: the deployment cannot serve this
				// request, the next one is not a retry of it.
				skip = append(skip, d)
				continue
			}
			var ue *upstream.Error
			if cls == ClassRateLimit && errors.As(err, &ue) && ue.RetryAfter > 0 {
				skip = append(skip, d) // honour Retry-After: not again in this request
			}
			if !pol.retry {
				break
			}
			tried = append(tried, d)
			retry++
			if retry <= s.NumRetries {
				r.obs.Retry(cur.Name)
				if s.RetryAfter > 0 {
					t := time.NewTimer(s.RetryAfter)
					select {
					case <-ctx.Done():
						t.Stop()
						return tr, err
					case <-t.C:
					}
				}
			}
		}
		if overWindow && len(cur.cwChain) > 0 && !onCW {
			list, next, onCW = cur.cwChain, 0, true
		}
		if next >= len(list) || tr.Fallbacks >= maxHops {
			break
		}
		from := cur.Name
		cur = list[next]
		next++
		tr.Fallbacks++
		r.obs.Fallback(from, cur.Name)
	}
	if primaryErr != nil {
		if Classify(primaryErr) == ClassAuth {
			return tr, authFailed(alias, primaryDep, primaryErr, authRefused)
		}
		return tr, primaryErr
	}
	if len(cooling) > 0 || unsupportedErr == nil {
		return tr, &NoDeploymentsError{Model: alias, RetryAfter: minWait, Cooling: cooling}
	}
	return tr, unsupportedErr
}

func authFailed(alias string, d *Deployment, err error, refused []*Deployment) *AuthFailedError {
	e := &AuthFailedError{Alias: alias, Deployment: d, Message: upstreamMessage(err), Err: err}
	var ue *upstream.Error
	if errors.As(err, &ue) {
		e.Status = ue.Status
	}
	for _, o := range refused {
		if o != d {
			e.Others = append(e.Others, o.ID)
		}
	}
	return e
}

// succeeded closes the deployment's failure count and updates its latency.
func (r *Router) succeeded(d *Deployment, lat time.Duration) {
	st := d.st
	old := st.latency.Load()
	if old == 0 {
		st.latency.Store(int64(lat))
	} else {
		st.latency.Store(old + (int64(lat)-old)/5)
	}
	st.mu.Lock()
	st.fails, st.halfOpen = 0, false
	cleared := st.authFailedAt.Load() != 0
	if cleared {
		st.authFailedAt.Store(0)
		st.authSince, st.authStatus = time.Time{}, 0
	}
	st.mu.Unlock()
	if cleared {
		r.state.Announce(Event{Kind: EventAuthCleared, Deployment: d.ID})
	}
}

// failed records a failure and cools the deployment down when the policy says so.
func (r *Router) failed(d *Deployment, cls Class, pol policy, err error) {
	st := d.st
	now := r.clock.Now()
	st.mu.Lock()
	defer st.mu.Unlock()
	if cls != ClassCanceled && cls != ClassUnsupported {
		st.lastErr = runtime.ClipTo(runtime.RedactSecrets(err.Error()), 300)
		st.lastErrAt = now
		st.lastStatus = 0
		var ue *upstream.Error
		if errors.As(err, &ue) {
			st.lastStatus = ue.Status
		}
	}
	if pol.cool == coolAuth {
		if st.authFailedAt.Load() == 0 {
			st.authSince = now
		}
		st.authStatus = st.lastStatus
		st.authFailedAt.Store(now.UnixNano())
		r.state.Announce(Event{Kind: EventAuthFailed, Deployment: d.ID, At: now, Status: st.authStatus})
		return
	}
	if pol.cool == coolNever {
		return
	}
	s := &r.cfg.Settings
	window := s.CooldownTime
	if d.CooldownTime >= 0 {
		window = d.CooldownTime
	}
	if s.DisableCooldowns || window <= 0 {
		return
	}
	if st.fails == 0 || now.Sub(st.windowStart) > window {
		st.fails, st.windowStart = 0, now
	}
	st.fails++
	if pol.cool == coolCount && st.fails <= s.AllowedFails && !st.halfOpen {
		return
	}
	dur := window
	var ue *upstream.Error
	if d.CooldownTime < 0 && errors.As(err, &ue) && ue.RetryAfter > 0 {
		dur = ue.RetryAfter
		if dur < time.Second {
			dur = time.Second
		}
		if dur > s.MaxCooldown {
			dur = s.MaxCooldown
		}
	}
	until := now.Add(dur).UnixNano()
	if until > st.coolUntil.Load() { // extend, never shorten
		st.coolUntil.Store(until)
	}
	st.halfOpen = true
	st.fails = 0
	r.obs.Cooldown(d.ID, dur)
	r.state.Announce(Event{Kind: EventCooldown, Deployment: d.ID, Until: time.Unix(0, st.coolUntil.Load())})
}
