package gateway_test

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/flowgate/flowgate/internal/gateway"
)

// rawConn is a client that writes HTTP/1.1 by hand, so a test can send the
// headers and hold (or trickle) the body.
type rawConn struct {
	net.Conn
	br *bufio.Reader
}

func dialRaw(t *testing.T, base string) *rawConn {
	t.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &rawConn{Conn: c, br: bufio.NewReader(c)}
}

// head sends a request line and headers; hdr lines are "Name: value".
func (c *rawConn) head(t *testing.T, base, path string, hdr ...string) {
	t.Helper()
	host := strings.TrimPrefix(base, "http://")
	var b strings.Builder
	fmt.Fprintf(&b, "POST %s HTTP/1.1\r\nHost: %s\r\n", path, host)
	for _, h := range hdr {
		b.WriteString(h + "\r\n")
	}
	b.WriteString("\r\n")
	if _, err := io.WriteString(c, b.String()); err != nil {
		t.Fatal(err)
	}
}

// response reads one response, with a deadline so a hang fails the test.
func (c *rawConn) response(t *testing.T) (*http.Response, string) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(20 * time.Second))
	resp, err := http.ReadResponse(c.br, nil)
	if err != nil {
		t.Fatalf("reading the response: %v", err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b)
}

// closedByServer reports whether the server closed the connection.
func (c *rawConn) closedByServer(t *testing.T) bool {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(20 * time.Second))
	_, err := c.br.ReadByte()
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return false
	}
	return err != nil
}

// checkShape asserts an error body in the OpenAI or Anthropic shape.
func checkShape(t *testing.T, body string, anthropic bool, want string) {
	t.Helper()
	var e struct {
		Type  string `json:"type"`
		Error struct {
			Type    string `json:"type"`
			Message string `json:"message"`
			Code    string `json:"code"`
		} `json:"error"`
	}
	if err := json.Unmarshal([]byte(body), &e); err != nil || e.Error.Message == "" {
		t.Fatalf("not an error in shape: %q", body)
	}
	if anthropic != (e.Type == "error") {
		t.Fatalf("wrong dialect (anthropic=%v): %s", anthropic, body)
	}
	if !strings.Contains(e.Error.Message, want) {
		t.Fatalf("message %q lacks %q", e.Error.Message, want)
	}
}

func TestKeylessClientGets401BeforeSendingItsBody(t *testing.T) {
	up := newUpstream(t, "ok")
	g := startGateway(t, doc([]any{dep("m", "openai/up-model", up.URL, nil)}, nil), nil)
	for _, tc := range []struct {
		path      string
		anthropic bool
	}{{"/v1/chat/completions", false}, {"/v1/messages", true}, {"/v1/responses", false}} {
		c := dialRaw(t, g.URL)
		// A small declared body that never comes: the answer must not wait for it.
		c.head(t, g.URL, tc.path, "Content-Type: application/json", "Content-Length: 40")
		resp, body := c.response(t)
		if resp.StatusCode != 401 {
			t.Fatalf("%s: status %d, want 401: %s", tc.path, resp.StatusCode, body)
		}
		checkShape(t, body, tc.anthropic, "gateway key")
		if !c.closedByServer(t) {
			t.Fatalf("%s: the connection stayed open after the 401", tc.path)
		}
	}
	if up.hits.Load() != 0 {
		t.Fatalf("upstream was called %d times", up.hits.Load())
	}
}

func TestTricklingBodyIsCutByTheMinimumRate(t *testing.T) {
	up := newUpstream(t, "ok")
	g := startGateway(t, doc([]any{dep("m", "openai/up-model", up.URL, nil)}, nil), nil)
	c := dialRaw(t, g.URL)
	body := chatBody
	c.head(t, g.URL, "/v1/chat/completions", "Content-Type: application/json",
		"Authorization: Bearer "+gatewayKey, fmt.Sprintf("Content-Length: %d", len(body)))
	// One byte every 200 ms is far under the default 1 KiB/s: the gateway
	// must answer before the body is complete.
	answered := make(chan struct{})
	go func() {
		defer close(answered)
		resp, b := c.response(t)
		if resp.StatusCode != http.StatusRequestTimeout {
			t.Errorf("status %d, want 408: %s", resp.StatusCode, b)
			return
		}
		checkShape(t, b, false, "min_body_rate")
	}()
	sent := 0
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
loop:
	for ; sent < len(body); sent++ {
		select {
		case <-answered:
			break loop
		case <-tick.C:
			if _, err := c.Write([]byte{body[sent]}); err != nil {
				break loop
			}
		}
	}
	<-answered
	if sent >= len(body) {
		t.Fatalf("the whole body (%d bytes) was accepted at 5 bytes/s", sent)
	}
	if up.hits.Load() != 0 {
		t.Fatal("a cut request reached the upstream")
	}
}

