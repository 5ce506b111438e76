package gateway

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/flowgate/flowgate/internal/jsonscan"
	"github.com/flowgate/flowgate/internal/router"
	"github.com/flowgate/flowgate/internal/sse"
	"github.com/flowgate/flowgate/internal/upstream"
)

var readerPool = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 32<<10) }}

// readFrame appends one SSE frame (its lines up to and including the blank
// line that ends it) to dst. Empty frames are skipped. At EOF it returns
// what it has with io.EOF.
func readFrame(br *bufio.Reader, dst []byte) ([]byte, error) {
	start := len(dst)
	for {
		line, err := br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			dst = append(dst, line...)
			continue
		}
		blank := len(line) == 1 || (len(line) == 2 && line[0] == '\r')
		if blank && err == nil {
			if len(dst) == start {
				continue // stray blank line
			}
			return append(dst, line...), nil
		}
		dst = append(dst, line...)
		if err != nil {
			return dst, err
		}
	}
}

// looksLikeSSE checks the first frame is made of SSE fields, so a 200 with
// garbage is a failure (and retried) rather than relayed.
func looksLikeSSE(f []byte) bool {
	for _, p := range [...]string{"data:", "event:", ":", "id:", "retry:"} {
		if bytes.HasPrefix(f, []byte(p)) {
			return true
		}
	}
	return false
}

// stream relays an SSE response frame by frame, flushing each at once. The
// first frame is read before anything is sent so that an upstream that
// fails before its first event can still be retried; after that the
// response is committed and failures become an in-stream error event.
func (x *exchange) stream(ctx context.Context, at *router.Attempt, resp *http.Response, t0 time.Time,
	timer *time.Timer, streaming *atomic.Bool, idle time.Duration, conv StreamTranslator) error {
	br := readerPool.Get().(*bufio.Reader)
	br.Reset(resp.Body)
	defer func() { br.Reset(nil); readerPool.Put(br) }()
	fb := getBuf()
	defer putBuf(fb)
	ob := getBuf()
	defer putBuf(ob)

	frame, err := readFrame(br, fb.AvailableBuffer())
	x.upstreamDur += time.Since(t0)
	if len(frame) == 0 {
		if err == io.EOF {
			return &upstream.Error{Kind: upstream.FailBadResponse, Err: errors.New("upstream closed the stream before its first event")}
		}
		return upstream.TransportError(ctx, err)
	}
	if err != nil && err != io.EOF {
		return upstream.TransportError(ctx, err)
	}
	if !looksLikeSSE(frame) {
		return &upstream.Error{Kind: upstream.FailBadResponse, Err: errors.New("upstream answered a stream request with something that is not server-sent events")}
	}
	dst := ob.AvailableBuffer()
	out, dst, cerr := x.convert(conv, dst, frame)
	if cerr != nil {
		return &upstream.Error{Kind: upstream.FailBadResponse, Err: cerr}
	}

	// Point of no return.
	h := x.w.Header()
	copyResponseHeaders(h, resp.Header)
	h["Content-Type"] = x.hv.one("text/event-stream")
	h["Cache-Control"] = x.hv.one("no-cache")
	h["X-Accel-Buffering"] = x.hv.one("no")
	x.traceHeaders(at.Group.Name, at.Deployment.ID, at.N, at.Fallbacks, -1)
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
	sent := time.Now()
	for err == nil {
		frame, err = readFrame(br, frame[:0])
		if len(frame) > 0 && (err == nil || err == io.EOF) {
			timer.Reset(idle)
			out, dst, cerr = x.convert(conv, dst[:0], frame)
			if cerr != nil {
				x.w.Write(out)
				err = &upstream.Error{Kind: upstream.FailBadResponse, Err: cerr}
				break
			}
			if _, werr := x.w.Write(out); werr != nil {
				x.upstreamDur += time.Since(sent)
				return &upstream.Error{Kind: upstream.FailCanceled, Err: werr}
			}
			if flusher != nil {
				flusher.Flush()
			}
		}
	}
	x.upstreamDur += time.Since(sent)
	if err == io.EOF {
		if conv != nil {
			x.w.Write(sse.AppendFrames(dst[:0], conv.Finish(nil)))
			if flusher != nil {
				flusher.Flush()
			}
		}
		return nil
	}
	if x.r.Context().Err() != nil {
		return &upstream.Error{Kind: upstream.FailCanceled, Err: x.r.Context().Err()}
	}
	var fail *upstream.Error
	if !errors.As(err, &fail) {
		fail = upstream.TransportError(ctx, err)
		if fail.Kind == upstream.FailConnect {
			fail.Err = errors.New("upstream stream broke: " + fail.Err.Error())
		}
	}
	if conv != nil {
		x.w.Write(sse.AppendFrames(dst[:0], conv.Finish(fail)))
	} else {
		x.w.Write(streamErrorEvent(x.proto, fail.Error()))
	}
	if flusher != nil {
		flusher.Flush()
	}
	return fail
}

// convert passes a frame through (with the model renamed to the alias), or
// feeds its data to the translator and appends the client frames it
// produces. out is what to send; dst is the scratch buffer, possibly grown,
// to reuse for the next frame. out may be frame itself, so dst never is.
func (x *exchange) convert(conv StreamTranslator, dst, frame []byte) (out, grown []byte, err error) {
	if conv == nil {
		out = rewriteFrameModel(dst, frame, x.aliasJSON, nestedModelKey(x.proto))
		if len(out) > 0 && len(frame) > 0 && &out[0] == &frame[0] {
			return out, dst, nil // unchanged: the frame as read, no copy
		}
		return out, out, nil
	}
	var data []byte
	has := false
	for len(frame) > 0 {
		line := frame
		if i := bytes.IndexByte(frame, '\n'); i >= 0 {
			line, frame = frame[:i], frame[i+1:]
		} else {
			frame = nil
		}
		line = bytes.TrimSuffix(line, []byte("\r"))
		if bytes.HasPrefix(line, []byte("data:")) {
			v := line[5:]
			if len(v) > 0 && v[0] == ' ' {
				v = v[1:]
			}
			if has {
				data = append(append(data, '\n'), v...)
			} else {
				data, has = append(data[:0], v...), true
			}
		}
	}
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
// itself when it carries no model or already names the alias (F8). It never
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

// streamErrorEvent is the protocol's way to report a failure after the
// stream started; the response then ends cleanly.
func streamErrorEvent(p upstream.Protocol, msg string) []byte {
	m, _ := json.Marshal(msg)
	var b []byte
	switch p {
	case upstream.Messages:
		b = append(b, "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"api_error\",\"message\":"...)
		b = append(b, m...)
		b = append(b, "}}\n\n"...)
	case upstream.Responses:
		b = append(b, "event: error\ndata: {\"type\":\"error\",\"code\":\"upstream_error\",\"message\":"...)
		b = append(b, m...)
		b = append(b, ",\"param\":null,\"sequence_number\":"...)
		b = strconv.AppendInt(b, 0, 10)
		b = append(b, "}\n\n"...)
	default:
		b = append(b, "data: {\"error\":{\"message\":"...)
		b = append(b, m...)
		b = append(b, ",\"type\":\"api_error\",\"param\":null,\"code\":\"upstream_stream_error\"}}\n\n"...)
	}
	return b
}
