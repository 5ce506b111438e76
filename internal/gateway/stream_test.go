package gateway_test

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestStreamFailureAfterFirstByteBecomesErrorEventWithoutRetry(t *testing.T) {
	up := newUpstream(t, "breakstream")
	other := newUpstream(t, "ok")
	g := startGateway(t, doc([]any{
		dep("coder", "openai/up-model", up.URL+"/v1", map[string]any{"order": 1}),
		dep("coder", "openai/up-model", other.URL+"/v1", map[string]any{"order": 2}),
		dep("claude", "anthropic/up-model", up.URL, nil),
	}, map[string]any{"num_retries": 2}), newClock())

	c := openaiClient(g, gatewayKey)
	st := c.Chat.Completions.NewStreaming(context.Background(), chatParams("coder"))
	var text strings.Builder
	for st.Next() {
		if ch := st.Current(); len(ch.Choices) > 0 {
			text.WriteString(ch.Choices[0].Delta.Content)
		}
	}
	if st.Err() == nil || text.String() != "P0P1" {
		t.Fatalf("openai stream: err=%v text=%q", st.Err(), text.String())
	}
	if up.hits.Load() != 1 || other.hits.Load() != 0 {
		t.Fatalf("retried after first byte: hits %d/%d", up.hits.Load(), other.hits.Load())
	}

	a := anthropicClient(g, gatewayKey)
	ast := a.Messages.NewStreaming(context.Background(), msgParams("claude"))
	n := 0
	for ast.Next() {
		n++
	}
	if ast.Err() == nil || n < 3 {
		t.Fatalf("anthropic stream: err=%v events=%d", ast.Err(), n)
	}
	// raw: the error is an event, and the response ends cleanly
	resp, body := g.post(t, "/v1/messages", `{"model":"claude","max_tokens":5,"stream":true,"messages":[]}`, nil)
	if resp.StatusCode != 200 || !strings.HasSuffix(body, "\n\n") || !strings.Contains(body, "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"api_error\"") {
		t.Fatalf("%d %q", resp.StatusCode, body)
	}
}

func TestStreamRetriedBeforeFirstByte(t *testing.T) {
	bad := newUpstream(t, "garbage")
	good := newUpstream(t, "ok")
	g := startGateway(t, doc([]any{
		dep("coder", "openai/up-model", bad.URL+"/v1", map[string]any{"order": 1}),
		dep("coder", "openai/up-model", good.URL+"/v1", map[string]any{"order": 2}),
	}, map[string]any{"num_retries": 1}), newClock())
	resp, body := g.post(t, "/v1/chat/completions", `{"model":"coder","stream":true,"messages":[]}`, nil)
	if resp.StatusCode != 200 || !strings.Contains(body, "data: [DONE]") || resp.Header.Get("X-Flowgate-Attempts") != "2" {
		t.Fatalf("%d %v %q", resp.StatusCode, resp.Header, body)
	}
}

func TestClientDisconnectCancelsUpstreamRequest(t *testing.T) {
	up := newUpstream(t, "hang")
	g := startGateway(t, doc([]any{dep("coder", "openai/up-model", up.URL+"/v1", nil)}, nil), newClock())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		req, _ := http.NewRequestWithContext(ctx, "POST", g.URL+"/v1/chat/completions", strings.NewReader(`{"model":"coder","stream":true,"messages":[]}`))
		req.Header.Set("Authorization", "Bearer "+gatewayKey)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
	}()
	recv(t, up.started, "upstream to receive the request")
	cancel()
	recv(t, up.canceled, "upstream request to be canceled")
	<-done
	if up.hits.Load() != 1 {
		t.Fatalf("hits %d", up.hits.Load())
	}
}

