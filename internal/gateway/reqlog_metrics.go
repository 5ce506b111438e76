package gateway

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/flowgate/flowgate/internal/requestlog"
)

// reqlogMetrics are the request log's Prometheus series:
//
//	flowgate_tokens_total{model_group, deployment, kind}  tokens the upstreams reported;
//	    kind is input (uncached), output, cache_read or cache_write
//	flowgate_request_log_lost_total                       request-log rows dropped
//	    (database failing, locked, read-only, deleted, or the writer behind)
type reqlogMetrics struct {
	tokens *prometheus.CounterVec
	lost   prometheus.Counter

	mu    sync.RWMutex
	cache map[tokenKey]*[4]prometheus.Counter
}

type tokenKey struct{ group, deployment string }

var tokenKinds = [4]string{"input", "output", "cache_read", "cache_write"}

// initReqlog registers the series and routes the log's losses to them.
func (s *Server) initReqlog() {
	m := &reqlogMetrics{cache: map[tokenKey]*[4]prometheus.Counter{}}
	m.tokens = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "flowgate_tokens_total",
		Help: "Tokens reported by upstreams, by model group, deployment and kind (input excludes cached tokens)."},
		[]string{"model_group", "deployment", "kind"})
	m.lost = prometheus.NewCounter(prometheus.CounterOpts{Name: "flowgate_request_log_lost_total",
		Help: "Request-log rows dropped because the database failed, was locked, read-only or deleted, or the writer fell behind; requests were served normally."})
	s.metrics.reg.MustRegister(m.tokens, m.lost)
	s.rlm = m
	if l := s.opts.RequestLog; l != nil {
		l.SetOnLost(func(n int) { m.lost.Add(float64(n)) })
	}
}

// countTokens adds one request's tokens to flowgate_tokens_total.
func (s *Server) countTokens(group, deployment string, t requestlog.Tokens) {
	if t == (requestlog.Tokens{}) || deployment == "" {
		return
	}
	m := s.rlm
	k := tokenKey{group, deployment}
	m.mu.RLock()
	cs := m.cache[k]
	m.mu.RUnlock()
	if cs == nil {
		cs = new([4]prometheus.Counter)
		for i, kind := range tokenKinds {
			cs[i] = m.tokens.WithLabelValues(group, deployment, kind)
		}
		m.mu.Lock()
		if len(m.cache) > 4096 { // many reloads with new ids: start over
			clear(m.cache)
		}
		m.cache[k] = cs
		m.mu.Unlock()
	}
	for i, n := range [4]int64{t.Input, t.Output, t.CacheRead, t.CacheWrite} {
		if n > 0 {
			cs[i].Add(float64(n))
		}
	}
}
