package gateway

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/flowgate/flowgate/internal/apierr"
	"github.com/flowgate/flowgate/internal/jsonscan"
	"github.com/flowgate/flowgate/internal/router"
	"github.com/flowgate/flowgate/internal/runtime"
	"github.com/flowgate/flowgate/internal/sse"
	"github.com/flowgate/flowgate/internal/upstream"
)

// readerPool holds the upstream stream readers; each keeps its buffer
// between streams (sse.Reader.Reset gives back one an event grew).
var readerPool = sync.Pool{New: func() any { return sse.NewReader(nil) }}

// readError is a stream read failure as the attempt's failure: an event
// past sse.MaxEvent is a bad response (the connection was fine), anything
// else a transport error.
func readError(ctx context.Context, err error) *upstream.Error {
	if errors.Is(err, sse.ErrEventTooLarge) {
		return &upstream.Error{Kind: upstream.FailBadResponse, Err: errors.New(
			"upstream sent a " + err.Error() + " (a line that never ended, or an event too large to relay)")}
	}
	return upstream.TransportError(ctx, err)
}

var sseFields = [...]string{"data:", "event:", ":", "id:", "retry:"}

// looksLikeSSE checks the first frame is made of SSE fields, so a 200 with
// garbage is a failure (and retried) rather than relayed.
func looksLikeSSE(f []byte) bool {
	for _, p := range sseFields {
		if bytes.HasPrefix(f, []byte(p)) {
			return true
		}
	}
	return false
}

// mayStartSSE reports whether the first bytes of an answer (possibly fewer
// than a field name) can begin an SSE stream, so that garbage is refused
// before it is read whole.
func mayStartSSE(p []byte) bool {
	if len(p) == 0 || p[0] == '\n' || p[0] == '\r' {
		return true
	}
	for _, f := range sseFields {
		if bytes.HasPrefix(p, []byte(f)) || bytes.HasPrefix([]byte(f), p) {
			return true
		}
	}
	return false
}

