package supervisor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"syscall"
	"time"
)

// Probe failure kinds.
const (
	ProbeOK      = "ok"
	ProbeRefused = "connection-refused"
	ProbeStatus  = "status"  // the server answered with a non-2xx status
	ProbeTimeout = "timeout" // no answer within the timeout
	ProbeError   = "error"   // anything else (bad URL, reset, DNS, ...)
)

// ProbeResult is the outcome of one readiness probe.
type ProbeResult struct {
	URL string `json:"url"`
	// OK is true only for a 2xx answer.
	OK bool `json:"ok"`
	// Code is the HTTP status code, 0 when no answer was received.
	Code int `json:"code,omitempty"`
	// Kind is one of ProbeOK, ProbeRefused, ProbeStatus, ProbeTimeout, ProbeError.
	Kind    string        `json:"kind"`
	Error   string        `json:"error,omitempty"`
	Latency time.Duration `json:"-"`
}

// String renders `ok 200`, `status 401`, `connection-refused`, ...
func (p ProbeResult) String() string {
	switch p.Kind {
	case ProbeOK, ProbeStatus:
		return fmt.Sprintf("%s %d", p.Kind, p.Code)
	}
	return p.Kind
}

// probeClient never follows redirects (a redirect is not readiness) and
// never reuses connections, so each probe sees the server as it is now.
var probeClient = &http.Client{
	Transport: &http.Transport{DisableKeepAlives: true, Proxy: nil},
	CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	},
}

// Probe sends one HTTP GET to url and classifies the answer. Only a 2xx
// status is OK. A zero timeout means 2s.
func Probe(ctx context.Context, url string, timeout time.Duration) ProbeResult {
	if timeout <= 0 {
		timeout = 2 * time.Second
	}
	res := ProbeResult{URL: url}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	began := time.Now()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		res.Kind, res.Error = ProbeError, err.Error()
		return res
	}
	resp, err := probeClient.Do(req)
	res.Latency = time.Since(began)
	if err != nil {
		res.Error = err.Error()
		var ne net.Error
		switch {
		case errors.Is(err, syscall.ECONNREFUSED):
			res.Kind = ProbeRefused
		case errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()):
			res.Kind = ProbeTimeout
		default:
			res.Kind = ProbeError
		}
		return res
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	res.Code = resp.StatusCode
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		res.OK, res.Kind = true, ProbeOK
	} else {
		res.Kind = ProbeStatus
	}
	return res
}
