package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Protocols a scenario's client speaks.
const (
	protoChat      = "chat"
	protoMessages  = "messages"
	protoResponses = "responses"
)

func pathFor(proto string) string {
	switch proto {
	case protoMessages:
		return "/v1/messages"
	case protoResponses:
		return "/v1/responses"
	}
	return "/v1/chat/completions"
}

// requestBody builds a client request of about size bytes: the padding goes
// into the system prompt / instructions, like an agent's first turn.
func requestBody(proto, model string, stream bool, size int) []byte {
	build := func(pad string) []byte {
		var m map[string]any
		switch proto {
		case protoMessages:
			m = map[string]any{"model": model, "max_tokens": 64, "system": pad,
				"messages": []any{map[string]any{"role": "user", "content": "Say PONG"}}}
		case protoResponses:
			m = map[string]any{"model": model, "instructions": pad, "input": "Say PONG", "max_output_tokens": 64}
		default:
			m = map[string]any{"model": model, "max_tokens": 64,
				"messages": []any{map[string]any{"role": "system", "content": pad}, map[string]any{"role": "user", "content": "Say PONG"}}}
		}
		if stream {
			m["stream"] = true
		}
		b, _ := json.Marshal(m)
		return b
	}
	b := build("You are a benchmark.")
	if pad := size - len(build("")); len(b) < size && pad > 0 {
		b = build(strings.Repeat("context ", pad/8+1)[:pad])
	}
	return b
}

// newClient is a keep-alive client with an idle pool at least as large as
// the highest concurrency, so no request pays for a new connection after
// warm-up. It dials loopback only.
func newClient(maxConc int) *http.Client {
	d := &net.Dialer{Timeout: 5 * time.Second}
	tr := &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			host, _, err := net.SplitHostPort(addr)
			if err != nil {
				return nil, err
			}
			if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
				return nil, fmt.Errorf("bench dials loopback only, not %s", addr)
			}
			return d.DialContext(ctx, network, addr)
		},
		MaxIdleConns:        4 * maxConc,
		MaxIdleConnsPerHost: 2 * maxConc,
		IdleConnTimeout:     5 * time.Minute,
		DisableCompression:  true,
		WriteBufferSize:     64 << 10,
		ReadBufferSize:      64 << 10,
	}
	return &http.Client{Transport: tr, Timeout: 2 * time.Minute}
}

// sample is one measured request.
type sample struct {
	ok     bool
	err    string
	lat    time.Duration
	ttfb   time.Duration   // stream: first body byte
	ttft   time.Duration   // stream: first content delta
	gaps   []time.Duration // stream: between arrivals of content deltas
	deltas int             // content deltas received
	groups int             // distinct reads that carried content deltas
}

// job is what every request of one run sends and expects.
type job struct {
	client  *http.Client
	url     string
	key     string
	proto   string
	stream  bool
	body    []byte
	want    string // expected answer text
	nChunks int
}

func (j *job) do(ctx context.Context) sample {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, j.url, bytes.NewReader(j.body))
	if err != nil {
		return sample{err: err.Error()}
	}
	req.Header.Set("Content-Type", "application/json")
	if j.key != "" {
		req.Header.Set("Authorization", "Bearer "+j.key)
	}
	if j.proto == protoMessages {
		req.Header.Set("anthropic-version", "2023-06-01")
		if j.key != "" {
			req.Header.Set("x-api-key", j.key)
		}
	}
	start := time.Now()
	resp, err := j.client.Do(req)
	if err != nil {
		return sample{err: err.Error()}
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
		io.Copy(io.Discard, resp.Body)
		return sample{err: fmt.Sprintf("HTTP %d: %s", resp.StatusCode, strings.TrimSpace(string(b)))}
	}
	if j.stream {
		s := j.readStream(resp.Body, start)
		s.lat = time.Since(start)
		return s
	}
	b, err := io.ReadAll(resp.Body)
	lat := time.Since(start)
	if err != nil {
		return sample{err: err.Error()}
	}
	if msg := validateJSON(j.proto, b, j.want); msg != "" {
		return sample{err: msg}
	}
	return sample{ok: true, lat: lat}
}

