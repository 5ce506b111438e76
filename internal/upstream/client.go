package upstream

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Client sends calls to deployments over one pooled transport shared by all
// config generations, so connections survive reloads.
type Client struct {
	hc *http.Client
}

// NewClient builds a client whose idle pool is large enough that a busy
// local gateway (hundreds of concurrent agent requests) reuses connections
// instead of opening one per request (Go's default keeps 2 per host).
func NewClient() *Client {
	tr := &http.Transport{
		Proxy: http.ProxyFromEnvironment,
		DialContext: (&net.Dialer{
			Timeout:   10 * time.Second,
			KeepAlive: 30 * time.Second,
		}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          2048,
		MaxIdleConnsPerHost:   512,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: 0,
		// Bodies are forwarded byte for byte; asking for identity keeps
		// error bodies readable and avoids a gunzip/gzip round trip.
		DisableCompression: true,
		ReadBufferSize:     32 << 10,
		WriteBufferSize:    32 << 10,
	}
	return &Client{hc: &http.Client{Transport: tr}}
}

// CloseIdle closes idle upstream connections.
func (c *Client) CloseIdle() { c.hc.CloseIdleConnections() }

// Call is one request to one deployment.
type Call struct {
	Target *Target
	Op     Op
	// Body is sent as the concatenation of its parts (see RewriteParts), so
	// a rewritten body is never copied.
	Body *Body
	// Header holds the client's headers; Do forwards only the safe ones.
	Header http.Header
	// Protocol is the wire protocol of Body; anthropic-* headers are only
	// forwarded when it is Messages.
	Protocol Protocol
}

// maxErrorBody bounds how much of an upstream error body is kept.
const maxErrorBody = 1 << 20

// smallBody is the largest body sent as one contiguous copy. The transport
// writes a *bytes.Reader body together with the request headers in one
// write (net/http treats it as a known in-memory reader); any other reader
// makes it flush the headers first, costing a second syscall and packet per
// call. It is sized so that headers and body fit the transport's 32 KB
// write buffer; larger bodies take several writes anyway, so they are
// streamed from their parts rather than copied.
const smallBody = 30 << 10

// Do sends the call. A 2xx response is returned open for the caller to
// read; anything else is returned as *Error (body read and closed).
func (c *Client) Do(ctx context.Context, call *Call) (*http.Response, error) {
	u := call.Target.parsedURL(call.Op)
	if u == nil {
		return c.doClient(ctx, call)
	}
	req := (&http.Request{
		Method:     http.MethodPost,
		URL:        u,
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Host:       u.Host,
	}).WithContext(ctx)
	setBody(req, call.Body)
	req.Header = ForwardHeaders(call.Header, call.Protocol == Messages)
	setAuth(req.Header, call.Target, call.Protocol)
	// The transport directly: http.Client would clone the headers and URL
	// for its redirect machinery on every call. A redirect (a misconfigured
	// api_base) is rare, so it is answered by sending the call again
	// through the client, which follows it exactly as before.
	resp, err := c.hc.Transport.RoundTrip(req)
	if err != nil {
		return nil, TransportError(ctx, err)
	}
	if isRedirect(resp) {
		resp.Body.Close()
		return c.doClient(ctx, call)
	}
	return c.check(resp)
}

func isRedirect(resp *http.Response) bool {
	switch resp.StatusCode {
	case 301, 302, 303, 307, 308:
		return resp.Header.Get("Location") != ""
	}
	return false
}

// doClient sends the call through http.Client (redirects followed).
func (c *Client) doClient(ctx context.Context, call *Call) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, call.Target.URL(call.Op), nil)
	if err != nil {
		return nil, &Error{Kind: FailConnect, Err: err}
	}
	setBody(req, call.Body)
	req.Header = ForwardHeaders(call.Header, call.Protocol == Messages)
	setAuth(req.Header, call.Target, call.Protocol)
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, TransportError(ctx, err)
	}
	return c.check(resp)
}

func setBody(req *http.Request, b *Body) {
	req.ContentLength = int64(b.Len())
	if b.Len() == 0 {
		req.Body = http.NoBody
		return
	}
	if b.Len() <= smallBody {
		// A fresh copy owned by the request: the transport may read it
		// after Do returns, so it cannot live in a pooled buffer.
		flat := make([]byte, 0, b.Len())
		flat = append(append(append(flat, b.parts[0]...), b.parts[1]...), b.parts[2]...)
		req.Body = io.NopCloser(bytes.NewReader(flat))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(flat)), nil }
		return
	}
	req.Body = &partsReader{b: b, parts: b.parts}
	req.GetBody = func() (io.ReadCloser, error) { return &partsReader{b: b, parts: b.parts}, nil }
}

