package gateway_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/anthropics/anthropic-sdk-go"
	"github.com/openai/openai-go/v3"
)

// Upstream streams of each protocol, as a head (events that begin an answer)
// and a tail (the events that end it, terminal event last).
const (
	chatHead = "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"up-model\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":null}]}\n\n" +
		"data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"up-model\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hel\"},\"finish_reason\":null}]}\n\n"
	chatFinish = "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"up-model\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"lo\"},\"finish_reason\":\"stop\"}]}\n\n"
	chatTail   = chatFinish + "data: [DONE]\n\n"

	msgHead = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"up-model\",\"content\":[],\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":3,\"output_tokens\":0}}}\n\n" +
		"event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n" +
		"event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hel\"}}\n\n"
	msgTail = "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"lo\"}}\n\n" +
		"event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n" +
		"event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":2}}\n\n" +
		"event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"

	respHead = "event: response.created\ndata: {\"type\":\"response.created\",\"sequence_number\":0,\"response\":{\"id\":\"resp_1\",\"object\":\"response\",\"created_at\":1,\"status\":\"in_progress\",\"model\":\"up-model\",\"output\":[]}}\n\n" +
		"event: response.output_item.added\ndata: {\"type\":\"response.output_item.added\",\"sequence_number\":1,\"output_index\":0,\"item\":{\"id\":\"msg_1\",\"type\":\"message\",\"status\":\"in_progress\",\"role\":\"assistant\",\"content\":[]}}\n\n" +
		"event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"sequence_number\":2,\"item_id\":\"msg_1\",\"output_index\":0,\"content_index\":0,\"delta\":\"Hel\"}\n\n"
	respTail = "event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"sequence_number\":3,\"item_id\":\"msg_1\",\"output_index\":0,\"content_index\":0,\"delta\":\"lo\"}\n\n" +
		"event: response.output_item.done\ndata: {\"type\":\"response.output_item.done\",\"sequence_number\":4,\"output_index\":0,\"item\":{\"id\":\"msg_1\",\"type\":\"message\",\"status\":\"completed\",\"role\":\"assistant\",\"content\":[{\"type\":\"output_text\",\"text\":\"Hello\",\"annotations\":[]}]}}\n\n" +
		"event: response.completed\ndata: {\"type\":\"response.completed\",\"sequence_number\":5,\"response\":{\"id\":\"resp_1\",\"object\":\"response\",\"created_at\":1,\"status\":\"completed\",\"model\":\"up-model\",\"output\":[{\"id\":\"msg_1\",\"type\":\"message\",\"status\":\"completed\",\"role\":\"assistant\",\"content\":[{\"type\":\"output_text\",\"text\":\"Hello\",\"annotations\":[]}]}],\"usage\":{\"input_tokens\":1,\"output_tokens\":2,\"total_tokens\":3}}}\n\n"

	// cutFrame is an event cut off mid-line by a dying connection.
	cutFrame = "data: {\"id\":\"c1\",\"obj"
)

// sseUpstream answers every request with body as text/event-stream. With
// hold it then keeps the connection open until the request ends, as an
// upstream that never closes; else the response ends.
func sseUpstream(t *testing.T, body string, hold bool) (*httptest.Server, *atomic.Int64) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		hits.Add(1)
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, body)
		w.(http.Flusher).Flush()
		if hold {
			<-r.Context().Done()
		}
	}))
	t.Cleanup(func() { srv.CloseClientConnections(); srv.Close() })
	return srv, &hits
}

// protoCase is one client protocol spoken by a pass-through deployment.
type protoCase struct {
	name, path, body, alias, model, head, tail string
}

