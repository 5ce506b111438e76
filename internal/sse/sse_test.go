package sse

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

type ev struct{ name, data string }

func readAll(t *testing.T, r io.Reader) ([]ev, error) {
	t.Helper()
	sr := NewReader(r)
	var out []ev
	for {
		e, err := sr.Next()
		if err != nil {
			if err == io.EOF {
				return out, nil
			}
			return out, err
		}
		out = append(out, ev{e.Name, string(e.Data)})
	}
}

func TestReaderDialects(t *testing.T) {
	cases := []struct {
		name string
		in   string
		want []ev
	}{
		{"data only with done", "data: {\"a\":1}\n\ndata: [DONE]\n\n", []ev{{"", `{"a":1}`}, {"", "[DONE]"}}},
		{"event and data", "event: message_start\ndata: {\"x\":1}\n\nevent: ping\ndata: {}\n\n", []ev{{"message_start", `{"x":1}`}, {"ping", "{}"}}},
		{"crlf", "event: a\r\ndata: 1\r\n\r\ndata: 2\r\n\r\n", []ev{{"a", "1"}, {"", "2"}}},
		{"lone cr", "data: 1\r\rdata: 2\r\r", []ev{{"", "1"}, {"", "2"}}},
		{"multi-line data", "data: a\ndata: b\n\n", []ev{{"", "a\nb"}}},
		{"empty first data line", "data\ndata: b\n\n", []ev{{"", "\nb"}}},
		{"comments and keepalives", ": ping\n\n:keep-alive\ndata: x\n\n", []ev{{"", "x"}}},
		{"no space after colon", "data:x\n\n", []ev{{"", "x"}}},
		{"pending at eof", "data: last", []ev{{"", "last"}}},
		{"retry and id ignored", "retry: 10\nid: 5\ndata: y\n\n", []ev{{"", "y"}}},
		{"blank lines only", "\n\n\n", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, mode := range []string{"whole", "onebyte"} {
				var r io.Reader = strings.NewReader(tc.in)
				if mode == "onebyte" {
					r = iotest.OneByteReader(r)
				}
				got, err := readAll(t, r)
				if err != nil {
					t.Fatalf("%s: %v", mode, err)
				}
				if len(got) != len(tc.want) {
					t.Fatalf("%s: got %q want %q", mode, got, tc.want)
				}
				for i := range got {
					if got[i] != tc.want[i] {
						t.Fatalf("%s: event %d got %q want %q", mode, i, got[i], tc.want[i])
					}
				}
			}
		})
	}
}

func TestReaderBrokenStreamReportsError(t *testing.T) {
	boom := errors.New("connection reset")
	r := io.MultiReader(strings.NewReader("data: 1\n\ndata: par"), iotest.ErrReader(boom))
	got, err := readAll(t, r)
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want %v", err, boom)
	}
	if len(got) != 1 || got[0].data != "1" {
		t.Fatalf("got %q", got)
	}
}

func TestReaderLongLineGrowsBuffer(t *testing.T) {
	big := strings.Repeat("x", 100_000)
	got, err := readAll(t, strings.NewReader("data: "+big+"\n\n"))
	if err != nil || len(got) != 1 || got[0].data != big {
		t.Fatalf("err=%v len=%d", err, len(got))
	}
	sr := NewReader(strings.NewReader("data: " + big + "\n\n"))
	sr.max = 1000
	if _, err := sr.Next(); !errors.Is(err, ErrEventTooLarge) {
		t.Fatalf("err = %v", err)
	}
}

