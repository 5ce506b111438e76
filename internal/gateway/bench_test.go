package gateway_test

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/flowgate/flowgate/internal/gateway"
)

// discardWriter is a minimal http.ResponseWriter + Flusher so the benchmark
// measures the gateway, not a recorder's buffering.
type discardWriter struct {
	h    http.Header
	code int
}

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *discardWriter) WriteHeader(code int)        { w.code = code }
func (w *discardWriter) Flush()                      {}

func benchUpstream(b *testing.B) *httptest.Server {
	chat := []byte(`{"id":"c1","object":"chat.completion","created":1,"model":"up-model","choices":[{"index":0,"message":{"role":"assistant","content":"PONG"},"finish_reason":"stop"}]}`)
	big := []byte(`{"id":"c1","object":"chat.completion","created":1,"model":"up-model","choices":[{"index":0,"message":{"role":"assistant","content":"` + strings.Repeat("lorem ipsum \\\"quoted\\\" ", 64<<10/22) + `"},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4}}`)
	chunk := []byte("data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"up-model\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"PONG\"},\"finish_reason\":null}]}\n\n")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		if strings.HasPrefix(r.URL.Path, "/big/") {
			w.Header().Set("Content-Type", "application/json")
			w.Write(big)
			return
		}
		if strings.HasPrefix(r.URL.Path, "/stream/") {
			w.Header().Set("Content-Type", "text/event-stream")
			for i := 0; i < 20; i++ {
				w.Write(chunk)
			}
			io.WriteString(w, "data: [DONE]\n\n")
			return
		}
		if strings.HasSuffix(r.URL.Path, "/messages") {
			w.Header().Set("Content-Type", "text/event-stream")
			io.WriteString(w, "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"up-model\",\"content\":[],\"usage\":{\"input_tokens\":3,\"output_tokens\":0}}}\n\n")
			for i := 0; i < 20; i++ {
				io.WriteString(w, "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"PONG\"}}\n\n")
			}
			io.WriteString(w, "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n")
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(chat)
	}))
	b.Cleanup(srv.Close)
	return srv
}

func benchServer(b *testing.B, up string) *gateway.Server {
	s, err := gateway.New(gateway.Options{Doc: doc([]any{
		dep("coder", "openai/up-model", up+"/v1", nil),
		dep("claude", "anthropic/up-model", up, nil),
		dep("big", "openai/up-model", up+"/big/v1", nil),
		dep("streamer", "openai/up-model", up+"/stream/v1", nil),
	}, nil), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	return s
}

func runBench(b *testing.B, s *gateway.Server, path string, body []byte) {
	h := s.Handler()
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		w := &discardWriter{h: http.Header{}}
		rd := bytes.NewReader(body)
		for pb.Next() {
			rd.Reset(body)
			req, _ := http.NewRequest("POST", path, io.NopCloser(rd))
			req.ContentLength = int64(len(body))
			req.Header.Set("Authorization", "Bearer "+gatewayKey)
			req.Header.Set("Content-Type", "application/json")
			clear(w.h)
			w.code = 0
			h.ServeHTTP(w, req)
			if w.code != http.StatusOK {
				b.Errorf("status %d", w.code)
				return
			}
		}
	})
}

// BenchmarkPassthroughChat: client -> gateway handler -> real loopback upstream.
func BenchmarkPassthroughChat(b *testing.B) {
	up := benchUpstream(b)
	runBench(b, benchServer(b, up.URL), "/v1/chat/completions", []byte(`{"model":"coder","messages":[{"role":"user","content":"`+strings.Repeat("x", 200)+`"}]}`))
}

func BenchmarkPassthroughChat200KB(b *testing.B) {
	up := benchUpstream(b)
	runBench(b, benchServer(b, up.URL), "/v1/chat/completions", []byte(`{"model":"coder","messages":[{"role":"user","content":"`+strings.Repeat("lorem ipsum ", 200<<10/12)+`"}]}`))
}

func BenchmarkPassthroughMessagesStream(b *testing.B) {
	up := benchUpstream(b)
	runBench(b, benchServer(b, up.URL), "/v1/messages", []byte(`{"model":"claude","max_tokens":5,"stream":true,"messages":[{"role":"user","content":"hi"}]}`))
}

// BenchmarkDirectUpstream is the same call without the gateway, for the
// overhead comparison.
func BenchmarkDirectUpstream(b *testing.B) {
	up := benchUpstream(b)
	body := []byte(`{"model":"up-model","messages":[{"role":"user","content":"` + strings.Repeat("x", 200) + `"}]}`)
	c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 512}}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			resp, err := c.Post(up.URL+"/v1/chat/completions", "application/json", bytes.NewReader(body))
			if err != nil {
				b.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	})
}

// BenchmarkPassthroughChatLargeResponse: a 64 KB upstream answer, so the
// cost of checking and rewriting a forwarded response body shows.
func BenchmarkPassthroughChatLargeResponse(b *testing.B) {
	up := benchUpstream(b)
	runBench(b, benchServer(b, up.URL), "/v1/chat/completions", []byte(`{"model":"big","messages":[{"role":"user","content":"hi"}]}`))
}

// BenchmarkPassthroughChatStream: 20 chat chunks plus [DONE], each carrying
// a top-level model the gateway rewrites to the alias, so clients see the
// name they asked for.
func BenchmarkPassthroughChatStream(b *testing.B) {
	up := benchUpstream(b)
	runBench(b, benchServer(b, up.URL), "/v1/chat/completions", []byte(`{"model":"streamer","stream":true,"messages":[{"role":"user","content":"hi"}]}`))
}
