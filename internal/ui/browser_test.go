package ui

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/flowgate/flowgate/internal/ui/uitest"
)

// TestDashboardInARealBrowser drives headless Chromium against the dashboard
// served on 127.0.0.1: refused without the key, signed in by the one-time
// link and by the form, a request added to the source appears live without
// a reload, the charts draw the data, a row opens the request, and every
// request the browser makes goes to the dashboard's own host.
// FLOWGATE_UI_SCREENSHOT=path saves a screenshot of the overview (light
// mode; FLOWGATE_UI_THEME=dark for the dark one), and
// FLOWGATE_UI_SCREENSHOT_DETAIL=path one of the request page.
func TestDashboardInARealBrowser(t *testing.T) {
	now := time.Now()
	src := demoSource(now)
	srv := serve(t, Options{Source: src, CheckKey: checkTestKey, Refresh: 300 * time.Millisecond})
	base, _ := url.Parse(srv.URL)

	br := uitest.NewBrowser(t, 1440, 900)
	ctx := br.Ctx

	theme := "light"
	if os.Getenv("FLOWGATE_UI_THEME") == "dark" {
		theme = "dark"
	}
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	must("setting the color scheme", chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: theme}}})
		return err
	})))

	// Without a session the page is refused: the browser lands on the login
	// form and the live data answers 401.
	must("opening /ui/", chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/ui/"), chromedp.WaitVisible("#key")))
	loc, err := chromedp.Run(ctx, chromedp.Location())
	must("location", err)
	if !strings.HasPrefix(loc, srv.URL+"/ui/login?next=") {
		t.Fatalf("without a session /ui/ showed %s, want the login", loc)
	}
	status, err := chromedp.Run(ctx, chromedp.Evaluate[int](`fetch("/ui/live").then(r => r.status)`, chromedp.EvalAwaitPromise))
	must("fetching /ui/live", err)
	if status != http.StatusUnauthorized {
		t.Fatalf("/ui/live without a session answered %d, want 401", status)
	}
	if body, _ := chromedp.Run(ctx, chromedp.Text("body")); strings.Contains(body, "claude-sonnet") {
		t.Fatalf("the login page shows data")
	}

	// The one-time link `flowgate ui` opens signs in, and its token leaves
	// the address bar.
	link := mintLink(t, srv.URL)
	lctx, lcancel := context.WithTimeout(ctx, 10*time.Second)
	err = chromedp.Do(lctx, chromedp.Navigate(srv.URL+link), chromedp.WaitVisible("#requests"))
	lcancel()
	if err != nil {
		l, _ := chromedp.Run(ctx, chromedp.Location())
		b, _ := chromedp.Run(ctx, chromedp.OuterHTML("body"))
		t.Fatalf("opening the one-time link: %v; the browser is at %s showing\n%s", err, l, b)
	}
	loc, _ = chromedp.Run(ctx, chromedp.Location())
	if loc != srv.URL+"/ui/" {
		t.Fatalf("after the link the browser is at %s, want %s/ui/ without the token", loc, srv.URL)
	}

	// Sign out, and in again with the key through the form.
	must("signing out", chromedp.Do(ctx, chromedp.Click(`form[action="/ui/logout"] button`), chromedp.WaitVisible("#key")))
	must("signing in", chromedp.Do(ctx,
		chromedp.SendKeys("#key", testKey),
		chromedp.Submit("#key"),
		chromedp.WaitVisible("#requests")))

	// A request added now appears without a reload, and nothing moves.
	_, err = chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void](`window.__sameDocument = true`))
	must("marking the document", err)
	const layoutJS = `JSON.stringify([document.documentElement.scrollHeight,
		...["#chart-latency", "#chart-tokens", ".requests-box", '[data-live="usage"]'].map(s => {
			const r = document.querySelector(s).getBoundingClientRect();
			return [Math.round(r.top), Math.round(r.height)];
		})])`
	layoutBefore, err := chromedp.Run(ctx, chromedp.Evaluate[string](layoutJS))
	must("measuring the layout", err)
	src.add(Request{ID: "req-live-from-test", Time: time.Now(), Alias: "gpt-5-codex", Deployment: "cliproxy/gpt-5-codex",
		Status: 502, ErrorClass: "upstream_error", Latency: 2700 * time.Millisecond, TTFB: 0, ClientFamily: "codex",
		Attempts: 3, Fallbacks: 1, TokensIn: 5000, TokensOut: 10})
	waitCtx, cancelWait := context.WithTimeout(ctx, 20*time.Second)
	defer cancelWait()
	must("waiting for the new request's row", chromedp.Do(waitCtx, chromedp.WaitVisible(`tr[data-id="req-live-from-test"]`)))
	same, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.__sameDocument === true`))
	must("checking the document", err)
	if !same {
		t.Fatal("the new request appeared only after a reload")
	}
	if layoutAfter, _ := chromedp.Run(ctx, chromedp.Evaluate[string](layoutJS)); layoutAfter != layoutBefore {
		t.Errorf("the live update moved the page: [page height, [top, height] of the charts, the requests and usage] %s, then %s", layoutBefore, layoutAfter)
	}
	row, _ := chromedp.Run(ctx, chromedp.Text(`tr[data-id="req-live-from-test"]`))
	for _, want := range []string{"gpt-5-codex", "502", "upstream_error", "2.70 s", "codex"} {
		if !strings.Contains(row, want) {
			t.Errorf("the new row %q lacks %q", row, want)
		}
	}

	// The charts draw the data: polylines with points, bars with height.
	type chartState struct {
		Lines  int `json:"lines"`
		Points int `json:"points"`
		Bars   int `json:"bars"`
		Height int `json:"height"`
	}
	cs, err := chromedp.Run(ctx, chromedp.Evaluate[chartState](`(() => {
		const lines = [...document.querySelectorAll("#chart-latency svg polyline")];
		const bars = [...document.querySelectorAll("#chart-tokens svg rect")].filter(r => parseFloat(r.getAttribute("height")) > 0);
		return {
			lines: lines.length,
			points: lines.reduce((n, l) => n + l.points.numberOfItems, 0),
			bars: bars.length,
			height: Math.round(document.querySelector("#chart-latency svg").getBoundingClientRect().height),
		};
	})()`))
	must("reading the charts", err)
	if cs.Lines != 3 || cs.Points < 30 || cs.Bars < 20 || cs.Height < 100 {
		t.Errorf("charts: %+v, want 3 latency lines with points, token bars, and a reserved height", cs)
	}

	if p := os.Getenv("FLOWGATE_UI_SCREENSHOT"); p != "" {
		_, err := chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void](`document.querySelector(".requests-box").scrollTop = 0`))
		must("scrolling", err)
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		must("taking the screenshot", err)
		must("writing the screenshot", os.WriteFile(p, png, 0o644))
	}

	// A click on the row opens the request.
	must("opening the request", chromedp.Do(ctx, chromedp.Click(`tr[data-id="req-live-from-test"] td:nth-child(2)`), chromedp.WaitVisible(".detail-head")))
	head, _ := chromedp.Run(ctx, chromedp.Text(".detail-head"))
	if !strings.Contains(head, "req-live-from-test") {
		t.Errorf("detail page head %q", head)
	}
	if p := os.Getenv("FLOWGATE_UI_SCREENSHOT_DETAIL"); p != "" {
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		must("taking the detail screenshot", err)
		must("writing the detail screenshot", os.WriteFile(p, png, 0o644))
	}

	br.CheckOnlyHost(t, base.Host, 5)
}

// mintLink asks the dashboard for a one-time link as `flowgate ui` does.
func mintLink(t *testing.T, base string) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, base+LinkPath, nil)
	req.Header.Set("Authorization", "Bearer "+testKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var lr LinkResponse
	if err := json.NewDecoder(resp.Body).Decode(&lr); err != nil || lr.Path == "" {
		t.Fatalf("minting a link: %d %v", resp.StatusCode, err)
	}
	return lr.Path
}
