package gateway_test

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flowgate/flowgate/internal/gateway"
	"github.com/flowgate/flowgate/internal/gateway/gatewaytest"
)

const (
	gatewayKey  = "sk-gateway-secret-123456"
	upstreamKey = "sk-upstream-secret-abcdef"
)

// fakeUpstream is a real HTTP server that answers, or fails, on demand.
type fakeUpstream struct {
	*httptest.Server
	mu       sync.Mutex
	mode     string
	hits     atomic.Int64
	reqs     []seenReq
	release  chan struct{} // "slowstream" waits on it between frames
	canceled chan struct{} // closed when a "hang" request's context ends
	started  chan struct{} // receives when a slow/hang request began
}

type seenReq struct {
	Path   string
	Header http.Header
	Body   string
}

func newUpstream(t *testing.T, mode string) *fakeUpstream {
	u := &fakeUpstream{mode: mode, release: make(chan struct{}), canceled: make(chan struct{}), started: make(chan struct{}, 16)}
	u.Server = httptest.NewServer(http.HandlerFunc(u.serve))
	t.Cleanup(func() {
		u.mu.Lock()
		select {
		case <-u.release:
		default:
			close(u.release)
		}
		u.mu.Unlock()
		u.Server.CloseClientConnections()
		u.Server.Close()
	})
	return u
}

func (u *fakeUpstream) setMode(m string) { u.mu.Lock(); u.mode = m; u.mu.Unlock() }

func (u *fakeUpstream) seen() []seenReq {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]seenReq(nil), u.reqs...)
}

func (u *fakeUpstream) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	u.hits.Add(1)
	u.mu.Lock()
	mode := u.mode
	u.reqs = append(u.reqs, seenReq{Path: r.URL.Path, Header: r.Header.Clone(), Body: string(body)})
	u.mu.Unlock()
	anth := strings.HasSuffix(r.URL.Path, "/messages") || strings.HasSuffix(r.URL.Path, "count_tokens")
	stream := bytes.Contains(body, []byte(`"stream":true`))
	switch mode {
	case "ok":
		if strings.HasSuffix(r.URL.Path, "count_tokens") {
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"input_tokens":42}`)
			return
		}
		if stream {
			writeStream(w, anth, 3, nil)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		if anth {
			io.WriteString(w, `{"id":"msg_1","type":"message","role":"assistant","model":"up-model","content":[{"type":"text","text":"PONG"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":3,"output_tokens":1}}`)
		} else {
			io.WriteString(w, `{"id":"c1","object":"chat.completion","created":1,"model":"up-model","choices":[{"index":0,"message":{"role":"assistant","content":"PONG"},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4}}`)
		}
	case "500":
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(500)
		io.WriteString(w, `{"error":{"message":"boom","type":"server_error"}}`)
	case "429":
		w.Header().Set("Retry-After", "7")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(429)
		io.WriteString(w, `{"error":{"message":"slow down","type":"rate_limit_error"}}`)
	case "400":
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(400)
		if anth {
			io.WriteString(w, `{"type":"error","error":{"type":"invalid_request_error","message":"bad field x"}}`)
		} else {
			io.WriteString(w, `{"error":{"message":"bad field x","type":"invalid_request_error","param":"x","code":"bad"}}`)
		}
	case "ctx":
		w.WriteHeader(400)
		io.WriteString(w, `{"error":{"message":"This model's maximum context length is 8192 tokens","code":"context_length_exceeded"}}`)
	case "401":
		w.WriteHeader(401)
		io.WriteString(w, `{"error":{"message":"bad key"}}`)
	case "garbage":
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `<html>oops`)
	case "hang":
		u.started <- struct{}{}
		<-r.Context().Done()
		u.mu.Lock()
		select {
		case <-u.canceled:
		default:
			close(u.canceled)
		}
		u.mu.Unlock()
	case "breakstream":
		writeStream(w, anth, 2, func() {
			hj, _ := w.(http.Hijacker)
			conn, _, _ := hj.Hijack()
			conn.Close()
		})
	case "slowstream":
		writeStream(w, anth, 1, func() {
			u.started <- struct{}{}
			<-u.release
		})
		writeStreamTail(w, anth)
	}
}

func writeStream(w http.ResponseWriter, anth bool, n int, after func()) {
	w.Header().Set("Content-Type", "text/event-stream")
	f := w.(http.Flusher)
	if anth {
		io.WriteString(w, "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"up-model\",\"content\":[],\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":3,\"output_tokens\":0}}}\n\n")
		io.WriteString(w, "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n")
	}
	for i := 0; i < n; i++ {
		if anth {
			fmt.Fprintf(w, "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"P%d\"}}\n\n", i)
		} else {
			fmt.Fprintf(w, "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"up-model\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"P%d\"},\"finish_reason\":null}]}\n\n", i)
		}
		f.Flush()
	}
	if after != nil {
		after()
		return
	}
	writeStreamTail(w, anth)
}

func writeStreamTail(w http.ResponseWriter, anth bool) {
	if anth {
		io.WriteString(w, "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n")
		io.WriteString(w, "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":3}}\n\n")
		io.WriteString(w, "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n")
	} else {
		io.WriteString(w, "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"up-model\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"END\"},\"finish_reason\":\"stop\"}]}\n\n")
		io.WriteString(w, "data: [DONE]\n\n")
	}
	w.(http.Flusher).Flush()
}

// refusedAddr is an address nothing listens on.
func refusedAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr
}

type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *fakeClock { return &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)} }
func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}
func (c *fakeClock) Advance(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

type gw struct {
	*gateway.Server
	URL  string
	logs *syncBuf
}

// dep builds a model_list entry.
func dep(alias, model, base string, extra map[string]any) map[string]any {
	lp := map[string]any{"model": model, "api_base": base, "api_key": upstreamKey}
	for k, v := range extra {
		lp[k] = v
	}
	return map[string]any{"model_name": alias, "litellm_params": lp}
}

func doc(deps []any, router map[string]any) map[string]any {
	if router == nil {
		router = map[string]any{}
	}
	return map[string]any{
		"model_list":       deps,
		"router_settings":  router,
		"general_settings": map[string]any{"master_key": gatewayKey},
	}
}

func startGateway(t *testing.T, d map[string]any, clock *fakeClock) *gw {
	t.Helper()
	return startGatewayWith(t, d, clock, nil)
}

// startGatewayWith is startGateway with a hook that adjusts the options.
func startGatewayWith(t *testing.T, d map[string]any, clock *fakeClock, set func(*gateway.Options)) *gw {
	t.Helper()
	logs := &syncBuf{}
	opts := gateway.Options{Addr: "127.0.0.1:0", Doc: d, Profile: "test",
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	if clock != nil {
		opts.Clock = clock
	}
	if set != nil {
		set(&opts)
	}
	t.Cleanup(func() { // runs after the gateway's shutdown, which may log
		if strings.Contains(logs.String(), gatewayKey) || strings.Contains(logs.String(), upstreamKey) {
			t.Errorf("logs contain a key:\n%s", logs.String())
		}
	})
	s, url := gatewaytest.Serve(t, opts)
	return &gw{Server: s, URL: url, logs: logs}
}

// post sends a raw request with the gateway key.
func (g *gw) post(t *testing.T, path, body string, hdr map[string]string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", g.URL+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+gatewayKey)
	for k, v := range hdr {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b)
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func recv(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
	}
}

const chatBody = `{"model":"m","messages":[{"role":"user","content":"hi"}]}`
