package ui

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

const testKey = "sk-dashboard-test-key"

func checkTestKey(k string) bool { return subtle.ConstantTimeCompare([]byte(k), []byte(testKey)) == 1 }

// clock is a settable clock for session expiry.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// serve starts the dashboard on 127.0.0.1 with src and returns its URL.
func serve(t *testing.T, opts Options) *httptest.Server {
	t.Helper()
	if opts.Source == nil {
		opts.Source = demoSource(time.Now())
	}
	srv := httptest.NewServer(New(opts))
	t.Cleanup(srv.Close)
	return srv
}

// browserish is a client with a cookie jar that does not follow redirects.
func browserish(t *testing.T) *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func get(t *testing.T, c *http.Client, u string) (*http.Response, string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func postForm(t *testing.T, c *http.Client, u string, v url.Values) (*http.Response, string) {
	t.Helper()
	resp, err := c.PostForm(u, v)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func login(t *testing.T, c *http.Client, base string) {
	t.Helper()
	resp, body := postForm(t, c, base+"/ui/login", url.Values{"key": {testKey}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login with the key: %d\n%s", resp.StatusCode, body)
	}
}

func TestWithoutSessionPagesRedirectToLoginAndDataIs401(t *testing.T) {
	srv := serve(t, Options{CheckKey: checkTestKey})
	c := browserish(t)
	for _, p := range []string{"/ui/", "/ui/requests/req_0001a7f3", "/ui/?alias=claude-sonnet"} {
		resp, _ := get(t, c, srv.URL+p)
		loc := resp.Header.Get("Location")
		if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/ui/login?next=") {
			t.Errorf("GET %s without a session: %d Location %q, want 303 to /ui/login", p, resp.StatusCode, loc)
		}
		if next, _ := url.Parse(loc); next != nil && next.Query().Get("next") != p {
			t.Errorf("GET %s: login's next is %q", p, next.Query().Get("next"))
		}
	}
	for _, p := range []string{"/ui/live", "/ui/api/requests", "/ui/api/requests/req_0001a7f3"} {
		resp, body := get(t, c, srv.URL+p)
		if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "flowgate ui") {
			t.Errorf("GET %s without a session: %d %q, want 401 saying how to sign in", p, resp.StatusCode, body)
		}
		if strings.Contains(body, "claude-sonnet") {
			t.Errorf("GET %s without a session leaked data: %s", p, body)
		}
	}
	// A forged cookie is no session.
	u, _ := url.Parse(srv.URL + "/ui/")
	c.Jar.SetCookies(u, []*http.Cookie{{Name: SessionCookie, Value: testKey, Path: "/ui/"}})
	if resp, _ := get(t, c, srv.URL+"/ui/"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("the key itself as the cookie opened the page: %d", resp.StatusCode)
	}
}

func TestLoginWithTheKeySetsAStrictHttpOnlySessionCookieThatIsNotTheKey(t *testing.T) {
	srv := serve(t, Options{CheckKey: checkTestKey})
	c := browserish(t)
	resp, body := postForm(t, c, srv.URL+"/ui/login", url.Values{"key": {"sk-wrong"}})
	if resp.StatusCode != http.StatusUnauthorized || len(resp.Cookies()) != 0 || !strings.Contains(body, "not the gateway key") || !strings.Contains(body, "master_key") {
		t.Fatalf("wrong key: %d cookies %v\n%s", resp.StatusCode, resp.Cookies(), body)
	}
	resp, _ = postForm(t, c, srv.URL+"/ui/login", url.Values{"key": {testKey}, "next": {"/ui/requests/req_0003a7f3"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/ui/requests/req_0003a7f3" {
		t.Fatalf("login: %d Location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	cookies := resp.Cookies()
	if len(cookies) != 1 {
		t.Fatalf("login set %d cookies", len(cookies))
	}
	ck := cookies[0]
	if ck.Name != SessionCookie || !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || ck.Path != "/ui/" || ck.MaxAge <= 0 {
		t.Errorf("session cookie %+v: want HttpOnly, SameSite=Strict, Path=/ui/, a Max-Age", ck)
	}
	if strings.Contains(ck.Value, testKey) || len(ck.Value) < 40 {
		t.Errorf("session cookie value %q is the key or too short to be random", ck.Value)
	}
	resp, body = get(t, c, srv.URL+"/ui/")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "claude-sonnet") || !strings.Contains(body, "cliproxyapi_plus") {
		t.Fatalf("overview after login: %d\n%.400s", resp.StatusCode, body)
	}
	// A next that leaves the dashboard is ignored.
	c2 := browserish(t)
	resp, _ = postForm(t, c2, srv.URL+"/ui/login", url.Values{"key": {testKey}, "next": {"//evil.example/ui/"}})
	if resp.Header.Get("Location") != "/ui/" {
		t.Errorf("login redirected to %q", resp.Header.Get("Location"))
	}
	// Logout ends the session on the server, not only in the browser.
	sess := ck.Value
	resp, _ = postForm(t, c, srv.URL+"/ui/logout", nil)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout: %d", resp.StatusCode)
	}
	replay := browserish(t)
	u, _ := url.Parse(srv.URL + "/ui/")
	replay.Jar.SetCookies(u, []*http.Cookie{{Name: SessionCookie, Value: sess, Path: "/ui/"}})
	if resp, _ := get(t, replay, srv.URL+"/ui/"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("the session still works after logout: %d", resp.StatusCode)
	}
}

func TestSessionExpiresAfterSessionTTL(t *testing.T) {
	clk := &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	srv := serve(t, Options{CheckKey: checkTestKey, Now: clk.Now, SessionTTL: time.Hour, Source: demoSource(clk.Now())})
	c := browserish(t)
	login(t, c, srv.URL)
	if resp, _ := get(t, c, srv.URL+"/ui/"); resp.StatusCode != http.StatusOK {
		t.Fatalf("fresh session: %d", resp.StatusCode)
	}
	clk.Add(59 * time.Minute)
	if resp, _ := get(t, c, srv.URL+"/ui/api/requests"); resp.StatusCode != http.StatusOK {
		t.Fatalf("session before its TTL: %d", resp.StatusCode)
	}
	clk.Add(time.Minute)
	if resp, _ := get(t, c, srv.URL+"/ui/api/requests"); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("session after its TTL: %d, want 401", resp.StatusCode)
	}
}

func TestSignOutAllEndsEverySession(t *testing.T) {
	h := New(Options{Source: demoSource(time.Now()), CheckKey: checkTestKey})
	srv := httptest.NewServer(h)
	defer srv.Close()
	c := browserish(t)
	login(t, c, srv.URL)
	h.SignOutAll()
	if resp, _ := get(t, c, srv.URL+"/ui/"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("after SignOutAll the session still opens the page: %d", resp.StatusCode)
	}
}

func TestOneTimeLinkNeedsTheKeySignsInOnceAndExpires(t *testing.T) {
	clk := &clock{t: time.Now()}
	srv := serve(t, Options{CheckKey: checkTestKey, Now: clk.Now})
	mint := func(key string) (*http.Response, LinkResponse) {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+LinkPath, nil)
		if key != "" {
			req.Header.Set("Authorization", "Bearer "+key)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var lr LinkResponse
		json.NewDecoder(resp.Body).Decode(&lr)
		return resp, lr
	}
	for _, k := range []string{"", "sk-wrong"} {
		if resp, lr := mint(k); resp.StatusCode != http.StatusUnauthorized || lr.Path != "" {
			t.Errorf("link with key %q: %d %+v, want 401", k, resp.StatusCode, lr)
		}
	}
	resp, lr := mint(testKey)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("link with the key: %d %v", resp.StatusCode, resp.Header)
	}
	once, ok := strings.CutPrefix(lr.Path, "/ui/login#once=")
	if !ok || len(once) < 40 || strings.Contains(once, testKey) || lr.ExpiresIn != int(LinkTTL.Seconds()) {
		t.Fatalf("link %+v: want /ui/login#once=<random token> valid %v", lr, LinkTTL)
	}
	c := browserish(t)
	resp, _ = postForm(t, c, srv.URL+"/ui/login", url.Values{"once": {once}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login with the link: %d", resp.StatusCode)
	}
	if resp, _ := get(t, c, srv.URL+"/ui/"); resp.StatusCode != http.StatusOK {
		t.Fatalf("overview after the link: %d", resp.StatusCode)
	}
	resp, body := postForm(t, browserish(t), srv.URL+"/ui/login", url.Values{"once": {once}})
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "already used or has expired") {
		t.Fatalf("second use of the link: %d\n%s", resp.StatusCode, body)
	}
	_, lr = mint(testKey)
	once = strings.TrimPrefix(lr.Path, "/ui/login#once=")
	clk.Add(LinkTTL)
	if resp, _ := postForm(t, browserish(t), srv.URL+"/ui/login", url.Values{"once": {once}}); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("expired link: %d, want 401", resp.StatusCode)
	}
}

