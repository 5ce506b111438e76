package translate

import (
	"strings"
	"testing"
)

// respStreamPayloads returns the data payloads of a long Responses stream:
// 500 text deltas, then the two interleaved parallel calls of the fixture.
func respStreamPayloads(tb testing.TB) [][]byte {
	out := [][]byte{
		[]byte(`{"type":"response.created","response":{"id":"resp_1","object":"response","created_at":1,"status":"in_progress","output":[]},"sequence_number":0}`),
		[]byte(`{"type":"response.output_item.added","output_index":0,"item":{"id":"msg_1","type":"message","status":"in_progress","role":"assistant","content":[]},"sequence_number":1}`),
	}
	for i := 0; i < 500; i++ {
		out = append(out, []byte(`{"type":"response.output_text.delta","item_id":"msg_1","output_index":0,"content_index":0,"delta":"word ","sequence_number":2}`))
	}
	out = append(out, []byte(`{"type":"response.output_item.done","output_index":0,"item":{"id":"msg_1","type":"message","status":"completed","role":"assistant","content":[]},"sequence_number":3}`))
	for _, p := range strings.Split(string(fixture(tb, "responses_stream_tools2.sse")), "\n\n") {
		for _, line := range strings.Split(p, "\n") {
			if d, ok := strings.CutPrefix(line, "data: "); ok && !strings.Contains(d, `"output_index":0`) && !strings.Contains(d, "response.created") && !strings.Contains(d, "response.in_progress") {
				out = append(out, []byte(d))
			}
		}
	}
	return out
}

func benchRespStream(b *testing.B, mk func() streamMachine) {
	payloads := respStreamPayloads(b)
	n := 0
	for _, p := range payloads {
		n += len(p)
	}
	b.SetBytes(int64(n))
	b.ReportAllocs()
	for b.Loop() {
		s := mk()
		for _, p := range payloads {
			if _, err := s.Feed(p); err != nil {
				b.Fatal(err)
			}
		}
		if f := s.Finish(nil); f != nil {
			b.Fatalf("stream did not complete: %s", f[0].Data)
		}
	}
}

func BenchmarkResponsesToChatStream(b *testing.B) {
	benchRespStream(b, func() streamMachine { return NewResponsesToChatStream("a", StreamOptions{CreatedAt: 1}) })
}

func BenchmarkResponsesToAnthropicStream(b *testing.B) {
	benchRespStream(b, func() streamMachine {
		return NewResponsesToAnthropicStream("a", StreamOptions{ID: "msg_1", CreatedAt: 1})
	})
}

func BenchmarkChatToResponses200KB(b *testing.B) {
	body := bigChatRequest(b)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ChatToResponses(body, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAnthropicToResponses200KB(b *testing.B) {
	body := bigAnthropicRequest(b, 200_000)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := AnthropicToResponses(body, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkResponsesResponseToChat(b *testing.B) {
	body := []byte(respToolAnswer)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ResponsesResponseToChat(body, "a"); err != nil {
			b.Fatal(err)
		}
	}
}
