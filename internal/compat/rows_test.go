package compat_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/anthropics/anthropic-sdk-go"

	"github.com/flowgate/flowgate/internal/compat"
)

// row is one feature: run checks it for one client protocol and upstream
// kind, reporting failures on t, and returns Pass, Refused or NA.
type row struct {
	compat.Row
	run func(t *testing.T, p proto, k kind) compat.Outcome
}

var (
	pass = compat.Outcome{Verdict: compat.Pass}
	na   = func(why string) compat.Outcome { return compat.Outcome{Verdict: compat.NA, Why: why} }
)

var rows = []row{
	{compat.Row{Name: "text", Note: `a plain question; the client gets the upstream's text ("Hello"), the alias as the model (CLIProxyAPIPlus answers with its own upstream's name) and the usage, streaming and not. Chat clients ask for stream usage with stream_options.include_usage.`}, rowText},
	{compat.Row{Name: "one tool call", Note: `the upstream asks for one call (get_weather {"city":"Paris"}); the client gets it whole with the upstream's id, name and arguments, streaming and not.`}, rowOneTool},
	{compat.Row{Name: "parallel tool calls", Note: `the upstream asks for two calls and, in streams, interleaves their argument pieces (call 0's first half, call 1's first half, call 0's rest, call 1's rest; Anthropic streams one block at a time, so there the calls come in turn); the client gets both calls whole and in order.`}, rowParallel},
	{compat.Row{Name: "prompt caching", Note: `the upstream reports 1000 prompt tokens, 800 read from its cache (and Anthropic 150 written); the client gets them in its own fields (Anthropic cache_read_input_tokens / cache_creation_input_tokens, Chat prompt_tokens_details.cached_tokens, Responses input_tokens_details.cached_tokens), streaming and not. Messages clients mark the system prompt with cache_control {"type":"ephemeral","ttl":"1h"} and the question with {"type":"ephemeral"}: an anthropic/ upstream gets both exactly, other upstreams none. Responses and Chat clients send prompt_cache_key (Codex's session key): OpenAI-compatible upstreams get it. Chat clients also mark the system part with cache_control: an anthropic/ upstream gets it exactly, a Responses upstream none, and a Chat upstream the body as sent (Chat to Chat is passed through undecoded).`}, rowCaching},
	{compat.Row{Name: "session affinity", Note: `two healthy deployments of the same kind serve the alias; four requests of one agent session (Claude Code's metadata.user_id session, Codex's prompt_cache_key, a Chat client's session_id header), streaming and not, all go to the same deployment; the answers say X-Flowgate-Session-Affinity: new, then hit.`}, rowAffinity},
	{compat.Row{Name: "reasoning continuity", Note: `turn 1 of a session goes to a reasoning provider of another kind (anthropic/ for the openai/, openai_responses/ and CLIProxyAPIPlus columns; for anthropic/, openai/ for Messages clients and openai_responses/ for Responses clients) and answers with reasoning and a tool call; turn 2 sends that history back with the tool result, the first deployment fails (500) and the fallback is the column's upstream. The fake upstreams reject what the real ones reject (a thinking signature Anthropic did not issue, a thinking-enabled turn whose last assistant message has tool_use without thinking, encrypted reasoning of another provider), so turn 2 passes only when the gateway drops or converts the foreign reasoning state; on pass-through paths the answer says so in X-Flowgate-Reasoning. Turn 2 runs streaming and not.`}, rowReasoning},
	{compat.Row{Name: "images", Note: `a user turn with a base64 image and an image URL, and (Messages, Responses) an earlier tool result that returned an image; the upstream gets all three in its own form (Anthropic image blocks, Chat image_url parts, Responses input_image), streaming and not. Chat tool messages carry text only, so Chat clients send the two user images.`}, rowImages},
	{compat.Row{Name: "PDF documents", Note: `a PDF (Anthropic document block, Responses input_file, Chat file part) reaches an upstream that reads files (anthropic/ as a document block, openai_responses/ as input_file); a Chat upstream without model_info.supports_pdf_input gets nothing and the client a 400 naming the block and the alias. Chat to Chat is passed through undecoded. Streaming and not.`}, rowPDF},
	{compat.Row{Name: "context window", Note: `the alias has model_info max_input_tokens 200000 and max_output_tokens 32000: the client's model list reports them (Anthropic list max_input_tokens / max_tokens, OpenAI list max_input_tokens / max_output_tokens, Codex catalog context_window); Messages clients also count tokens (POST /v1/messages/count_tokens) and the answer names its method in X-Flowgate-Token-Count (upstream for anthropic/, a tokenizer or estimate elsewhere). No inference request, so no streaming.`}, rowContext},
	{compat.Row{Name: "server tools", Note: `the client declares web search (Anthropic web_search_20250305, Responses web_search as Codex sends it): an upstream with its own web search gets it as its own tool; for an Anthropic client any other upstream is never called and the client gets a 400 naming the tool and the alias; Codex's web_search, sent with every turn, is removed for upstreams without it. Streaming and not.`}, rowServerTools},
	{compat.Row{Name: "error: 4xx", Note: `the upstream answers 400 "bad field x" in its own shape; the client gets 400 in its protocol's error shape with the message, streaming and not.`}, rowError400},
	{compat.Row{Name: "error: 429", Note: `the upstream answers 429 with Retry-After: 7; the client gets 429 in its error shape with Retry-After: 7, streaming and not.`}, rowError429},
	{compat.Row{Name: "error: 5xx", Note: `the upstream answers 500; the client gets a 5xx in its error shape, streaming and not.`}, rowError500},
	{compat.Row{Name: "error: mid-stream", Note: `streams only: the upstream's stream breaks after its first events (the connection drops; CLIProxyAPIPlus sends its error frame and ends without [DONE]); the client's SDK reports its protocol's error event (Messages event: error, Responses error / response.failed, Chat an error frame), never a clean end.`}, rowBreak},
}

