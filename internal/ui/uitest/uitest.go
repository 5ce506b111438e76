// Package uitest drives the dashboard in a real headless Chromium for
// tests, recording every URL the page requests.
package uitest

import (
	"context"
	"net/url"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// Browser is one headless Chromium tab. Ctx runs chromedp actions in it
// until the test ends or 90 seconds pass.
type Browser struct {
	Ctx  context.Context
	mu   sync.Mutex
	seen []string
}

// NewBrowser starts Chromium with a width x height window and a fresh
// profile, or skips the test when no Chromium is installed.
func NewBrowser(t *testing.T, width, height int) *Browser {
	t.Helper()
	exe := ""
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			exe = p
			break
		}
	}
	if exe == "" {
		t.Skip("no Chromium on PATH: install Debian's `chromium` package (as .ci/run does) to run the dashboard's browser tests")
	}
	b := &Browser{}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.WindowSize(width, height),
		chromedp.UserDataDir(t.TempDir()))...)
	ctx, cancel := chromedp.NewContext(allocCtx, chromedp.WithListener(func(ev any) {
		if e, ok := ev.(*network.EventRequestWillBeSent); ok {
			b.mu.Lock()
			b.seen = append(b.seen, e.Request.URL)
			b.mu.Unlock()
		}
	}))
	ctx, cancelT := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() {
		cancelT()
		cancel()
		cancelAlloc()
	})
	b.Ctx = ctx
	return b
}

// CheckOnlyHost fails the test unless the page made at least min requests,
// every one of them over http to host (the dashboard loads nothing from
// anywhere else).
func (b *Browser) CheckOnlyHost(t *testing.T, host string, min int) {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.seen) < min {
		t.Fatalf("recorded only %d browser requests: %v", len(b.seen), b.seen)
	}
	for _, u := range b.seen {
		pu, err := url.Parse(u)
		if err != nil || pu.Host != host || pu.Scheme != "http" {
			t.Errorf("the browser requested %s, not on the dashboard's host %s", u, host)
		}
	}
}
