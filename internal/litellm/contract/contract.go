package contract

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"
)

// Client-visible aliases in Doc.
const (
	AliasMain    = "fg-main"    // openai/up-main
	AliasBackup  = "fg-backup"  // openai/up-backup
	AliasBroken  = "fg-broken"  // openai/up-fail-500, falls back to fg-backup
	AliasFailing = "fg-failing" // openai/up-fail-500, no fallback
	AliasLimited = "fg-limited" // openai/up-limited-429, no fallback
	AliasDown    = "fg-down"    // openai/ on a closed port, no fallback
	// CredName is the credentials.upstream entry Doc's models reference.
	CredName = "fake_upstream"
	// GatewayKey is the client key engines are started with.
	GatewayKey = "sk-flowgate-contract-key"
)

// Doc is the merged litellm_base+profile document both engines run from:
// model_list with api_key_ref (never a literal key), fallbacks, one retry.
// downURL is an api_base where nothing listens (ClosedPortURL).
func Doc(upstreamURL, downURL string) map[string]any {
	model := func(alias, upstreamModel, base string) any {
		return map[string]any{
			"model_name": alias,
			"litellm_params": map[string]any{
				"model": "openai/" + upstreamModel, "api_base": base, "api_key_ref": CredName,
			},
		}
	}
	return map[string]any{
		"model_list": []any{
			model(AliasMain, UpstreamModelMain, upstreamURL),
			model(AliasBackup, UpstreamModelBackup, upstreamURL),
			model(AliasBroken, UpstreamModelFail, upstreamURL),
			model(AliasFailing, UpstreamModelFail, upstreamURL),
			model(AliasLimited, UpstreamModelLimited, upstreamURL),
			model(AliasDown, "up-down", downURL),
		},
		"router_settings": map[string]any{
			"num_retries": 0,
			"fallbacks":   []any{map[string]any{AliasBroken: []any{AliasBackup}}},
		},
		"litellm_settings": map[string]any{"request_timeout": 30},
	}
}

// Engine is one gateway implementation under test.
type Engine struct {
	Name string
	// BaseURL and Key address an engine that is already running; Start,
	// when set, fills them instead.
	BaseURL string
	Key     string
	// Start launches the engine against up with doc (from Doc) and the
	// credential {CredName: UpstreamKey}, registers its stop with t.Cleanup,
	// and returns the base URL (no trailing /) and the gateway key.
	Start func(t *testing.T, up *Upstream, doc map[string]any) (baseURL, key string)
	// Differences maps a case name to a known, documented difference
	// (docs/engines.md): the case is run and logged, but does not fail.
	Differences map[string]string
}

// Target is a running engine as cases see it.
type Target struct {
	BaseURL string
	Key     string
	Up      *Upstream
	Client  *http.Client
}

// Case is one contract behaviour.
type Case struct {
	Name string
	Run  func(t testing.TB, tg *Target)
}

// Observation records what an engine does where the contract leaves room
// (failure status codes and shapes); Run logs it, never fails on it.
type Observation struct {
	Name    string
	Observe func(tg *Target) string
}

// Run starts e (when Start is set) and runs Cases and Observations against it.
func Run(t *testing.T, e Engine) {
	up := NewUpstream(t)
	base, key := e.BaseURL, e.Key
	if e.Start != nil {
		base, key = e.Start(t, up, Doc(up.URL, ClosedPortURL(t)))
	}
	tg := &Target{BaseURL: strings.TrimSuffix(base, "/"), Key: key, Up: up, Client: &http.Client{Timeout: 60 * time.Second}}
	for _, c := range Cases {
		t.Run(c.Name, func(t *testing.T) {
			if why, ok := e.Differences[c.Name]; ok {
				rec := &recorder{TB: t}
				func() {
					defer func() { _ = recover() }()
					c.Run(rec, tg)
				}()
				t.Logf("%s: known difference (%s); case result: %s", e.Name, why, rec.result())
				return
			}
			c.Run(t, tg)
		})
	}
	for _, o := range Observations {
		t.Logf("%s observed %s: %s", e.Name, o.Name, o.Observe(tg))
	}
}

// recorder turns failures into a note instead of failing the test.
type recorder struct {
	testing.TB
	failures []string
}

func (r *recorder) Errorf(format string, a ...any) {
	r.failures = append(r.failures, fmt.Sprintf(format, a...))
}
func (r *recorder) Fatalf(format string, a ...any) {
	r.failures = append(r.failures, fmt.Sprintf(format, a...))
	panic(r)
}
func (r *recorder) Fatal(a ...any) { r.Fatalf("%s", fmt.Sprint(a...)) }
func (r *recorder) Error(a ...any) { r.Errorf("%s", fmt.Sprint(a...)) }
func (r *recorder) result() string {
	if len(r.failures) == 0 {
		return "passed"
	}
	return "differs: " + strings.Join(r.failures, "; ")
}

// Do sends a request with the given key (Bearer) and JSON body.
func (tg *Target) Do(method, path, key string, body any, hdr ...string) (*http.Response, []byte, error) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, tg.BaseURL+path, rd)
	if err != nil {
		return nil, nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := tg.Client.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, b, err
}

