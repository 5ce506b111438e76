package gateway

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/flowgate/flowgate/internal/jsonscan"
	"github.com/flowgate/flowgate/internal/router"
	"github.com/flowgate/flowgate/internal/runtime"
	"github.com/flowgate/flowgate/internal/tokens"
	"github.com/flowgate/flowgate/internal/upstream"
)

// Response headers that say what happened to a request:
//
//	x-flowgate-model-group  the model group (alias) that answered; differs from the
//	                        requested model after a fallback
//	x-flowgate-deployment   the deployment id (model_info.id or a stable hash)
//	x-flowgate-attempts     upstream attempts made, retries and fallbacks included
//	x-flowgate-fallbacks    fallback hops taken (0 = the requested group answered)
//	x-flowgate-overhead-ms  time spent in the gateway itself, upstream time excluded
//	x-flowgate-generation   config generation that served the request
//	x-flowgate-token-count  count_tokens only: "upstream", "tokenizer=o200k_base" (or cl100k_base) or "estimate"
//	x-flowgate-session-affinity  for a request of an agent session: "hit" (the
//	                        session's deployment answered), "new" (first request in
//	                        this group, now pinned) or "moved" (its deployment was
//	                        unavailable or failed; the pin moved to this one)
//	x-flowgate-reasoning    what the request lost of its reasoning state because the
//	                        deployment that answered could not verify it (reasoning.go)
const (
	hdrGroup      = "X-Flowgate-Model-Group"
	hdrDeployment = "X-Flowgate-Deployment"
	hdrAttempts   = "X-Flowgate-Attempts"
	hdrFallbacks  = "X-Flowgate-Fallbacks"
	hdrOverhead   = "X-Flowgate-Overhead-Ms"
	hdrGeneration = "X-Flowgate-Generation"
	hdrTokenCount = "X-Flowgate-Token-Count"
	hdrAffinity   = "X-Flowgate-Session-Affinity"
)

// maxResponseBytes bounds a non-streaming upstream response.
const maxResponseBytes = 256 << 20

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func getBuf() *bytes.Buffer { return bufPool.Get().(*bytes.Buffer) }

func putBuf(b *bytes.Buffer) {
	if b.Cap() > 4<<20 {
		return // do not keep huge buffers alive
	}
	b.Reset()
	bufPool.Put(b)
}

// exchange is one client request in flight.
type exchange struct {
	s           *Server
	g           *generation
	w           http.ResponseWriter
	r           *http.Request
	proto       upstream.Protocol
	countTokens bool
	body        []byte
	info        jsonscan.BodyInfo
	aliasJSON   []byte
	start       time.Time
	upstreamDur time.Duration
	committed   bool
	status      int
	tokenSource string
	// lr bounds the request and response body reads; a field so that
	// handing it to ReadFrom allocates nothing.
	lr io.LimitedReader
	// hv backs the response's one-element header values.
	hv hdrVals
	// rl is what the request log records (reqlog.go).
	rl reqlogEntry
	// key is the client key the request presented (auth.go).
	key *clientKey
	// keyRefused names the key limit that refused the request, if one did.
	keyRefused string
	// session is the agent session the request belongs to (session.go).
	session string
	// reasoning is what the attempt's body lost of the client's reasoning
	// state, "" for nothing (reasoning.go).
	reasoning string
}

// hdrVals hands out one-element header values ([]string{v}, len == cap)
// carved from one allocation per response instead of one each.
type hdrVals struct{ free []string }

func (hv *hdrVals) one(v string) []string {
	if len(hv.free) == 0 {
		hv.free = make([]string, 10)
	}
	r := hv.free[:1:1]
	r[0] = v
	hv.free = hv.free[1:]
	return r
}

