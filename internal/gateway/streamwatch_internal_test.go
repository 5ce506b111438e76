package gateway

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/flowgate/flowgate/internal/sse"
	"github.com/flowgate/flowgate/internal/upstream"
)

// BenchmarkStreamWatch is the per-stream cost stream() adds to a relay: the
// first-event check and the look at every frame's head, for the streams of
// BenchmarkPassthroughChatStream and BenchmarkPassthroughMessagesStream.
func BenchmarkStreamWatch(b *testing.B) {
	chunk := []byte("data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"up-model\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"PONG\"},\"finish_reason\":null}]}\n\n")
	done := []byte("data: [DONE]\n\n")
	start := []byte("event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"up-model\",\"content\":[],\"usage\":{\"input_tokens\":3,\"output_tokens\":0}}}\n\n")
	delta := []byte("event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"PONG\"}}\n\n")
	stop := []byte("event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n")
	scratch := make([]byte, 0, 4096)
	run := func(b *testing.B, p upstream.Protocol, first, mid, last []byte) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			w := streamWatch{proto: p}
			if k := w.note(first); k != frameEvent {
				b.Fatal(k)
			}
			if r, err := w.checkFirst(first, scratch); err != nil {
				b.Fatal(r, err)
			}
			for j := 0; j < 20; j++ {
				w.note(mid)
			}
			if w.note(last) != frameTerminal {
				b.Fatal("no terminal")
			}
		}
	}
	b.Run("chat", func(b *testing.B) { run(b, upstream.Chat, chunk, chunk, done) })
	b.Run("messages", func(b *testing.B) { run(b, upstream.Messages, start, delta, stop) })
}

func TestStreamWatchKnowsEachProtocolsTerminalAndErrorEvents(t *testing.T) {
	cases := []struct {
		proto upstream.Protocol
		frame string
		want  frameKind
	}{
		{upstream.Chat, "data: [DONE]\n\n", frameTerminal},
		{upstream.Chat, "data:[DONE]\r\n\r\n", frameTerminal},
		{upstream.Chat, "data: [DONE]", frameTerminal},
		{upstream.Chat, "id: 7\ndata: [DONE]\n\n", frameTerminal},
		{upstream.Chat, "data: {\"choices\":[{\"delta\":{\"content\":\"data: [DONE]\"}}]}\n\n", frameEvent},
		{upstream.Chat, "data: {\"error\":{\"message\":\"boom\"}}\n\n", frameError},
		{upstream.Chat, "event: error\ndata: {\"message\":\"boom\"}\n\n", frameError},
		{upstream.Chat, ": keep-alive\n\n", frameNoData},
		{upstream.Messages, "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n", frameTerminal},
		{upstream.Messages, "event: message_stop\r\ndata: {\"type\":\"message_stop\"}\r\n\r\n", frameTerminal},
		{upstream.Messages, "data: {\"type\":\"message_stop\"}\n\n", frameTerminal},
		{upstream.Messages, "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"delta\":{\"text\":\"message_stop\"}}\n\n", frameEvent},
		{upstream.Messages, "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\"}}\n\n", frameError},
		{upstream.Messages, "event: ping\n\n", frameNoData},
		{upstream.Responses, "event: response.completed\ndata: {\"type\":\"response.completed\"}\n\n", frameTerminal},
		{upstream.Responses, "data: {\"type\":\"response.incomplete\"}\n\n", frameTerminal},
		{upstream.Responses, "event: response.failed\ndata: {\"type\":\"response.failed\"}\n\n", frameError},
		{upstream.Responses, "event: error\ndata: {\"type\":\"error\",\"message\":\"x\"}\n\n", frameEvent}, // response.failed may follow
		{upstream.Responses, "event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"delta\":\"response.completed\"}\n\n", frameEvent},
	}
	for _, c := range cases {
		w := streamWatch{proto: c.proto}
		if got := w.note([]byte(c.frame)); got != c.want {
			t.Errorf("%v %q: %v, want %v", c.proto, c.frame, got, c.want)
		}
	}
	w := streamWatch{proto: upstream.Chat}
	w.note([]byte("data: {\"choices\":[{\"delta\":{},\"finish_reason\":null}]}\n\n"))
	if w.complete() {
		t.Error("complete before any finish_reason")
	}
	w.note([]byte("data: {\"choices\":[{\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n"))
	if !w.complete() {
		t.Error("not complete after finish_reason")
	}
}

// FuzzStreamWatchAgreesWithSSEReader checks the frame-head shortcut
// against the plain reading of the same frame (sse.Reader, then the JSON
// decoded), for frames as upstreams write them: an optional event line and
// one JSON (or [DONE]) data payload.
func FuzzStreamWatchAgreesWithSSEReader(f *testing.F) {
	f.Add(uint8(0), "", "", "[DONE]", false)
	f.Add(uint8(1), "message_stop", "message_stop", "", false)
	f.Add(uint8(1), "", "error", "", true)
	f.Add(uint8(2), "response.completed", "response.completed", "x", true)
	f.Add(uint8(2), "", "response.failed", "", false)
	f.Fuzz(func(t *testing.T, p uint8, event, typ, extra string, crlf bool) {
		if strings.ContainsAny(event, "\r\n") {
			return
		}
		proto := upstream.Protocol(int(p) % 3)
		var data []byte
		if proto == upstream.Chat && typ == "" {
			data = []byte(extra) // [DONE] or anything but a JSON chunk
			if strings.ContainsAny(extra, "\r\n") || strings.HasPrefix(strings.TrimSpace(extra), "{") {
				return
			}
		} else {
			data, _ = json.Marshal(map[string]string{"type": typ, "x": extra})
		}
		frame := sse.AppendFrame(nil, event, data)
		if crlf {
			frame = bytes.ReplaceAll(frame, []byte("\n"), []byte("\r\n"))
		}
		w := streamWatch{proto: proto}
		fast := w.note(frame)

		ev, err := sse.NewReader(bytes.NewReader(frame)).Next()
		if err != nil {
			t.Fatal(err)
		}
		name := ev.Name
		var obj struct {
			Type string `json:"type"`
		}
		if name == "" && json.Unmarshal(ev.Data, &obj) == nil {
			name = obj.Type
		}
		plain := frameEvent
		switch proto {
		case upstream.Chat:
			// Chat has no "type": only an event line names an error.
			if sse.IsDone(ev.Data) {
				plain = frameTerminal
			} else if ev.Name == "error" {
				plain = frameError
			}
		case upstream.Messages:
			switch name {
			case "message_stop":
				plain = frameTerminal
			case "error":
				plain = frameError
			}
		case upstream.Responses:
			switch name {
			case "response.completed", "response.incomplete":
				plain = frameTerminal
			case "response.failed":
				plain = frameError
			}
		}
		if fast != plain {
			t.Fatalf("%v %q: fast %v, plain %v", proto, frame, fast, plain)
		}
	})
}