// tools are two function tools in each protocol's spelling.
func tools(p proto) string {
	w, tz := `{"type":"object","properties":{"city":{"type":"string"}}}`, `{"type":"object","properties":{"tz":{"type":"string"}}}`
	switch p {
	case pMessages:
		return `[{"name":"get_weather","input_schema":` + w + `},{"name":"get_time","input_schema":` + tz + `}]`
	case pResponses:
		return `[{"type":"function","name":"get_weather","parameters":` + w + `},{"type":"function","name":"get_time","parameters":` + tz + `}]`
	}
	return `[{"type":"function","function":{"name":"get_weather","parameters":` + w + `}},{"type":"function","function":{"name":"get_time","parameters":` + tz + `}}]`
}

// request is a request of protocol p for alias with the given top-level
// members (raw JSON, comma separated) and, unless they carry their own,
// the one user message "hi".
func request(p proto, members string) string {
	var b strings.Builder
	b.WriteString(`{"model":"` + alias + `"`)
	if p == pMessages && !strings.Contains(members, `"max_tokens"`) {
		b.WriteString(`,"max_tokens":64`)
	}
	if p == pResponses {
		b.WriteString(`,"store":false`)
	}
	if members != "" {
		b.WriteString("," + members)
	}
	if !strings.Contains(members, `"messages"`) && !strings.Contains(members, `"input"`) {
		if p == pResponses {
			b.WriteString(`,"input":[{"type":"message","role":"user","content":[{"type":"input_text","text":"hi"}]}]`)
		} else {
			b.WriteString(`,"messages":[{"role":"user","content":"hi"}]`)
		}
	}
	return b.String() + "}"
}

var modes = []bool{false, true}

func streamName(stream bool) string {
	if stream {
		return "stream"
	}
	return "non-stream"
}

// ok fails t unless r is a complete answer.
func ok(t *testing.T, r reply, stream bool) bool {
	t.Helper()
	switch {
	case r.err != nil:
		t.Errorf("%s: the gateway answered %d: %s", streamName(stream), r.err.status, r.err.raw)
	case r.streamErr != "":
		t.Errorf("%s: the stream failed: %s", streamName(stream), r.streamErr)
	default:
		return true
	}
	return false
}

