package cliproxy

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/flowgate/flowgate/internal/runtime"
)

// LoginOptions configure one `auth login`.
type LoginOptions struct {
	// Provider is codex or copilot. Required.
	Provider string
	// AuthURLEndpoint overrides the path (or absolute URL) that starts the
	// flow: config auth.providers.<name>.auth_url_endpoint. Default: the
	// provider's 6.8.x path.
	AuthURLEndpoint string
	// StatusEndpoint overrides the polled path: config
	// auth.providers.<name>.status_endpoint. Default
	// /v0/management/get-auth-status.
	StatusEndpoint string
	// Timeout bounds the whole login. Default 120 s.
	Timeout time.Duration
	// PollInterval is the pause between status polls. Default 2 s.
	PollInterval time.Duration
	// NoBrowser prints the URL without opening a browser.
	NoBrowser bool
	// Out receives the data lines login_url=... and user_code=... (stdout).
	Out io.Writer
	// Prompt receives instructions for the user (stderr). Default Out.
	Prompt io.Writer
	// In, when set, is read for a pasted redirect URL (Codex): the browser's
	// final localhost:1455 URL when the callback cannot reach this machine.
	// Reading blocks; the reader goroutine is abandoned when Login returns.
	In io.Reader
	// OpenBrowser opens the login URL. Default: OpenBrowser when HasDisplay().
	// It is never called with NoBrowser.
	OpenBrowser func(url string) error
	// Events receives oauth_login. Nil drops events.
	Events runtime.Emitter
}

// LoginResult is a finished login.
type LoginResult struct {
	Provider string `json:"provider"`
	// Status is "success".
	Status string `json:"oauth_status"`
	// File is the credential file CLIProxyAPIPlus saved in its auth dir.
	File string `json:"saved_auth"`
	// Account is the e-mail or account label of the credential.
	Account string `json:"account,omitempty"`
}

// Lines renders the result as the CLI's key=value lines.
func (r *LoginResult) Lines() []string {
	lines := []string{"oauth_status=" + r.Status, "provider=" + r.Provider, "saved_auth=" + r.File}
	if r.Account != "" {
		lines = append(lines, "account="+r.Account)
	}
	return lines
}

// authURLAnswer is the start-of-flow answer.
type authURLAnswer struct {
	Status          string `json:"status"`
	URL             string `json:"url"`
	AuthURL         string `json:"auth_url"`
	LoginURL        string `json:"login_url"`
	VerificationURI string `json:"verification_uri"`
	UserCode        string `json:"user_code"`
	State           string `json:"state"`
	Error           string `json:"error"`
}

func (a authURLAnswer) loginURL() string {
	for _, u := range []string{a.URL, a.AuthURL, a.LoginURL, a.VerificationURI} {
		if u != "" {
			return u
		}
	}
	return ""
}

type statusAnswer struct {
	Status string `json:"status"`
	Error  string `json:"error"`
}

// Login runs a login through CLIProxyAPIPlus: it starts the flow, prints
// login_url= (and user_code= for Copilot), opens a browser when it can,
// accepts a pasted Codex redirect URL from In, and polls get-auth-status with
// the flow's state. "wait" keeps polling, "error" and any HTTP error stop at
// once. Because "ok" also means "unknown state", success is confirmed by a new
// (or rewritten) credential of the provider in /auth-files. It returns within
// Timeout plus at most one poll and emits oauth_login.
func (c *Client) Login(ctx context.Context, opts LoginOptions) (*LoginResult, error) {
	res, err := c.login(ctx, &opts)
	ev := runtime.Event{Event: "oauth_login", Service: "cliproxyapi_plus", Provider: opts.Provider}
	if err != nil {
		ev.Result, ev.Detail = "failed", err.Error()
		opts.Events.Emit(ev)
		return nil, fmt.Errorf("%s login: %w", opts.Provider, err)
	}
	ev.Result, ev.Detail = "success", "file="+res.File
	opts.Events.Emit(ev)
	return res, nil
}

