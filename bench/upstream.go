package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// The fake upstream is a minimal stdlib server that answers OpenAI Chat
// (JSON and SSE), OpenAI Responses and Anthropic Messages natively, so the
// direct target can be measured in every client protocol (the floor). It runs
// as a child process (this binary re-executed with roleEnv=upstream) so its
// CPU is measured apart from the load generator's and the two do not share
// one Go scheduler.

const (
	roleEnv     = "FLOWGATE_BENCH_ROLE"
	upstreamKey = "sk-bench-upstream"
	statsPath   = "/_bench/stats"
)

// mockConfig shapes the fake upstream's answers.
type mockConfig struct {
	// RespBytes is the approximate size of the non-streamed answer text.
	RespBytes int `json:"resp_bytes"`
	// Chunks is the number of content deltas in a stream.
	Chunks int `json:"chunks"`
	// ChunkDelay is the pause between two content deltas.
	ChunkDelay time.Duration `json:"chunk_delay_ns"`
}

// mockStats are the upstream's counters, served on statsPath.
type mockStats struct {
	Conns     int64            `json:"conns"`
	Requests  int64            `json:"requests"`
	ByPath    map[string]int64 `json:"by_path"`
	BodyBytes int64            `json:"body_bytes"`
}

type mock struct {
	cfg       mockConfig
	text      string // the non-stream answer text
	conns     atomic.Int64
	reqs      atomic.Int64
	bodyBytes atomic.Int64
	chat      atomic.Int64
	messages  atomic.Int64
	responses atomic.Int64
}

// expectedText is the full answer text for a non-streamed reply.
func expectedText(respBytes int) string {
	var b strings.Builder
	b.WriteString("PONG")
	for i := 0; b.Len() < respBytes; i++ {
		b.WriteString(" lorem")
	}
	return b.String()
}

// chunkText is the content of stream delta i; the deltas concatenate to
// expectedStreamText.
func chunkText(i int) string {
	if i == 0 {
		return "PONG"
	}
	return " t" + strconv.Itoa(i)
}

func expectedStreamText(chunks int) string {
	var b strings.Builder
	for i := 0; i < chunks; i++ {
		b.WriteString(chunkText(i))
	}
	return b.String()
}

// runUpstreamChild is the child's main: listen, print the address on
// stdout, serve until killed.
func runUpstreamChild() {
	var cfg mockConfig
	if err := json.Unmarshal([]byte(os.Getenv("FLOWGATE_BENCH_MOCK")), &cfg); err != nil {
		fmt.Fprintln(os.Stderr, "mock config:", err)
		os.Exit(2)
	}
	addr := os.Getenv("FLOWGATE_BENCH_ADDR")
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "listen:", err)
		os.Exit(1)
	}
	m := &mock{cfg: cfg, text: expectedText(cfg.RespBytes)}
	srv := &http.Server{Handler: m, ConnState: func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			m.conns.Add(1)
		}
	}}
	fmt.Printf("listening %s\n", ln.Addr())
	os.Stdout.Sync()
	if err := srv.Serve(ln); err != nil {
		fmt.Fprintln(os.Stderr, "serve:", err)
		os.Exit(1)
	}
}

func (m *mock) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet {
		switch r.URL.Path {
		case statsPath:
			st := mockStats{Conns: m.conns.Load(), Requests: m.reqs.Load(), BodyBytes: m.bodyBytes.Load(),
				ByPath: map[string]int64{"chat": m.chat.Load(), "messages": m.messages.Load(), "responses": m.responses.Load()}}
			b, _ := json.Marshal(st)
			w.Header().Set("Content-Type", "application/json")
			w.Write(b)
		default:
			w.Write([]byte("ok"))
		}
		return
	}
	m.reqs.Add(1)
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	m.bodyBytes.Add(int64(len(body)))
	stream := bytes.Contains(body, []byte(`"stream":true`)) || bytes.Contains(body, []byte(`"stream": true`))
	p := strings.TrimPrefix(r.URL.Path, "/v1")
	switch p {
	case "/chat/completions":
		m.chat.Add(1)
		if stream {
			m.chatStream(w)
		} else {
			m.chatJSON(w)
		}
	case "/messages":
		m.messages.Add(1)
		if stream {
			m.messagesStream(w)
		} else {
			m.messagesJSON(w)
		}
	case "/responses":
		m.responses.Add(1)
		if stream {
			m.responsesStream(w)
		} else {
			m.responsesJSON(w)
		}
	default:
		http.Error(w, `{"error":{"message":"no route"}}`, http.StatusNotFound)
	}
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func writeJSONBody(w http.ResponseWriter, s string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(s)))
	io.WriteString(w, s)
}

func (m *mock) chatJSON(w http.ResponseWriter) {
	writeJSONBody(w, `{"id":"chatcmpl-bench","object":"chat.completion","created":1700000000,"model":"mock",`+
		`"choices":[{"index":0,"message":{"role":"assistant","content":`+jsonString(m.text)+`},"finish_reason":"stop"}],`+
		`"usage":{"prompt_tokens":12,"completion_tokens":5,"total_tokens":17}}`)
}

