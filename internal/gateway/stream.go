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
	out, cerr := x.convert(conv, ob.AvailableBuffer(), frame)
	if cerr != nil {
		return &upstream.Error{Kind: upstream.FailBadResponse, Err: cerr}
	}

	// Point of no return.
	h := x.w.Header()
	copyResponseHeaders(h, resp.Header)
	h["Content-Type"] = []string{"text/event-stream"}
	h["Cache-Control"] = []string{"no-cache"}
	h["X-Accel-Buffering"] = []string{"no"}
	x.traceHeaders(at.Group.Name, at.Deployment.ID, at.N, at.Fallbacks)
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
			out, cerr = x.convert(conv, out[:0], frame)
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
			x.w.Write(sse.AppendFrames(out[:0], conv.Finish(nil)))
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
		x.w.Write(sse.AppendFrames(out[:0], conv.Finish(fail)))
	} else {
		x.w.Write(streamErrorEvent(x.proto, fail.Error()))
	}
	if flusher != nil {
		flusher.Flush()
	}
	return fail
}

// convert passes a frame through, or feeds its data to the translator and
// appends the client frames it produces.
func (x *exchange) convert(conv StreamTranslator, dst, frame []byte) ([]byte, error) {
	if conv == nil {
		return frame, nil // passthrough: the frame as read, no copy
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
		return dst, nil
	}
	frames, err := conv.Feed(data)
	dst = sse.AppendFrames(dst, frames)
	return dst, err
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