func sameJSON(a, b string) bool {
	var x, y any
	if json.Unmarshal([]byte(a), &x) != nil || json.Unmarshal([]byte(b), &y) != nil {
		return false
	}
	return fmt.Sprint(x) == fmt.Sprint(y)
}

func checkCalls(t *testing.T, stream bool, got []call, want ...call) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d tool calls %+v, want %d %+v", streamName(stream), len(got), got, len(want), want)
		return
	}
	for i, w := range want {
		if g := got[i]; g.ID != w.ID || g.Name != w.Name || !sameJSON(g.Args, w.Args) {
			t.Errorf("%s: call %d is %+v, want %+v", streamName(stream), i, g, w)
		}
	}
}

func rowText(t *testing.T, p proto, k kind) compat.Outcome {
	g, _ := single(t, k, modeText, nil)
	for _, s := range modes {
		r := send(t, g, p, request(p, ""), s, nil)
		if ok(t, r, s) && (r.text != "Hello" || r.out != 7 || r.in == 0 || r.model != alias) {
			t.Errorf("%s: text %q, model %q, usage in %d out %d; want Hello from %s, 11 in and 7 out", streamName(s), r.text, r.model, r.in, r.out, alias)
		}
	}
	return pass
}

func rowOneTool(t *testing.T, p proto, k kind) compat.Outcome {
	g, u := single(t, k, modeTool, nil)
	for _, s := range modes {
		r := send(t, g, p, request(p, `"tools":`+tools(p)), s, nil)
		if ok(t, r, s) {
			checkCalls(t, s, r.calls, weatherCall)
		}
		if !strings.Contains(u.last(), "get_weather") {
			t.Errorf("%s: the upstream got no tool definitions: %s", streamName(s), u.last())
		}
	}
	return pass
}

func rowParallel(t *testing.T, p proto, k kind) compat.Outcome {
	g, _ := single(t, k, modeParallel, nil)
	for _, s := range modes {
		r := send(t, g, p, request(p, `"tools":`+tools(p)), s, nil)
		if ok(t, r, s) {
			checkCalls(t, s, r.calls, weatherCall, timeCall)
		}
	}
	return pass
}

func rowCaching(t *testing.T, p proto, k kind) compat.Outcome {
	g, u := single(t, k, modeCache, nil)
	const key = "019a-codex-session-key"
	for _, s := range modes {
		var body string
		switch p {
		case pMessages:
			body = request(p, `"system":[{"type":"text","text":"You are Claude Code.","cache_control":{"type":"ephemeral","ttl":"1h"}}],`+
				`"messages":[{"role":"user","content":[{"type":"text","text":"hi","cache_control":{"type":"ephemeral"}}]}]`)
		case pResponses:
			body = request(p, `"prompt_cache_key":"`+key+`"`)
		case pChat:
			body = request(p, `"prompt_cache_key":"`+key+`","messages":[{"role":"system","content":[{"type":"text","text":"You are a coder.","cache_control":{"type":"ephemeral","ttl":"1h"}}]},{"role":"user","content":"hi"}]`)
		}
		r := send(t, g, p, body, s, nil)
		if !ok(t, r, s) {
			continue
		}
		wantWrite := int64(0)
		if k == kAnthropic && p == pMessages {
			wantWrite = 150
		}
		if r.in != 1000 || r.cacheRead != 800 || r.cacheWrite != wantWrite {
			t.Errorf("%s: usage: %d prompt tokens, %d read from the cache, %d written; want 1000, 800, %d", streamName(s), r.in, r.cacheRead, r.cacheWrite, wantWrite)
		}
		up := u.last()
		var got struct {
			System []struct {
				CacheControl json.RawMessage `json:"cache_control"`
			}
			Messages       []struct{ Content json.RawMessage }
			PromptCacheKey string `json:"prompt_cache_key"`
		}
		json.Unmarshal([]byte(up), &got)
		switch {
		case p == pMessages && k == kAnthropic:
			var first []struct {
				CacheControl json.RawMessage `json:"cache_control"`
			}
			if len(got.Messages) > 0 {
				json.Unmarshal(got.Messages[0].Content, &first)
			}
			if len(got.System) != 1 || !sameJSON(string(got.System[0].CacheControl), `{"type":"ephemeral","ttl":"1h"}`) ||
				len(first) != 1 || !sameJSON(string(first[0].CacheControl), `{"type":"ephemeral"}`) {
				t.Errorf("%s: the anthropic/ upstream did not get both cache_control markers as sent: %s", streamName(s), up)
			}
		case p == pChat && k == kAnthropic:
			if len(got.System) != 1 || !sameJSON(string(got.System[0].CacheControl), `{"type":"ephemeral","ttl":"1h"}`) {
				t.Errorf("%s: the anthropic/ upstream did not get the system part's cache_control: %s", streamName(s), up)
			}
		case p == pChat && (k == kOpenAI || k == kCPA):
			if strings.Count(up, `"cache_control"`) != 1 {
				t.Errorf("%s: the Chat upstream did not get the body as sent: %s", streamName(s), up)
			}
		case strings.Contains(up, "cache_control"):
			t.Errorf("%s: cache_control reached a %s upstream: %s", streamName(s), k, up)
		}
		if p != pMessages && k != kAnthropic && got.PromptCacheKey != key {
			t.Errorf("%s: the upstream got prompt_cache_key %q, want %q: %s", streamName(s), got.PromptCacheKey, key, up)
		}
	}
	return pass
}