func (s *Server) inference(w http.ResponseWriter, r *http.Request, proto upstream.Protocol, countTokens bool) {
	start := time.Now()
	g := s.gen.Load()
	a := apiOf(proto)
	route := proto.String()
	if countTokens {
		route = "count_tokens"
	}
	s.metrics.inFlight.Inc()
	defer s.metrics.inFlight.Dec()
	x := &exchange{s: s, g: g, w: w, r: r, proto: proto, countTokens: countTokens, start: start}
	ri := routeIndex(proto, countTokens)
	defer func() { s.metrics.observe(ri, route, x.status, time.Since(start), x.overhead()) }()
	x.logStart()
	defer x.logEnd()

	if x.key = s.identify(g, r); x.key == nil {
		x.status = http.StatusUnauthorized
		refuse(w, a, http.StatusUnauthorized, "invalid_api_key", "missing or wrong gateway key: send it as Authorization: Bearer <key> or x-api-key (general_settings.master_key, or a key from `flowgate keys create`)")
		return
	}
	body, status, done := s.readBody(w, r, a, g)
	defer done()
	if status != 0 {
		x.status = status
		return
	}
	x.body = body
	info, err := jsonscan.ScanBody(x.body)
	if err != nil {
		x.status = http.StatusBadRequest
		writeError(w, a, x.status, "invalid_request", err.Error())
		return
	}
	if !info.HasModel || info.Model == "" {
		x.status = http.StatusBadRequest
		writeError(w, a, x.status, "invalid_request", "the request has no \"model\"; available models: "+joinAliases(g.router))
		return
	}
	x.info = info
	x.session = requestSession(r, &x.info)
	x.aliasJSON = aliasLiteral(x.body[info.ModelStart:info.ModelEnd], info.Model)
	if x.key.limited() && s.refuseOverLimit(x) {
		return
	}

	session := x.session
	if countTokens {
		session = "" // counting warms no cache: it neither uses nor moves a pin
	}
	var count router.InputCounter
	if !countTokens {
		count = x.inputCounter()
	}
	tr, err := g.router.DoCounted(r.Context(), info.Model, session, count, x.tryLogged)
	if err != nil {
		var afe *router.AuthFailedError
		if errors.As(err, &afe) {
			afe.Fix = s.authFix(afe.Deployment)
		}
		if !x.committed {
			x.traceHeaders(tr.Group, tr.Deployment, "", tr.Attempts, tr.Fallbacks, -1)
			x.status = writeFailure(w, a, err)
		}
		if x.status != 499 {
			s.log.Warn("request failed", "route", route, "model", runtime.Clip(info.Model), "group", tr.Group, "deployment", tr.Deployment,
				"attempts", tr.Attempts, "fallbacks", tr.Fallbacks, "status", x.status, "error", redactMessage(err.Error()))
		}
		return
	}
	if tr.Attempts > 1 {
		s.log.Info("request recovered", "route", route, "model", runtime.Clip(info.Model), "group", tr.Group, "deployment", tr.Deployment,
			"attempts", tr.Attempts, "fallbacks", tr.Fallbacks)
	}
}

// aliasLiteral is the model as a JSON string literal. When the client's own
// literal is plain ASCII that the encoder would write the same way (the
// usual case), it is used as is: it lives in the request buffer, which
// outlives every use of the alias.
func aliasLiteral(raw []byte, model string) []byte {
	for _, c := range raw[1 : len(raw)-1] {
		if c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return jsonscan.AppendString(nil, model)
		}
	}
	return raw[:len(raw):len(raw)]
}

func tooLarge(max int64) string {
	return "request body is larger than the gateway limit of " + strconv.FormatInt(max, 10) + " bytes; shorten the conversation or raise the limit"
}

func joinAliases(r *router.Router) string {
	var b bytes.Buffer
	for i, a := range r.Visible() {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(a)
	}
	return b.String()
}

func (x *exchange) overhead() time.Duration {
	d := time.Since(x.start) - x.upstreamDur
	if d < 0 {
		return 0
	}
	return d
}

// traceHeaders sets the x-flowgate-* headers and, when contentLength >= 0,
// Content-Length. All the numbers share one string allocation.
func (x *exchange) traceHeaders(group, deployment, affinity string, attempts, fallbacks, contentLength int) {
	h := x.w.Header()
	if group != "" {
		h[hdrGroup] = x.hv.one(group)
		h[hdrDeployment] = x.hv.one(deployment)
	}
	if affinity != "" {
		h[hdrAffinity] = x.hv.one(affinity)
	}
	if x.reasoning != "" {
		h[hdrReasoning] = x.hv.one(x.reasoning)
	}
	var nb [96]byte
	b := nb[:0]
	var ends [5]int
	b = strconv.AppendInt(b, int64(attempts), 10)
	ends[0] = len(b)
	b = strconv.AppendInt(b, int64(fallbacks), 10)
	ends[1] = len(b)
	b = strconv.AppendUint(b, x.g.id, 10)
	ends[2] = len(b)
	b = strconv.AppendFloat(b, float64(x.overhead().Microseconds())/1000, 'f', 3, 64)
	ends[3] = len(b)
	if contentLength >= 0 {
		b = strconv.AppendInt(b, int64(contentLength), 10)
	}
	ends[4] = len(b)
	nums := string(b)
	h[hdrAttempts] = x.hv.one(nums[:ends[0]])
	h[hdrFallbacks] = x.hv.one(nums[ends[0]:ends[1]])
	h[hdrGeneration] = x.hv.one(nums[ends[1]:ends[2]])
	h[hdrOverhead] = x.hv.one(nums[ends[2]:ends[3]])
	if contentLength >= 0 {
		h["Content-Length"] = x.hv.one(nums[ends[3]:ends[4]])
	}
}