func TestReloadDuringLongStreamKeepsItAndRoutesNextToNewDoc(t *testing.T) {
	old := newUpstream(t, "slowstream")
	next := newUpstream(t, "ok")
	g := startGateway(t, doc([]any{dep("coder", "openai/up-model", old.URL+"/v1", nil)}, nil), newClock())

	req, _ := http.NewRequest("POST", g.URL+"/v1/chat/completions", strings.NewReader(`{"model":"coder","stream":true,"messages":[]}`))
	req.Header.Set("Authorization", "Bearer "+gatewayKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	first, err := br.ReadString('\n')
	if err != nil || !strings.Contains(first, "P0") {
		t.Fatalf("first frame %q %v", first, err)
	}
	recv(t, old.started, "slow stream to start")

	gen, err := g.Reload(doc([]any{dep("coder", "openai/up-model", next.URL+"/v1", nil)}, nil), "other")
	if err != nil || gen != 2 {
		t.Fatalf("reload: %d %v", gen, err)
	}
	r2, body := g.post(t, "/v1/chat/completions", `{"model":"coder","messages":[]}`, nil)
	if r2.StatusCode != 200 || !strings.Contains(body, "PONG") || r2.Header.Get("X-Flowgate-Generation") != "2" || next.hits.Load() != 1 {
		t.Fatalf("after reload: %d %s", r2.StatusCode, body)
	}
	close(old.release)
	rest, err := io.ReadAll(br)
	if err != nil || !strings.Contains(string(rest), "data: [DONE]") {
		t.Fatalf("long stream did not complete: %v %q", err, rest)
	}
	if resp.Header.Get("X-Flowgate-Generation") != "1" {
		t.Fatalf("stream generation %q", resp.Header.Get("X-Flowgate-Generation"))
	}
	// an invalid doc leaves generation 2 running
	if _, err := g.Reload(map[string]any{"model_list": []any{map[string]any{"model_name": "x", "litellm_params": map[string]any{"model": "nope"}}}}, "bad"); err == nil || g.Generation() != 2 {
		t.Fatalf("invalid reload: %v gen %d", err, g.Generation())
	}
}

// rawUpstream answers every request with the given content type and body.
func rawUpstream(t *testing.T, ctype, body string) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", ctype)
		io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestPassthroughStreamsNameTheAliasAndKeepFramesByteIdentical(t *testing.T) {
	chat := "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"up-model\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"say \\\"model\\\": up-model\"},\"finish_reason\":null}]}\n\n" +
		": keep-alive comment\n\n" +
		"data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"up-model\",\"choices\":[],\"usage\":{\"prompt_tokens\":1}}\r\n\r\n" +
		"data: [DONE]\n\n"
	anth := "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"up-model\",\"content\":[],\"usage\":{\"input_tokens\":3}}}\n\n" +
		"event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"model\"}}\n\n" +
		"event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"
	resp := "event: response.created\ndata: {\"type\":\"response.created\",\"sequence_number\":0,\"response\":{\"id\":\"resp_1\",\"object\":\"response\",\"model\":\"up-model\",\"output\":[]}}\n\n" +
		"event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"sequence_number\":1,\"item_id\":\"m\",\"output_index\":0,\"content_index\":0,\"delta\":\"hi\"}\n\n" +
		"event: response.completed\ndata: {\"type\":\"response.completed\",\"sequence_number\":2,\"response\":{\"id\":\"resp_1\",\"object\":\"response\",\"model\":\"up-model\",\"output\":[],\"usage\":{\"input_tokens\":1}}}\n\n"
	cu := rawUpstream(t, "text/event-stream", chat)
	au := rawUpstream(t, "text/event-stream", anth)
	ru := rawUpstream(t, "text/event-stream; charset=utf-8", resp)
	g := startGateway(t, doc([]any{
		dep("coder", "openai/up-model", cu.URL+"/v1", nil),
		dep("claude", "anthropic/up-model", au.URL, nil),
		dep("codex", "openai_responses/up-model", ru.URL+"/v1", nil),
	}, nil), nil)
	for _, c := range []struct{ path, body, upstream, alias string }{
		{"/v1/chat/completions", `{"model":"coder","stream":true,"messages":[]}`, chat, "coder"},
		{"/v1/messages", `{"model":"claude","stream":true,"max_tokens":1,"messages":[]}`, anth, "claude"},
		{"/v1/responses", `{"model":"codex","stream":true,"input":"hi"}`, resp, "codex"},
	} {
		r, got := g.post(t, c.path, c.body, nil)
		// Only the model value differs; everything else is the upstream's bytes.
		want := strings.ReplaceAll(c.upstream, `"model":"up-model"`, `"model":"`+c.alias+`"`)
		if r.StatusCode != 200 || got != want {
			t.Errorf("%s:\n got %q\nwant %q", c.path, got, want)
		}
	}
}

func TestPassthroughNonStreamGarbageOrTruncatedBodyIs502(t *testing.T) {
	trunc := rawUpstream(t, "application/json", `{"id":"c1","object":"chat.completion","model":"up-model","choices":[{"message":{"content":"PO`)
	trail := rawUpstream(t, "application/json", `{"id":"c1","model":"up-model","choices":[]} trailing`)
	ok := rawUpstream(t, "application/json", "\n {\"id\":\"c1\",\"model\":\"up-model\",\"choices\":[]}\n")
	g := startGateway(t, doc([]any{
		dep("trunc", "openai/up-model", trunc.URL+"/v1", nil),
		dep("trail", "openai/up-model", trail.URL+"/v1", nil),
		dep("ok", "openai/up-model", ok.URL+"/v1", nil),
	}, map[string]any{"num_retries": 0}), newClock())
	for _, m := range []string{"trunc", "trail"} {
		r, body := g.post(t, "/v1/chat/completions", `{"model":"`+m+`","messages":[]}`, nil)
		if r.StatusCode != 502 || !strings.Contains(body, "not JSON") {
			t.Errorf("%s: %d %s", m, r.StatusCode, body)
		}
	}
	r, body := g.post(t, "/v1/chat/completions", `{"model":"ok","messages":[]}`, nil)
	if r.StatusCode != 200 || body != "\n {\"id\":\"c1\",\"model\":\"ok\",\"choices\":[]}\n" {
		t.Errorf("ok: %d %q", r.StatusCode, body)
	}
}