func rowAffinity(t *testing.T, p proto, k kind) compat.Outcome {
	u0, u1 := newUpstream(t, k, modeText), newUpstream(t, k, modeText)
	cpa := ""
	if k == kCPA {
		cpa = u0.URL
	}
	g := startGateway(t, []any{deployment(alias, "d0", u0, nil), deployment(alias, "d1", u1, nil)}, nil, cpa)
	var hdr map[string]string
	body := request(p, "")
	switch p {
	case pMessages:
		body = request(p, `"metadata":{"user_id":"{\"device_id\":\"dev\",\"account_uuid\":\"\",\"session_id\":\"3f1c-session\"}"}`)
	case pResponses:
		body = request(p, `"prompt_cache_key":"019a-codex-session"`)
	case pChat:
		hdr = map[string]string{"session_id": "chat-session-1"}
	}
	pinned := ""
	for i := 0; i < 4; i++ {
		s := i%2 == 1
		r := send(t, g, p, body, s, hdr)
		if !ok(t, r, s) {
			return pass
		}
		d, aff := r.header.Get("X-Flowgate-Deployment"), r.header.Get("X-Flowgate-Session-Affinity")
		want := "hit"
		if i == 0 {
			pinned, want = d, "new"
		}
		if d != pinned || aff != want || d == "" {
			t.Errorf("request %d (%s): deployment %q affinity %q; want %q and %s", i, streamName(s), d, aff, pinned, want)
		}
	}
	return pass
}

