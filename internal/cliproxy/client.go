package cliproxy

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ErrNotRunning is wrapped by errors for a management API that refuses
// connections: CLIProxyAPIPlus is not running (or not installed).
var ErrNotRunning = errors.New("CLIProxyAPIPlus is not running")

// Client calls CLIProxyAPIPlus's management API.
type Client struct {
	// BaseURL is http://host:port of the CLIProxyAPIPlus service.
	BaseURL string
	// Password is the management password, sent as "Authorization: Bearer".
	Password string
	// HTTP does the requests. Default: a client with a 40 s timeout (the
	// Copilot auth-url call waits up to 30 s on GitHub).
	HTTP *http.Client
}

// ServiceBaseURL builds http://host:port for the service address. A wildcard
// or empty host means the service listens everywhere; it is reached on
// 127.0.0.1. IPv6 hosts are bracketed.
func ServiceBaseURL(host string, port int) string {
	switch host {
	case "", "0.0.0.0", "::", "[::]":
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(strings.Trim(host, "[]"), strconv.Itoa(port))
}

// NewClient returns a client for the service at host:port.
func NewClient(host string, port int, password string) *Client {
	return &Client{BaseURL: ServiceBaseURL(host, port), Password: password}
}

func (c *Client) httpClient() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return &http.Client{Timeout: 40 * time.Second}
}

// resolve turns a configured endpoint (absolute URL or path) into a URL and
// adds query parameters.
func (c *Client) resolve(endpoint string, query url.Values) (*url.URL, error) {
	var u *url.URL
	var err error
	if strings.Contains(endpoint, "://") {
		u, err = url.Parse(endpoint)
	} else {
		if !strings.HasPrefix(endpoint, "/") {
			endpoint = "/" + endpoint
		}
		u, err = url.Parse(strings.TrimRight(c.BaseURL, "/") + endpoint)
	}
	if err != nil {
		return nil, fmt.Errorf("invalid management endpoint %q: %w", endpoint, err)
	}
	if len(query) > 0 {
		q := u.Query()
		for k, vs := range query {
			q[k] = vs
		}
		u.RawQuery = q.Encode()
	}
	return u, nil
}

// APIError is an HTTP error answer from the management API.
type APIError struct {
	Method string
	// Path is the request path (no query).
	Path       string
	StatusCode int
	// Message is the answer's "error" field, or a snippet of its body.
	Message string
	// RouteMissing is true for a 404 without a JSON error: the server has no
	// such route (or its management API is off).
	RouteMissing bool
}

func (e *APIError) Error() string {
	switch {
	case e.StatusCode == http.StatusUnauthorized:
		return fmt.Sprintf("CLIProxyAPIPlus rejected the management password on %s %s (401 %s): it runs with a different MANAGEMENT_PASSWORD or none; restart it so it gets the one in .router/secrets/%s: `flowgate service restart cliproxyapi_plus`",
			e.Method, e.Path, e.Message, ManagementPasswordFile)
	case e.StatusCode == http.StatusForbidden:
		return fmt.Sprintf("CLIProxyAPIPlus refused %s %s (403 %s): management calls must come from loopback; set services.cliproxyapi_plus.host to 127.0.0.1",
			e.Method, e.Path, e.Message)
	case e.RouteMissing:
		return fmt.Sprintf("CLIProxyAPIPlus has no route %s %s (404)", e.Method, e.Path)
	}
	return fmt.Sprintf("CLIProxyAPIPlus answered %s %s with %d: %s", e.Method, e.Path, e.StatusCode, e.Message)
}

// errorBody is the shape of every management error answer.
type errorBody struct {
	Status string `json:"status"`
	Error  string `json:"error"`
}

// do sends one request and decodes a 2xx JSON answer into out.
func (c *Client) do(ctx context.Context, method, endpoint string, query url.Values, body, out any) error {
	u, err := c.resolve(endpoint, query)
	if err != nil {
		return err
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.Password != "" {
		req.Header.Set("Authorization", "Bearer "+c.Password)
	}
	resp, err := c.httpClient().Do(req)
	if err != nil {
		if errors.Is(err, syscall.ECONNREFUSED) {
			return fmt.Errorf("%w at %s (connection refused): start it with `flowgate service start cliproxyapi_plus` (if it is not installed yet, run `flowgate bootstrap download` first)",
				ErrNotRunning, u.Scheme+"://"+u.Host)
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("calling CLIProxyAPIPlus %s %s: %w", method, u.Path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("reading CLIProxyAPIPlus %s %s: %w", method, u.Path, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		apiErr := &APIError{Method: method, Path: u.Path, StatusCode: resp.StatusCode}
		var eb errorBody
		if json.Unmarshal(data, &eb) == nil && eb.Error != "" {
			apiErr.Message = eb.Error
		} else {
			apiErr.Message = snippet(data)
			apiErr.RouteMissing = resp.StatusCode == http.StatusNotFound
		}
		return apiErr
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("CLIProxyAPIPlus answered %s %s with something that is not the expected JSON (%s): %w", method, u.Path, snippet(data), err)
	}
	return nil
}

func snippet(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	if s == "" {
		s = "(empty body)"
	}
	return s
}

// routeMissing reports whether err is a 404 for a route the server lacks.
func routeMissing(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.RouteMissing
}

// managementOff explains a 404 on a path every 6.x CLIProxyAPIPlus serves.
func managementOff(err error) error {
	if !routeMissing(err) {
		return err
	}
	return fmt.Errorf("%w: its management API is off, which happens when it runs without MANAGEMENT_PASSWORD; restart it so it gets the password: `flowgate service restart cliproxyapi_plus`", err)
}