func TestReadFrameReturnsFramesAsSent(t *testing.T) {
	in := "\n: keep-alive\n\nevent: a\r\ndata: {\"x\":1}\r\n\r\n\n\ndata: 1\rdata: 2\r\rdata: [DONE]\n\ndata: last"
	want := []string{": keep-alive\n\n", "event: a\r\ndata: {\"x\":1}\r\n\r\n", "data: 1\rdata: 2\r\r", "data: [DONE]\n\n", "data: last"}
	for _, mode := range []string{"whole", "onebyte"} {
		var src io.Reader = strings.NewReader(in)
		if mode == "onebyte" {
			src = iotest.OneByteReader(src)
		}
		sr := NewReader(src)
		var got []string
		for {
			f, err := sr.ReadFrame()
			if len(f) > 0 {
				got = append(got, string(f))
			}
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", mode, err)
			}
		}
		if strings.Join(got, "|") != strings.Join(want, "|") {
			t.Fatalf("%s: got %q\nwant %q", mode, got, want)
		}
		if f, err := sr.ReadFrame(); f != nil || err != io.EOF {
			t.Fatalf("%s: after the end: %q %v", mode, f, err)
		}
	}
}

// A returned frame aliases the buffer, but appending to it (the gateway
// completes a last frame without its blank line) never overwrites the
// frames that follow.
func TestReadFrameAppendDoesNotOverwriteWhatFollows(t *testing.T) {
	sr := NewReader(strings.NewReader("data: 1\n\ndata: 2\n\n"))
	f, err := sr.ReadFrame()
	if err != nil {
		t.Fatal(err)
	}
	_ = append(f, "XXXXXXXXXX"...)
	if g, err := sr.ReadFrame(); err != nil || string(g) != "data: 2\n\n" {
		t.Fatalf("second frame %q %v", g, err)
	}
}

// endless is a stream that never ends its line: it counts what was read.
type endless struct{ n int }

func (e *endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'x'
	}
	e.n += len(p)
	return len(p), nil
}

func TestAnEventPastTheCapIsRefusedWithBoundedReading(t *testing.T) {
	cases := map[string]func() io.Reader{
		"one long line": func() io.Reader {
			return strings.NewReader("data: " + strings.Repeat("y", MaxEvent) + "\n\n")
		},
		"many lines in one event": func() io.Reader {
			return strings.NewReader(strings.Repeat("data: "+strings.Repeat("z", 1000)+"\n", MaxEvent/1000+1) + "\n")
		},
		"a line that never ends": func() io.Reader { return io.MultiReader(strings.NewReader("data: "), &endless{}) },
	}
	for name, src := range cases {
		t.Run(name, func(t *testing.T) {
			in := src()
			sr := NewReader(in)
			if _, err := sr.ReadFrame(); !errors.Is(err, ErrEventTooLarge) {
				t.Fatalf("err = %v", err)
			}
			if _, err := sr.ReadFrame(); !errors.Is(err, ErrEventTooLarge) {
				t.Fatalf("the refusal is not sticky: %v", err)
			}
			if cap(sr.buf) > MaxEvent+1 {
				t.Fatalf("buffer grew to %d bytes, past the cap", cap(sr.buf))
			}
			if _, err := NewReader(src()).Next(); !errors.Is(err, ErrEventTooLarge) {
				t.Fatalf("Next: err = %v", err)
			}
		})
	}
	// An event just within the cap is read whole.
	data := strings.Repeat("w", MaxEvent-len("data: \n\n"))
	ev, err := NewReader(strings.NewReader("data: " + data + "\n\n")).Next()
	if err != nil || string(ev.Data) != data {
		t.Fatalf("an event of exactly MaxEvent bytes: err=%v len=%d", err, len(ev.Data))
	}
}

func TestResetReadsANewStreamAndGivesBackAGrownBuffer(t *testing.T) {
	sr := NewReader(strings.NewReader("data: " + strings.Repeat("g", 100_000) + "\n\n"))
	if _, err := sr.Next(); err != nil {
		t.Fatal(err)
	}
	sr.Reset(strings.NewReader("data: again\n\n"))
	if cap(sr.buf) != bufSize {
		t.Fatalf("buffer kept at %d bytes", cap(sr.buf))
	}
	if ev, err := sr.Next(); err != nil || string(ev.Data) != "again" {
		t.Fatalf("after Reset: %q %v", ev.Data, err)
	}
}