func rowReasoning(t *testing.T, p proto, k kind) compat.Outcome {
	if p == pChat {
		return na("Chat Completions has no signed reasoning state that a client sends back")
	}
	origin := kAnthropic
	if k == kAnthropic {
		origin = map[proto]kind{pMessages: kOpenAI, pResponses: kResponses}[p]
	}
	first, target := newUpstream(t, origin, modeReasoning), newUpstream(t, k, modeText)
	cpa := ""
	if k == kCPA {
		cpa = target.URL
	}
	g := startGateway(t, []any{deployment(alias, "origin", first, nil), deployment("fallback", "target", target, nil)},
		map[string]any{"fallbacks": []any{map[string]any{alias: []any{"fallback"}}}}, cpa)
	var session, user, result string
	switch p {
	case pMessages:
		session = `"max_tokens":2048,"thinking":{"type":"enabled","budget_tokens":1024},"metadata":{"user_id":"{\"session_id\":\"reasoning-session\"}"},"tools":` + tools(p)
		user = `{"role":"user","content":"weather in Paris?"}`
		result = `{"role":"user","content":[{"type":"tool_result","tool_use_id":"call_a","content":"sunny"}]}`
	case pResponses:
		session = `"prompt_cache_key":"reasoning-session","include":["reasoning.encrypted_content"],"reasoning":{"effort":"medium"},"tools":` + tools(p)
		user = `{"type":"message","role":"user","content":[{"type":"input_text","text":"weather in Paris?"}]}`
		result = `{"type":"function_call_output","call_id":"call_a","output":"sunny"}`
	}
	list := "messages"
	if p == pResponses {
		list = "input"
	}
	turn1 := send(t, g, p, request(p, session+`,"`+list+`":[`+user+`]`), false, nil)
	if !ok(t, turn1, false) {
		return pass
	}
	checkCalls(t, false, turn1.calls, weatherCall)
	// What the client holds of turn 1's reasoning, per the gateway's
	// marks: unsigned thinking from a non-Anthropic upstream, Anthropic
	// thinking as a Responses item carrying its signature.
	history := string(joinRaw(turn1.history))
	switch {
	case p == pMessages && origin == kOpenAI && !strings.Contains(history, `"signature":"flowgate-unsigned-thinking"`):
		t.Errorf("turn 1: thinking from an openai/ upstream is not marked unsigned: %s", history)
	case p == pResponses && origin == kAnthropic && !strings.Contains(history, `"encrypted_content":"flowgate-anthropic-signature:`+anthropicSignature+`"`):
		t.Errorf("turn 1: Anthropic thinking did not reach the Responses client as a reasoning item carrying its signature: %s", history)
	}
	foreign := map[kind]string{kAnthropic: anthropicSignature, kOpenAI: "flowgate-unsigned-thinking", kResponses: first.encryptedPrefix()}[origin]
	first.setMode(mode500)
	for _, s := range modes {
		n := len(target.seen())
		r := send(t, g, p, request(p, session+`,"`+list+`":[`+user+`,`+history+`,`+result+`]`), s, nil)
		if !ok(t, r, s) {
			continue
		}
		if r.text != "Hello" || len(target.seen()) != n+1 {
			t.Errorf("%s: turn 2 answered %q after %d calls to the fallback; want Hello from it", streamName(s), r.text, len(target.seen())-n)
			continue
		}
		if up := target.last(); strings.Contains(up, foreign) {
			t.Errorf("%s: the fallback got the first provider's reasoning state %q: %s", streamName(s), foreign, up)
		}
		passthrough := (p == pMessages && k == kAnthropic) || (p == pResponses && k == kResponses)
		if h := r.header.Get("X-Flowgate-Reasoning"); passthrough && !strings.Contains(h, "dropped=") {
			t.Errorf("%s: X-Flowgate-Reasoning is %q, want what was dropped", streamName(s), h)
		}
	}
	return pass
}

// joinRaw joins JSON values with commas.
func joinRaw(items []json.RawMessage) []byte {
	var b []byte
	for i, it := range items {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, it...)
	}
	return b
}

const (
	img1   = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGP4z8DwHwAFAAH/iZk9HQAAAABJRU5ErkJggg=="
	img2   = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYPj/HwADAgH/q1Bp3QAAAABJRU5ErkJggg=="
	imgURL = "https://example.com/cat.png"
)

