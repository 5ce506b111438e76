package gateway

import (
	"net/http"
	"strconv"
	"time"

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
	inFlight   prometheus.Gauge
	generation prometheus.Gauge
}

func newMetrics() *metrics {
	m := &metrics{reg: prometheus.NewRegistry()}
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
	m.inFlight = prometheus.NewGauge(prometheus.GaugeOpts{Name: "flowgate_in_flight_requests", Help: "Inference requests in progress."})
	m.generation = prometheus.NewGauge(prometheus.GaugeOpts{Name: "flowgate_config_generation", Help: "Current config generation."})
	m.reg.MustRegister(m.requests, m.latency, m.overheadH, m.attempts, m.retries, m.fallbacks, m.cooldowns, m.inFlight, m.generation)
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

func (m *metrics) observe(route string, code int, total, overhead time.Duration) {
	cs, ok := codeStrings[code]
	if !ok {
		cs = strconv.Itoa(code)
	}
	m.requests.WithLabelValues(route, cs).Inc()
	m.latency.WithLabelValues(route).Observe(total.Seconds())
	m.overheadH.WithLabelValues(route).Observe(overhead.Seconds())
}

func (m *metrics) Attempt(group, deployment, outcome string) {
	m.attempts.WithLabelValues(group, deployment, outcome).Inc()
}
func (m *metrics) Retry(group string)       { m.retries.WithLabelValues(group).Inc() }
func (m *metrics) Fallback(from, to string) { m.fallbacks.WithLabelValues(from, to).Inc() }
func (m *metrics) Cooldown(deployment string, _ time.Duration) {
	m.cooldowns.WithLabelValues(deployment).Inc()
}
