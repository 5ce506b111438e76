package sse

import (
	"bytes"
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
