package sse

import (
	"bytes"
	"errors"
	"io"
)

// Event is one dispatched SSE event. Name is the "event:" field (empty in
// the data-only dialect); Data is the data lines joined with "\n"; ID is the
// last "id:" field seen. Data is only valid until the next call to Next.
type Event struct {
	Name string
	Data []byte
	ID   string
}

// ErrLineTooLong is returned when a single line exceeds the reader's limit.
var ErrLineTooLong = errors.New("sse: line too long")

// DefaultMaxLine bounds one line (64 MiB); a single data line carries a
// whole JSON chunk, and some upstreams send large ones (images, tool args).
const DefaultMaxLine = 64 << 20

// Reader parses an SSE byte stream into events. It is not safe for
// concurrent use.
type Reader struct {
	r        io.Reader
	buf      []byte
	start    int // unread bytes are buf[start:end]
	end      int
	err      error // sticky error from r
	maxLine  int
	data     []byte
	name     []byte
	dataSeen bool
	id       string
}

// NewReader returns a Reader over r.
func NewReader(r io.Reader) *Reader {
	return &Reader{r: r, buf: make([]byte, 16<<10), maxLine: DefaultMaxLine}
}

// SetMaxLine changes the maximum line length in bytes.
func (r *Reader) SetMaxLine(n int) { r.maxLine = n }

// Next returns the next event. At the end of the stream it returns io.EOF;
// an event still pending at EOF (no trailing blank line) is returned first.
// Comments (":..." keep-alives) and events with neither data nor a name are
// skipped. A read error other than io.EOF is returned as is (a pending,
// undispatched event is discarded), so the caller can tell a clean end from
// a broken stream.
func (r *Reader) Next() (Event, error) {
	r.data = r.data[:0]
	r.name = r.name[:0]
	r.dataSeen = false
	for {
		line, err := r.readLine()
		if err != nil {
			if err == io.EOF && (r.dataSeen || len(r.name) > 0) {
				return r.event(), nil
			}
			return Event{}, err
		}
		if len(line) == 0 {
			if r.dataSeen || len(r.name) > 0 {
				return r.event(), nil
			}
			continue
		}
		if line[0] == ':' {
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
			if r.dataSeen {
				r.data = append(r.data, '\n')
			}
			r.data = append(r.data, value...)
			r.dataSeen = true
		case "event":
			r.name = append(r.name[:0], value...)
		case "id":
			if bytes.IndexByte(value, 0) < 0 {
				r.id = string(value)
			}
		}
	}
}

func (r *Reader) event() Event {
	ev := Event{Name: string(r.name), Data: r.data, ID: r.id}
	r.dataSeen = false
	return ev
}

// readLine returns the next line without its terminator (\n, \r\n or \r).
// At EOF a final unterminated line is returned before io.EOF. The slice
// aliases the internal buffer and is valid until the next call.
func (r *Reader) readLine() ([]byte, error) {
	scan := 0 // offset from r.start already searched
	for {
		window := r.buf[r.start+scan : r.end]
		if i := bytes.IndexAny(window, "\r\n"); i >= 0 {
			j := r.start + scan + i
			next := j + 1
			if r.buf[j] == '\r' {
				if next == r.end && r.err == nil {
					// Need one more byte to know whether this is \r\n.
					scan = j - r.start
					r.fill()
					continue
				}
				if next < r.end && r.buf[next] == '\n' {
					next++
				}
			}
			line := r.buf[r.start:j]
			r.start = next
			return line, nil
		}
		if r.err != nil {
			if r.err == io.EOF && r.start < r.end {
				line := r.buf[r.start:r.end]
				r.start = r.end
				return line, nil
			}
			return nil, r.err
		}
		scan = r.end - r.start
		if scan > r.maxLine {
			return nil, ErrLineTooLong
		}
		r.fill()
	}
}

// fill reads more bytes, compacting or growing the buffer first.
func (r *Reader) fill() {
	if r.start > 0 {
		n := copy(r.buf, r.buf[r.start:r.end])
		r.start, r.end = 0, n
	}
	if r.end == len(r.buf) {
		nb := make([]byte, 2*len(r.buf))
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