func TestLoginPostedFromAnotherSiteIsRefused(t *testing.T) {
	srv := serve(t, Options{CheckKey: checkTestKey})
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/ui/login", strings.NewReader(url.Values{"key": {testKey}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "http://evil.example")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || len(resp.Cookies()) != 0 {
		t.Fatalf("cross-site login: %d cookies %v, want 403 and no cookie", resp.StatusCode, resp.Cookies())
	}
}

func TestManyWrongKeysLockTheLoginForAMinute(t *testing.T) {
	clk := &clock{t: time.Now()}
	srv := serve(t, Options{CheckKey: checkTestKey, Now: clk.Now})
	c := browserish(t)
	for i := 0; i < loginFailLimit; i++ {
		postForm(t, c, srv.URL+"/ui/login", url.Values{"key": {"guess"}})
	}
	resp, body := postForm(t, c, srv.URL+"/ui/login", url.Values{"key": {testKey}})
	if resp.StatusCode != http.StatusTooManyRequests || !strings.Contains(body, "Wait a minute") {
		t.Fatalf("after %d wrong keys the right one: %d, want 429", loginFailLimit, resp.StatusCode)
	}
	clk.Add(loginFailWindow)
	login(t, c, srv.URL)
}

func TestWithoutAGatewayKeyNobodyCanSignIn(t *testing.T) {
	srv := serve(t, Options{})
	c := browserish(t)
	_, body := get(t, c, srv.URL+"/ui/login")
	if !strings.Contains(body, "general_settings.master_key") {
		t.Errorf("login page does not say how to set a key:\n%s", body)
	}
	resp, _ := postForm(t, c, srv.URL+"/ui/login", url.Values{"key": {""}})
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("login without a configured key: %d", resp.StatusCode)
	}
	req, _ := http.NewRequest(http.MethodPost, srv.URL+LinkPath, nil)
	r2, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	r2.Body.Close()
	if r2.StatusCode != http.StatusForbidden {
		t.Errorf("link without a configured key: %d", r2.StatusCode)
	}
}