func (c *Client) login(ctx context.Context, opts *LoginOptions) (*LoginResult, error) {
	p, ok := LookupProvider(opts.Provider)
	if !ok || !p.OAuth {
		return nil, fmt.Errorf("unknown provider %q: supported are %s", opts.Provider, ProviderNames())
	}
	opts.Provider = p.Name
	if opts.Timeout <= 0 {
		opts.Timeout = 120 * time.Second
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = 2 * time.Second
	}
	if opts.Out == nil {
		opts.Out = io.Discard
	}
	if opts.Prompt == nil {
		opts.Prompt = opts.Out
	}
	authEP, statusEP := p.AuthURLEndpoint, p.StatusEndpoint
	if opts.AuthURLEndpoint != "" {
		authEP = opts.AuthURLEndpoint
	}
	if opts.StatusEndpoint != "" {
		statusEP = opts.StatusEndpoint
	}
	deadline := time.Now().Add(opts.Timeout)
	ctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	timedOut := func(what string) error {
		return fmt.Errorf("timed out after %s %s; finish the login in the browser sooner or retry with a larger --timeout", opts.Timeout, what)
	}

	before, err := c.ListAuthFiles(ctx)
	if err != nil {
		return nil, orTimeout(ctx, err, timedOut("listing the loaded credentials"))
	}

	browser := opts.OpenBrowser
	if browser == nil && HasDisplay() {
		browser = OpenBrowser
	}
	if opts.NoBrowser {
		browser = nil
	}
	// With a local browser, CLIProxyAPIPlus can catch the Codex redirect on
	// localhost:1455 itself; otherwise the user pastes it.
	webUI := p.LocalCallback && browser != nil
	start, err := c.startFlow(ctx, p, authEP, webUI)
	if webUI && isCallbackPortBusy(err) {
		fmt.Fprintln(opts.Prompt, "note: port 1455 is busy (is Codex CLI logging in?); paste the redirect URL instead")
		webUI = false
		start, err = c.startFlow(ctx, p, authEP, false)
	}
	if err != nil {
		return nil, orTimeout(ctx, err, timedOut("starting the login"))
	}
	loginURL := start.loginURL()

	fmt.Fprintf(opts.Out, "login_url=%s\n", loginURL)
	if start.UserCode != "" {
		fmt.Fprintf(opts.Out, "user_code=%s\n", start.UserCode)
		fmt.Fprintf(opts.Prompt, "Open %s and enter the code %s\n", loginURL, start.UserCode)
	}
	if browser != nil {
		if err := browser(loginURL); err != nil {
			fmt.Fprintf(opts.Prompt, "could not open a browser (%v); open the URL above by hand\n", err)
		}
	} else {
		fmt.Fprintln(opts.Prompt, "Open the URL above in a browser to log in.")
	}

	var pasted <-chan string
	if p.CallbackProvider != "" && opts.In != nil {
		done := make(chan struct{})
		defer close(done)
		pasted = readLines(opts.In, done)
		fmt.Fprintln(opts.Prompt, "If the browser ends on a page that cannot be reached (http://localhost:1455/auth/callback?...), copy that page's full address, paste it here and press Enter.")
	}

	lastStatus := "wait"
	finished := start.State == "" // without a state only auth-files can tell
	for {
		if !finished {
			var st statusAnswer
			err := c.do(ctx, "GET", statusEP, url.Values{"state": {start.State}}, nil, &st)
			if err != nil {
				if routeMissing(err) {
					return nil, endpointHint(err, p, "status_endpoint", statusEP, p.StatusEndpoint)
				}
				return nil, orTimeout(ctx, err, loginTimeout(opts.Timeout, p, lastStatus, finished))
			}
			lastStatus = strings.ToLower(strings.TrimSpace(st.Status))
			switch lastStatus {
			case "error":
				msg := st.Error
				if msg == "" {
					msg = "no reason given"
				}
				return nil, fmt.Errorf("CLIProxyAPIPlus reports the login failed: %s; run `flowgate auth login %s` again", msg, p.Name)
			case "ok", "success", "completed":
				finished = true
			}
		}
		if finished {
			after, err := c.ListAuthFiles(ctx)
			if err != nil {
				return nil, orTimeout(ctx, err, loginTimeout(opts.Timeout, p, lastStatus, finished))
			}
			if f := newCredential(p, before, after); f != nil {
				account := f.Email
				if account == "" {
					account = f.Account
				}
				if account == "" {
					account = f.Label
				}
				return &LoginResult{Provider: p.Name, Status: "success", File: f.Name, Account: account}, nil
			}
		}

		wait := min(opts.PollInterval, time.Until(deadline))
		if wait <= 0 {
			return nil, loginTimeout(opts.Timeout, p, lastStatus, finished)
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return nil, loginTimeout(opts.Timeout, p, lastStatus, finished)
			}
			return nil, ctx.Err()
		case <-timer.C:
		case line, ok := <-pasted:
			timer.Stop()
			if !ok {
				pasted = nil
				continue
			}
			if err := c.submitRedirect(ctx, p, start.State, line); err != nil {
				var ae *APIError
				if errors.As(err, &ae) && ae.StatusCode == http.StatusBadRequest || errors.Is(err, errBadPaste) {
					fmt.Fprintf(opts.Prompt, "%v; paste the full address again\n", err)
					continue
				}
				return nil, orTimeout(ctx, err, timedOut("handing in the redirect URL"))
			}
			fmt.Fprintln(opts.Prompt, "redirect accepted; waiting for CLIProxyAPIPlus to finish the login")
		}
	}
}

