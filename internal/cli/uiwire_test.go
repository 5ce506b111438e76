package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/flowgate/flowgate/internal/ui/uitest"
)

// dashUpstream is an upstream that speaks OpenAI Chat and Anthropic
// Messages with token usage (cache tokens included): model "flaky" answers
// 503 (the gateway falls back), "broken" 500 (the client gets an error).
// With delay set, each answer takes a varied, realistic time (for the
// screenshot's latency chart).
func dashUpstream(t *testing.T, delay bool) *httptest.Server {
	var n atomic.Int64
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Model  string `json:"model"`
			Stream bool   `json:"stream"`
		}
		json.NewDecoder(r.Body).Decode(&req)
		if delay {
			// 150 ms to 1.6 s, messages slower than chat.
			d := time.Duration(150+(n.Add(1)*379)%900) * time.Millisecond
			if strings.HasSuffix(r.URL.Path, "/v1/messages") {
				d += 700 * time.Millisecond
			}
			select {
			case <-time.After(d):
			case <-r.Context().Done():
				return
			}
		}
		if strings.HasSuffix(r.URL.Path, "/v1/messages") {
			if !req.Stream {
				w.Header().Set("Content-Type", "application/json")
				fmt.Fprintf(w, `{"id":"msg_1","type":"message","role":"assistant","model":%q,"content":[{"type":"text","text":"Hello"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":900,"output_tokens":80,"cache_read_input_tokens":12000,"cache_creation_input_tokens":0}}`, req.Model)
				return
			}
			w.Header().Set("Content-Type", "text/event-stream")
			fl := w.(http.Flusher)
			for _, ev := range []string{
				`{"type":"message_start","message":{"id":"msg_2","type":"message","role":"assistant","model":"m","content":[],"stop_reason":null,"usage":{"input_tokens":1200,"output_tokens":1,"cache_read_input_tokens":24000,"cache_creation_input_tokens":800}}}`,
				`{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}`,
				`{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi there"}}`,
				`{"type":"content_block_stop","index":0}`,
				`{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":350}}`,
				`{"type":"message_stop"}`,
			} {
				var e struct {
					Type string `json:"type"`
				}
				json.Unmarshal([]byte(ev), &e)
				fmt.Fprintf(w, "event: %s\ndata: %s\n\n", e.Type, ev)
				fl.Flush()
				time.Sleep(20 * time.Millisecond) // a stream takes a little time: TTFB < latency
			}
			return
		}
		switch req.Model {
		case "flaky":
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, `{"error":{"message":"overloaded","type":"server_error"}}`)
			return
		case "broken":
			w.WriteHeader(http.StatusInternalServerError)
			io.WriteString(w, `{"error":{"message":"internal failure","type":"server_error"}}`)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"id":"c1","object":"chat.completion","model":%q,"choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1500,"completion_tokens":120,"prompt_tokens_details":{"cached_tokens":600}}}`, req.Model)
	}))
	t.Cleanup(up.Close)
	return up
}

// dashGateway writes a project whose gateway routes three aliases to up,
// starts it under the supervisor and returns the config, the gateway's
// base URL and the dashboard's.
func dashGateway(t *testing.T, up string, extraGateway string) (cfg, gwBase, dashBase string) {
	t.Helper()
	root := t.TempDir()
	port, uiPort := freePort(t), freePort(t)
	cfg = filepath.Join(root, "config", "flowgate.yaml")
	os.MkdirAll(filepath.Dir(cfg), 0o755)
	os.WriteFile(filepath.Join(root, "key.txt"), []byte("sk-upstream-test\n"), 0o600)
	os.WriteFile(cfg, []byte(fmt.Sprintf(`config_version: 2
services:
  gateway: {port: %d, ui_port: %d%s}
credentials:
  upstream:
    up: {file: ../key.txt}
litellm_base:
  model_list:
    - model_name: claude-sonnet
      litellm_params: {model: anthropic/claude-sonnet-4-5, api_base: %[4]q, api_key_ref: up}
    - model_name: gpt-fast
      litellm_params: {model: openai/gpt-4.1-mini, api_base: %[5]q, api_key_ref: up}
    - model_name: coder
      litellm_params: {model: openai/flaky, api_base: %[5]q, api_key_ref: up}
    - model_name: broken
      litellm_params: {model: openai/broken, api_base: %[5]q, api_key_ref: up}
  router_settings:
    num_retries: 0
    fallbacks: [{coder: [gpt-fast]}]
  general_settings: {master_key: sk-gateway-test}
profiles:
  only: {}
default_profile: only
integration: {default_model: claude-sonnet}
`, port, uiPort, extraGateway, up, up+"/v1")), 0o600)
	if r := runCLI(t, "--config", cfg, "service", "start", "gateway"); r.code != 0 {
		t.Fatalf("service start gateway: %+v", r)
	}
	t.Cleanup(func() { runCLI(t, "--config", cfg, "down") })
	return cfg, fmt.Sprintf("http://127.0.0.1:%d", port), fmt.Sprintf("http://127.0.0.1:%d", uiPort)
}