// try is one attempt on one deployment (router.TryFunc).
func (x *exchange) try(ctx context.Context, at *router.Attempt) error {
	d := at.Deployment
	t := d.Target
	if x.countTokens {
		return x.tryCountTokens(ctx, at)
	}
	x.reasoning = "" // set by this attempt only
	upProto := x.proto
	var (
		body *upstream.Body
		conv *Conversion
	)
	if t.NativeFor(x.proto) {
		src, info := x.reasoningFor(at)
		h, m, tl := jsonscan.RewriteParts(src, info, t.ModelJSON)
		body = upstream.NewBody(h, m, tl)
	} else {
		upProto = t.PreferredNative()
		if x.s.tr == nil {
			return unsupported(x.proto, upProto)
		}
		var err error
		conv, err = x.s.tr.Request(x.proto, upProto, x.body, t, x.info.Model)
		if err != nil {
			if errors.Is(err, ErrTranslationUnavailable) {
				return unsupported(x.proto, upProto)
			}
			return &upstream.Error{Kind: upstream.FailStatus, Status: 400, Body: errorBody(apiOf(x.proto), 400, "invalid_request", "cannot translate the request: "+err.Error())}
		}
		body = upstream.NewBody(conv.Body, nil, nil)
	}
	defer body.Release()
	return x.send(ctx, at, &upstream.Call{Target: t, Op: upstream.OpFor(upProto), Body: body, Header: x.r.Header, Protocol: upProto}, x.info.Stream, conv)
}

// send performs the call with the attempt's timeouts and writes a success.
func (x *exchange) send(ctx context.Context, at *router.Attempt, call *upstream.Call, stream bool, conv *Conversion) error {
	d := at.Deployment
	set := &x.g.router.Config().Settings
	timeout := d.Timeout
	if timeout <= 0 {
		timeout = set.RequestTimeout
	}
	if stream && d.StreamTimeout > 0 {
		timeout = d.StreamTimeout
	}
	actx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var streaming atomic.Bool
	timer := time.AfterFunc(timeout, func() {
		if streaming.Load() {
			cancel(upstream.ErrIdleTimeout)
		} else {
			cancel(upstream.ErrAttemptTimeout)
		}
	})
	defer timer.Stop()
	t0 := time.Now()
	resp, err := x.s.client.Do(actx, call)
	at.TTFB = time.Since(t0)
	if err != nil {
		x.upstreamDur += at.TTFB
		return err
	}
	defer resp.Body.Close()
	if stream && isEventStream(resp.Header.Get("Content-Type")) {
		var st StreamTranslator
		if conv != nil {
			st = conv.Stream()
		}
		return x.stream(actx, at, resp, call.Protocol, t0, timer, &streaming, set.StreamIdleTimeout, st)
	}
	return x.whole(actx, at, resp, t0, conv)
}

func isEventStream(ct string) bool {
	return len(ct) >= 17 && ct[:17] == "text/event-stream"
}

