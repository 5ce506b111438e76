package gateway

import (
	"context"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Limits bound what a client can make the gateway hold: connections, time
// and memory. The zero value of a field means its default. The fields
// mirror services.gateway in the FlowGate config (config.GatewayLimits).
type Limits struct {
	// MaxBodyBytes bounds one request body (max_body_size). A body over it
	// is refused 413 as soon as it passes the limit. Default: 32 MiB.
	MaxBodyBytes int64
	// BodyBudgetBytes bounds the request bodies held in memory at once,
	// across all requests (body_budget). A request that does not fit waits
	// briefly, then is answered 503. Default: 128 MiB.
	BodyBudgetBytes int64
	// BodyReadTimeout bounds reading one request body (body_read_timeout).
	// Default: 120s.
	BodyReadTimeout time.Duration
	// MinBodyRate is the slowest a body may arrive, in bytes per second,
	// after a 5 s grace (min_body_rate). Default: 1024.
	MinBodyRate int64
	// IdleTimeout closes a keep-alive connection left idle this long
	// (idle_timeout). Default: 120s.
	IdleTimeout time.Duration
	// WriteTimeout bounds each write to a client, not the whole response,
	// so long streams live while a client that stops reading is cut
	// (write_timeout). Default: 60s.
	WriteTimeout time.Duration
	// MaxConnections bounds open client connections (max_connections).
	// Default: 512.
	MaxConnections int
	// MaxConnectionsPerClient bounds open connections from one client
	// address (max_connections_per_client). Local clients all share
	// 127.0.0.1, so it is generous. Default: 256.
	MaxConnectionsPerClient int
	// AllowedOrigins are browser origins (scheme://host[:port]) allowed
	// besides loopback ones; "*" allows any (allowed_origins). Default: none.
	AllowedOrigins []string
	// AllowedHosts are Host header names (with or without :port) accepted
	// besides the gateway's own address; "*" accepts any (allowed_hosts).
	// Default: none.
	AllowedHosts []string
}

// Defaults of Limits.
const (
	DefaultMaxBodyBytes            = 32 << 20
	DefaultBodyBudgetBytes         = 128 << 20
	DefaultBodyReadTimeout         = 120 * time.Second
	DefaultMinBodyRate             = 1024
	DefaultIdleTimeout             = 120 * time.Second
	DefaultWriteTimeout            = 60 * time.Second
	DefaultMaxConnections          = 512
	DefaultMaxConnectionsPerClient = 256
)

const (
	// bodyRateGrace is how long a body may take before MinBodyRate applies.
	bodyRateGrace = 5 * time.Second
	// budgetWait is how long a request waits for room in the body budget.
	budgetWait = 2 * time.Second
	// overLimitConns bounds the connections kept open only to be answered
	// 503; beyond it new connections are closed at once.
	overLimitConns = 64
	// overLimitDeadline is how long an over-limit connection has to send
	// its request headers and read the 503.
	overLimitDeadline = 5 * time.Second
	// minKeyLen is the shortest client key accepted on a non-loopback bind.
	minKeyLen = 16
)

func (l Limits) withDefaults() Limits {
	if l.MaxBodyBytes <= 0 {
		l.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if l.BodyBudgetBytes <= 0 {
		l.BodyBudgetBytes = DefaultBodyBudgetBytes
	}
	if l.BodyBudgetBytes < l.MaxBodyBytes {
		// One maximal body must always fit, or it could never be admitted.
		l.BodyBudgetBytes = l.MaxBodyBytes
	}
	if l.BodyReadTimeout <= 0 {
		l.BodyReadTimeout = DefaultBodyReadTimeout
	}
	if l.MinBodyRate <= 0 {
		l.MinBodyRate = DefaultMinBodyRate
	}
	if l.IdleTimeout <= 0 {
		l.IdleTimeout = DefaultIdleTimeout
	}
	if l.WriteTimeout <= 0 {
		l.WriteTimeout = DefaultWriteTimeout
	}
	if l.MaxConnections <= 0 {
		l.MaxConnections = DefaultMaxConnections
	}
	if l.MaxConnectionsPerClient <= 0 {
		l.MaxConnectionsPerClient = DefaultMaxConnectionsPerClient
	}
	return l
}

// connLimiter counts open connections in total and per client address.
type connLimiter struct {
	max, perMax int

	mu    sync.Mutex
	total int
	over  int
	per   map[string]int
}

func newConnLimiter(l Limits) *connLimiter {
	return &connLimiter{max: l.MaxConnections, perMax: l.MaxConnectionsPerClient, per: map[string]int{}}
}

// admit counts a new connection from ip. over means it is past a limit and
// is to be answered 503 and closed; ok false means even the over-limit
// allowance is used up and it is to be closed at once.
func (c *connLimiter) admit(ip string) (over, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.total >= c.max || c.per[ip] >= c.perMax {
		if c.over >= overLimitConns {
			return true, false
		}
		c.over++
		return true, true
	}
	c.total++
	c.per[ip]++
	return false, true
}

func (c *connLimiter) release(ip string, over bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if over {
		c.over--
		return
	}
	c.total--
	if c.per[ip] <= 1 {
		delete(c.per, ip)
	} else {
		c.per[ip]--
	}
}

// limitListener applies a connLimiter to accepted connections.
type limitListener struct {
	net.Listener
	lim *connLimiter
}

func (ln *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := ln.Listener.Accept()
		if err != nil {
			return nil, err
		}
		ip := c.RemoteAddr().String()
		if h, _, err := net.SplitHostPort(ip); err == nil {
			ip = h
		}
		over, ok := ln.lim.admit(ip)
		if !ok {
			c.Close()
			continue
		}
		if over {
			c.SetDeadline(time.Now().Add(overLimitDeadline))
		}
		return &edgeConn{Conn: c, lim: ln.lim, ip: ip, over: over}, nil
	}
}

// edgeConn is an accepted connection that gives back its slot on Close.
type edgeConn struct {
	net.Conn
	lim  *connLimiter
	ip   string
	over bool
	once sync.Once
}

func (c *edgeConn) Close() error {
	c.once.Do(func() { c.lim.release(c.ip, c.over) })
	return c.Conn.Close()
}

type connKey struct{}

func connContext(ctx context.Context, c net.Conn) context.Context {
	if ec, ok := c.(*edgeConn); ok {
		return context.WithValue(ctx, connKey{}, ec)
	}
	return ctx
}

// edgeHandler refuses, before any body byte is read, what the gateway must
// not serve: connections past the limits, foreign Host names (DNS
// rebinding), foreign browser origins, and, with no client key, anything
// a web page could POST without a preflight. Every response gets a
// deadline per write rather than one for the whole response.
func (s *Server) edgeHandler(w http.ResponseWriter, r *http.Request) {
	dw := &deadlineWriter{ResponseWriter: w, rc: http.NewResponseController(w), timeout: s.limits.WriteTimeout}
	dw.refresh(time.Now())
	defer dw.refresh(time.Now()) // covers the server's final flush
	w = dw
	a := routeAPI(r)
	if ec, ok := r.Context().Value(connKey{}).(*edgeConn); ok && ec.over {
		w.Header().Set("Retry-After", "1")
		refuse(w, a, http.StatusServiceUnavailable, "too_many_connections",
			"the gateway has too many open connections (services.gateway.max_connections "+strconv.Itoa(s.limits.MaxConnections)+
				", max_connections_per_client "+strconv.Itoa(s.limits.MaxConnectionsPerClient)+"); retry shortly, or raise them if this load is expected")
		return
	}
	if !s.hostAllowed(r.Host) {
		refuse(w, a, http.StatusForbidden, "host_not_allowed",
			"Host "+quoteCapped(r.Host)+" is not this gateway's address; use http://127.0.0.1:PORT, or add the name to services.gateway.allowed_hosts")
		return
	}
	if o := r.Header.Get("Origin"); o != "" && !s.originAllowed(o) {
		refuse(w, a, http.StatusForbidden, "origin_not_allowed",
			"requests from the web origin "+quoteCapped(o)+" are refused; add it to services.gateway.allowed_origins if it is yours")
		return
	}
	if r.Method == http.MethodPost && !s.HasKeys() && !isJSON(r.Header.Get("Content-Type")) {
		refuse(w, a, http.StatusUnsupportedMediaType, "unsupported_media_type",
			"with no client key the gateway accepts only Content-Type: application/json; send that header, or set general_settings.master_key")
		return
	}
	s.ServeHTTP(w, r)
}

// refuse answers an error before the body was read and closes the
// connection afterwards. The read deadline set to now stops the server
// from draining the unread body after the answer (it would otherwise wait
// for up to 256 KiB of it), so a client that never sends its body cannot
// hold the connection.
func refuse(w http.ResponseWriter, a api, status int, code, msg string) {
	w.Header().Set("Connection", "close")
	writeError(w, a, status, code, msg)
	rc := http.NewResponseController(w)
	rc.Flush()
	rc.SetReadDeadline(time.Now())
}

// routeAPI is the error dialect of a request, from its path.
func routeAPI(r *http.Request) api {
	p := strings.TrimSuffix(r.URL.Path, "/")
	if strings.HasSuffix(p, "/messages") || strings.HasSuffix(p, "/messages/count_tokens") {
		return apiAnthropic
	}
	if strings.HasSuffix(p, "/chat/completions") || strings.HasSuffix(p, "/responses") {
		return apiOpenAI
	}
	return apiFromHeaders(r)
}

func isJSON(ct string) bool {
	mt, _, _ := strings.Cut(ct, ";")
	return strings.EqualFold(strings.TrimSpace(mt), "application/json")
}

// quoteCapped quotes a client-supplied value for an error message, capped
// so it cannot inflate the answer.
func quoteCapped(v string) string {
	const max = 200
	if len(v) > max {
		return strconv.Quote(v[:max]) + " (" + strconv.Itoa(len(v)) + " bytes)"
	}
	return strconv.Quote(v)
}

// hostAllowed accepts the gateway's own addresses: loopback names and IPs
// with its port, its bind address, any IP literal when bound to all
// interfaces (a rebinding page only controls names), and allowed_hosts.
func (s *Server) hostAllowed(hostport string) bool {
	// The port is known once Serve runs; a Handler embedded elsewhere
	// (tests, httptest) is checked by name only.
	_, bindPort, _ := net.SplitHostPort(s.listenAddr())
	if !s.serving() {
		bindPort = ""
	}
	return s.hostAllowedOn(hostport, bindPort)
}

// hostAllowedOn is hostAllowed for a listener on bindPort ("" accepts any
// port) of the gateway's host.
func (s *Server) hostAllowedOn(hostport, bindPort string) bool {
	if hostport == "" {
		return true // HTTP/1.0 without Host; browsers always send one
	}
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		host, port = strings.Trim(hostport, "[]"), "80"
	}
	for _, h := range s.limits.AllowedHosts {
		if h == "*" || strings.EqualFold(h, host) || strings.EqualFold(h, hostport) {
			return true
		}
	}
	bindHost, _, _ := net.SplitHostPort(s.listenAddr())
	if bindPort != "" && port != bindPort {
		return false
	}
	if isLoopbackHost(host) || strings.EqualFold(host, bindHost) {
		return true
	}
	if ip := net.ParseIP(bindHost); (bindHost == "" || ip != nil && ip.IsUnspecified()) && net.ParseIP(host) != nil {
		return true
	}
	return false
}

