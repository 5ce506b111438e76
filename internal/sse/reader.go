package sse

import (
	"bytes"
	"errors"
	"io"
)

// MaxEvent bounds one event as read from a stream: all its lines,
// terminators included (8 MiB). A single data line carries a whole JSON
// chunk, and the largest real ones (a tool call's arguments, an image) are
// far below it; an event past it, or a line that never ends, is refused
// rather than buffered, so a broken or hostile upstream cannot make a
// reader hold more than about this much.
const MaxEvent = 8 << 20

// ErrEventTooLarge is returned when an event passes MaxEvent.
var ErrEventTooLarge = errors.New("server-sent event larger than 8 MiB")

// bufSize is a reader's first buffer; it grows for a larger event, and a
// reader reset for a new stream gives a grown buffer back.
const bufSize = 16 << 10

// Event is one dispatched SSE event. Name is the "event:" field (empty in
// the data-only dialect); Data is the data lines joined with "\n"; ID is the
// last "id:" field seen. Data is only valid until the next call to Next.
type Event struct {
	Name string
	Data []byte
	ID   string
}

// Reader reads an SSE byte stream frame by frame (ReadFrame, the bytes as
// sent, for relaying) or event by event (Next, parsed). It is not safe for
// concurrent use.
type Reader struct {
	r     io.Reader
	buf   []byte
	start int   // unread bytes are buf[start:end]
	end   int   // end of the bytes read so far
	err   error // sticky: the error that ended r, or ErrEventTooLarge
	max   int
	data  []byte
	name  []byte
	id    string
}

// NewReader returns a Reader over r.
func NewReader(r io.Reader) *Reader {
	return &Reader{r: r, buf: make([]byte, bufSize), max: MaxEvent}
}

// Reset makes the reader read r from its start, reusing the buffer (a
// buffer an earlier large event grew is dropped). Reset(nil) releases the
// stream the reader held.
func (r *Reader) Reset(src io.Reader) {
	buf := r.buf
	if cap(buf) != bufSize {
		buf = make([]byte, bufSize)
	}
	*r = Reader{r: src, buf: buf, max: r.max, data: r.data[:0], name: r.name[:0]}
}

// Peek returns the next n unread bytes without consuming them, fewer
// when the stream ends first (with the error that ended it), so that a
// caller can refuse what is not an event stream before reading a frame.
// The bytes are valid until the next call.
func (r *Reader) Peek(n int) ([]byte, error) {
	for r.end-r.start < n && r.err == nil {
		r.fill()
	}
	if r.end-r.start < n {
		return r.buf[r.start:r.end], r.err
	}
	return r.buf[r.start : r.start+n], nil
}

// ReadFrame returns the next frame as it was sent: its lines, terminators
// included, up to and including the blank line that ends it. Blank lines
// between frames are skipped. When the stream ends it returns what is left
// (a last frame without its blank line, possibly cut inside a line) with
// the error that ended it, io.EOF for a clean end, and from then on nil
// and that error. A frame larger than MaxEvent, or a line that does not
// end within it, returns ErrEventTooLarge, now and on every later call.
//
// The frame aliases the reader's buffer and is valid until the next call;
// appending to it copies, so it never overwrites what follows.
func (r *Reader) ReadFrame() ([]byte, error) {
	if r.err == ErrEventTooLarge {
		return nil, r.err
	}
	line, scan := 0, 0 // from r.start: the current line's start; from line: how far it is searched
	for {
		b := r.buf[r.start:r.end]
		cut, next, ok := lineEnd(b[line:], scan, r.err != nil)
		if !ok {
			if r.err != nil {
				r.start = r.end
				if len(b) == 0 {
					return nil, r.err
				}
				return b[:len(b):len(b)], r.err
			}
			if len(b) > r.max {
				return nil, r.tooLarge()
			}
			if scan = len(b) - line - 1; scan < 0 {
				scan = 0
			}
			r.fill()
			continue
		}
		if cut > 0 {
			line, scan = line+next, 0
			continue
		}
		if line == 0 { // a blank line between frames
			r.start += next
			continue
		}
		end := line + next
		if end > r.max {
			return nil, r.tooLarge()
		}
		r.start += end
		return b[:end:end], nil
	}
}

