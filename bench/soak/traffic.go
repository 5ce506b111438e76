package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// client sends the soak's requests to one gateway.
type client struct {
	g  *gatewayProc
	hc *http.Client
}

func newClient(g *gatewayProc, conns int) *client {
	tr := &http.Transport{MaxIdleConnsPerHost: conns, MaxConnsPerHost: 0, IdleConnTimeout: 30 * time.Second}
	return &client{g: g, hc: &http.Client{Transport: tr, Timeout: 60 * time.Second}}
}

// reply is one answer, its body read whole (or up to the first bytes when
// the request was aborted on purpose).
type reply struct {
	status int
	body   string
}

func (c *client) do(ctx context.Context, path, body string, set func(*http.Request)) (reply, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.g.base+path, strings.NewReader(body))
	if err != nil {
		return reply{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+c.g.key)
	if strings.HasPrefix(path, "/v1/messages") {
		req.Header.Set("Anthropic-Version", "2023-06-01")
	}
	if set != nil {
		set(req)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return reply{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return reply{status: resp.StatusCode, body: string(b)}, fmt.Errorf("reading the answer: %w", err)
	}
	return reply{status: resp.StatusCode, body: string(b)}, nil
}

// scenario is one kind of request in the mix; check returns nil when the
// answer is what a healthy gateway gives.
type scenario struct {
	name   string
	weight int
	run    func(ctx context.Context, c *client) error
}

func want200(r reply, err error, marker string) error {
	if err != nil {
		return err
	}
	if r.status != 200 || !strings.Contains(r.body, marker) {
		return fmt.Errorf("status %d, want 200 with %q: %s", r.status, marker, capText(r.body))
	}
	return nil
}

// wantShape accepts an error status with a body in the caller's shape.
func wantShape(r reply, err error, status int, anthropic bool) error {
	if err != nil {
		return err
	}
	if (status != 0 && r.status != status) || (status == 0 && r.status < 400) {
		return fmt.Errorf("status %d, want %d: %s", r.status, status, capText(r.body))
	}
	var e struct {
		Type  string `json:"type"`
		Error struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal([]byte(r.body), &e) != nil || e.Error.Message == "" || anthropic != (e.Type == "error") {
		return fmt.Errorf("status %d with a body not in the %s shape: %s", r.status, map[bool]string{true: "Anthropic", false: "OpenAI"}[anthropic], capText(r.body))
	}
	return nil
}

func capText(s string) string {
	if len(s) > 300 {
		return s[:300] + "... (" + strconv.Itoa(len(s)) + " bytes)"
	}
	return s
}

const (
	chatReq     = `{"model":%q,%s"messages":[{"role":"user","content":"ping"}]}`
	messagesReq = `{"model":%q,"max_tokens":16,%s"messages":[{"role":"user","content":"ping"}]}`
	respReq     = `{"model":%q,%s"input":"ping"}`
	streamOn    = `"stream":true,`
)

func scenarios() []scenario {
	return []scenario{
		{"chat", 20, func(ctx context.Context, c *client) error {
			r, err := c.do(ctx, "/v1/chat/completions", fmt.Sprintf(chatReq, aliasChat, ""), nil)
			return want200(r, err, "PONG")
		}},
		{"chat-stream", 20, func(ctx context.Context, c *client) error {
			r, err := c.do(ctx, "/v1/chat/completions", fmt.Sprintf(chatReq, aliasChat, streamOn), nil)
			return want200(r, err, "[DONE]")
		}},
		{"messages-stream-passthrough", 15, func(ctx context.Context, c *client) error {
			r, err := c.do(ctx, "/v1/messages", fmt.Sprintf(messagesReq, aliasAnthropic, streamOn), nil)
			return want200(r, err, "message_stop")
		}},
		{"messages-translated", 10, func(ctx context.Context, c *client) error {
			r, err := c.do(ctx, "/v1/messages", fmt.Sprintf(messagesReq, aliasChat, ""), nil)
			return want200(r, err, `"type":"message"`)
		}},
		{"messages-stream-translated", 10, func(ctx context.Context, c *client) error {
			r, err := c.do(ctx, "/v1/messages", fmt.Sprintf(messagesReq, aliasChat, streamOn), nil)
			return want200(r, err, "message_stop")
		}},
		{"responses-stream-translated", 10, func(ctx context.Context, c *client) error {
			r, err := c.do(ctx, "/v1/responses", fmt.Sprintf(respReq, aliasChat, streamOn), nil)
			return want200(r, err, "response.completed")
		}},
		{"flaky-upstream-recovered", 8, func(ctx context.Context, c *client) error {
			r, err := c.do(ctx, "/v1/chat/completions", fmt.Sprintf(chatReq, aliasFlaky, ""), nil)
			return want200(r, err, "PONG")
		}},
		{"broken-upstream", 3, func(ctx context.Context, c *client) error {
			r, err := c.do(ctx, "/v1/chat/completions", fmt.Sprintf(chatReq, aliasBroken, ""), nil)
			return wantShape(r, err, 0, false)
		}},
		{"no-key", 2, func(ctx context.Context, c *client) error {
			r, err := c.do(ctx, "/v1/messages", fmt.Sprintf(messagesReq, aliasChat, ""), func(r *http.Request) { r.Header.Del("Authorization") })
			return wantShape(r, err, 401, true)
		}},
		{"foreign-host", 1, func(ctx context.Context, c *client) error {
			r, err := c.do(ctx, "/v1/chat/completions", fmt.Sprintf(chatReq, aliasChat, ""), func(r *http.Request) {
				r.Host = "rebind.example:" + c.g.host[strings.LastIndexByte(c.g.host, ':')+1:]
			})
			return wantShape(r, err, 403, false)
		}},
		{"cross-origin", 1, func(ctx context.Context, c *client) error {
			r, err := c.do(ctx, "/v1/chat/completions", fmt.Sprintf(chatReq, aliasChat, ""), func(r *http.Request) {
				r.Header.Set("Origin", "https://evil.example")
				r.Header.Set("Content-Type", "text/plain")
			})
			return wantShape(r, err, 403, false)
		}},
		{"malformed-body", 2, func(ctx context.Context, c *client) error {
			r, err := c.do(ctx, "/v1/messages", `{"model":`, nil)
			return wantShape(r, err, 400, true)
		}},
		{"unknown-model", 2, func(ctx context.Context, c *client) error {
			r, err := c.do(ctx, "/v1/chat/completions", fmt.Sprintf(chatReq, "no-such-model", ""), nil)
			return wantShape(r, err, 404, false)
		}},
		{"client-aborts-stream", 3, func(ctx context.Context, c *client) error {
			actx, cancel := context.WithCancel(ctx)
			defer cancel()
			req, _ := http.NewRequestWithContext(actx, http.MethodPost, c.g.base+"/v1/chat/completions",
				strings.NewReader(fmt.Sprintf(chatReq, aliasChat, streamOn)))
			req.Header.Set("Authorization", "Bearer "+c.g.key)
			req.Header.Set("Content-Type", "application/json")
			resp, err := c.hc.Do(req)
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			if resp.StatusCode != 200 {
				return fmt.Errorf("status %d, want 200", resp.StatusCode)
			}
			var first [16]byte
			if _, err := io.ReadAtLeast(resp.Body, first[:], 1); err != nil {
				return fmt.Errorf("no first byte: %w", err)
			}
			cancel() // the client goes away mid-stream
			return nil
		}},
	}
}

// pick chooses a scenario by weight.
func pick(sc []scenario, total int) *scenario {
	n := rand.IntN(total)
	for i := range sc {
		if n < sc[i].weight {
			return &sc[i]
		}
		n -= sc[i].weight
	}
	return &sc[len(sc)-1]
}

// tally counts outcomes per kind of request.
type tally struct {
	mu    sync.Mutex
	kinds map[string]*kindStats
}

type kindStats struct {
	Requests   int64    `json:"requests"`
	Unexpected int64    `json:"unexpected"`
	Examples   []string `json:"examples,omitempty"`
}

func newTally() *tally { return &tally{kinds: map[string]*kindStats{}} }

func (t *tally) add(kind string, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	k := t.kinds[kind]
	if k == nil {
		k = &kindStats{}
		t.kinds[kind] = k
	}
	k.Requests++
	if err != nil {
		k.Unexpected++
		if len(k.Examples) < 3 {
			k.Examples = append(k.Examples, capText(err.Error()))
		}
	}
}

// rawRequest opens a connection, sends the headers of a POST and returns
// the connection for the body to be sent (or not).
func rawRequest(g *gatewayProc, path string, hdr ...string) (net.Conn, *bufio.Reader, error) {
	c, err := net.DialTimeout("tcp", g.host, 5*time.Second)
	if err != nil {
		return nil, nil, err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n", path, g.host)
	for _, h := range hdr {
		b.WriteString(h + "\r\n")
	}
	b.WriteString("\r\n")
	if _, err := io.WriteString(c, b.String()); err != nil {
		c.Close()
		return nil, nil, err
	}
	return c, bufio.NewReader(c), nil
}

// keylessTrickle declares a body, sends none of it and expects a 401 at
// once, with the connection closed after it.
func keylessTrickle(g *gatewayProc) error {
	c, br, err := rawRequest(g, "/v1/chat/completions", "Content-Length: 100")
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		return fmt.Errorf("no answer to a keyless request without its body: %w", err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 401 {
		return fmt.Errorf("status %d, want 401", resp.StatusCode)
	}
	if _, err := br.ReadByte(); err == nil || isTimeout(err) {
		return errors.New("the connection stayed open after the 401")
	}
	return nil
}

// authedTrickle sends a body one byte every 2 s and expects to be cut
// with a 408 long before the body is complete.
func authedTrickle(ctx context.Context, g *gatewayProc) error {
	const n = 200
	c, br, err := rawRequest(g, "/v1/chat/completions", "Authorization: Bearer "+g.key, "Content-Length: "+strconv.Itoa(n))
	if err != nil {
		return err
	}
	defer c.Close()
	got := make(chan error, 1)
	go func() {
		c.SetReadDeadline(time.Now().Add(60 * time.Second))
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			got <- fmt.Errorf("no answer to a trickling body: %w", err)
			return
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestTimeout {
			got <- fmt.Errorf("status %d, want 408", resp.StatusCode)
			return
		}
		got <- nil
	}()
	tick := time.NewTicker(2 * time.Second)
	defer tick.Stop()
	for sent := 0; sent < n; sent++ {
		select {
		case err := <-got:
			return err
		case <-ctx.Done():
			return nil
		case <-tick.C:
			c.Write([]byte{'{'})
		}
	}
	return errors.New("a body trickled at 0.5 bytes/s was accepted whole")
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// zeros is an endless body source.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = ' '
	}
	return len(p), nil
}

// bigChunked sends a chunked body of size bytes (over the gateway's 32 MiB
// limit) and expects 413, or 503 when the body budget is full.
func bigChunked(ctx context.Context, g *gatewayProc, size int64) (int, error) {
	body := io.MultiReader(strings.NewReader(`{"model":"`+aliasChat+`","messages":[{"role":"user","content":"`), io.LimitReader(zeros{}, size))
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, g.base+"/v1/chat/completions", body)
	req.ContentLength = -1 // chunked
	req.Header.Set("Authorization", "Bearer "+g.key)
	req.Header.Set("Content-Type", "application/json")
	hc := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 60 * time.Second}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, err
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 413 && resp.StatusCode != 503 {
		return resp.StatusCode, fmt.Errorf("status %d, want 413 or 503: %s", resp.StatusCode, capText(string(b)))
	}
	return resp.StatusCode, nil
}

// attackResult is the big-body attack: concurrent chunked bodies over the
// limit, and the gateway's peak memory while they arrive.
type attackResult struct {
	Bodies     int         `json:"bodies"`
	BodyBytes  int64       `json:"body_bytes"`
	Statuses   map[int]int `json:"statuses"`
	Failures   []string    `json:"failures,omitempty"`
	PeakRSSMB  float64     `json:"peak_rss_mb"`
	BeforeMB   float64     `json:"rss_before_mb"`
	AfterMB    float64     `json:"rss_after_mb"`
	DurationMS int64       `json:"duration_ms"`
}

func bigBodyAttack(ctx context.Context, g *gatewayProc, n int, size int64) attackResult {
	res := attackResult{Bodies: n, BodyBytes: size, Statuses: map[int]int{}}
	g.resetPeak()
	before, _ := g.memKB()
	res.BeforeMB = mb(before)
	t0 := time.Now()
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st, err := bigChunked(ctx, g, size)
			mu.Lock()
			defer mu.Unlock()
			res.Statuses[st]++
			if err != nil && len(res.Failures) < 5 {
				res.Failures = append(res.Failures, err.Error())
			}
		}()
	}
	wg.Wait()
	res.DurationMS = time.Since(t0).Milliseconds()
	after, hwm := g.memKB()
	res.PeakRSSMB, res.AfterMB = mb(hwm), mb(after)
	return res
}

func mb(kb uint64) float64 { return float64(kb) / 1024 }