// send makes one request through the gateway and returns its request id.
func send(t *testing.T, gwBase, path, body string) (id string, status int) {
	t.Helper()
	req, _ := http.NewRequest("POST", gwBase+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer sk-gateway-test")
	req.Header.Set("Content-Type", "application/json")
	if strings.HasSuffix(path, "/messages") {
		req.Header.Set("Anthropic-Version", "2023-06-01")
		req.Header.Set("User-Agent", "claude-cli/2.0.14 (external, cli)")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.Header.Get("X-Flowgate-Request-Id"), resp.StatusCode
}

// TestDashboardOfTheRealGatewayShowsItsRequestsInARealBrowser runs the real
// gateway under the supervisor with a fake upstream, sends varied requests
// (three aliases, a fallback, an error, a stream with cache tokens), and
// drives headless Chromium against the dashboard on the gateway's ui_port:
// refused without the key, signed in by the link of `flowgate ui --no-open
// --json`, the requests just sent with their alias and deployment, charts
// with data, and every browser request to the dashboard's own host:port.
// FLOWGATE_UI_SCREENSHOT=path saves a screenshot of the page.
func TestDashboardOfTheRealGatewayShowsItsRequestsInARealBrowser(t *testing.T) {
	shot := os.Getenv("FLOWGATE_UI_SCREENSHOT")
	up := dashUpstream(t, shot != "")
	cfg, gwBase, dashBase := dashGateway(t, up.URL, "")

	chat := func(model string) string {
		return `{"model":"` + model + `","messages":[{"role":"user","content":"hi"}]}`
	}
	// For the screenshot the same traffic comes in rounds over a few
	// minutes, so that the charts have more than one one-minute bucket.
	rounds, sent := 1, 0
	if shot != "" {
		rounds = 5
	}
	var streamID, errID, fallbackID string
	for round := 0; round < rounds; round++ {
		if round > 0 {
			next := time.Now().Truncate(time.Minute).Add(time.Minute + 5*time.Second)
			t.Logf("screenshot traffic: round %d of %d at %s", round+1, rounds, next.Format("15:04:05"))
			time.Sleep(time.Until(next))
		}
		for i := 0; i < 3-round%2; i++ {
			send(t, gwBase, "/v1/chat/completions", chat("gpt-fast"))
			send(t, gwBase, "/v1/messages", `{"model":"claude-sonnet","max_tokens":64,"messages":[{"role":"user","content":"hi"}]}`)
			sent += 2
		}
		fallbackID, _ = send(t, gwBase, "/v1/chat/completions", chat("coder"))
		var status int
		errID, status = send(t, gwBase, "/v1/chat/completions", chat("broken"))
		if status < 500 {
			t.Fatalf("the broken alias answered %d, want a 5xx", status)
		}
		streamID, status = send(t, gwBase, "/v1/messages", `{"model":"claude-sonnet","max_tokens":64,"stream":true,"messages":[{"role":"user","content":"hi"}]}`)
		if status != 200 || streamID == "" {
			t.Fatalf("stream: %d, id %q", status, streamID)
		}
		sent += 3
	}
	waitFor(t, 15*time.Second, fmt.Sprintf("the %d requests in the request log", sent), func() bool {
		r := runCLI(t, "--config", cfg, "--json", "requests", "-n", "200")
		var recs []json.RawMessage
		return json.Unmarshal([]byte(r.stdout), &recs) == nil && len(recs) == sent
	})

	// A page from another site that a DNS-rebinding name points here is refused.
	req, _ := http.NewRequest("GET", dashBase+"/ui/login", nil)
	req.Host = "rebind.example:" + strings.TrimPrefix(dashBase, "http://127.0.0.1:")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("a foreign Host: %v %v, want 403", resp, err)
	} else {
		resp.Body.Close()
	}

	base, _ := url.Parse(dashBase)
	br := uitest.NewBrowser(t, 1440, 1000)
	ctx := br.Ctx
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	theme := "light"
	if os.Getenv("FLOWGATE_UI_THEME") == "dark" {
		theme = "dark"
	}
	must("setting the color scheme", chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: theme}}})
		return err
	})))

	// Without the key: the login form, and the data answers 401.
	must("opening /ui/", chromedp.Do(ctx, chromedp.Navigate(dashBase+"/ui/"), chromedp.WaitVisible("#key")))
	loc, err := chromedp.Run(ctx, chromedp.Location())
	must("location", err)
	if !strings.HasPrefix(loc, dashBase+"/ui/login?next=") {
		t.Fatalf("without a session /ui/ showed %s, want the login", loc)
	}
	code, err := chromedp.Run(ctx, chromedp.Evaluate[int](`fetch("/ui/live").then(r => r.status)`, chromedp.EvalAwaitPromise))
	must("fetching /ui/live", err)
	if code != http.StatusUnauthorized {
		t.Fatalf("/ui/live without a session answered %d, want 401", code)
	}

	// `flowgate ui --no-open --json` gives a link that signs in.
	r := runCLI(t, "--config", cfg, "--json", "ui", "--no-open")
	var link uiResult
	if err := json.Unmarshal([]byte(r.stdout), &link); err != nil || r.code != 0 || !strings.HasPrefix(link.URL, dashBase+"/ui/login#once=") {
		t.Fatalf("flowgate ui --no-open --json: %+v (%v)", r, err)
	}
	must("opening the link", chromedp.Do(ctx, chromedp.Navigate(link.URL), chromedp.WaitVisible("#requests")))
	loc, err = chromedp.Run(ctx, chromedp.Location())
	must("location", err)
	if loc != dashBase+"/ui/" {
		t.Fatalf("after the link the browser is at %s, want %s/ui/", loc, dashBase)
	}

	// The requests just sent, with their alias and deployment.
	for _, c := range []struct{ id, alias, deployment, more string }{
		{streamID, "claude-sonnet", "anthropic/claude-sonnet-4-5", "200"},
		{fallbackID, "coder", "openai/gpt-4.1-mini", "200"},
		{errID, "broken", "openai/broken", "upstream"},
	} {
		sel := `tr[data-id="` + c.id + `"]`
		must("the row of "+c.alias, chromedp.Do(ctx, chromedp.WaitVisible(sel)))
		row, err := chromedp.Run(ctx, chromedp.Text(sel))
		must("the row of "+c.alias, err)
		for _, want := range []string{c.alias, c.deployment, c.more} {
			if !strings.Contains(row, want) {
				t.Errorf("the row of request %s (%s) %q lacks %q", c.id, c.alias, row, want)
			}
		}
	}
	body, err := chromedp.Run(ctx, chromedp.Text("body"))
	must("reading the page", err)
	for _, want := range []string{"gateway", "claude-sonnet", "gpt-fast", "coder", "broken", "openai/flaky"} {
		if !strings.Contains(body, want) {
			t.Errorf("the page does not show %q", want)
		}
	}

	// The charts draw the data.
	type chartState struct {
		Lines  int `json:"lines"`
		Points int `json:"points"`
		Bars   int `json:"bars"`
	}
	cs, err := chromedp.Run(ctx, chromedp.Evaluate[chartState](`(() => {
		const lines = [...document.querySelectorAll("#chart-latency svg polyline")];
		const bars = [...document.querySelectorAll("#chart-tokens svg rect")].filter(r => parseFloat(r.getAttribute("height")) > 0);
		return {lines: lines.length, points: lines.reduce((n, l) => n + l.points.numberOfItems, 0), bars: bars.length};
	})()`))
	must("reading the charts", err)
	if cs.Lines == 0 || cs.Points == 0 || cs.Bars == 0 {
		t.Errorf("charts: %+v, want latency lines with points and token bars", cs)
	}

	if p := shot; p != "" {
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		must("taking the screenshot", err)
		must("writing the screenshot", os.WriteFile(p, png, 0o644))
	}

	// A click on the stream opens it: its cache tokens are there.
	must("opening the stream", chromedp.Do(ctx, chromedp.Click(`tr[data-id="`+streamID+`"] td:nth-child(2)`), chromedp.WaitVisible(".detail-head")))
	detail, err := chromedp.Run(ctx, chromedp.Text("main"))
	must("reading the request", err)
	for _, want := range []string{streamID, "claude-code", "messages", "stream", "24,000", "800", "1,200"} {
		if !strings.Contains(detail, want) {
			t.Errorf("the stream's page lacks %q:\n%s", want, detail)
		}
	}

	br.CheckOnlyHost(t, base.Host, 5)
}