func (c *Client) check(resp *http.Response) (*http.Response, error) {
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return resp, nil
	}
	body, rerr := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	resp.Body.Close()
	ue := &Error{
		Kind:        FailStatus,
		Status:      resp.StatusCode,
		RetryAfter:  ParseRetryAfter(resp.Header, time.Now()),
		Body:        body,
		ContentType: resp.Header.Get("Content-Type"),
	}
	if rerr != nil && len(body) == 0 {
		ue.Err = rerr
	}
	return nil, ue
}

func setAuth(h http.Header, t *Target, p Protocol) {
	if p == Messages && t.Kind == KindAnthropic {
		if t.APIKey != "" {
			h["X-Api-Key"] = []string{t.APIKey}
		}
		if h.Get("Anthropic-Version") == "" {
			h["Anthropic-Version"] = []string{DefaultAnthropicVersion}
		}
		return
	}
	if t.APIKey != "" {
		if t.bearer != nil {
			h["Authorization"] = t.bearer
		} else {
			h["Authorization"] = []string{"Bearer " + t.APIKey}
		}
	}
	if p == Messages && h.Get("Anthropic-Version") == "" {
		h["Anthropic-Version"] = []string{DefaultAnthropicVersion}
	}
}

// dropHeaders are never forwarded upstream: hop-by-hop headers (RFC 9110
// 7.6.1), the client's credentials for the gateway, and headers the
// transport sets itself.
var dropHeaders = map[string]bool{
	"Connection": true, "Proxy-Connection": true, "Keep-Alive": true, "Proxy-Authenticate": true,
	"Proxy-Authorization": true, "Te": true, "Trailer": true, "Transfer-Encoding": true, "Upgrade": true,
	"Authorization": true, "X-Api-Key": true, "X-Litellm-Api-Key": true, "Api-Key": true, "Cookie": true,
	"Host": true, "Content-Length": true, "Accept-Encoding": true, "Expect": true,
}

// ForwardHeaders copies the client headers that may go upstream.
// anthropic-version and anthropic-beta (and other anthropic-*) go only to
// Messages upstreams, unchanged.
func ForwardHeaders(in http.Header, messages bool) http.Header {
	out := make(http.Header, len(in)+2)
	for k, v := range in {
		if dropHeaders[k] {
			continue
		}
		if !messages && len(k) > 10 && strings.EqualFold(k[:10], "anthropic-") {
			continue
		}
		if len(k) > 11 && strings.EqualFold(k[:11], "X-Stainless") {
			continue
		}
		out[k] = v
	}
	// Headers named in Connection are hop-by-hop too.
	for _, c := range in["Connection"] {
		for _, f := range strings.Split(c, ",") {
			delete(out, http.CanonicalHeaderKey(strings.TrimSpace(f)))
		}
	}
	if _, ok := out["Content-Type"]; !ok {
		out["Content-Type"] = []string{"application/json"}
	}
	return out
}

// IsHopHeader reports response headers that must not be copied to the client.
func IsHopHeader(k string) bool {
	switch k {
	case "Connection", "Proxy-Connection", "Keep-Alive", "Te", "Trailer", "Transfer-Encoding", "Upgrade", "Content-Length":
		return true
	}
	return false
}

// Body is a request body made of up to three byte slices (head, new model,
// tail) that may live in a pooled buffer. Release it before reusing the
// buffer: the transport may still be reading it from another goroutine
// after Do returns (an upstream that answers before reading everything).
type Body struct {
	mu       sync.RWMutex
	parts    [3][]byte
	released bool
}

// NewBody wraps the parts; they are not copied.
func NewBody(head, mid, tail []byte) *Body { return &Body{parts: [3][]byte{head, mid, tail}} }

// Len is the body's total length.
func (b *Body) Len() int { return len(b.parts[0]) + len(b.parts[1]) + len(b.parts[2]) }

// Release makes every reader of b fail from now on; after it returns the
// underlying buffer may be reused.
func (b *Body) Release() {
	b.mu.Lock()
	b.released = true
	b.mu.Unlock()
}

var errBodyReleased = errors.New("request body released")

type partsReader struct {
	b     *Body
	parts [3][]byte
	i     int
}

func (r *partsReader) Read(p []byte) (int, error) {
	r.b.mu.RLock()
	defer r.b.mu.RUnlock()
	if r.b.released {
		return 0, errBodyReleased
	}
	n := 0
	for r.i < 3 && n < len(p) {
		c := copy(p[n:], r.parts[r.i])
		r.parts[r.i] = r.parts[r.i][c:]
		n += c
		if len(r.parts[r.i]) == 0 {
			r.i++
		}
	}
	if n == 0 && r.i >= 3 {
		return 0, io.EOF
	}
	return n, nil
}

func (r *partsReader) Close() error { return nil }
