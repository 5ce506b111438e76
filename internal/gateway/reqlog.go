package gateway

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/flowgate/flowgate/internal/requestlog"
	"github.com/flowgate/flowgate/internal/router"
	"github.com/flowgate/flowgate/internal/upstream"
)

// hdrRequestID names the request in the request log (flowgate requests show ID).
const hdrRequestID = "X-Flowgate-Request-Id"

// reqlogEntry is what the request log needs to know about one exchange,
// filled in as the request goes: the attempts by tryLogged, the answer's
// usage by noteAnswer, the rest by logEnd.
type reqlogEntry struct {
	id         string
	tried      []string
	triedBuf   [4]string
	group      string
	deployment *router.Deployment
	attempts   int
	fallbacks  int
	lastErr    error
	tokens     requestlog.Tokens
	answered   time.Duration // time to the answer's first byte; 0 until then
	capLimit   int
	capReq     []byte
	capResp    []byte
	capTrunc   bool
}

// logStart names the request (the X-Flowgate-Request-Id header) before
// anything is written.
func (x *exchange) logStart() {
	if x.s.opts.RequestLog == nil {
		return
	}
	x.rl.id = x.s.opts.RequestLog.NewID(x.start)
	x.rl.capLimit = x.s.opts.RequestLog.CaptureLimit()
	x.w.Header()[hdrRequestID] = x.hv.one(x.rl.id)
}

// tryLogged is x.try for the router, noting each attempt.
func (x *exchange) tryLogged(ctx context.Context, at *router.Attempt) error {
	e := &x.rl
	if e.tried == nil {
		e.tried = e.triedBuf[:0]
	}
	e.tried = append(e.tried, at.Deployment.ID)
	e.group, e.deployment, e.attempts, e.fallbacks = at.Group.Name, at.Deployment, at.N, at.Fallbacks
	e.tokens, e.answered, e.capResp, e.capTrunc = requestlog.Tokens{}, 0, e.capResp[:0], false
	if e.capLimit > 0 && e.capReq == nil {
		e.capReq = capped(nil, x.body, e.capLimit, &e.capTrunc)
	}
	err := x.try(ctx, at)
	e.lastErr = err
	return err
}

func capped(dst, b []byte, limit int, trunc *bool) []byte {
	if room := limit - len(dst); len(b) > room {
		*trunc = true
		b = b[:max(room, 0)]
	}
	return append(dst, b...)
}

// noteAnswer sees every upstream answer: a whole body, or each SSE frame
// as it is read. It finds the usage (one substring search per frame) and
// keeps the body when capture is on.
func (x *exchange) noteAnswer(b []byte) {
	e := &x.rl
	if e.answered == 0 {
		e.answered = time.Since(x.start)
	}
	requestlog.ScanUsage(&e.tokens, b)
	if e.capLimit > 0 {
		e.capResp = capped(e.capResp, b, e.capLimit, &e.capTrunc)
	}
}

// logEnd builds the request's Record, counts its tokens and hands it to the
// log's writer. It runs when the handler returns.
func (x *exchange) logEnd() {
	e := &x.rl
	s := x.s
	var ms = func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	total := time.Since(x.start)
	var groupName, depID, model string
	if e.deployment != nil {
		groupName, depID, model = e.group, e.deployment.ID, e.deployment.Model
	}
	s.countTokens(groupName, depID, e.tokens)
	var cost float64
	if e.deployment != nil {
		cost = x.g.prices[e.deployment].Cost(e.tokens)
	}
	s.countUsage(x, e.deployment, e.tokens, cost)
	l := s.opts.RequestLog
	if l == nil {
		return
	}
	ttfb := e.answered
	if ttfb == 0 {
		ttfb = total
	}
	rec := requestlog.Record{
		ID: e.id, Time: x.start, KeyName: x.keyName(), Protocol: routeName(x.proto, x.countTokens),
		Client: clientFamily(x.r), Alias: capString(x.info.Model, maxLoggedString), Group: groupName, Deployment: depID, Model: model,
		Tried: e.tried, Attempts: e.attempts, Fallbacks: e.fallbacks, SessionID: x.session, Stream: x.info.Stream,
		Status: x.status, ErrorClass: errorClass(x.status, e.lastErr, x.keyRefused),
		LatencyMS: ms(total), TTFBMS: ms(ttfb), UpstreamMS: ms(x.upstreamDur), OverheadMS: ms(x.overhead()),
		Tokens: e.tokens, Reasoning: x.reasoning,
	}
	rec.CostUSD = cost
	var c *requestlog.Capture
	if e.capReq != nil {
		rec.Captured = true
		c = &requestlog.Capture{ID: e.id, Path: x.r.URL.Path, Request: string(e.capReq), Response: string(e.capResp), Truncated: e.capTrunc,
			Secrets: x.g.secrets()}
	}
	rec.Tried = append([]string(nil), e.tried...)
	l.Add(rec, c)
}