// stream relays an SSE response frame by frame, flushing each at once. The
// first event is read and checked to be the upstream protocol's own before
// anything is sent, so that an upstream that fails or answers garbage
// before its first event can still be retried; after that the response is
// committed, and a stream that ends without its terminal event (or breaks,
// or stalls) becomes an in-stream error event for the client and a failed
// attempt for the router. upProto is the upstream's protocol, x.proto the
// client's (they differ when conv translates).
func (x *exchange) stream(ctx context.Context, at *router.Attempt, resp *http.Response, upProto upstream.Protocol, t0 time.Time,
	timer *time.Timer, streaming *atomic.Bool, idle time.Duration, conv StreamTranslator) error {
	br := readerPool.Get().(*sse.Reader)
	br.Reset(resp.Body)
	defer func() { br.Reset(nil); readerPool.Put(br) }()
	ob := getBuf()
	defer putBuf(ob)
	w := streamWatch{proto: upProto}

	// Before the point of no return: frames without data (keep-alive
	// comments) are dropped, the first event is validated.
	var (
		frame []byte
		err   error
		kind  frameKind
	)
	if p, _ := br.Peek(len("retry:")); !mayStartSSE(p) {
		x.upstreamDur += time.Since(t0)
		return x.streamFailed(at, reasonNotSSE, errNotSSE())
	}
	for {
		frame, err = br.ReadFrame()
		if len(frame) == 0 || (err != nil && err != io.EOF) {
			x.upstreamDur += time.Since(t0)
			if err == io.EOF {
				return x.streamFailed(at, reasonEmpty, &upstream.Error{Kind: upstream.FailBadResponse,
					Err: errors.New("upstream closed the stream before its first event")})
			}
			fail := readError(ctx, err)
			if fail.Kind == upstream.FailBadResponse {
				return x.streamFailed(at, reasonInvalidFirst, fail)
			}
			return x.streamFailed(at, "", fail)
		}
		if !looksLikeSSE(frame) {
			x.upstreamDur += time.Since(t0)
			return x.streamFailed(at, reasonNotSSE, errNotSSE())
		}
		if kind = w.note(frame); kind != frameNoData {
			break
		}
		if err == io.EOF {
			x.upstreamDur += time.Since(t0)
			return x.streamFailed(at, reasonEmpty, &upstream.Error{Kind: upstream.FailBadResponse,
				Err: errors.New("upstream closed the stream before its first event")})
		}
	}
	x.upstreamDur += time.Since(t0)
	if reason, verr := w.checkFirst(frame, ob.AvailableBuffer()); verr != nil {
		return x.streamFailed(at, reason, verr)
	}
	if err == io.EOF && kind != frameTerminal {
		return x.streamFailed(at, reasonTruncated, &upstream.Error{Kind: upstream.FailBadResponse,
			Err: errors.New("upstream closed the stream inside its first event")})
	}
	if err == io.EOF {
		frame = terminateFrame(frame)
	}
	dst := ob.AvailableBuffer()
	out, dst, cerr := x.convert(conv, dst, frame)
	if cerr != nil {
		return x.streamFailed(at, reasonInvalidFirst, &upstream.Error{Kind: upstream.FailBadResponse, Err: cerr})
	}

	// Point of no return.
	h := x.w.Header()
	copyResponseHeaders(h, resp.Header)
	h["Content-Type"] = x.hv.one("text/event-stream")
	h["Cache-Control"] = x.hv.one("no-cache")
	h["X-Accel-Buffering"] = x.hv.one("no")
	x.traceHeaders(at.Group.Name, at.Deployment.ID, at.Affinity, at.N, at.Fallbacks, -1)
	at.Committed, x.committed = true, true
	x.status = http.StatusOK
	streaming.Store(true)
	timer.Reset(idle)
	flusher, _ := x.w.(http.Flusher)
	x.w.WriteHeader(http.StatusOK)
	if _, werr := x.w.Write(out); werr != nil {
		return &upstream.Error{Kind: upstream.FailCanceled, Err: werr}
	}
	if flusher != nil {
		flusher.Flush()
	}
	w.events++
	sent := time.Now()
	for kind != frameTerminal && kind != frameError && err == nil {
		frame, err = br.ReadFrame()
		if len(frame) == 0 || (err != nil && err != io.EOF) {
			break // a partial frame of a broken stream is dropped
		}
		if err == io.EOF {
			// The last frame lacks its blank line: it is relayed (and
			// noted) only when it ends the stream, so a cut-off event never
			// reaches the client nor counts.
			probe := streamWatch{proto: upProto}
			if k := probe.note(frame); k != frameTerminal && k != frameError {
				break
			}
			frame = terminateFrame(frame)
		}
		kind = w.note(frame)
		timer.Reset(idle)
		out, dst, cerr = x.convert(conv, dst[:0], frame)
		if kind == frameError {
			// An upstream error event may echo a key: it reaches the
			// client only with every known secret removed.
			out = runtime.Known().RedactValues(out)
		}
		if cerr != nil {
			x.w.Write(out)
			break
		}
		if _, werr := x.w.Write(out); werr != nil {
			x.upstreamDur += time.Since(sent)
			return &upstream.Error{Kind: upstream.FailCanceled, Err: werr}
		}
		if flusher != nil {
			flusher.Flush()
		}
		if kind != frameNoData {
			w.events++
		}
	}
	x.upstreamDur += time.Since(sent)

	var (
		fail   *upstream.Error
		reason string
		// clientErr is what the translator reports to the client, when it
		// differs from fail.
		clientErr error
	)
	switch {
	case kind == frameError || (w.errData != nil && kind != frameTerminal):
		// The upstream's own error event. Passed through, it already
		// reached the client; a translator reports it in the client's
		// protocol.
		fail, reason = upstreamEventError(upProto, w.errData), reasonUpstreamError
		if cerr != nil {
			clientErr = cerr
		}
		if conv == nil {
			return x.streamFailed(at, reason, fail)
		}
	case cerr != nil:
		fail, reason = &upstream.Error{Kind: upstream.FailBadResponse, Err: cerr}, reasonInvalidEvent
	case kind == frameTerminal || (err == io.EOF && w.complete()):
		if conv != nil {
			x.w.Write(sse.AppendFrames(dst[:0], conv.Finish(nil)))
			if flusher != nil {
				flusher.Flush()
			}
		}
		return nil
	case err == io.EOF:
		fail, reason = &upstream.Error{Kind: upstream.FailBadResponse, Err: errors.New(
			"upstream stream ended before its terminal event (" + terminalName(upProto) + "); the answer is incomplete, send the request again")}, reasonTruncated
	default:
		if x.r.Context().Err() != nil {
			return &upstream.Error{Kind: upstream.FailCanceled, Err: x.r.Context().Err()}
		}
		fail = readError(ctx, err)
		switch fail.Kind {
		case upstream.FailConnect:
			fail.Err = errors.New("upstream stream broke: " + fail.Err.Error())
		case upstream.FailBadResponse:
			reason = reasonInvalidEvent
		}
	}
	if clientErr == nil {
		clientErr = fail
	}
	if conv != nil {
		x.w.Write(sse.AppendFrames(dst[:0], conv.Finish(clientError(clientErr))))
	} else {
		x.w.Write(streamErrorFrame(dst[:0], x.proto, clientError(clientErr), w.events))
	}
	if flusher != nil {
		flusher.Flush()
	}
	return x.streamFailed(at, reason, fail)
}