// validateJSON checks a non-streamed answer carries exactly the expected text.
func validateJSON(proto string, b []byte, want string) string {
	var got string
	switch proto {
	case protoMessages:
		var m struct {
			Type    string `json:"type"`
			Content []struct {
				Text string `json:"text"`
			} `json:"content"`
		}
		if err := json.Unmarshal(b, &m); err != nil {
			return "bad messages JSON: " + err.Error()
		}
		for _, c := range m.Content {
			got += c.Text
		}
	case protoResponses:
		var m struct {
			Status string `json:"status"`
			Output []struct {
				Content []struct {
					Text string `json:"text"`
				} `json:"content"`
			} `json:"output"`
		}
		if err := json.Unmarshal(b, &m); err != nil {
			return "bad responses JSON: " + err.Error()
		}
		for _, o := range m.Output {
			for _, c := range o.Content {
				got += c.Text
			}
		}
	default:
		var m struct {
			Choices []struct {
				Message struct {
					Content string `json:"content"`
				} `json:"message"`
			} `json:"choices"`
		}
		if err := json.Unmarshal(b, &m); err != nil {
			return "bad chat JSON: " + err.Error()
		}
		if len(m.Choices) > 0 {
			got = m.Choices[0].Message.Content
		}
	}
	if got != want {
		return fmt.Sprintf("answer text %q, want %q", clip(got, 60), clip(want, 60))
	}
	return ""
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

// sseEvent is the union of the fields the stream checks look at.
type sseEvent struct {
	Type    string `json:"type"`
	Choices []struct {
		Delta struct {
			Content string `json:"content"`
		} `json:"delta"`
	} `json:"choices"`
	Delta json.RawMessage `json:"delta"`
	Error json.RawMessage `json:"error"`
}

// readStream reads an SSE body read by read, so that content deltas that
// arrive in one read (coalesced somewhere upstream of the client) are seen
// as one group, and validates the stream's end marker and full text.
func (j *job) readStream(body io.Reader, start time.Time) sample {
	var s sample
	var text strings.Builder
	buf := make([]byte, 64<<10)
	var line []byte
	var event string
	var data []byte
	done := false
	readIdx, lastGroup := 0, -1
	var lastArrival time.Time
	dispatch := func(now time.Time) {
		defer func() { event, data = "", data[:0] }()
		if len(data) == 0 {
			return
		}
		delta := ""
		isDelta := false
		switch j.proto {
		case protoChat:
			if string(data) == "[DONE]" {
				done = true
				return
			}
			var e sseEvent
			if err := json.Unmarshal(data, &e); err != nil {
				s.err = "bad chunk JSON: " + err.Error()
				return
			}
			if len(e.Error) > 0 && string(e.Error) != "null" {
				s.err = "stream error: " + clip(string(e.Error), 200)
				return
			}
			if len(e.Choices) > 0 && e.Choices[0].Delta.Content != "" {
				delta, isDelta = e.Choices[0].Delta.Content, true
			}
		default:
			if string(data) == "[DONE]" {
				return // some gateways end every SSE dialect with it
			}
			var e sseEvent
			if err := json.Unmarshal(data, &e); err != nil {
				s.err = "bad event JSON: " + err.Error()
				return
			}
			typ := e.Type
			if typ == "" {
				typ = event
			}
			switch typ {
			case "content_block_delta":
				var d struct {
					Text string `json:"text"`
				}
				_ = json.Unmarshal(e.Delta, &d)
				if d.Text != "" {
					delta, isDelta = d.Text, true
				}
			case "response.output_text.delta":
				var d string
				_ = json.Unmarshal(e.Delta, &d)
				if d != "" {
					delta, isDelta = d, true
				}
			case "message_stop", "response.completed":
				done = true
			case "error", "response.failed", "response.incomplete":
				s.err = "stream error event " + typ + ": " + clip(string(data), 200)
			}
		}
		if !isDelta {
			return
		}
		text.WriteString(delta)
		s.deltas++
		if readIdx != lastGroup {
			lastGroup = readIdx
			s.groups++
			if s.groups == 1 {
				s.ttft = now.Sub(start)
			} else {
				s.gaps = append(s.gaps, now.Sub(lastArrival))
			}
			lastArrival = now
		}
	}
	for {
		n, err := body.Read(buf)
		now := time.Now()
		if n > 0 {
			if s.ttfb == 0 {
				s.ttfb = now.Sub(start)
			}
			readIdx++
			chunk := buf[:n]
			for len(chunk) > 0 {
				i := bytes.IndexByte(chunk, '\n')
				if i < 0 {
					line = append(line, chunk...)
					break
				}
				line = append(line, chunk[:i]...)
				chunk = chunk[i+1:]
				l := bytes.TrimSuffix(line, []byte{'\r'})
				switch {
				case len(l) == 0:
					dispatch(now)
				case bytes.HasPrefix(l, []byte("data:")):
					if len(data) > 0 {
						data = append(data, '\n')
					}
					data = append(data, bytes.TrimPrefix(l[5:], []byte(" "))...)
				case bytes.HasPrefix(l, []byte("event:")):
					event = string(bytes.TrimSpace(l[6:]))
				}
				line = line[:0]
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			s.err = "reading stream: " + err.Error()
			return s
		}
	}
	if len(data) > 0 {
		dispatch(time.Now())
	}
	if s.err != "" {
		return s
	}
	if !done {
		s.err = "stream ended without its end marker ([DONE] / message_stop / response.completed)"
		return s
	}
	if text.String() != j.want {
		s.err = fmt.Sprintf("streamed text %q, want %q", clip(text.String(), 60), clip(j.want, 60))
		return s
	}
	s.ok = true
	return s
}

// load runs n requests (or until maxDur) with c workers and returns the
// samples in completion order.
func load(ctx context.Context, j *job, c, n int, maxDur time.Duration) (samples []sample, elapsed time.Duration) {
	ctx, cancel := context.WithTimeout(ctx, maxDur+30*time.Second)
	defer cancel()
	var next atomic.Int64
	var mu sync.Mutex
	samples = make([]sample, 0, n)
	deadline := time.Now().Add(maxDur)
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < c; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			local := make([]sample, 0, n/c+1)
			for {
				if next.Add(1) > int64(n) || time.Now().After(deadline) || ctx.Err() != nil {
					break
				}
				local = append(local, j.do(ctx))
			}
			mu.Lock()
			samples = append(samples, local...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	return samples, time.Since(start)
}
