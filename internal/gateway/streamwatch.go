package gateway

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"

	"github.com/flowgate/flowgate/internal/apierr"
	"github.com/flowgate/flowgate/internal/jsonscan"
	"github.com/flowgate/flowgate/internal/sse"
	"github.com/flowgate/flowgate/internal/upstream"
)

// A stream is a success only when its terminal event arrived. streamWatch
// follows one upstream stream in the upstream's protocol without decoding
// it: it checks that the first event is that protocol's own before anything
// is sent to the client, and looks at the head of every later frame for the
// terminal event or the upstream's own error event.
//
// Terminal events: Chat "data: [DONE]" (or a clean end after a chunk that
// carried a finish_reason, as several OpenAI-compatible servers omit
// [DONE]); Messages message_stop; Responses response.completed or
// response.incomplete. The upstream's own error events (Chat
// {"error":...}, Messages event: error, Responses error and
// response.failed) end the stream too, as a failure.
type streamWatch struct {
	proto upstream.Protocol
	// finishSeen: a Chat chunk carried a finish_reason.
	finishSeen bool
	// events counts the data frames relayed; for a Responses stream it is
	// the next sequence_number.
	events int
	// errData is the data of the last error event the upstream sent.
	errData []byte
}

// frameKind is what one upstream frame means for the stream.
type frameKind uint8

const (
	frameEvent    frameKind = iota // an ordinary event
	frameNoData                    // no data line: a comment (keep-alive), retry or id
	frameTerminal                  // the protocol's terminal event
	frameError                     // the upstream's own error event that ends the stream
)

// Stream failure reasons, the reason label of
// flowgate_upstream_stream_failures_total.
const (
	reasonEmpty         = "empty"               // closed before its first event
	reasonNotSSE        = "not_sse"             // the answer is not server-sent events
	reasonInvalidFirst  = "invalid_first_event" // the first event is not the protocol's own
	reasonUpstreamError = "upstream_error"      // the upstream sent its own error event
	reasonTruncated     = "truncated"           // ended cleanly before its terminal event
	reasonBroken        = "broken"              // the connection broke mid-stream
	reasonTimeout       = "timeout"             // the upstream stayed silent too long
	reasonInvalidEvent  = "invalid_event"       // a later event could not be translated
)

var (
	pData         = []byte("data:")
	pEvent        = []byte("event:")
	pTypeKey      = []byte(`{"type":"`)
	pErrorKey     = []byte(`{"error":`)
	pFinishReason = []byte(`_reason":"`)
	pChoices      = []byte(`"choices"`)
)

// frameHead returns the frame's event name (an "event:" field before the
// first data line) and the frame from its first data value on (that value,
// possibly followed by more lines: callers only look at its start); data
// is nil when the frame has no data line. It reads no further than the
// start of the first data line.
func frameHead(f []byte) (event, data []byte) {
	for len(f) > 0 {
		if bytes.HasPrefix(f, pData) {
			return event, fieldValue(f[5:])
		}
		line := f
		if i := bytes.IndexByte(f, '\n'); i >= 0 {
			line, f = f[:i], f[i+1:]
		} else {
			f = nil
		}
		if bytes.HasPrefix(line, pEvent) {
			event = bytes.TrimSuffix(fieldValue(line[6:]), []byte("\r"))
		}
	}
	return event, nil
}

// fieldValue drops the one optional space after a field's colon. The result
// is never nil, so an empty data line still counts as data.
func fieldValue(v []byte) []byte {
	if len(v) > 0 && v[0] == ' ' {
		v = v[1:]
	}
	if v == nil {
		return []byte{}
	}
	return v
}

// frameData appends the frame's data lines, joined with "\n", to dst; has
// is false when the frame has no data line.
func frameData(dst, frame []byte) (data []byte, has bool) {
	data = dst
	for len(frame) > 0 {
		line := frame
		if i := bytes.IndexByte(frame, '\n'); i >= 0 {
			line, frame = frame[:i], frame[i+1:]
		} else {
			frame = nil
		}
		line = bytes.TrimSuffix(line, []byte("\r"))
		if bytes.HasPrefix(line, pData) {
			if has {
				data = append(data, '\n')
			}
			data, has = append(data, fieldValue(line[5:])...), true
		}
	}
	return data, has
}

// eventType is the event's name: its "event:" field, else the "type" its
// data starts with (Codex and some servers send data-only Responses and
// Messages streams).
func eventType(event, data []byte) []byte {
	if len(event) > 0 {
		return event
	}
	if bytes.HasPrefix(data, pTypeKey) {
		v := data[len(pTypeKey):]
		if i := bytes.IndexByte(v, '"'); i >= 0 {
			return v[:i]
		}
	}
	return nil
}