// TestATakenDashboardPortLeavesTheGatewayServingAndHealthSaysSo: the
// dashboard never takes the gateway down.
func TestATakenDashboardPortLeavesTheGatewayServingAndHealthSaysSo(t *testing.T) {
	up := dashUpstream(t, false)
	holder, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()
	taken := holder.Addr().(*net.TCPAddr).Port
	root := t.TempDir()
	port := freePort(t)
	cfg := filepath.Join(root, "config", "flowgate.yaml")
	os.MkdirAll(filepath.Dir(cfg), 0o755)
	os.WriteFile(cfg, []byte(fmt.Sprintf(`config_version: 2
services:
  gateway: {port: %d, ui_port: %d}
litellm_base:
  model_list:
    - model_name: gpt-fast
      litellm_params: {model: openai/gpt-4.1-mini, api_base: %q, api_key: x}
  general_settings: {master_key: sk-gateway-test}
profiles:
  only: {}
integration: {default_model: gpt-fast}
`, port, taken, up.URL+"/v1")), 0o600)
	if r := runCLI(t, "--config", cfg, "service", "start", "gateway"); r.code != 0 {
		t.Fatalf("the gateway must start with its dashboard port taken: %+v", r)
	}
	t.Cleanup(func() { runCLI(t, "--config", cfg, "down") })
	if _, status := send(t, fmt.Sprintf("http://127.0.0.1:%d", port), "/v1/chat/completions", `{"model":"gpt-fast","messages":[{"role":"user","content":"hi"}]}`); status != 200 {
		t.Fatalf("the API answered %d", status)
	}
	r := runCLI(t, "--config", cfg, "health")
	want := fmt.Sprintf("warning: dashboard: cannot listen on 127.0.0.1:%d", taken)
	if !strings.Contains(r.stdout, want) || !strings.Contains(r.stdout, "services.gateway.ui_port") {
		t.Fatalf("health does not warn about the dashboard (want %q):\n%s%s", want, r.stdout, r.stderr)
	}
	if r := runCLI(t, "--config", cfg, "ui", "--no-open"); r.code != ExitFailed {
		t.Errorf("flowgate ui with no dashboard listening: %+v, want exit 1", r)
	}
}

func TestFlowgateUISaysTheDashboardIsOff(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "config", "flowgate.yaml")
	os.MkdirAll(filepath.Dir(cfg), 0o755)
	os.WriteFile(cfg, []byte(`config_version: 2
services:
  gateway: {ui_port: off}
litellm_base:
  model_list:
    - model_name: router-default
      litellm_params: {model: openai/m, api_base: "http://127.0.0.1:9/v1", api_key: x}
  general_settings: {master_key: sk-ui-test}
profiles:
  only: {}
`), 0o600)
	r := runCLI(t, "--config", cfg, "ui", "--no-open")
	if r.code != ExitUsage || !strings.Contains(r.stderr, "services.gateway.ui_port") {
		t.Fatalf("ui_port: off: %+v, want exit 2 naming the field", r)
	}
}