func rowImages(t *testing.T, p proto, k kind) compat.Outcome {
	g, u := single(t, k, modeText, nil)
	var body string
	switch p {
	case pMessages:
		body = request(p, `"tools":[{"name":"Read","input_schema":{"type":"object"}}],"messages":[`+
			`{"role":"user","content":[{"type":"text","text":"what is in these?"},{"type":"image","source":{"type":"base64","media_type":"image/png","data":"`+img1+`"}},{"type":"image","source":{"type":"url","url":"`+imgURL+`"}}]},`+
			`{"role":"assistant","content":[{"type":"tool_use","id":"toolu_1","name":"Read","input":{"path":"b.png"}}]},`+
			`{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","content":[{"type":"image","source":{"type":"base64","media_type":"image/png","data":"`+img2+`"}}]}]}]`)
	case pResponses:
		body = request(p, `"tools":[{"type":"function","name":"Read","parameters":{"type":"object"}}],"input":[`+
			`{"type":"message","role":"user","content":[{"type":"input_text","text":"what is in these?"},{"type":"input_image","image_url":"data:image/png;base64,`+img1+`"},{"type":"input_image","image_url":"`+imgURL+`"}]},`+
			`{"type":"function_call","call_id":"call_1","name":"Read","arguments":"{\"path\":\"b.png\"}"},`+
			`{"type":"function_call_output","call_id":"call_1","output":[{"type":"input_image","image_url":"data:image/png;base64,`+img2+`"}]}]`)
	case pChat:
		body = request(p, `"messages":[{"role":"user","content":[{"type":"text","text":"what is in these?"},`+
			`{"type":"image_url","image_url":{"url":"data:image/png;base64,`+img1+`"}},{"type":"image_url","image_url":{"url":"`+imgURL+`"}}]}]`)
	}
	marker := map[kind]string{kAnthropic: `"type":"image"`, kResponses: `"input_image"`, kOpenAI: `"image_url"`, kCPA: `"image_url"`}[k]
	for _, s := range modes {
		r := send(t, g, p, body, s, nil)
		if !ok(t, r, s) {
			continue
		}
		up := u.last()
		want := []string{img1, imgURL, marker}
		if p != pChat {
			want = append(want, img2)
		}
		for _, w := range want {
			if !strings.Contains(up, w) {
				t.Errorf("%s: the upstream body lacks %.40s: %.600s", streamName(s), w, up)
			}
		}
	}
	return pass
}

const pdfData = "JVBERi0xLjQKJcfsj6IKMSAwIG9iago8PD4+CmVuZG9iagp0cmFpbGVyCjw8Pj4KJSVFT0YK"

// refusal checks a 400 that names what and the alias, with the upstream
// never called; it returns the refusal's outcome.
func refusal(t *testing.T, r reply, stream bool, u *fakeUpstream, why string, what ...string) compat.Outcome {
	t.Helper()
	if r.err == nil || r.err.status != 400 {
		t.Errorf("%s: want a 400 refusal, got %+v", streamName(stream), r)
		return pass
	}
	for _, w := range append(what, `"`+alias+`"`) {
		if !strings.Contains(r.err.msg, w) {
			t.Errorf("%s: the refusal does not name %s: %s", streamName(stream), w, r.err.raw)
		}
	}
	if n := len(u.seen()); n != 0 {
		t.Errorf("%s: the upstream was called %d times for what it cannot serve", streamName(stream), n)
	}
	return compat.Outcome{Verdict: compat.Refused, Why: why}
}

func rowPDF(t *testing.T, p proto, k kind) compat.Outcome {
	g, u := single(t, k, modeText, nil)
	var body string
	switch p {
	case pMessages:
		body = request(p, `"messages":[{"role":"user","content":[{"type":"text","text":"summarise"},{"type":"document","source":{"type":"base64","media_type":"application/pdf","data":"`+pdfData+`"}}]}]`)
	case pResponses:
		body = request(p, `"input":[{"type":"message","role":"user","content":[{"type":"input_text","text":"summarise"},{"type":"input_file","filename":"a.pdf","file_data":"data:application/pdf;base64,`+pdfData+`"}]}]`)
	case pChat:
		body = request(p, `"messages":[{"role":"user","content":[{"type":"text","text":"summarise"},{"type":"file","file":{"filename":"a.pdf","file_data":"data:application/pdf;base64,`+pdfData+`"}}]}]`)
	}
	marker := map[kind]string{kAnthropic: `"type":"document"`, kResponses: `"input_file"`, kOpenAI: `"file"`, kCPA: `"file"`}[k]
	out := pass
	for _, s := range modes {
		r := send(t, g, p, body, s, nil)
		if (k == kOpenAI || k == kCPA) && p != pChat {
			out = refusal(t, r, s, u, "400 naming the document and the alias: a Chat upstream takes PDFs only with model_info.supports_pdf_input", "document")
			continue
		}
		if ok(t, r, s) {
			if up := u.last(); !strings.Contains(up, pdfData) || !strings.Contains(up, marker) {
				t.Errorf("%s: the upstream did not get the PDF as %s: %.600s", streamName(s), marker, up)
			}
		}
	}
	return out
}