func TestEveryAnswerHasAStrictContentSecurityPolicyAndOnlyOwnAssets(t *testing.T) {
	srv := serve(t, Options{CheckKey: checkTestKey})
	c := browserish(t)
	login(t, c, srv.URL)
	ref := regexp.MustCompile(`(?i)(?:src|href|action)="([^"]*)"`)
	for _, p := range []string{"/ui/login", "/ui/", "/ui/requests/req_0001a7f3", "/ui/live", "/ui/static/app.css", "/ui/static/app.js", "/ui/requests/nope"} {
		resp, body := get(t, c, srv.URL+p)
		csp := resp.Header.Get("Content-Security-Policy")
		if !strings.HasPrefix(csp, "default-src 'self';") || strings.Contains(csp, "unsafe") || strings.Contains(csp, "http") {
			t.Errorf("%s: Content-Security-Policy %q", p, csp)
		}
		if resp.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: no nosniff", p)
		}
		for _, m := range ref.FindAllStringSubmatch(body, -1) {
			if !strings.HasPrefix(m[1], "/") || strings.HasPrefix(m[1], "//") {
				t.Errorf("%s references %q, which is not on the dashboard's own origin", p, m[1])
			}
		}
		if strings.Contains(body, "style=\"") || strings.Contains(body, "<style") || strings.Contains(body, " on") && regexp.MustCompile(`\son[a-z]+="`).MatchString(body) {
			t.Errorf("%s has inline style or handlers, which the CSP blocks", p)
		}
	}
}