func must(t testing.TB, tg *Target, method, path, key string, body any, wantStatus int, hdr ...string) []byte {
	t.Helper()
	resp, b, err := tg.Do(method, path, key, body, hdr...)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	if resp.StatusCode != wantStatus {
		t.Fatalf("%s %s: status %d, want %d; body: %.400s", method, path, resp.StatusCode, wantStatus, b)
	}
	return b
}

func chatBody(model string, stream bool) map[string]any {
	return map[string]any{"model": model, "stream": stream, "max_tokens": 16,
		"messages": []any{map[string]any{"role": "user", "content": "say hello"}}}
}

func messagesBody(model string, stream bool) map[string]any {
	return map[string]any{"model": model, "stream": stream, "max_tokens": 16,
		"messages": []any{map[string]any{"role": "user", "content": "say hello"}}}
}

func chatText(t testing.TB, b []byte) string {
	t.Helper()
	var r struct {
		Choices []struct {
			Message struct {
				Content string `json:"content"`
			} `json:"message"`
		} `json:"choices"`
	}
	if err := json.Unmarshal(b, &r); err != nil || len(r.Choices) == 0 {
		t.Fatalf("not a chat completion: %v: %.400s", err, b)
	}
	return r.Choices[0].Message.Content
}

// sseData returns the data payloads of an SSE body, in order.
func sseData(b []byte) []string {
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 64*1024), 4*1024*1024)
	for sc.Scan() {
		if d, ok := strings.CutPrefix(sc.Text(), "data:"); ok {
			out = append(out, strings.TrimSpace(d))
		}
	}
	return out
}

// Cases is the contract every engine must pass.
var Cases = []Case{
	{"ModelsListsAliases", func(t testing.TB, tg *Target) {
		b := must(t, tg, "GET", "/v1/models", tg.Key, nil, 200)
		var r struct {
			Data []struct {
				ID string `json:"id"`
			} `json:"data"`
		}
		if err := json.Unmarshal(b, &r); err != nil {
			t.Fatalf("not an OpenAI model list: %v: %.400s", err, b)
		}
		var ids []string
		for _, d := range r.Data {
			ids = append(ids, d.ID)
		}
		sort.Strings(ids)
		for _, want := range []string{AliasMain, AliasBackup, AliasBroken} {
			if !contains(ids, want) {
				t.Errorf("/v1/models ids %v lack alias %q", ids, want)
			}
		}
	}},
	{"ChatCompletionReturnsUpstreamText", func(t testing.TB, tg *Target) {
		b := must(t, tg, "POST", "/v1/chat/completions", tg.Key, chatBody(AliasMain, false), 200)
		if got := chatText(t, b); got != Text(UpstreamModelMain) {
			t.Errorf("content %q, want %q", got, Text(UpstreamModelMain))
		}
	}},
	{"ChatStreamReturnsUpstreamText", func(t testing.TB, tg *Target) {
		b := must(t, tg, "POST", "/v1/chat/completions", tg.Key, chatBody(AliasMain, true), 200)
		var text strings.Builder
		data := sseData(b)
		for _, d := range data {
			var c struct {
				Choices []struct {
					Delta struct {
						Content string `json:"content"`
					} `json:"delta"`
				} `json:"choices"`
			}
			if d != "[DONE]" && json.Unmarshal([]byte(d), &c) == nil && len(c.Choices) > 0 {
				text.WriteString(c.Choices[0].Delta.Content)
			}
		}
		if text.String() != Text(UpstreamModelMain) {
			t.Errorf("streamed text %q, want %q; body %.600s", text.String(), Text(UpstreamModelMain), b)
		}
		if len(data) == 0 || data[len(data)-1] != "[DONE]" {
			t.Errorf("stream does not end with data: [DONE]: %.600s", b)
		}
	}},
	{"MessagesWorksForOpenAIAlias", func(t testing.TB, tg *Target) {
		before := tg.Up.Hits("/v1/chat/completions", UpstreamModelMain)
		b := must(t, tg, "POST", "/v1/messages", tg.Key, messagesBody(AliasMain, false), 200, "anthropic-version", "2023-06-01")
		var r struct {
			Type    string `json:"type"`
			Role    string `json:"role"`
			Content []struct {
				Type string `json:"type"`
				Text string `json:"text"`
			} `json:"content"`
			StopReason string `json:"stop_reason"`
		}
		if err := json.Unmarshal(b, &r); err != nil {
			t.Fatalf("not an Anthropic message: %v: %.400s", err, b)
		}
		if r.Type != "message" || r.Role != "assistant" || len(r.Content) == 0 || r.Content[0].Text != Text(UpstreamModelMain) {
			t.Errorf("message = %.400s, want type message, assistant text %q", b, Text(UpstreamModelMain))
		}
		if r.StopReason != "end_turn" {
			t.Errorf("stop_reason %q, want end_turn", r.StopReason)
		}
		if tg.Up.Hits("/v1/chat/completions", UpstreamModelMain) == before {
			t.Errorf("upstream /v1/chat/completions was not called (responses hits: %d)", tg.Up.Hits("/v1/responses", ""))
		}
	}},
	{"MessagesStreamWorksForOpenAIAlias", func(t testing.TB, tg *Target) {
		b := must(t, tg, "POST", "/v1/messages", tg.Key, messagesBody(AliasMain, true), 200, "anthropic-version", "2023-06-01")
		var text strings.Builder
		var types []string
		for _, d := range sseData(b) {
			var ev struct {
				Type  string `json:"type"`
				Delta struct {
					Type string `json:"type"`
					Text string `json:"text"`
				} `json:"delta"`
			}
			if json.Unmarshal([]byte(d), &ev) != nil {
				continue
			}
			types = append(types, ev.Type)
			if ev.Type == "content_block_delta" && ev.Delta.Type == "text_delta" {
				text.WriteString(ev.Delta.Text)
			}
		}
		if text.String() != Text(UpstreamModelMain) {
			t.Errorf("streamed text %q, want %q; events %v", text.String(), Text(UpstreamModelMain), types)
		}
		if len(types) == 0 || types[0] != "message_start" || types[len(types)-1] != "message_stop" {
			t.Errorf("events %v: want message_start first and message_stop last", types)
		}
	}},
	{"MessagesAcceptsXAPIKey", func(t testing.TB, tg *Target) {
		must(t, tg, "POST", "/v1/messages", "", messagesBody(AliasMain, false), 200, "x-api-key", tg.Key, "anthropic-version", "2023-06-01")
	}},
	{"FallbackToSecondAliasWhenFirstFails", func(t testing.TB, tg *Target) {
		b := must(t, tg, "POST", "/v1/chat/completions", tg.Key, chatBody(AliasBroken, false), 200)
		if got := chatText(t, b); got != Text(UpstreamModelBackup) {
			t.Errorf("content %q, want the backup's %q", got, Text(UpstreamModelBackup))
		}
		if tg.Up.Hits("/v1/chat/completions", UpstreamModelFail) == 0 {
			t.Errorf("the failing upstream model was never tried")
		}
	}},
	{"WrongKeyIs401", func(t testing.TB, tg *Target) {
		must(t, tg, "POST", "/v1/chat/completions", "sk-wrong-key", chatBody(AliasMain, false), 401)
		must(t, tg, "GET", "/v1/models", "sk-wrong-key", nil, 401)
	}},
	{"MissingKeyIs401", func(t testing.TB, tg *Target) {
		must(t, tg, "POST", "/v1/chat/completions", "", chatBody(AliasMain, false), 401)
	}},
	{"ReadinessWithoutKey", func(t testing.TB, tg *Target) {
		must(t, tg, "GET", "/health/readiness", "", nil, 200)
	}},
	{"LivenessWithoutKey", func(t testing.TB, tg *Target) {
		must(t, tg, "GET", "/health/liveliness", "", nil, 200)
	}},
}