func routeName(p upstream.Protocol, countTokens bool) string {
	if countTokens {
		return "count_tokens"
	}
	return p.String()
}

// errorClass names why a request failed, "" when it did not. A stream that
// broke after its first byte has status 200 and the failure's class.
func errorClass(status int, err error, keyRefused string) string {
	var (
		ue  *upstream.Error
		afe *router.AuthFailedError
		nod *router.NoDeploymentsError
		unk *router.UnknownModelError
	)
	switch {
	case err == nil && status < 400:
		return ""
	case keyRefused != "":
		return keyRefused
	case errors.As(err, &afe):
		return "upstream_auth"
	case errors.As(err, &nod):
		return "no_deployments"
	case errors.As(err, &unk):
		return "unknown_model"
	case errors.As(err, &ue):
		switch {
		case ue.Kind == upstream.FailStatus && ue.Status == http.StatusTooManyRequests:
			return "rate_limited"
		case ue.Kind == upstream.FailStatus:
			return "upstream_status"
		}
		return ue.Kind.String()
	case err != nil:
		return "error"
	}
	switch status {
	case http.StatusUnauthorized:
		return "auth"
	case http.StatusBadRequest:
		return "invalid_request"
	case http.StatusNotFound:
		return "unknown_model"
	case http.StatusRequestEntityTooLarge:
		return "too_large"
	case http.StatusTooManyRequests:
		return "no_deployments"
	case 499:
		return "canceled"
	}
	return "error"
}

// clientFamily sorts the user agent: claude-code, codex, sdk or other.
func clientFamily(r *http.Request) string {
	ua := strings.ToLower(r.Header.Get("User-Agent"))
	switch {
	case strings.Contains(ua, "claude-cli") || strings.Contains(ua, "claude-code"):
		return "claude-code"
	case strings.Contains(ua, "codex"):
		return "codex"
	case r.Header.Get("X-Stainless-Lang") != "" || strings.Contains(ua, "openai") || strings.Contains(ua, "anthropic"):
		return "sdk"
	}
	return "other"
}

// maxSessionID caps the client-supplied session id kept in the log, and
// maxLoggedString the model name a client asked for.
const (
	maxSessionID    = 128
	maxLoggedString = 200
)

func capString(s string, n int) string {
	if len(s) > n {
		return s[:n] + "...(" + strconv.Itoa(len(s)) + " bytes)"
	}
	return s
}

// keyName names the client key the request used (never the key itself):
// "open" without keys, "" when none matched.
func (x *exchange) keyName() string {
	if x.key == nil {
		return ""
	}
	return x.key.name
}

// secrets are the key values a capture must not keep: the client keys and
// every deployment's upstream key.
func (g *generation) secrets() []string {
	out := make([]string, 0, len(g.keys)+len(g.router.Config().Deployments))
	for _, k := range g.keys {
		out = append(out, string(k.plain))
	}
	for _, d := range g.router.Config().Deployments {
		if d.Target.APIKey != "" {
			out = append(out, d.Target.APIKey)
		}
	}
	return out
}

// loadPrices reads every deployment's model_info prices (see
// requestlog.PriceFromModelInfo) from the document.
func loadPrices(doc map[string]any, r *router.Router) (map[*router.Deployment]requestlog.Price, error) {
	list, _ := doc["model_list"].([]any)
	out := map[*router.Deployment]requestlog.Price{}
	var errs []error
	for _, d := range r.Config().Deployments {
		var mi map[string]any
		if i := deploymentIndex(d.Path); i >= 0 && i < len(list) {
			if m, ok := list[i].(map[string]any); ok {
				mi, _ = m["model_info"].(map[string]any)
			}
		}
		p, err := requestlog.PriceFromModelInfo(mi, d.Model, d.Path+".model_info")
		if err != nil {
			errs = append(errs, err)
		}
		out[d] = p
	}
	return out, errors.Join(errs...)
}

// deploymentIndex reads i from "model_list[i]".
func deploymentIndex(path string) int {
	var i int
	if _, err := fmt.Sscanf(path, "model_list[%d]", &i); err != nil {
		return -1
	}
	return i
}

// warnings are the gateway's non-fatal problems, for /health.
func (s *Server) warnings() []string {
	out := s.notes.all()
	if sh := s.sharedStatus(); sh != nil && sh.State != "ok" {
		out = append(out, "shared state degraded: "+sh.Reason)
	}
	if l := s.opts.RequestLog; l != nil {
		if w := l.Warning(); w != "" {
			out = append(out, w)
		}
	}
	return out
}