func errNotSSE() *upstream.Error {
	return &upstream.Error{Kind: upstream.FailBadResponse,
		Err: errors.New("upstream answered a stream request with something that is not server-sent events")}
}

// streamFailed counts an upstream stream that failed, by deployment and
// reason ("" derives it from the failure: broken or timeout), and returns
// the failure for the router. A client that went away is not counted.
func (x *exchange) streamFailed(at *router.Attempt, reason string, fail *upstream.Error) error {
	switch {
	case fail.Kind == upstream.FailCanceled:
		return fail
	case reason != "":
	case fail.Kind == upstream.FailTimeout:
		reason = reasonTimeout
	default:
		reason = reasonBroken
	}
	x.s.metrics.StreamFailure(at.Deployment.ID, reason)
	return fail
}

// terminateFrame completes a last frame that lacks its blank line, so the
// client's parser dispatches it.
func terminateFrame(f []byte) []byte {
	if !bytes.HasSuffix(f, []byte("\n")) {
		f = append(f, '\n')
	}
	if !bytes.HasSuffix(f, []byte("\n\n")) && !bytes.HasSuffix(f, []byte("\r\n\r\n")) {
		f = append(f, '\n')
	}
	return f
}

// convert passes a frame through (with the model renamed to the alias), or
// feeds its data to the translator and appends the client frames it
// produces. out is what to send; dst is the scratch buffer, possibly grown,
// to reuse for the next frame. out may be frame itself, so dst never is.
func (x *exchange) convert(conv StreamTranslator, dst, frame []byte) (out, grown []byte, err error) {
	x.noteAnswer(frame)
	if conv == nil {
		out = rewriteFrameModel(dst, frame, x.aliasJSON, nestedModelKey(x.proto))
		if len(out) > 0 && len(frame) > 0 && &out[0] == &frame[0] {
			return out, dst, nil // unchanged: the frame as read, no copy
		}
		return out, out, nil
	}
	data, has := frameData(nil, frame)
	if !has {
		return dst, dst, nil
	}
	frames, err := conv.Feed(data)
	dst = sse.AppendFrames(dst, frames)
	return dst, dst, err
}

// nestedModelKey names the object that carries the model in stream events
// of each protocol: Anthropic message_start has message.model, Responses
// events response.model; Chat chunks carry it at the top level.
func nestedModelKey(p upstream.Protocol) string {
	switch p {
	case upstream.Messages:
		return "message"
	case upstream.Responses:
		return "response"
	}
	return ""
}

var quotedModel = []byte(`"model"`)

// rewriteFrameModel returns frame with the model value in its data line
// replaced by alias (a JSON string literal), appended to dst; or frame
// itself when it carries no model or already names the alias. It never
// decodes the payload: one substring search, then the top-level scanner
// only for frames that mention "model" (Anthropic deltas never do; in JSON
// text a quote inside a string is escaped, so "model" is only ever a key or
// a whole string value).
func rewriteFrameModel(dst, frame, alias []byte, nested string) []byte {
	k := bytes.Index(frame, quotedModel)
	if k < 0 {
		return frame
	}
	ls := bytes.LastIndexByte(frame[:k], '\n') + 1
	if !bytes.HasPrefix(frame[ls:], []byte("data:")) {
		return frame
	}
	le := bytes.IndexByte(frame[k:], '\n')
	if le < 0 {
		le = len(frame)
	} else {
		le += k
	}
	ps := ls + 5
	if ps < le && frame[ps] == ' ' {
		ps++
	}
	payload := bytes.TrimSuffix(frame[ps:le], []byte("\r"))
	s, e, ok := jsonscan.FindModel(payload, nested)
	if !ok || bytes.Equal(payload[s:e], alias) {
		return frame
	}
	dst = append(dst, frame[:ps+s]...)
	dst = append(dst, alias...)
	return append(dst, frame[ps+e:]...)
}

// streamErrorFrame appends the client protocol's in-stream error event,
// the one the translators end a broken stream with: Chat a data-only
// {"error":...} chunk (and no [DONE]), Messages event: error, Responses an
// error event (seq is its sequence_number). The response then ends.
func streamErrorFrame(dst []byte, p upstream.Protocol, err error, seq int) []byte {
	var f sse.Frame
	switch p {
	case upstream.Messages:
		f = apierr.AnthropicErrorFrame(err)
	case upstream.Responses:
		f = apierr.ResponsesErrorFrame(err, seq)
	default:
		f = apierr.ChatErrorFrame(err)
	}
	return sse.AppendFrame(dst, f.Event, f.Data)
}