func TestRequestDetailShowsAttemptsAndAnUnknownIDIs404(t *testing.T) {
	now := time.Now()
	src := demoSource(now)
	src.add(Request{ID: "req-detail-1", Time: now, Alias: "claude-sonnet", Deployment: "openrouter/anthropic/claude-sonnet-4.5",
		Status: 200, Attempts: 2, Fallbacks: 1, Latency: 1500 * time.Millisecond, TTFB: 300 * time.Millisecond,
		TokensIn: 1234, TokensOut: 567, TokensCacheRead: 8900, TokensCacheWrite: 12, TokensReasoning: 77, KeyName: "laptop",
		SessionID: "sess-42", ClientFamily: "claude-code", Protocol: "messages",
		Tries: []Try{{Deployment: "anthropic/claude-sonnet-4-5", Status: 529, ErrorClass: "overloaded", Latency: 400 * time.Millisecond},
			{Deployment: "openrouter/anthropic/claude-sonnet-4.5", Status: 200, Latency: 1100 * time.Millisecond}}})
	srv := serve(t, Options{CheckKey: checkTestKey, Source: src})
	c := browserish(t)
	login(t, c, srv.URL)
	resp, body := get(t, c, srv.URL+"/ui/requests/req-detail-1")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("detail: %d", resp.StatusCode)
	}
	for _, want := range []string{"req-detail-1", "overloaded", "anthropic/claude-sonnet-4-5", "1,234", "8,900", "laptop", "sess-42", "1 fallback(s)", "1.50 s", "300 ms"} {
		if !strings.Contains(body, want) {
			t.Errorf("detail page lacks %q", want)
		}
	}
	resp, body = get(t, c, srv.URL+"/ui/requests/no-such-id")
	if resp.StatusCode != http.StatusNotFound || !strings.Contains(body, "flowgate requests") {
		t.Errorf("unknown id: %d", resp.StatusCode)
	}
	resp, body = get(t, c, srv.URL+"/ui/api/requests/req-detail-1")
	var got Request
	if err := json.Unmarshal([]byte(body), &got); err != nil || resp.StatusCode != 200 || got.TokensCacheRead != 8900 || len(got.Tries) != 2 {
		t.Errorf("JSON detail: %d %v %+v", resp.StatusCode, err, got)
	}
}

func TestRequestsFilterByAliasAndErrors(t *testing.T) {
	srv := serve(t, Options{CheckKey: checkTestKey})
	c := browserish(t)
	login(t, c, srv.URL)
	_, body := get(t, c, srv.URL+"/ui/api/requests?alias=gpt-5-codex&errors=1")
	var got []Request
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatal(err)
	}
	for _, r := range got {
		if r.Alias != "gpt-5-codex" || r.Status == 200 {
			t.Errorf("filter alias=gpt-5-codex errors=1 returned %s %s %d", r.ID, r.Alias, r.Status)
		}
	}
	_, body = get(t, c, srv.URL+"/ui/api/requests")
	json.Unmarshal([]byte(body), &got)
	if len(got) != maxRows {
		t.Errorf("unfiltered: %d rows, want %d", len(got), maxRows)
	}
}