// note classifies one frame and remembers what the end of the stream needs
// to know. It is called on every frame and looks only at its head.
func (w *streamWatch) note(frame []byte) frameKind {
	event, data := frameHead(frame)
	if data == nil {
		return frameNoData
	}
	switch w.proto {
	case upstream.Chat:
		if sse.IsDone(data) {
			return frameTerminal
		}
		if bytes.HasPrefix(data, pErrorKey) || string(event) == "error" {
			w.errData, _ = frameData(w.errData[:0], frame)
			return frameError
		}
		// finish_reason (or a proxy's native_finish_reason) with a string,
		// not null, value: in JSON text a quote inside a string is escaped,
		// so only a key matches. The search starts at the rare '_'.
		if !w.finishSeen && bytes.Contains(data, pFinishReason) {
			w.finishSeen = true
		}
	case upstream.Messages:
		switch string(eventType(event, data)) {
		case "message_stop":
			return frameTerminal
		case "error":
			w.errData, _ = frameData(w.errData[:0], frame)
			return frameError
		}
	case upstream.Responses:
		switch string(eventType(event, data)) {
		case "response.completed", "response.incomplete":
			return frameTerminal
		case "response.failed":
			w.errData, _ = frameData(w.errData[:0], frame)
			return frameError
		case "error":
			// An error event may be followed by response.failed.
			w.errData, _ = frameData(w.errData[:0], frame)
		}
	}
	return frameEvent
}

// complete reports whether a clean end of the stream now is a complete
// answer (the terminal event itself is reported by note).
func (w *streamWatch) complete() bool {
	return w.proto == upstream.Chat && w.finishSeen
}

// terminalName names the terminal event the protocol promises, for errors.
func terminalName(p upstream.Protocol) string {
	switch p {
	case upstream.Messages:
		return "message_stop"
	case upstream.Responses:
		return "response.completed"
	}
	return "data: [DONE]"
}

// checkFirst validates the first data frame, already seen by note, as an
// event of the upstream's protocol: a JSON object (top level scanned, not
// decoded) that is a Chat chunk, a Messages message_start (or ping), or a
// Responses response.* event; an error event is the upstream's failure.
// scratch is a buffer for the joined data lines. It returns the failure
// reason and error, or "" and nil.
func (w *streamWatch) checkFirst(frame, scratch []byte) (reason string, err *upstream.Error) {
	if w.errData != nil {
		return reasonUpstreamError, upstreamEventError(w.proto, w.errData)
	}
	bad := func(msg string) (string, *upstream.Error) {
		return reasonInvalidFirst, &upstream.Error{Kind: upstream.FailBadResponse, Err: errors.New(
			"upstream answered a " + w.proto.String() + " stream request with " + msg)}
	}
	data, _ := frameData(scratch, frame)
	if w.proto == upstream.Chat && sse.IsDone(data) {
		return bad("an empty stream (data: [DONE] before any chunk)")
	}
	if _, serr := jsonscan.ScanResponse(data); serr != nil || !endsObject(data) {
		return bad("an event whose data is not a JSON object")
	}
	event, head := frameHead(frame)
	typ := eventType(event, head)
	switch w.proto {
	case upstream.Chat:
		if !bytes.Contains(data, pChoices) {
			return bad("an event that is not a chat.completion.chunk (no \"choices\")")
		}
	case upstream.Messages:
		if string(typ) != "message_start" && string(typ) != "ping" {
			return bad("a first event that is not message_start (" + capName(typ) + ")")
		}
	case upstream.Responses:
		if !bytes.HasPrefix(typ, []byte("response.")) {
			return bad("a first event that is not a response.* event (" + capName(typ) + ")")
		}
	}
	return "", nil
}

// capName quotes an upstream-supplied event name for an error message,
// capped so that a hostile upstream cannot grow logs with it.
func capName(b []byte) string {
	if len(b) == 0 {
		return "no type"
	}
	if len(b) > 64 {
		return strconv.Quote(string(b[:64])) + "..."
	}
	return strconv.Quote(string(b))
}

// upstreamEventError turns the upstream's own error event into the
// attempt's failure, with the HTTP status its error type stands for so
// that the router classifies it as it would the same error as a status
// (rate limit, overload, credentials, bad request). The body is the error
// in the protocol's error-body shape.
func upstreamEventError(p upstream.Protocol, data []byte) *upstream.Error {
	var ev struct {
		Type     string          `json:"type"`
		Code     json.RawMessage `json:"code"`
		Message  string          `json:"message"`
		Error    json.RawMessage `json:"error"`
		Response struct {
			Error *apierr.Wire `json:"error"`
		} `json:"response"`
	}
	_ = json.Unmarshal(data, &ev)
	objErr := len(ev.Error) > 0 && ev.Error[0] == '{'
	w := &apierr.Wire{Code: ev.Code, Message: ev.Message} // Responses "error" events are flat
	switch {
	case objErr:
		w = new(apierr.Wire)
		_ = json.Unmarshal(ev.Error, w)
	case ev.Response.Error != nil:
		w = ev.Response.Error
	}
	e := w.Failure(0, "upstream stream error")
	e.Status = apierr.StatusOf(e.Type, e.Code)
	body := apierr.ErrorJSON(p == upstream.Messages, e)
	if p == upstream.Chat && objErr && ev.Type == "" || p == upstream.Messages && objErr && ev.Type == "error" {
		body = bytes.Clone(data) // already the protocol's error body
	}
	return &upstream.Error{Kind: upstream.FailStatus, Status: e.Status, Body: body, ContentType: "application/json"}
}
