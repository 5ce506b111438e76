package sse

import (
	"bytes"
	"io"
)

// Frame is one event to send to a client. Event may be empty (data-only
// dialect). Data is a single JSON document (it must not contain newlines;
// encoding/json output never does).
type Frame struct {
	Event string
	Data  []byte
}

// Done is the data payload that ends an OpenAI Chat Completions stream.
var Done = []byte("[DONE]")

// IsDone reports whether data is the Chat Completions terminator "[DONE]".
func IsDone(data []byte) bool {
	return bytes.Equal(bytes.TrimSpace(data), Done)
}

// AppendFrame appends the wire form of one frame to dst:
// "event: <event>\ndata: <data>\n\n" ("data: <data>\n\n" when event is
// empty). Newlines inside data are split into several data lines so the
// frame stays well formed.
func AppendFrame(dst []byte, event string, data []byte) []byte {
	if event != "" {
		dst = append(dst, "event: "...)
		dst = append(dst, event...)
		dst = append(dst, '\n')
	}
	for {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			break
		}
		line := bytes.TrimSuffix(data[:i], []byte{'\r'})
		dst = append(dst, "data: "...)
		dst = append(dst, line...)
		dst = append(dst, '\n')
		data = data[i+1:]
	}
	dst = append(dst, "data: "...)
	dst = append(dst, data...)
	dst = append(dst, '\n', '\n')
	return dst
}

// AppendFrames appends every frame in order.
func AppendFrames(dst []byte, frames []Frame) []byte {
	for _, f := range frames {
		dst = AppendFrame(dst, f.Event, f.Data)
	}
	return dst
}

// flusher is satisfied by http.ResponseWriter implementations (http.Flusher)
// without this package importing net/http.
type flusher interface{ Flush() }

// Writer writes frames to an io.Writer and flushes after each batch when the
// destination supports Flush. It reuses one buffer, so a stream costs one
// allocation for the buffer, not one per frame.
type Writer struct {
	w   io.Writer
	f   flusher
	buf []byte
}

// NewWriter returns a Writer over w. If w has a Flush() method (for example
// an http.ResponseWriter), it is called after every Write call.
func NewWriter(w io.Writer) *Writer {
	sw := &Writer{w: w, buf: make([]byte, 0, 1024)}
	if f, ok := w.(flusher); ok {
		sw.f = f
	}
	return sw
}

// WriteFrame writes one frame and flushes.
func (w *Writer) WriteFrame(event string, data []byte) error {
	w.buf = AppendFrame(w.buf[:0], event, data)
	return w.flush()
}

// WriteFrames writes frames as one write and flushes once.
func (w *Writer) WriteFrames(frames []Frame) error {
	if len(frames) == 0 {
		return nil
	}
	w.buf = AppendFrames(w.buf[:0], frames)
	return w.flush()
}

// WriteRaw writes already framed bytes (pass-through streams) and flushes.
func (w *Writer) WriteRaw(p []byte) error {
	if _, err := w.w.Write(p); err != nil {
		return err
	}
	if w.f != nil {
		w.f.Flush()
	}
	return nil
}

// WriteComment writes a ": text" comment line (a keep-alive) and flushes.
func (w *Writer) WriteComment(text string) error {
	w.buf = append(append(append(w.buf[:0], ": "...), text...), '\n', '\n')
	return w.flush()
}

func (w *Writer) flush() error {
	if _, err := w.w.Write(w.buf); err != nil {
		return err
	}
	if w.f != nil {
		w.f.Flush()
	}
	return nil
}
