package gateway

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"strconv"
	"sync"
	"time"
)

// bodyChunk is the unit in which a body of unknown length (chunked) is
// read and counted against the budget: it never grows a buffer by
// doubling, so what is held is what is counted.
const bodyChunk = 256 << 10

var chunkPool = sync.Pool{New: func() any { b := make([]byte, bodyChunk); return &b }}

// drainWindow is how long the rest of a refused body is read and thrown
// away, so the client sees the answer instead of a reset connection.
const drainWindow = 5 * time.Second

func noop() {}

// readBody admits a request's body (the caller has checked the client key
// when only the headers had arrived): the size limit and the memory budget; then
// the body itself, at no less than the minimum rate. On failure it has
// already answered in the caller's shape, with the connection closed
// after the answer, and returns the status. done gives the body's memory
// back; call it once the body is no longer used.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request, a api, g *generation) (body []byte, status int, done func()) {
	max := s.limits.MaxBodyBytes
	rc := http.NewResponseController(w)
	if r.ContentLength > max {
		refuse(w, a, http.StatusRequestEntityTooLarge, "request_too_large", tooLarge(max))
		drain(rc, r.Body, max)
		return nil, http.StatusRequestEntityTooLarge, noop
	}
	rr := &rateReader{r: r.Body, rc: rc, start: time.Now(), rate: s.limits.MinBodyRate}
	rr.end = rr.start.Add(s.limits.BodyReadTimeout)

	if r.ContentLength >= 0 {
		n := r.ContentLength
		if !s.reserve(r.Context(), n) {
			return nil, s.busy(w, rc, r.Body, a), noop
		}
		buf := getBuf()
		buf.Grow(int(n))
		p := buf.AvailableBuffer()[:n]
		if _, err := io.ReadFull(rr, p); err != nil {
			putBuf(buf)
			s.budget.Release(n)
			return nil, s.bodyError(w, a, err), noop
		}
		buf.Write(p) // p is buf's own free space: no copy is made
		rr.done()
		return buf.Bytes(), 0, func() { putBuf(buf); s.budget.Release(n) }
	}

	// Unknown length: read in counted chunks, refuse as soon as the limit
	// is passed, then join.
	var (
		chunks   []*[]byte
		total    int64
		reserved int64
	)
	free := func() {
		for _, c := range chunks {
			*c = (*c)[:bodyChunk]
			chunkPool.Put(c)
		}
		chunks = nil
		s.budget.Release(reserved)
		reserved = 0
	}
	for eof := false; !eof; {
		if !s.reserve(r.Context(), bodyChunk) {
			free()
			return nil, s.busy(w, rc, r.Body, a), noop
		}
		reserved += bodyChunk
		c := chunkPool.Get().(*[]byte)
		chunks = append(chunks, c)
		n := 0
		for n < len(*c) && !eof {
			m, err := rr.Read((*c)[n:])
			n += m
			total += int64(m)
			if total > max {
				free()
				refuse(w, a, http.StatusRequestEntityTooLarge, "request_too_large", tooLarge(max))
				drain(rc, r.Body, max)
				return nil, http.StatusRequestEntityTooLarge, noop
			}
			if err == io.EOF {
				eof = true
			} else if err != nil {
				free()
				return nil, s.bodyError(w, a, err), noop
			}
		}
		*c = (*c)[:n]
	}
	rr.done()
	if !s.reserve(r.Context(), total) {
		free()
		return nil, s.busy(w, rc, r.Body, a), noop
	}
	buf := getBuf()
	buf.Grow(int(total))
	for _, c := range chunks {
		buf.Write(*c)
	}
	free()
	return buf.Bytes(), 0, func() { putBuf(buf); s.budget.Release(total) }
}

// reserve takes n bytes of the body budget, waiting briefly for room.
func (s *Server) reserve(ctx context.Context, n int64) bool {
	if n <= 0 || s.budget.TryAcquire(n) {
		return true
	}
	ctx, cancel := context.WithTimeout(ctx, budgetWait)
	defer cancel()
	return s.budget.Acquire(ctx, n) == nil
}

// busy answers 503 when the body budget stays full.
func (s *Server) busy(w http.ResponseWriter, rc *http.ResponseController, body io.Reader, a api) int {
	w.Header().Set("Retry-After", "1")
	refuse(w, a, http.StatusServiceUnavailable, "body_budget_exhausted",
		"the gateway holds its limit of "+strconv.FormatInt(s.limits.BodyBudgetBytes>>20, 10)+
			" MiB of request bodies in flight (services.gateway.body_budget); retry shortly, or raise body_budget if this load is expected")
	drain(rc, body, s.limits.MaxBodyBytes)
	return http.StatusServiceUnavailable
}

// bodyError answers a body that could not be read: too slow (408) or
// broken off (400).
func (s *Server) bodyError(w http.ResponseWriter, a api, err error) int {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		refuse(w, a, http.StatusRequestTimeout, "request_timeout",
			"the request body arrived too slowly (under "+strconv.FormatInt(s.limits.MinBodyRate, 10)+
				" bytes/s, or longer than services.gateway.body_read_timeout "+s.limits.BodyReadTimeout.String()+
				"); check the connection, or raise services.gateway.min_body_rate / body_read_timeout")
		return http.StatusRequestTimeout
	}
	refuse(w, a, http.StatusBadRequest, "invalid_request", "reading the request body: "+err.Error())
	return http.StatusBadRequest
}

// drain follows an answer already sent to a client that is still sending
// its body: it reads and throws away (through a small shared buffer,
// nothing is kept) up to limit more bytes for at most drainWindow, so that
// a client writing its whole body before reading gets to read the answer
// rather than a reset. The connection is closed afterwards.
func drain(rc *http.ResponseController, body io.Reader, limit int64) {
	rc.SetReadDeadline(time.Now().Add(drainWindow))
	io.CopyN(io.Discard, body, limit)
	rc.SetReadDeadline(time.Now())
}

// rateReader moves the connection's read deadline along with the bytes
// received: a body may take bodyRateGrace plus one second per rate bytes,
// and never longer than end.
type rateReader struct {
	r     io.Reader
	rc    *http.ResponseController
	start time.Time
	end   time.Time
	rate  int64
	n     int64
	set   time.Time
}

// done lifts the deadline once the body is in: the connection's own read
// (which notices a client going away) must not time out during a long
// answer.
func (rr *rateReader) done() { rr.rc.SetReadDeadline(time.Time{}) }

func (rr *rateReader) Read(p []byte) (int, error) {
	dl := rr.start.Add(bodyRateGrace + time.Duration(rr.n*int64(time.Second)/rr.rate))
	if dl.After(rr.end) {
		dl = rr.end
	}
	if rr.set.IsZero() || dl.Sub(rr.set) > 250*time.Millisecond {
		rr.rc.SetReadDeadline(dl)
		rr.set = dl
	}
	n, err := rr.r.Read(p)
	rr.n += int64(n)
	return n, err
}