func rowServerTools(t *testing.T, p proto, k kind) compat.Outcome {
	if p == pChat {
		return na("Chat Completions declares no server tools")
	}
	g, u := single(t, k, modeText, nil)
	tool := map[proto]string{pMessages: `{"type":"web_search_20250305","name":"web_search","max_uses":5}`, pResponses: `{"type":"web_search","external_web_access":false}`}[p]
	body := request(p, `"tools":[`+tool+`]`)
	marker := map[kind]string{kAnthropic: `"web_search_20250305"`, kResponses: `{"type":"web_search"`}[k]
	out := pass
	for _, s := range modes {
		r := send(t, g, p, body, s, nil)
		switch {
		case p == pResponses && k != kResponses:
			// Codex declares web_search in every request: refusing it would
			// refuse every Codex turn on this upstream.
			if ok(t, r, s) && strings.Contains(u.last(), "web_search") {
				t.Errorf("%s: the upstream got a web_search tool it cannot run: %.600s", streamName(s), u.last())
			}
			out = compat.Outcome{Verdict: compat.Dropped, Why: "Codex declares Responses web_search in every request; an upstream without it gets the turn without the tool, so the model has no search to call and cannot claim one ran"}
		case k == kOpenAI || k == kCPA:
			out = refusal(t, r, s, u, "400 naming the web_search tool and the alias: a Chat upstream has no web search", "web_search")
		default:
			if ok(t, r, s) && !strings.Contains(u.last(), marker) {
				t.Errorf("%s: the upstream did not get its own web search tool %s: %.600s", streamName(s), marker, u.last())
			}
		}
	}
	return out
}

func rowContext(t *testing.T, p proto, k kind) compat.Outcome {
	g, _ := single(t, k, modeText, map[string]any{"max_input_tokens": 200000, "max_output_tokens": 32000})
	entry := func(hdr map[string]string, list, key string) map[string]any {
		status, body := g.get(t, "/v1/models", hdr)
		var l map[string]json.RawMessage
		var entries []map[string]any
		if err := json.Unmarshal([]byte(body), &l); err != nil || status != 200 {
			t.Fatalf("/v1/models: %d %v %s", status, err, body)
		}
		json.Unmarshal(l[list], &entries)
		for _, m := range entries {
			if m[key] == alias {
				return m
			}
		}
		t.Fatalf("/v1/models %s has no %s: %s", list, alias, body)
		return nil
	}
	switch p {
	case pMessages:
		c := anthropicClient(g, nil)
		page, err := c.Models.List(t.Context(), anthropic.ModelListParams{})
		if err != nil || len(page.Data) == 0 {
			t.Fatalf("Anthropic model list: %v", err)
		}
		var m map[string]any
		json.Unmarshal([]byte(page.Data[0].RawJSON()), &m)
		if m["id"] != alias || m["max_input_tokens"] != 200000.0 || m["max_tokens"] != 32000.0 {
			t.Errorf("Anthropic model list entry %v, want max_input_tokens 200000 and max_tokens 32000", m)
		}
		n, method := countTokens(t, g)
		want := "upstream"
		if k != kAnthropic {
			want = "tokenizer= or estimate"
		}
		if n <= 0 || (k == kAnthropic) != (method == "upstream") || method == "" {
			t.Errorf("count_tokens: %d tokens by %q, want a count by %s", n, method, want)
		}
	case pResponses:
		m := entry(nil, "models", "slug")
		if m["context_window"] != 200000.0 {
			t.Errorf("Codex catalog entry %v, want context_window 200000", m)
		}
		fallthrough
	case pChat:
		c := openaiClient(g, nil)
		page, err := c.Models.List(t.Context())
		if err != nil || len(page.Data) == 0 {
			t.Fatalf("OpenAI model list: %v", err)
		}
		var m map[string]any
		json.Unmarshal([]byte(page.Data[0].RawJSON()), &m)
		if m["id"] != alias || m["max_input_tokens"] != 200000.0 || m["max_output_tokens"] != 32000.0 {
			t.Errorf("OpenAI model list entry %v, want max_input_tokens 200000 and max_output_tokens 32000", m)
		}
	}
	return pass
}