// startFlow calls the auth-url endpoint.
func (c *Client) startFlow(ctx context.Context, p Provider, endpoint string, webUI bool) (*authURLAnswer, error) {
	var q url.Values
	if webUI {
		q = url.Values{"is_webui": {"true"}}
	}
	var a authURLAnswer
	if err := c.do(ctx, "GET", endpoint, q, nil, &a); err != nil {
		if routeMissing(err) {
			return nil, endpointHint(err, p, "auth_url_endpoint", endpoint, p.AuthURLEndpoint)
		}
		return nil, err
	}
	if strings.EqualFold(a.Status, "error") {
		return nil, fmt.Errorf("CLIProxyAPIPlus could not start the login: %s", a.Error)
	}
	if a.loginURL() == "" {
		return nil, fmt.Errorf("CLIProxyAPIPlus answered %s without a login url", endpoint)
	}
	return &a, nil
}

func isCallbackPortBusy(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.StatusCode == http.StatusInternalServerError &&
		strings.Contains(ae.Message, "callback server")
}

// endpointHint explains a 404 on a login path and names the config key.
func endpointHint(err error, p Provider, key, used, def string) error {
	cfg := "auth.providers." + p.Name + "." + key
	if pathOf(used) != def {
		return fmt.Errorf("%w: CLIProxyAPIPlus 6.8.x serves %s; set %s to %s or remove it to use the default", err, def, cfg, def)
	}
	return fmt.Errorf("%w: either its management API is off (it runs without MANAGEMENT_PASSWORD: `flowgate service restart cliproxyapi_plus`) or this CLIProxyAPIPlus version serves another path; then set %s to it", err, cfg)
}

func pathOf(endpoint string) string {
	if u, err := url.Parse(endpoint); err == nil && strings.Contains(endpoint, "://") {
		return u.Path
	}
	path, _, _ := strings.Cut(endpoint, "?")
	return path
}

// orTimeout replaces a deadline error with the timeout explanation.
func orTimeout(ctx context.Context, err, timeout error) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return timeout
	}
	return err
}

func loginTimeout(d time.Duration, p Provider, last string, finished bool) error {
	if finished {
		return fmt.Errorf("timed out after %s: CLIProxyAPIPlus reports the login state as finished or unknown, but no new %s credential appeared in %s; the login may have expired or CLIProxyAPIPlus restarted: run `flowgate auth login %s` again",
			d, p.Name, PathAuthFiles, p.Name)
	}
	return fmt.Errorf("timed out after %s waiting for the login (last status=%s): finish it in the browser, then run `flowgate auth login %s` again, with a larger --timeout if needed",
		d, last, p.Name)
}

var errBadPaste = errors.New("that is not the redirect address")

// submitRedirect hands a pasted redirect URL to POST /oauth-callback.
func (c *Client) submitRedirect(ctx context.Context, p Provider, state, line string) error {
	u, err := url.Parse(strings.TrimSpace(line))
	if err != nil || u.RawQuery == "" {
		return fmt.Errorf("%w (want http://localhost:1455/auth/callback?code=...&state=...)", errBadPaste)
	}
	q := u.Query()
	if q.Get("code") == "" && q.Get("error") == "" {
		return fmt.Errorf("%w: it has no code= parameter", errBadPaste)
	}
	if s := q.Get("state"); s != "" && state != "" && s != state {
		return fmt.Errorf("%w: it belongs to another login (state differs)", errBadPaste)
	}
	body := map[string]string{"provider": p.CallbackProvider, "redirect_url": u.String()}
	if err := c.do(ctx, "POST", PathOAuthCallback, nil, body, nil); err != nil {
		return managementOff(err)
	}
	return nil
}

// readLines delivers non-empty lines from r until EOF or done.
func readLines(r io.Reader, done <-chan struct{}) <-chan string {
	ch := make(chan string)
	go func() {
		defer close(ch)
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 0, 64*1024), 64*1024)
		for sc.Scan() {
			line := strings.TrimSpace(sc.Text())
			if line == "" {
				continue
			}
			select {
			case ch <- line:
			case <-done:
				return
			}
		}
	}()
	return ch
}