func TestChartsPlotEveryBucket(t *testing.T) {
	to := time.Date(2026, 3, 1, 13, 0, 0, 0, time.UTC)
	from := to.Add(-time.Hour)
	b := []Bucket{
		{Start: from.Add(10 * time.Minute), Requests: 2, LatencyP50: 800 * time.Millisecond, LatencyP95: 1900 * time.Millisecond, TTFBP50: 200 * time.Millisecond, TokensIn: 1000, TokensOut: 300, TokensCacheRead: 5000},
		{Start: from.Add(11 * time.Minute), Requests: 1, LatencyP50: 700 * time.Millisecond, LatencyP95: 700 * time.Millisecond, TTFBP50: 100 * time.Millisecond, TokensIn: 10},
	}
	lc := latencyChart(b, from, to, time.UTC)
	if len(lc.Lines) != 3 || strings.Count(lc.Lines[0].Points, ",") != 2 || lc.Empty != "" {
		t.Fatalf("latency chart lines %+v", lc.Lines)
	}
	if top := lc.Grid[len(lc.Grid)-1].Label; top != "2 s" {
		t.Errorf("latency axis tops at %q, want 2 s", top)
	}
	tc := tokenChart(b, from, to, time.Minute, time.UTC)
	if len(tc.Bars) != 4 {
		t.Errorf("token chart: %d bars, want 4 (3 kinds + 1)", len(tc.Bars))
	}
	if e := latencyChart(nil, from, to, time.UTC); e.Empty == "" || len(e.Lines) != 0 {
		t.Errorf("empty window: %+v", e)
	}
	for in, want := range map[float64]float64{0: 4, 0.3: 0.32, 7: 8, 1900: 2000, 2100: 2400, 12000: 12000, 220000: 240000} {
		if got := niceCeil(in); got != want {
			t.Errorf("niceCeil(%v) = %v, want %v", in, got, want)
		}
	}
}

func TestRequestLinkReturnsAWorkingLinkAndNamesARefusedKey(t *testing.T) {
	srv := serve(t, Options{CheckKey: checkTestKey})
	if _, err := RequestLink(t.Context(), srv.URL, "sk-wrong"); !errors.Is(err, ErrKeyRefused) {
		t.Fatalf("wrong key: %v, want ErrKeyRefused", err)
	}
	l, err := RequestLink(t.Context(), srv.URL+"/", testKey)
	if err != nil {
		t.Fatal(err)
	}
	if l.Home != srv.URL+"/ui/" || l.ExpiresIn != LinkTTL || strings.Contains(l.Home, "once") {
		t.Fatalf("link %+v", l)
	}
	once := l.URL[strings.Index(l.URL, "#once=")+len("#once="):]
	c := browserish(t)
	if resp, _ := postForm(t, c, srv.URL+"/ui/login", url.Values{"once": {once}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("signing in with the link: %d", resp.StatusCode)
	}
	if resp, _ := get(t, c, srv.URL+"/ui/"); resp.StatusCode != http.StatusOK {
		t.Fatalf("overview: %d", resp.StatusCode)
	}
	other := httptest.NewServer(http.NotFoundHandler())
	defer other.Close()
	if _, err := RequestLink(t.Context(), other.URL, testKey); err == nil || !strings.Contains(err.Error(), "404") {
		t.Fatalf("a server that is not the dashboard: %v", err)
	}
}

func TestOverviewShowsUsageByClientKeyName(t *testing.T) {
	now := time.Now()
	src := demoSource(now)
	src.add(Request{ID: "req-key-1", Time: now, Alias: "gpt-5-codex", Deployment: "cliproxy/gpt-5-codex", Status: 200,
		TokensIn: 4321, TokensOut: 99, KeyName: "ci-runner"})
	srv := serve(t, Options{CheckKey: checkTestKey, Source: src})
	c := browserish(t)
	login(t, c, srv.URL)
	resp, body := get(t, c, srv.URL+"/ui/")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("overview: %d", resp.StatusCode)
	}
	i := strings.Index(body, "Usage by client key")
	if i < 0 || !strings.Contains(body[i:], "ci-runner") || strings.Contains(body, testKey) {
		t.Fatalf("the overview does not list usage by client key name (or shows a key):\n%.2000s", body[max(i, 0):])
	}
}
