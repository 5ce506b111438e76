package gateway

import (
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/flowgate/flowgate/internal/upstream"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are the gateway's Prometheus series, on a registry per Server.
// They also implement router.Observer.
type metrics struct {
	reg        *prometheus.Registry
	handler    http.Handler
	requests   *prometheus.CounterVec
	latency    *prometheus.HistogramVec
	overheadH  *prometheus.HistogramVec
	attempts   *prometheus.CounterVec
	retries    *prometheus.CounterVec
	fallbacks  *prometheus.CounterVec
	cooldowns  *prometheus.CounterVec
	streamFail *prometheus.CounterVec
	inFlight   prometheus.Gauge
	generation prometheus.Gauge

	// Label children resolved once, on first use (so /metrics lists only
	// series that happened, as before), instead of hashing and validating
	// label values on every request.
	reqC      [numRoutes][600]atomic.Pointer[prometheus.Counter]
	latencyC  [numRoutes]atomic.Pointer[prometheus.Observer]
	overheadC [numRoutes]atomic.Pointer[prometheus.Observer]
	attemptMu sync.RWMutex
	attemptC  map[attemptKey]prometheus.Counter
}

type attemptKey struct{ group, deployment, outcome string }

// Route indexes: the protocol's, and count_tokens.
const (
	routeCountTokens = int(upstream.Responses) + 1
	numRoutes        = routeCountTokens + 1
)

func routeIndex(proto upstream.Protocol, countTokens bool) int {
	if countTokens {
		return routeCountTokens
	}
	return int(proto)
}

func newMetrics() *metrics {
	m := &metrics{reg: prometheus.NewRegistry(), attemptC: map[attemptKey]prometheus.Counter{}}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "flowgate_requests_total",
		Help: "Client requests by route and HTTP status."}, []string{"route", "code"})
	m.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "flowgate_request_duration_seconds",
		Help: "Client request duration, upstream included.", Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120, 300}}, []string{"route"})
	m.overheadH = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "flowgate_gateway_overhead_seconds",
		Help: "Time spent in the gateway itself, upstream time excluded.", Buckets: []float64{.00005, .0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1}}, []string{"route"})
	m.attempts = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "flowgate_upstream_attempts_total",
		Help: "Upstream attempts by model group, deployment and outcome (ok or failure class)."}, []string{"model_group", "deployment", "outcome"})
	m.retries = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "flowgate_retries_total",
		Help: "Retries within a model group."}, []string{"model_group"})
	m.fallbacks = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "flowgate_fallbacks_total",
		Help: "Fallback hops from one model group to another."}, []string{"from", "to"})
	m.cooldowns = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "flowgate_cooldowns_total",
		Help: "Deployments put into cooldown."}, []string{"deployment"})
	m.streamFail = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "flowgate_upstream_stream_failures_total",
		Help: "Upstream streams that failed, by deployment and reason: empty, not_sse, invalid_first_event, upstream_error, truncated (ended before its terminal event), broken, timeout, invalid_event."},
		[]string{"deployment", "reason"})
	m.inFlight = prometheus.NewGauge(prometheus.GaugeOpts{Name: "flowgate_in_flight_requests", Help: "Inference requests in progress."})
	m.generation = prometheus.NewGauge(prometheus.GaugeOpts{Name: "flowgate_config_generation", Help: "Current config generation."})
	m.reg.MustRegister(m.requests, m.latency, m.overheadH, m.attempts, m.retries, m.fallbacks, m.cooldowns, m.streamFail, m.inFlight, m.generation)
	m.handler = promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
	return m
}

var codeStrings = func() map[int]string {
	m := map[int]string{}
	for c := 100; c < 600; c++ {
		m[c] = strconv.Itoa(c)
	}
	return m
}()

// observe records one client request; ri is routeIndex(route).
func (m *metrics) observe(ri int, route string, code int, total, overhead time.Duration) {
	m.requestCounter(ri, route, code).Inc()
	m.routeObserver(&m.latencyC[ri], m.latency, route).Observe(total.Seconds())
	m.routeObserver(&m.overheadC[ri], m.overheadH, route).Observe(overhead.Seconds())
}

func (m *metrics) requestCounter(ri int, route string, code int) prometheus.Counter {
	if code < 0 || code >= len(m.reqC[ri]) {
		return m.requests.WithLabelValues(route, strconv.Itoa(code))
	}
	slot := &m.reqC[ri][code]
	if c := slot.Load(); c != nil {
		return *c
	}
	cs, ok := codeStrings[code]
	if !ok {
		cs = strconv.Itoa(code)
	}
	c := m.requests.WithLabelValues(route, cs)
	slot.Store(&c)
	return c
}

func (m *metrics) routeObserver(slot *atomic.Pointer[prometheus.Observer], vec *prometheus.HistogramVec, route string) prometheus.Observer {
	if o := slot.Load(); o != nil {
		return *o
	}
	o := vec.WithLabelValues(route)
	slot.Store(&o)
	return o
}

func (m *metrics) Attempt(group, deployment, outcome string) {
	k := attemptKey{group, deployment, outcome}
	m.attemptMu.RLock()
	c := m.attemptC[k]
	m.attemptMu.RUnlock()
	if c == nil {
		c = m.attempts.WithLabelValues(group, deployment, outcome)
		m.attemptMu.Lock()
		if len(m.attemptC) > 4096 { // many reloads with new ids: start over
			clear(m.attemptC)
		}
		m.attemptC[k] = c
		m.attemptMu.Unlock()
	}
	c.Inc()
}
func (m *metrics) Retry(group string)       { m.retries.WithLabelValues(group).Inc() }
func (m *metrics) Fallback(from, to string) { m.fallbacks.WithLabelValues(from, to).Inc() }
func (m *metrics) Cooldown(deployment string, _ time.Duration) {
	m.cooldowns.WithLabelValues(deployment).Inc()
}

// StreamFailure counts an upstream stream that failed (rare: no cache).
func (m *metrics) StreamFailure(deployment, reason string) {
	m.streamFail.WithLabelValues(deployment, reason).Inc()
}