func (m *mock) messagesJSON(w http.ResponseWriter) {
	writeJSONBody(w, `{"id":"msg_bench","type":"message","role":"assistant","model":"mock",`+
		`"content":[{"type":"text","text":`+jsonString(m.text)+`}],"stop_reason":"end_turn","stop_sequence":null,`+
		`"usage":{"input_tokens":12,"output_tokens":5}}`)
}

func (m *mock) responsesJSON(w http.ResponseWriter) {
	writeJSONBody(w, m.responseObject("completed", m.text))
}

func (m *mock) responseObject(status, text string) string {
	out := `[]`
	if status == "completed" {
		out = `[{"type":"message","id":"msg_bench","status":"completed","role":"assistant","content":[{"type":"output_text","text":` +
			jsonString(text) + `,"annotations":[]}]}]`
	}
	return `{"id":"resp_bench","object":"response","created_at":1700000000,"status":"` + status + `","model":"mock","output":` + out +
		`,"usage":{"input_tokens":12,"output_tokens":5,"total_tokens":17}}`
}

// sseWriter writes one SSE frame and flushes it at once.
type sseWriter struct {
	w http.ResponseWriter
	f http.Flusher
}

func newSSE(w http.ResponseWriter) *sseWriter {
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	f, _ := w.(http.Flusher)
	return &sseWriter{w: w, f: f}
}

func (s *sseWriter) frame(event, data string) {
	if event != "" {
		io.WriteString(s.w, "event: "+event+"\n")
	}
	io.WriteString(s.w, "data: "+data+"\n\n")
	if s.f != nil {
		s.f.Flush()
	}
}

func (m *mock) pause(i int) {
	if i > 0 && m.cfg.ChunkDelay > 0 {
		time.Sleep(m.cfg.ChunkDelay)
	}
}

func (m *mock) chatStream(w http.ResponseWriter) {
	s := newSSE(w)
	pre := `{"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1700000000,"model":"mock","choices":[{"index":0,"delta":{`
	for i := 0; i < m.cfg.Chunks; i++ {
		m.pause(i)
		role := ""
		if i == 0 {
			role = `"role":"assistant",`
		}
		s.frame("", pre+role+`"content":`+jsonString(chunkText(i))+`},"finish_reason":null}]}`)
	}
	s.frame("", pre+`},"finish_reason":"stop"}],"usage":{"prompt_tokens":12,"completion_tokens":`+strconv.Itoa(m.cfg.Chunks)+`,"total_tokens":30}}`)
	s.frame("", "[DONE]")
}

func (m *mock) messagesStream(w http.ResponseWriter) {
	s := newSSE(w)
	s.frame("message_start", `{"type":"message_start","message":{"id":"msg_bench","type":"message","role":"assistant","model":"mock","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":12,"output_tokens":1}}}`)
	s.frame("content_block_start", `{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}`)
	for i := 0; i < m.cfg.Chunks; i++ {
		m.pause(i)
		s.frame("content_block_delta", `{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":`+jsonString(chunkText(i))+`}}`)
	}
	s.frame("content_block_stop", `{"type":"content_block_stop","index":0}`)
	s.frame("message_delta", `{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":`+strconv.Itoa(m.cfg.Chunks)+`}}`)
	s.frame("message_stop", `{"type":"message_stop"}`)
}

func (m *mock) responsesStream(w http.ResponseWriter) {
	s := newSSE(w)
	seq := 0
	ev := func(typ, rest string) {
		s.frame(typ, `{"type":"`+typ+`","sequence_number":`+strconv.Itoa(seq)+rest+`}`)
		seq++
	}
	ev("response.created", `,"response":`+m.responseObject("in_progress", ""))
	ev("response.in_progress", `,"response":`+m.responseObject("in_progress", ""))
	ev("response.output_item.added", `,"output_index":0,"item":{"type":"message","id":"msg_bench","status":"in_progress","role":"assistant","content":[]}`)
	ev("response.content_part.added", `,"item_id":"msg_bench","output_index":0,"content_index":0,"part":{"type":"output_text","text":"","annotations":[]}`)
	for i := 0; i < m.cfg.Chunks; i++ {
		m.pause(i)
		ev("response.output_text.delta", `,"item_id":"msg_bench","output_index":0,"content_index":0,"delta":`+jsonString(chunkText(i)))
	}
	full := expectedStreamText(m.cfg.Chunks)
	ev("response.output_text.done", `,"item_id":"msg_bench","output_index":0,"content_index":0,"text":`+jsonString(full))
	ev("response.content_part.done", `,"item_id":"msg_bench","output_index":0,"content_index":0,"part":{"type":"output_text","text":`+jsonString(full)+`,"annotations":[]}`)
	ev("response.output_item.done", `,"output_index":0,"item":{"type":"message","id":"msg_bench","status":"completed","role":"assistant","content":[{"type":"output_text","text":`+jsonString(full)+`,"annotations":[]}]}`)
	ev("response.completed", `,"response":`+m.responseObject("completed", full))
}