func contains(l []string, s string) bool {
	for _, e := range l {
		if e == s {
			return true
		}
	}
	return false
}

func observe(tg *Target, method, path, key string, body any, hdr ...string) string {
	start := time.Now()
	resp, b, err := tg.Do(method, path, key, body, hdr...)
	if err != nil {
		return "error: " + err.Error()
	}
	extra := ""
	if ra := resp.Header.Get("Retry-After"); ra != "" {
		extra = " retry-after=" + ra
	}
	s := string(b)
	if len(s) > 300 {
		s = s[:300] + "..."
	}
	return fmt.Sprintf("status %d%s in %s; body %s", resp.StatusCode, extra, time.Since(start).Round(time.Millisecond), s)
}

// Observations record failure behaviour for docs/engines.md.
var Observations = []Observation{
	{"WrongKeyBody", func(tg *Target) string {
		return observe(tg, "POST", "/v1/chat/completions", "sk-wrong", chatBody(AliasMain, false))
	}},
	{"Upstream500NoFallback", func(tg *Target) string {
		return observe(tg, "POST", "/v1/chat/completions", tg.Key, chatBody(AliasFailing, false))
	}},
	{"Upstream429", func(tg *Target) string {
		return observe(tg, "POST", "/v1/chat/completions", tg.Key, chatBody(AliasLimited, false))
	}},
	{"UpstreamConnectionRefused", func(tg *Target) string {
		return observe(tg, "POST", "/v1/chat/completions", tg.Key, chatBody(AliasDown, false))
	}},
	{"UnknownModel", func(tg *Target) string {
		return observe(tg, "POST", "/v1/chat/completions", tg.Key, chatBody("no-such-alias", false))
	}},
	{"MessagesUpstream500", func(tg *Target) string {
		return observe(tg, "POST", "/v1/messages", tg.Key, messagesBody(AliasFailing, false), "anthropic-version", "2023-06-01")
	}},
	{"ReadinessBody", func(tg *Target) string { return observe(tg, "GET", "/health/readiness", "", nil) }},
	{"LivenessBody", func(tg *Target) string { return observe(tg, "GET", "/health/liveliness", "", nil) }},
}