func TestConnectionLimitsAnswer503InTheCallersShape(t *testing.T) {
	up := newUpstream(t, "ok")
	g := startGatewayWith(t, doc([]any{dep("m", "openai/up-model", up.URL, nil)}, nil), nil, func(o *gateway.Options) {
		o.Limits.MaxConnections = 2
	})
	held := []*rawConn{dialRaw(t, g.URL), dialRaw(t, g.URL)}
	resp, body := g.post(t, "/v1/messages", `{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}`, nil)
	if resp.StatusCode != 503 {
		t.Fatalf("status %d, want 503: %s", resp.StatusCode, body)
	}
	checkShape(t, body, true, "max_connections")
	for _, c := range held {
		c.Close()
	}
	waitFor(t, "a request after the held connections closed", func() bool {
		resp, _ := g.post(t, "/v1/chat/completions", chatBody, nil)
		return resp.StatusCode == 200
	})
}

func TestPerClientConnectionLimit(t *testing.T) {
	up := newUpstream(t, "ok")
	g := startGatewayWith(t, doc([]any{dep("m", "openai/up-model", up.URL, nil)}, nil), nil, func(o *gateway.Options) {
		o.Limits.MaxConnectionsPerClient = 1
	})
	dialRaw(t, g.URL)
	resp, body := g.post(t, "/v1/chat/completions", chatBody, nil)
	if resp.StatusCode != 503 {
		t.Fatalf("status %d, want 503: %s", resp.StatusCode, body)
	}
	checkShape(t, body, false, "max_connections_per_client")
}

func TestChunkedBodyOverTheLimitIsRefusedAsItPassesTheLimit(t *testing.T) {
	up := newUpstream(t, "ok")
	g := startGatewayWith(t, doc([]any{dep("m", "openai/up-model", up.URL, nil)}, nil), nil, func(o *gateway.Options) {
		o.Limits.MaxBodyBytes = 1 << 20
	})
	c := dialRaw(t, g.URL)
	c.head(t, g.URL, "/v1/messages", "Content-Type: application/json", "x-api-key: "+gatewayKey, "Transfer-Encoding: chunked")
	chunk := strings.Repeat("a", 64<<10)
	for sent := 0; sent <= 1<<20; sent += len(chunk) {
		fmt.Fprintf(c, "%x\r\n%s\r\n", len(chunk), chunk)
	}
	// The body is not finished (no last chunk): the 413 must come anyway.
	resp, body := c.response(t)
	if resp.StatusCode != 413 {
		t.Fatalf("status %d, want 413: %s", resp.StatusCode, body)
	}
	checkShape(t, body, true, "larger than the gateway limit")
	if up.hits.Load() != 0 {
		t.Fatal("an oversized body reached the upstream")
	}
}

func TestChunkedBodyUnderTheLimitIsServed(t *testing.T) {
	up := newUpstream(t, "ok")
	g := startGateway(t, doc([]any{dep("m", "openai/up-model", up.URL, nil)}, nil), nil)
	// 600 KB of padding spans several read chunks.
	body := `{"model":"m","messages":[{"role":"user","content":"` + strings.Repeat("x", 600<<10) + `"}]}`
	c := dialRaw(t, g.URL)
	c.head(t, g.URL, "/v1/chat/completions", "Content-Type: application/json", "Authorization: Bearer "+gatewayKey, "Transfer-Encoding: chunked")
	for rest := body; rest != ""; {
		n := min(len(rest), 100000)
		fmt.Fprintf(c, "%x\r\n%s\r\n", n, rest[:n])
		rest = rest[n:]
	}
	io.WriteString(c, "0\r\n\r\n")
	resp, got := c.response(t)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, got)
	}
	seen := up.seen()
	want := strings.Replace(body, `"model":"m"`, `"model":"up-model"`, 1)
	if len(seen) != 1 || seen[0].Body != want {
		t.Fatalf("upstream saw %d requests, want 1 with the whole %d-byte body", len(seen), len(want))
	}
}