func TestAppendFramesFormatsAndReadsBack(t *testing.T) {
	out := AppendFrame(nil, "message_start", []byte(`{"a":1}`))
	out = AppendFrames(out, []Frame{{"", []byte("x\ny")}, {"e", []byte("{}")}})
	want := "event: message_start\ndata: {\"a\":1}\n\ndata: x\ndata: y\n\nevent: e\ndata: {}\n\n"
	if string(out) != want {
		t.Fatalf("got %q", out)
	}
	got, err := readAll(t, bytes.NewReader(out))
	if err != nil || len(got) != 3 || got[1].data != "x\ny" {
		t.Fatalf("round trip: %v %q", err, got)
	}
}

func TestIsDone(t *testing.T) {
	if !IsDone([]byte(" [DONE] ")) || IsDone([]byte(`{"a":1}`)) {
		t.Fatal("IsDone")
	}
}

func FuzzReader(f *testing.F) {
	f.Add([]byte("event: a\r\ndata: 1\r\n\r\ndata: [DONE]\n\n"))
	f.Add([]byte("data: a\rdata: b\r\r: c\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		sr := NewReader(bytes.NewReader(in))
		for i := 0; i < len(in)+2; i++ {
			e, err := sr.Next()
			if err != nil {
				return
			}
			// Re-encoding and re-reading an event yields the same data.
			out := AppendFrame(nil, "", e.Data)
			e2, err := NewReader(bytes.NewReader(out)).Next()
			if bytes.IndexByte(e.Data, '\r') >= 0 {
				t.Fatalf("data contains CR: %q", e.Data)
			}
			if err != nil || !bytes.Equal(e2.Data, e.Data) {
				t.Fatalf("round trip %q -> %q (%v)", e.Data, e2.Data, err)
			}
		}
		t.Fatal("reader did not terminate")
	})
}

// ReadFrame returns the input, in order and without losing a byte, except
// the blank lines between frames; every frame but the last ends with a
// blank line, and its events are the ones Next reads.
func FuzzReadFrame(f *testing.F) {
	f.Add([]byte("event: a\r\ndata: 1\r\n\r\n\ndata: [DONE]\n\n"))
	f.Add([]byte("data: a\rdata: b\r\r: c\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		sr := NewReader(iotest.HalfReader(bytes.NewReader(in)))
		rest := in
		for i := 0; i < len(in)+2; i++ {
			fr, err := sr.ReadFrame()
			if len(fr) > 0 {
				k := bytes.Index(rest, fr)
				if k < 0 || len(bytes.Trim(rest[:k], "\r\n")) != 0 {
					t.Fatalf("frame %q is not the next bytes of %q", fr, rest)
				}
				rest = rest[k+len(fr):]
				if err == nil && !endsWithBlankLine(fr) {
					t.Fatalf("frame %q does not end with a blank line", fr)
				}
			}
			if err != nil {
				if len(bytes.Trim(rest, "\r\n")) != 0 {
					t.Fatalf("left unread: %q", rest)
				}
				return
			}
		}
		t.Fatal("reader did not terminate")
	})
}

// endsWithBlankLine: a line terminator (\n, \r\n, \r) then an empty line.
func endsWithBlankLine(f []byte) bool {
	for _, end := range []string{"\n\n", "\r\r", "\n\r\n", "\r\r\n", "\n\r"} {
		if bytes.HasSuffix(f, []byte(end)) {
			return true
		}
	}
	return false
}

func BenchmarkReaderChatStream(b *testing.B) {
	var sb strings.Builder
	for i := 0; i < 1000; i++ {
		sb.WriteString(`data: {"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"hello world "}}]}` + "\n\n")
	}
	sb.WriteString("data: [DONE]\n\n")
	in := sb.String()
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		sr := NewReader(strings.NewReader(in))
		for {
			if _, err := sr.Next(); err != nil {
				break
			}
		}
	}
}