// originAllowed accepts loopback origins and allowed_origins.
func (s *Server) originAllowed(origin string) bool {
	for _, o := range s.limits.AllowedOrigins {
		if o == "*" || strings.EqualFold(strings.TrimSuffix(o, "/"), origin) {
			return true
		}
	}
	scheme, rest, ok := strings.Cut(origin, "://")
	if !ok || (scheme != "http" && scheme != "https") {
		return false // "null", file:, extensions: not a loopback web page
	}
	host := rest
	if h, _, err := net.SplitHostPort(rest); err == nil {
		host = h
	}
	return isLoopbackHost(strings.Trim(host, "[]"))
}

func isLoopbackHost(h string) bool {
	if strings.EqualFold(h, "localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// deadlineWriter sets a write deadline before the writes of a response,
// renewed as it goes, so a client that stops reading is cut after
// WriteTimeout while a stream that keeps flowing lives as long as it
// needs.
type deadlineWriter struct {
	http.ResponseWriter
	rc      *http.ResponseController
	timeout time.Duration
	last    time.Time
}

func (d *deadlineWriter) refresh(now time.Time) {
	if now.Sub(d.last) < d.timeout/8 {
		return
	}
	d.last = now
	d.rc.SetWriteDeadline(now.Add(d.timeout))
}

func (d *deadlineWriter) Write(p []byte) (int, error) {
	d.refresh(time.Now())
	return d.ResponseWriter.Write(p)
}

func (d *deadlineWriter) Flush() {
	d.refresh(time.Now())
	d.rc.Flush()
}

// Unwrap lets http.ResponseController reach the connection.
func (d *deadlineWriter) Unwrap() http.ResponseWriter { return d.ResponseWriter }