func TestBodyBudgetFullAnswers503(t *testing.T) {
	up := newUpstream(t, "ok")
	g := startGatewayWith(t, doc([]any{dep("m", "openai/up-model", up.URL, nil)}, nil), nil, func(o *gateway.Options) {
		o.Limits.MaxBodyBytes = 1 << 20
		o.Limits.BodyBudgetBytes = 1 << 20
	})
	// The first request reserves its declared 1 MiB and waits for it.
	c := dialRaw(t, g.URL)
	c.head(t, g.URL, "/v1/chat/completions", "Content-Type: application/json", "Authorization: Bearer "+gatewayKey, "Content-Length: 1048576")
	c.Write([]byte(`{"model":"m",`))
	var resp *http.Response
	var body string
	waitFor(t, "the budget to fill", func() bool {
		resp, body = g.post(t, "/v1/chat/completions", chatBody, nil)
		return resp.StatusCode != 200
	})
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("status %d (Retry-After %q), want 503: %s", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	checkShape(t, body, false, "body_budget")
	c.Close()
	waitFor(t, "the budget to free", func() bool {
		resp, _ := g.post(t, "/v1/chat/completions", chatBody, nil)
		return resp.StatusCode == 200
	})
}

func openDoc(deps []any) map[string]any {
	return map[string]any{"model_list": deps}
}

func TestCrossOriginTextPlainPostIsRefused(t *testing.T) {
	up := newUpstream(t, "ok")
	g := startGateway(t, openDoc([]any{dep("m", "openai/up-model", up.URL, nil)}), nil)
	for _, tc := range []struct {
		hdr  map[string]string
		want int
	}{
		// What a web page can send without a preflight.
		{map[string]string{"Authorization": "", "Content-Type": "text/plain", "Origin": "https://evil.example"}, 403},
		{map[string]string{"Authorization": "", "Content-Type": "text/plain"}, 415},
		{map[string]string{"Authorization": "", "Content-Type": "application/json", "Origin": "null"}, 403},
		// A local page or tool is fine.
		{map[string]string{"Authorization": "", "Origin": "http://localhost:3000"}, 200},
		{map[string]string{"Authorization": ""}, 200},
	} {
		resp, body := g.post(t, "/v1/chat/completions", chatBody, tc.hdr)
		if resp.StatusCode != tc.want {
			t.Fatalf("%v: status %d, want %d: %s", tc.hdr, resp.StatusCode, tc.want, body)
		}
		if tc.want != 200 {
			checkShape(t, body, false, "")
		}
	}
	if n := up.hits.Load(); n != 2 {
		t.Fatalf("upstream hits %d, want 2 (the refused requests must not reach it)", n)
	}
}

func TestAllowedOriginsLetAConfiguredPageIn(t *testing.T) {
	up := newUpstream(t, "ok")
	g := startGatewayWith(t, doc([]any{dep("m", "openai/up-model", up.URL, nil)}, nil), nil, func(o *gateway.Options) {
		o.Limits.AllowedOrigins = []string{"https://app.example"}
	})
	if resp, body := g.post(t, "/v1/chat/completions", chatBody, map[string]string{"Origin": "https://app.example"}); resp.StatusCode != 200 {
		t.Fatalf("allowed origin: %d %s", resp.StatusCode, body)
	}
	if resp, _ := g.post(t, "/v1/chat/completions", chatBody, map[string]string{"Origin": "https://other.example"}); resp.StatusCode != 403 {
		t.Fatalf("other origin: %d, want 403", resp.StatusCode)
	}
}

func TestForeignHostIsRefused(t *testing.T) {
	up := newUpstream(t, "ok")
	g := startGatewayWith(t, doc([]any{dep("m", "openai/up-model", up.URL, nil)}, nil), nil, func(o *gateway.Options) {
		o.Limits.AllowedHosts = []string{"gw.internal"}
	})
	port := g.URL[strings.LastIndexByte(g.URL, ':')+1:]
	get := func(host string) (int, string) {
		req, _ := http.NewRequest("GET", g.URL+"/health/liveliness", nil)
		req.Host = host
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp.StatusCode, string(b)
	}
	for host, want := range map[string]int{
		"rebind.evil.example:" + port: 403, // DNS rebinding: a foreign name on our address
		"localhost:" + port:           200,
		"127.0.0.1:" + port:           200,
		"[::1]:" + port:               200,
		"localhost:1":                 403, // another port is another origin
		"gw.internal:" + port:         200,
	} {
		if code, body := get(host); code != want {
			t.Errorf("Host %s: status %d, want %d: %s", host, code, want, body)
		}
	}
	// An inference request with a foreign Host is refused before its body.
	c := dialRaw(t, g.URL)
	c.head(t, "http://rebind.evil.example:"+port, "/v1/messages", "Content-Type: application/json", "Content-Length: 40")
	resp, body := c.response(t)
	if resp.StatusCode != 403 {
		t.Fatalf("status %d, want 403: %s", resp.StatusCode, body)
	}
	checkShape(t, body, true, "allowed_hosts")
	if up.hits.Load() != 0 {
		t.Fatal("a request with a foreign Host reached the upstream")
	}
}

func TestNonLoopbackBindNeedsAStrongKey(t *testing.T) {
	for key, ok := range map[string]bool{"short-key": false, "0123456789abcdef": true} {
		d := map[string]any{"model_list": []any{dep("m", "openai/up-model", "http://127.0.0.1:1", nil)},
			"general_settings": map[string]any{"master_key": key}}
		_, err := gateway.New(gateway.Options{Addr: "0.0.0.0:4000", Doc: d})
		if ok != (err == nil) {
			t.Fatalf("key of %d characters: err %v", len(key), err)
		}
		if err != nil {
			if !strings.Contains(err.Error(), "general_settings.master_key") || !strings.Contains(err.Error(), "16") || strings.Contains(err.Error(), key) {
				t.Fatalf("error must name the field and the minimum, never the key: %v", err)
			}
		}
	}
	// Loopback keeps accepting any key.
	d := map[string]any{"model_list": []any{dep("m", "openai/up-model", "http://127.0.0.1:1", nil)},
		"general_settings": map[string]any{"master_key": "short"}}
	if _, err := gateway.New(gateway.Options{Addr: "127.0.0.1:4000", Doc: d}); err != nil {
		t.Fatal(err)
	}
}

func TestStreamOutlivesTheWriteTimeout(t *testing.T) {
	up := newUpstream(t, "slowstream")
	const wt = 300 * time.Millisecond
	g := startGatewayWith(t, doc([]any{dep("m", "openai/up-model", up.URL, nil)}, nil), nil, func(o *gateway.Options) {
		o.Limits.WriteTimeout = wt
	})
	type result struct {
		status int
		body   string
	}
	done := make(chan result, 1)
	go func() {
		req, _ := http.NewRequest("POST", g.URL+"/v1/chat/completions", strings.NewReader(`{"model":"m","stream":true,"messages":[{"role":"user","content":"hi"}]}`))
		req.Header.Set("Authorization", "Bearer "+gatewayKey)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			done <- result{body: err.Error()}
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		done <- result{resp.StatusCode, string(b)}
	}()
	recv(t, up.started, "the stream to start")
	// The stream stays open for several write timeouts before its end.
	t0 := time.Now()
	waitFor(t, "several write timeouts to pass", func() bool { return time.Since(t0) > 4*wt })
	close(up.release)
	r := <-done
	if r.status != 200 || !strings.Contains(r.body, "[DONE]") || !strings.Contains(r.body, "END") {
		t.Fatalf("stream cut: status %d body %q", r.status, r.body)
	}
}