// whole reads a complete upstream answer, checks it is JSON (a garbage or
// truncated body is an upstream failure, retried or reported, never passed on
// as a 200), names the alias as the model and writes it.
func (x *exchange) whole(ctx context.Context, at *router.Attempt, resp *http.Response, t0 time.Time, conv *Conversion) error {
	rb := getBuf()
	defer putBuf(rb)
	if resp.ContentLength > 0 && resp.ContentLength < maxResponseBytes {
		rb.Grow(int(resp.ContentLength))
	}
	x.lr = io.LimitedReader{R: resp.Body, N: maxResponseBytes}
	_, err := rb.ReadFrom(&x.lr)
	x.lr.R = nil
	x.upstreamDur += time.Since(t0)
	if err != nil {
		return upstream.TransportError(ctx, err)
	}
	body := rb.Bytes()
	x.noteAnswer(body)
	out := body
	if conv != nil {
		// The translator decodes the body anyway and rejects what it cannot parse.
		tb, err := conv.Response(body)
		if err != nil {
			return &upstream.Error{Kind: upstream.FailBadResponse, Err: errors.New("translating the upstream answer: " + err.Error())}
		}
		out = tb
	} else {
		// Passthrough: no full validation of what is only forwarded. The
		// top-level scan (needed for the model anyway) plus a closing brace
		// catches garbage and truncated bodies, so they never become a 200.
		info, err := jsonscan.ScanResponse(body)
		if err != nil || !endsObject(body) {
			return &upstream.Error{Kind: upstream.FailBadResponse, Err: errors.New("upstream answered " + strconv.Itoa(resp.StatusCode) + " with a body that is not JSON")}
		}
		if info.HasModel && !bytes.Equal(body[info.ModelStart:info.ModelEnd], x.aliasJSON) {
			ob := getBuf()
			defer putBuf(ob)
			ob.Write(jsonscan.AppendRewritten(ob.AvailableBuffer(), body, info, x.aliasJSON))
			out = ob.Bytes()
		}
	}
	h := x.w.Header()
	copyResponseHeaders(h, resp.Header)
	h["Content-Type"] = x.hv.one("application/json")
	if x.tokenSource != "" {
		h[hdrTokenCount] = x.hv.one(x.tokenSource)
	}
	x.traceHeaders(at.Group.Name, at.Deployment.ID, at.Affinity, at.N, at.Fallbacks, len(out))
	at.Committed, x.committed = true, true
	x.status = resp.StatusCode
	x.w.WriteHeader(resp.StatusCode)
	x.w.Write(out)
	return nil
}

// endsObject reports whether the last non-space byte of b closes an object.
func endsObject(b []byte) bool {
	for i := len(b) - 1; i >= 0; i-- {
		switch b[i] {
		case ' ', '\t', '\r', '\n':
			continue
		case '}':
			return true
		}
		return false
	}
	return false
}

func copyResponseHeaders(dst, src http.Header) {
	for k, v := range src {
		if upstream.IsHopHeader(k) || k == "Content-Encoding" || k == "Set-Cookie" {
			continue
		}
		dst[k] = v
	}
}

// inputCounter counts the request for the router's context-window check
// (model_info.max_input_tokens), once per tokenizer. A body smaller in
// bytes than half the window is taken to fit without counting: text never
// has more tokens than bytes, which leaves half the window for framing and
// flat-charged images, and keeps the tokenizer off most requests.
func (x *exchange) inputCounter() router.InputCounter {
	var memo map[string]int
	return func(d *router.Deployment) (int, string) {
		enc := tokens.EncodingFor(d.Target.Model)
		how := tokens.MethodEstimate
		if enc != "" {
			how = "tokenizer=" + enc
		}
		if len(x.body) < d.MaxInputTokens/2 {
			return 0, how
		}
		if n, ok := memo[how]; ok {
			return n, how
		}
		n, how2, err := tokens.CountTokens(x.body, d.Target.Model)
		if err != nil {
			return 0, how // the upstream reports what is wrong with the body
		}
		if memo == nil {
			memo = map[string]int{}
		}
		memo[how2] = n
		return n, how2
	}
}

// tryCountTokens forwards to an Anthropic upstream's native endpoint, or
// answers with a local estimate.
func (x *exchange) tryCountTokens(ctx context.Context, at *router.Attempt) error {
	t := at.Deployment.Target
	if t.Kind == upstream.KindAnthropic {
		h, m, tl := jsonscan.RewriteParts(x.body, x.info, t.ModelJSON)
		body := upstream.NewBody(h, m, tl)
		defer body.Release()
		x.tokenSource = "upstream"
		err := x.send(ctx, at, &upstream.Call{Target: t, Op: upstream.OpCountTokens, Body: body, Header: x.r.Header, Protocol: upstream.Messages}, false, nil)
		var ue *upstream.Error
		if err == nil || !errors.As(err, &ue) || ue.Kind != upstream.FailStatus || (ue.Status != 404 && ue.Status != 405 && ue.Status != 501) {
			return err
		}
	}
	n, method, err := tokens.CountTokens(x.body, t.Model)
	if err != nil {
		return &upstream.Error{Kind: upstream.FailStatus, Status: http.StatusBadRequest, Err: err}
	}
	out := strconv.AppendInt([]byte(`{"input_tokens":`), int64(n), 10)
	out = append(out, '}')
	h := x.w.Header()
	h["Content-Type"] = x.hv.one("application/json")
	h[hdrTokenCount] = []string{method}
	x.traceHeaders(at.Group.Name, at.Deployment.ID, at.Affinity, at.N, at.Fallbacks, len(out))
	at.Committed, x.committed = true, true
	x.status = http.StatusOK
	x.w.WriteHeader(http.StatusOK)
	x.w.Write(out)
	return nil
}