func protoCases(base map[string]string) []protoCase {
	return []protoCase{
		{"chat", "/v1/chat/completions", `{"model":"coder","stream":true,"messages":[{"role":"user","content":"hi"}]}`, "coder", "openai/up-model", chatHead, chatTail},
		{"messages", "/v1/messages", `{"model":"claude","stream":true,"max_tokens":5,"messages":[{"role":"user","content":"hi"}]}`, "claude", "anthropic/up-model", msgHead, msgTail},
		{"responses", "/v1/responses", `{"model":"codex","stream":true,"input":"hi"}`, "codex", "openai_responses/up-model", respHead, respTail},
	}
}

// apiBase is where a deployment of the case's protocol points at srv.
func (c protoCase) apiBase(srv string) string {
	if c.name == "messages" {
		return srv
	}
	return srv + "/v1"
}

type depHealth struct {
	ID                  string `json:"id"`
	ModelGroup          string `json:"model_group"`
	APIBase             string `json:"api_base"`
	State               string `json:"state"`
	ConsecutiveFailures int    `json:"consecutive_failures"`
	LastError           string `json:"last_error"`
}

func (g *gw) health(t *testing.T) []depHealth {
	t.Helper()
	req, _ := http.NewRequest("GET", g.URL+"/health", nil)
	req.Header.Set("Authorization", "Bearer "+gatewayKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var h struct{ Deployments []depHealth }
	if err := json.NewDecoder(resp.Body).Decode(&h); err != nil {
		t.Fatal(err)
	}
	return h.Deployments
}

// deployment finds the health of the deployment whose api_base starts with base.
func deployment(t *testing.T, hs []depHealth, base string) depHealth {
	t.Helper()
	for _, h := range hs {
		if strings.HasPrefix(h.APIBase, base) {
			return h
		}
	}
	t.Fatalf("no deployment at %s in %+v", base, hs)
	return depHealth{}
}

// metric reads one sample of /metrics by its name and labels (in
// Prometheus order); 0 when the series does not exist.
func (g *gw) metric(t *testing.T, name string, labels ...string) float64 {
	t.Helper()
	resp, err := http.Get(g.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var sel strings.Builder
	for i := 0; i+1 < len(labels); i += 2 {
		if i > 0 {
			sel.WriteByte(',')
		}
		sel.WriteString(labels[i] + `="` + labels[i+1] + `"`)
	}
	re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name+"{"+sel.String()+"}") + ` (\S+)$`)
	m := re.FindSubmatch(raw)
	if m == nil {
		return 0
	}
	v, err := strconv.ParseFloat(string(m[1]), 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestPassthroughStreamCutBeforeItsTerminalEventEndsWithAnErrorEventAndCountsAFailure(t *testing.T) {
	cases := protoCases(nil)
	var deps []any
	ups := map[string]string{}
	for _, c := range cases {
		srv, _ := sseUpstream(t, c.head+cutFrame, false)
		ups[c.name] = c.apiBase(srv.URL)
		deps = append(deps, dep(c.alias, c.model, ups[c.name], nil))
	}
	g := startGateway(t, doc(deps, map[string]any{"num_retries": 2, "allowed_fails": 10}), newClock())
	oc, ac := openaiClient(g, gatewayKey), anthropicClient(g, gatewayKey)

	// The official SDKs see an error, not a clean end.
	st := oc.Chat.Completions.NewStreaming(context.Background(), chatParams("coder"))
	var text strings.Builder
	for st.Next() {
		if ch := st.Current(); len(ch.Choices) > 0 {
			text.WriteString(ch.Choices[0].Delta.Content)
		}
	}
	if st.Err() == nil || !strings.Contains(st.Err().Error(), "terminal event") || text.String() != "Hel" {
		t.Errorf("chat SDK: err=%v text=%q", st.Err(), text.String())
	}
	ast := ac.Messages.NewStreaming(context.Background(), msgParams("claude"))
	var msg anthropic.Message
	for ast.Next() {
		if err := msg.Accumulate(ast.Current()); err != nil {
			t.Fatal(err)
		}
	}
	if ast.Err() == nil || !strings.Contains(ast.Err().Error(), "terminal event") {
		t.Errorf("messages SDK: err=%v", ast.Err())
	}
	rst := oc.Responses.NewStreaming(context.Background(), respParams("codex"))
	var types []string
	var last string
	for rst.Next() {
		ev := rst.Current()
		types = append(types, ev.Type)
		if ev.Type == "error" {
			last = ev.Message
		}
	}
	if rst.Err() != nil || len(types) != 4 || types[3] != "error" || !strings.Contains(last, "terminal event") {
		t.Errorf("responses SDK: err=%v events=%v message=%q", rst.Err(), types, last)
	}

	// On the wire: the upstream's complete events, then the protocol's
	// error event; the cut-off event never reaches the client.
	wantEnd := map[string]string{
		"chat":      "data: {\"error\":{\"message\":\"upstream sent an unusable response: upstream stream ended before its terminal event (data: [DONE]); the answer is incomplete, send the request again\",\"type\":\"server_error\",\"param\":null,\"code\":\"502\"}}\n\n",
		"messages":  "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"api_error\",\"message\":\"upstream sent an unusable response: upstream stream ended before its terminal event (message_stop); the answer is incomplete, send the request again\"}}\n\n",
		"responses": "event: error\ndata: {\"type\":\"error\",\"code\":\"server_error\",\"message\":\"upstream sent an unusable response: upstream stream ended before its terminal event (response.completed); the answer is incomplete, send the request again\",\"param\":null,\"sequence_number\":3}\n\n",
	}
	for _, c := range cases {
		resp, body := g.post(t, c.path, c.body, nil)
		want := strings.ReplaceAll(c.head, `"model":"up-model"`, `"model":"`+c.alias+`"`) + wantEnd[c.name]
		if resp.StatusCode != 200 || body != want {
			t.Errorf("%s: %d\n got %q\nwant %q", c.name, resp.StatusCode, body, want)
		}
	}

	// Each attempt failed for the router (no retry after the first byte)
	// and for the metrics. The client sees the error event just before the
	// gateway's handler records the failure: wait for it.
	var hs []depHealth
	waitFor(t, "six failed attempts", func() bool {
		hs, n := g.health(t), 0
		for _, d := range hs {
			n += d.ConsecutiveFailures
		}
		return n == 6
	})
	hs = g.health(t)
	for _, c := range cases {
		d := deployment(t, hs, ups[c.name])
		if d.ConsecutiveFailures != 2 || !strings.Contains(d.LastError, "before its terminal event") {
			t.Errorf("%s health: %+v", c.name, d)
		}
		if n := g.metric(t, "flowgate_upstream_stream_failures_total", "deployment", d.ID, "reason", "truncated"); n != 2 {
			t.Errorf("%s: stream failures %v, want 2", c.name, n)
		}
		if n := g.metric(t, "flowgate_upstream_attempts_total", "deployment", d.ID, "model_group", c.alias, "outcome", "bad_response"); n != 2 {
			t.Errorf("%s: bad_response attempts %v, want 2", c.name, n)
		}
		if n := g.metric(t, "flowgate_upstream_attempts_total", "deployment", d.ID, "model_group", c.alias, "outcome", "ok"); n != 0 {
			t.Errorf("%s: ok attempts %v, want 0", c.name, n)
		}
	}
}

func TestPassthroughGarbageStreamIsRetriedOnTheNextDeploymentAndCountsAFailure(t *testing.T) {
	garbage := map[string][]struct{ body, reason string }{
		"chat": {
			{"<html><body>502 Bad Gateway</body></html>", "not_sse"},
			{"data: this is not json\n\n", "invalid_first_event"},
			{"data: {\"hello\":\"world\"}\n\n", "invalid_first_event"},
			{": keep-alive\n\ndata: [DONE]\n\n", "invalid_first_event"},
		},
		"messages": {
			{"<html><body>502 Bad Gateway</body></html>", "not_sse"},
			{"event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"x\"}}\n\n", "invalid_first_event"},
			{"event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\"\n\n", "invalid_first_event"},
		},
		"responses": {
			{"<html><body>502 Bad Gateway</body></html>", "not_sse"},
			{"event: message_start\ndata: {\"type\":\"message_start\"}\n\n", "invalid_first_event"},
			{"data: {\"type\":\"response.created\",\n\n", "invalid_first_event"},
		},
	}
	for _, c := range protoCases(nil) {
		for i, gb := range garbage[c.name] {
			t.Run(c.name+"/"+strconv.Itoa(i), func(t *testing.T) {
				bad, badHits := sseUpstream(t, gb.body, false)
				good, goodHits := sseUpstream(t, c.head+c.tail, false)
				g := startGateway(t, doc([]any{
					dep(c.alias, c.model, c.apiBase(bad.URL), map[string]any{"order": 1}),
					dep(c.alias, c.model, c.apiBase(good.URL), map[string]any{"order": 2}),
				}, map[string]any{"num_retries": 1, "allowed_fails": 10}), newClock())
				resp, body := g.post(t, c.path, c.body, nil)
				want := strings.ReplaceAll(c.head+c.tail, `"model":"up-model"`, `"model":"`+c.alias+`"`)
				if resp.StatusCode != 200 || body != want || resp.Header.Get("X-Flowgate-Attempts") != "2" {
					t.Fatalf("%d attempts=%s\n got %q\nwant %q", resp.StatusCode, resp.Header.Get("X-Flowgate-Attempts"), body, want)
				}
				if badHits.Load() != 1 || goodHits.Load() != 1 {
					t.Fatalf("hits bad %d good %d", badHits.Load(), goodHits.Load())
				}
				hs := g.health(t)
				d := deployment(t, hs, c.apiBase(bad.URL))
				if d.ConsecutiveFailures != 1 || d.LastError == "" {
					t.Fatalf("garbage deployment health %+v", d)
				}
				if n := g.metric(t, "flowgate_upstream_stream_failures_total", "deployment", d.ID, "reason", gb.reason); n != 1 {
					t.Fatalf("stream failures reason %s: %v", gb.reason, n)
				}
				if d := deployment(t, hs, c.apiBase(good.URL)); d.ConsecutiveFailures != 0 {
					t.Fatalf("good deployment health %+v", d)
				}
			})
		}
	}
}

func TestPassthroughGarbageStreamWithNoOtherDeploymentIsAnErrorInTheCallersShape(t *testing.T) {
	srv, _ := sseUpstream(t, "<html>oops</html>", false)
	var deps []any
	for _, c := range protoCases(nil) {
		deps = append(deps, dep(c.alias, c.model, c.apiBase(srv.URL), nil))
	}
	g := startGateway(t, doc(deps, map[string]any{"num_retries": 0}), newClock())
	oc, ac := openaiClient(g, gatewayKey), anthropicClient(g, gatewayKey)

	st := oc.Chat.Completions.NewStreaming(context.Background(), chatParams("coder"))
	for st.Next() {
	}
	var oe *openai.Error
	if !errors.As(st.Err(), &oe) || oe.StatusCode != 502 || !strings.Contains(oe.Message, "not server-sent events") {
		t.Errorf("chat: %v", st.Err())
	}
	ast := ac.Messages.NewStreaming(context.Background(), msgParams("claude"))
	for ast.Next() {
	}
	var ae *anthropic.Error
	if !errors.As(ast.Err(), &ae) || ae.StatusCode != 502 || !strings.Contains(ae.Error(), "not server-sent events") {
		t.Errorf("messages: %v", ast.Err())
	}
	rst := oc.Responses.NewStreaming(context.Background(), respParams("codex"))
	for rst.Next() {
	}
	if !errors.As(rst.Err(), &oe) || oe.StatusCode != 502 {
		t.Errorf("responses: %v", rst.Err())
	}
}

func TestUpstreamErrorEventBeforeFirstByteIsRetriedAndAfterItIsRelayedOnceAndCounted(t *testing.T) {
	overloaded := "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n"
	first, _ := sseUpstream(t, overloaded, false)
	good, _ := sseUpstream(t, msgHead+msgTail, false)
	mid, _ := sseUpstream(t, msgHead+overloaded, false)
	g := startGateway(t, doc([]any{
		dep("claude", "anthropic/up-model", first.URL, map[string]any{"order": 1}),
		dep("claude", "anthropic/up-model", good.URL, map[string]any{"order": 2}),
		dep("lonely", "anthropic/up-model", first.URL, nil),
		dep("midway", "anthropic/up-model", mid.URL, nil),
	}, map[string]any{"num_retries": 1, "allowed_fails": 10}), newClock())

	resp, body := g.post(t, "/v1/messages", `{"model":"claude","stream":true,"max_tokens":5,"messages":[]}`, nil)
	if resp.StatusCode != 200 || !strings.HasSuffix(body, "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n") || resp.Header.Get("X-Flowgate-Attempts") != "2" {
		t.Fatalf("retry: %d %q", resp.StatusCode, body)
	}
	// Alone, the upstream's overload is the client's answer, with its status.
	resp, body = g.post(t, "/v1/messages", `{"model":"lonely","stream":true,"max_tokens":5,"messages":[]}`, nil)
	if resp.StatusCode != 529 || body != `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}` {
		t.Fatalf("alone: %d %q", resp.StatusCode, body)
	}
	// Mid-stream, the upstream's own error event reaches the client once.
	resp, body = g.post(t, "/v1/messages", `{"model":"midway","stream":true,"max_tokens":5,"messages":[]}`, nil)
	if resp.StatusCode != 200 || body != strings.ReplaceAll(msgHead, "up-model", "midway")+overloaded {
		t.Fatalf("mid-stream: %d %q", resp.StatusCode, body)
	}
	waitFor(t, "the mid-stream failure", func() bool { return deployment(t, g.health(t), mid.URL).ConsecutiveFailures == 1 })
	hs := g.health(t)
	d := deployment(t, hs, mid.URL)
	if d.ConsecutiveFailures != 1 || !strings.Contains(d.LastError, "529") {
		t.Fatalf("mid-stream health %+v", d)
	}
	if n := g.metric(t, "flowgate_upstream_stream_failures_total", "deployment", d.ID, "reason", "upstream_error"); n != 1 {
		t.Fatalf("upstream_error count %v", n)
	}
	if n := g.metric(t, "flowgate_upstream_stream_failures_total", "deployment", deployment(t, hs, first.URL).ID, "reason", "upstream_error"); n < 1 {
		t.Fatalf("first deployment upstream_error count %v", n)
	}
}

func TestStreamEndsAtItsTerminalEventEvenWhenTheUpstreamKeepsTheConnectionOpen(t *testing.T) {
	var deps []any
	for _, c := range protoCases(nil) {
		srv, _ := sseUpstream(t, c.head+c.tail, true)
		deps = append(deps, dep(c.alias, c.model, c.apiBase(srv.URL), nil))
	}
	// A long idle timeout: the test would notice it.
	g := startGateway(t, doc(deps, map[string]any{"stream_idle_timeout": 300}), newClock())
	for _, c := range protoCases(nil) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		req, _ := http.NewRequestWithContext(ctx, "POST", g.URL+c.path, strings.NewReader(c.body))
		req.Header.Set("Authorization", "Bearer "+gatewayKey)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		cancel()
		if err != nil || string(body) != strings.ReplaceAll(c.head+c.tail, `"model":"up-model"`, `"model":"`+c.alias+`"`) {
			t.Errorf("%s: %v %q", c.name, err, body)
		}
	}
	for _, d := range g.health(t) {
		if d.ConsecutiveFailures != 0 || d.LastError != "" {
			t.Errorf("success counted as failure: %+v", d)
		}
	}
}

func TestChatStreamEndingAfterFinishReasonWithoutDoneIsComplete(t *testing.T) {
	srv, _ := sseUpstream(t, chatHead+chatFinish, false)
	g := startGateway(t, doc([]any{dep("coder", "openai/up-model", srv.URL+"/v1", nil)}, nil), newClock())
	oc := openaiClient(g, gatewayKey)
	st := oc.Chat.Completions.NewStreaming(context.Background(), chatParams("coder"))
	var text strings.Builder
	for st.Next() {
		if ch := st.Current(); len(ch.Choices) > 0 {
			text.WriteString(ch.Choices[0].Delta.Content)
		}
	}
	if st.Err() != nil || text.String() != "Hello" {
		t.Fatalf("err=%v text=%q", st.Err(), text.String())
	}
	if d := g.health(t)[0]; d.ConsecutiveFailures != 0 || d.LastError != "" {
		t.Fatalf("counted as a failure: %+v", d)
	}
}

// Translated streams follow the same rule: the upstream's terminal event
// decides, and a cut stream is a failed attempt, not only an error event.
func TestTranslatedStreamCutBeforeItsTerminalEventCountsAFailure(t *testing.T) {
	chat, _ := sseUpstream(t, chatHead+cutFrame, false)
	msgs, _ := sseUpstream(t, msgHead, false)
	g := startGateway(t, doc([]any{
		dep("claude", "openai/up-model", chat.URL+"/v1", nil),
		dep("coder", "anthropic/up-model", msgs.URL, nil),
	}, map[string]any{"allowed_fails": 10}), newClock())
	oc, ac := openaiClient(g, gatewayKey), anthropicClient(g, gatewayKey)
	ast := ac.Messages.NewStreaming(context.Background(), msgParams("claude"))
	for ast.Next() {
	}
	if ast.Err() == nil {
		t.Error("messages client of a chat upstream saw a clean end")
	}
	st := oc.Chat.Completions.NewStreaming(context.Background(), chatParams("coder"))
	for st.Next() {
	}
	if st.Err() == nil {
		t.Error("chat client of a messages upstream saw a clean end")
	}
	waitFor(t, "two failed attempts", func() bool {
		hs, n := g.health(t), 0
		for _, d := range hs {
			n += d.ConsecutiveFailures
		}
		return n == 2
	})
	hs := g.health(t)
	for _, base := range []string{chat.URL, msgs.URL} {
		d := deployment(t, hs, base)
		if d.ConsecutiveFailures != 1 {
			t.Errorf("%s health %+v", base, d)
		}
		if n := g.metric(t, "flowgate_upstream_stream_failures_total", "deployment", d.ID, "reason", "truncated"); n != 1 {
			t.Errorf("%s truncated %v", base, n)
		}
	}
}

// A finish_reason inside a chunk cut off by the connection's end does not
// make the stream complete: the client never received that chunk.
func TestChatStreamCutInsideItsFinishChunkIsTruncated(t *testing.T) {
	srv, _ := sseUpstream(t, chatHead+strings.TrimSuffix(chatFinish, "}]}\n\n"), false)
	g := startGateway(t, doc([]any{dep("coder", "openai/up-model", srv.URL+"/v1", nil)}, nil), newClock())
	resp, body := g.post(t, "/v1/chat/completions", `{"model":"coder","stream":true,"messages":[]}`, nil)
	if resp.StatusCode != 200 || strings.Contains(body, "finish_reason\":\"stop") || !strings.HasSuffix(body, "\"code\":\"502\"}}\n\n") {
		t.Fatalf("%d %q", resp.StatusCode, body)
	}
	if d := g.health(t)[0]; d.ConsecutiveFailures != 1 {
		t.Fatalf("health %+v", d)
	}
}