func (r *Reader) tooLarge() error {
	r.err, r.start, r.end = ErrEventTooLarge, 0, 0
	return r.err
}

// Next returns the next event. At the end of the stream it returns io.EOF;
// an event still pending at EOF (no trailing blank line) is returned first.
// Comments (":..." keep-alives) and events with neither data nor a name are
// skipped. A read error other than io.EOF is returned as is (a pending,
// undispatched event is discarded), so the caller can tell a clean end from
// a broken stream.
func (r *Reader) Next() (Event, error) {
	for {
		f, err := r.ReadFrame()
		if err != nil && err != io.EOF {
			return Event{}, err
		}
		if ev, ok := r.parse(f); ok {
			return ev, nil
		}
		if err != nil {
			return Event{}, err
		}
	}
}

// parse reads one frame's fields (the WHATWG rules: several data lines
// are joined with "\n", one space after the colon is dropped, ":" lines
// are comments, an id with a NUL is ignored). ok is false for a frame
// with neither data nor an event name.
func (r *Reader) parse(f []byte) (ev Event, ok bool) {
	r.data, r.name = r.data[:0], r.name[:0]
	dataSeen := false
	for len(f) > 0 {
		line := f
		if cut, next, found := lineEnd(f, 0, true); found {
			line, f = f[:cut], f[next:]
		} else {
			f = nil
		}
		if len(line) == 0 || line[0] == ':' {
			continue
		}
		field, value := line, []byte(nil)
		if i := bytes.IndexByte(line, ':'); i >= 0 {
			field, value = line[:i], line[i+1:]
			if len(value) > 0 && value[0] == ' ' {
				value = value[1:]
			}
		}
		switch string(field) {
		case "data":
			if dataSeen {
				r.data = append(r.data, '\n')
			}
			r.data = append(r.data, value...)
			dataSeen = true
		case "event":
			r.name = append(r.name[:0], value...)
		case "id":
			if bytes.IndexByte(value, 0) < 0 {
				r.id = string(value)
			}
		}
	}
	if !dataSeen && len(r.name) == 0 {
		return Event{}, false
	}
	return Event{Name: string(r.name), Data: r.data, ID: r.id}, true
}

// lineEnd finds the first line terminator (\n, \r\n or a lone \r) in b at
// or after from: the line is b[:cut] and the next one starts at b[next].
// ok is false when there is none yet. A \r that is b's last byte ends a
// line only at the end of the stream (atEOF), since a \n may follow it.
// It searches with two byte scans, as lines of LLM streams rarely hold a
// \r at all.
func lineEnd(b []byte, from int, atEOF bool) (cut, next int, ok bool) {
	rest := b[from:]
	lf := bytes.IndexByte(rest, '\n')
	before := rest
	if lf >= 0 {
		before = rest[:lf]
	}
	if cr := bytes.IndexByte(before, '\r'); cr >= 0 {
		cr += from
		switch {
		case cr+1 < len(b) && b[cr+1] == '\n':
			return cr, cr + 2, true
		case cr+1 < len(b) || atEOF:
			return cr, cr + 1, true
		}
		return 0, 0, false
	}
	if lf >= 0 {
		return from + lf, from + lf + 1, true
	}
	return 0, 0, false
}

// fill reads more bytes, compacting the buffer first, or growing it (up
// to one byte past the cap, enough to see that an event passes it) when
// the unread bytes fill it.
func (r *Reader) fill() {
	if r.start > 0 {
		n := copy(r.buf, r.buf[r.start:r.end])
		r.start, r.end = 0, n
	}
	if r.end == len(r.buf) {
		n := 2 * len(r.buf)
		if lim := r.max + 1; n > lim && lim > r.end {
			n = lim
		}
		nb := make([]byte, n)
		copy(nb, r.buf[:r.end])
		r.buf = nb
	}
	for tries := 0; tries < 100; tries++ {
		n, err := r.r.Read(r.buf[r.end:])
		r.end += n
		if err != nil {
			r.err = err
			return
		}
		if n > 0 {
			return
		}
	}
	r.err = io.ErrNoProgress
}
