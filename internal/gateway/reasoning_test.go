package gateway_test

// Reasoning continuity: the official SDKs drive agent sessions whose turns
// move between providers. The fake providers check reasoning state the way
// the real ones do, so a turn that carried state the target cannot verify
// would fail with their 400s.

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/anthropics/anthropic-sdk-go"
	aoption "github.com/anthropics/anthropic-sdk-go/option"
	"github.com/openai/openai-go/v3"
	ooption "github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/responses"
	"github.com/openai/openai-go/v3/shared"
	"github.com/tidwall/gjson"

	"github.com/flowgate/flowgate/internal/gateway"
	"github.com/flowgate/flowgate/internal/requestlog"
)

// issued is the set of signatures or encrypted contents a provider made.
// Anthropic signatures hold on every Anthropic deployment, so the
// anthropic fakes of a test share one.
type issued struct {
	mu  sync.Mutex
	set map[string]bool
	n   int
}

func (s *issued) mint(prefix string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.n++
	v := fmt.Sprintf("%s-%d", prefix, s.n)
	if s.set == nil {
		s.set = map[string]bool{}
	}
	s.set[v] = true
	return v
}

func (s *issued) has(v string) bool { s.mu.Lock(); defer s.mu.Unlock(); return s.set[v] }

// last is the value minted last.
func (s *issued) last() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	for v := range s.set {
		if strings.HasSuffix(v, fmt.Sprintf("-%d", s.n)) {
			return v
		}
	}
	return ""
}

// provider is a fake anthropic/, openai_responses/ or openai/ (chat)
// upstream. It records every body, fails with status fail when set, and
// otherwise answers a first turn with reasoning and a get_weather call and
// a turn that carries the call's result with text.
type provider struct {
	*httptest.Server
	name, kind string
	sigs       *issued
	mu         sync.Mutex
	fail       int
	bodies     []string
}

func newProvider(t *testing.T, name, kind string, sigs *issued) *provider {
	if sigs == nil {
		sigs = &issued{}
	}
	p := &provider{name: name, kind: kind, sigs: sigs}
	p.Server = httptest.NewServer(http.HandlerFunc(p.serve))
	t.Cleanup(func() { p.CloseClientConnections(); p.Close() })
	return p
}

func (p *provider) setFail(status int) { p.mu.Lock(); p.fail = status; p.mu.Unlock() }

func (p *provider) seen() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.bodies...)
}

// model is the provider's model_list entry, with id as its deployment id.
func (p *provider) model(alias string, order int) map[string]any {
	base := p.URL + "/v1"
	if p.kind == "anthropic" {
		base = p.URL
	}
	e := dep(alias, p.kind+"/up-model", base, map[string]any{"order": order})
	e["model_info"] = map[string]any{"id": p.name}
	return e
}

func (p *provider) serve(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	p.mu.Lock()
	p.bodies = append(p.bodies, string(raw))
	fail := p.fail
	p.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if fail != 0 {
		w.WriteHeader(fail)
		io.WriteString(w, `{"type":"error","error":{"type":"api_error","message":"upstream trouble"}}`)
		return
	}
	body := gjson.ParseBytes(raw)
	var problem, answer string
	switch p.kind {
	case "anthropic":
		problem, answer = p.messages(body)
	case "openai_responses":
		problem, answer = p.responses(body)
	default:
		answer = p.chat(body)
	}
	if problem != "" {
		w.WriteHeader(400)
		if p.kind == "anthropic" {
			fmt.Fprintf(w, `{"type":"error","error":{"type":"invalid_request_error","message":%q}}`, problem)
		} else {
			fmt.Fprintf(w, `{"error":{"message":%q,"type":"invalid_request_error","param":null,"code":"invalid_encrypted_content"}}`, problem)
		}
		return
	}
	io.WriteString(w, answer)
}

// messages checks like Anthropic: every thinking block's signature must be
// one Anthropic issued, and with thinking on, a final assistant turn that
// calls a tool must start with thinking.
func (p *provider) messages(body gjson.Result) (problem, answer string) {
	msgs := body.Get("messages").Array()
	lastAssistant := -1
	for i, m := range msgs {
		if m.Get("role").String() != "assistant" {
			continue
		}
		lastAssistant = i
		for j, b := range m.Get("content").Array() {
			if t := b.Get("type").String(); (t == "thinking" && !p.sigs.has(b.Get("signature").String())) ||
				(t == "redacted_thinking" && !p.sigs.has(b.Get("data").String())) {
				return fmt.Sprintf("messages.%d.content.%d: Invalid `signature` in `thinking` block", i, j), ""
			}
		}
	}
	if th := body.Get("thinking.type").String(); th != "" && th != "disabled" && lastAssistant >= 0 {
		blocks := msgs[lastAssistant].Get("content").Array()
		if len(blocks) > 0 && !strings.HasSuffix(blocks[0].Get("type").String(), "thinking") && strings.Contains(msgs[lastAssistant].Raw, `"tool_use"`) {
			return fmt.Sprintf("messages.%d.content.0.type: Expected `thinking` or `redacted_thinking`, but found `%s`. When `thinking` is enabled, a final `assistant` message must start with a thinking block", lastAssistant, blocks[0].Get("type").String()), ""
		}
	}
	if strings.Contains(msgs[len(msgs)-1].Raw, `"tool_result"`) {
		return "", `{"id":"msg_2","type":"message","role":"assistant","model":"up-model","content":[{"type":"text","text":"It is sunny."}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":9,"output_tokens":4}}`
	}
	return "", `{"id":"msg_1","type":"message","role":"assistant","model":"up-model","content":[` +
		`{"type":"thinking","thinking":"The user wants the weather.","signature":"` + p.sigs.mint("sig-"+p.name) + `"},` +
		`{"type":"tool_use","id":"toolu_1","name":"get_weather","input":{"city":"Paris"}}],` +
		`"stop_reason":"tool_use","stop_sequence":null,"usage":{"input_tokens":9,"output_tokens":4}}`
}

// responses checks like OpenAI: the encrypted content of every input item
// must be one this provider issued.
func (p *provider) responses(body gjson.Result) (problem, answer string) {
	items := body.Get("input").Array()
	for _, it := range items {
		if enc := it.Get("encrypted_content"); enc.Exists() && !p.sigs.has(enc.String()) {
			return "The encrypted content for item " + it.Get("id").String() + " could not be verified. Reason: Encrypted content could not be decrypted or parsed.", ""
		}
	}
	if len(items) > 0 && items[len(items)-1].Get("type").String() == "function_call_output" {
		return "", `{"id":"resp_2","object":"response","created_at":1,"status":"completed","model":"up-model","output":[` +
			`{"id":"msg_2","type":"message","status":"completed","role":"assistant","content":[{"type":"output_text","text":"It is sunny.","annotations":[]}]}],` +
			`"usage":{"input_tokens":9,"output_tokens":4,"total_tokens":13}}`
	}
	return "", `{"id":"resp_1","object":"response","created_at":1,"status":"completed","model":"up-model","output":[` +
		`{"id":"rs_` + p.name + `","type":"reasoning","summary":[{"type":"summary_text","text":"The user wants the weather."}],"encrypted_content":"` + p.sigs.mint("enc-"+p.name) + `"},` +
		`{"id":"fc_1","type":"function_call","status":"completed","call_id":"call_1","name":"get_weather","arguments":"{\"city\":\"Paris\"}"}],` +
		`"usage":{"input_tokens":9,"output_tokens":4,"total_tokens":13}}`
}

// chat answers with reasoning_content, which a chat upstream never signs.
func (p *provider) chat(body gjson.Result) string {
	msgs := body.Get("messages").Array()
	if msgs[len(msgs)-1].Get("role").String() == "tool" {
		return `{"id":"c2","object":"chat.completion","created":1,"model":"up-model","choices":[{"index":0,"message":{"role":"assistant","content":"It is sunny."},"finish_reason":"stop"}],"usage":{"prompt_tokens":9,"completion_tokens":4,"total_tokens":13}}`
	}
	return `{"id":"c1","object":"chat.completion","created":1,"model":"up-model","choices":[{"index":0,"message":{"role":"assistant","content":null,` +
		`"reasoning_content":"The user wants the weather.","tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]},` +
		`"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":9,"completion_tokens":4,"total_tokens":13}}`
}

// claudeSession is a Claude Code-like session: metadata.user_id names the
// session, thinking is on, get_weather is a tool.
func claudeSession(model string) anthropic.MessageNewParams {
	p := msgParams(model)
	p.MaxTokens = 4096
	p.Tools = weatherTools()
	p.Thinking = anthropic.ThinkingConfigParamOfEnabled(2048)
	p.Metadata = anthropic.MetadataParam{UserID: anthropic.String(`{"device_id":"dev","account_uuid":"","session_id":"claude-session-1"}`)}
	return p
}

// nextTurn appends the assistant's answer and the tool's result to p.
func nextTurn(p anthropic.MessageNewParams, msg *anthropic.Message) anthropic.MessageNewParams {
	var call string
	for _, b := range msg.Content {
		if b.Type == "tool_use" {
			call = b.ID
		}
	}
	p.Messages = append(append([]anthropic.MessageParam(nil), p.Messages...), msg.ToParam(),
		anthropic.NewUserMessage(anthropic.NewToolResultBlock(call, "sunny, 21C", false)))
	return p
}

func sendMessages(t *testing.T, c anthropic.Client, p anthropic.MessageNewParams) (*anthropic.Message, http.Header) {
	t.Helper()
	var resp *http.Response
	msg, err := c.Messages.New(context.Background(), p, aoption.WithResponseInto(&resp))
	if err != nil {
		t.Fatal(err)
	}
	return msg, resp.Header
}

func TestSignedThinkingFollowsAMessagesSessionAcrossAnthropicDeploymentsAndIsDroppedForOthers(t *testing.T) {
	sigs := &issued{}
	a := newProvider(t, "claude-a", "anthropic", sigs)
	b := newProvider(t, "claude-b", "anthropic", sigs)
	c := newProvider(t, "gpt-c", "openai", nil)
	g := startGateway(t, doc([]any{a.model("claude", 1), b.model("claude", 2), c.model("gpt", 1)},
		map[string]any{"allowed_fails": 100, "fallbacks": []any{map[string]any{"claude": []any{"gpt"}}}}), nil)
	client := anthropicClient(g, gatewayKey)

	p := claudeSession("claude")
	msg, h := sendMessages(t, client, p)
	if h.Get("X-Flowgate-Deployment") != "claude-a" || msg.Content[0].Type != "thinking" || !strings.HasPrefix(msg.Content[0].Signature, "sig-claude-a") {
		t.Fatalf("turn 1: %s, %+v", h.Get("X-Flowgate-Deployment"), msg.Content)
	}
	turn2 := nextTurn(p, msg)

	// A fails: its retry on B (another Anthropic api_base) keeps the
	// signed thinking, which B verifies.
	a.setFail(500)
	final, h := sendMessages(t, client, turn2)
	if h.Get("X-Flowgate-Deployment") != "claude-b" || final.Content[0].Text != "It is sunny." || h.Get("X-Flowgate-Reasoning") != "" {
		t.Fatalf("turn 2 on B: %v %q, %+v", h.Get("X-Flowgate-Deployment"), h.Get("X-Flowgate-Reasoning"), final.Content)
	}
	if got := b.seen(); len(got) != 1 || !strings.Contains(got[0], msg.Content[0].Signature) || !strings.Contains(got[0], `"thinking":{`) {
		t.Fatalf("B should get the thinking block and setting as sent: %v", got)
	}

	// Both Anthropic deployments fail: the fallback to a chat upstream
	// translates the turn, which never carries a signature.
	b.setFail(500)
	final, h = sendMessages(t, client, turn2)
	if h.Get("X-Flowgate-Deployment") != "gpt-c" || final.Content[len(final.Content)-1].Text != "It is sunny." {
		t.Fatalf("turn 2 on C: %v, %+v", h.Get("X-Flowgate-Deployment"), final.Content)
	}
	if got := c.seen(); len(got) != 1 || strings.Contains(got[0], "sig-claude") {
		t.Fatalf("the chat upstream got a signature: %v", got)
	}
}

func TestUnsignedThinkingFromAChatUpstreamNeverReachesAnthropic(t *testing.T) {
	c := newProvider(t, "gpt-c", "openai", nil)
	a := newProvider(t, "claude-a", "anthropic", nil)
	path := filepath.Join(t.TempDir(), requestlog.FileName)
	l, err := requestlog.New(requestlog.Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	g := startGatewayWith(t, doc([]any{c.model("mixed", 1), a.model("mixed", 2)}, map[string]any{"allowed_fails": 100}), nil,
		func(o *gateway.Options) { o.RequestLog = l })
	client := anthropicClient(g, gatewayKey)

	p := claudeSession("mixed")
	msg, h := sendMessages(t, client, p)
	if h.Get("X-Flowgate-Deployment") != "gpt-c" || msg.Content[0].Type != "thinking" || msg.Content[0].Signature != "flowgate-unsigned-thinking" {
		t.Fatalf("turn 1: %s, %+v", h.Get("X-Flowgate-Deployment"), msg.Content)
	}
	// The session's chat deployment fails; Anthropic takes the turn. It
	// would refuse the unsigned thinking, and then a tool turn without
	// thinking while thinking is on: both are dealt with.
	c.setFail(500)
	final, h := sendMessages(t, client, nextTurn(p, msg))
	want := "dropped=1 from=gpt-c to=claude-a; thinking=disabled"
	if h.Get("X-Flowgate-Deployment") != "claude-a" || final.Content[0].Text != "It is sunny." || h.Get("X-Flowgate-Reasoning") != want {
		t.Fatalf("turn 2: %s %q, %+v", h.Get("X-Flowgate-Deployment"), h.Get("X-Flowgate-Reasoning"), final.Content)
	}
	got := a.seen()
	if len(got) != 1 || strings.Contains(got[0], "flowgate-unsigned-thinking") || strings.Contains(got[0], `"thinking":{`) ||
		!strings.Contains(got[0], `"metadata":{"user_id":`) || !strings.Contains(got[0], `"tool_use"`) {
		t.Fatalf("Anthropic got %v", got)
	}
	rows := readLog(t, path, 2)
	if r := rows[h.Get("X-Flowgate-Request-Id")]; r.Reasoning != want || r.Deployment != "claude-a" {
		t.Fatalf("request log: %+v", r)
	}
}

// codexTurn is a Codex-like Responses request: prompt_cache_key names the
// session, reasoning is on, get_weather is a tool.
func codexTurn(model string, input responses.ResponseInputParam) responses.ResponseNewParams {
	p := respParams(model)
	p.Tools = respTools()
	p.Store = openai.Bool(false)
	p.PromptCacheKey = openai.String("codex-session-1")
	p.Reasoning = shared.ReasoningParam{Effort: shared.ReasoningEffortHigh}
	p.Input = responses.ResponseNewParamsInputUnion{OfInputItemList: input}
	return p
}

// replayResponse is the next Codex turn's input: the history, the
// answer's reasoning and call items, and the call's output.
func replayResponse(history responses.ResponseInputParam, r *responses.Response) responses.ResponseInputParam {
	in := append(responses.ResponseInputParam(nil), history...)
	for _, it := range r.Output {
		switch it.Type {
		case "reasoning":
			rp := it.AsReasoning().ToParam()
			in = append(in, responses.ResponseInputItemUnionParam{OfReasoning: &rp})
		case "function_call":
			fc := it.AsFunctionCall()
			fp := fc.ToParam()
			out := responses.ResponseInputItemParamOfFunctionCallOutput("sunny, 21C")
			out.OfFunctionCallOutput.CallID = openai.String(fc.CallID)
			in = append(in, responses.ResponseInputItemUnionParam{OfFunctionCall: &fp}, out)
		}
	}
	return in
}

// sendResponses sends p and returns the answer, its headers and the body
// the client sent.
func sendResponses(t *testing.T, c openai.Client, p responses.ResponseNewParams) (*responses.Response, http.Header, []byte) {
	t.Helper()
	var (
		resp *http.Response
		sent []byte
	)
	keep := func(r *http.Request, next ooption.MiddlewareNext) (*http.Response, error) {
		sent, _ = io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(sent))
		return next(r)
	}
	out, err := c.Responses.New(context.Background(), p, ooption.WithResponseInto(&resp), ooption.WithMiddleware(keep))
	if err != nil {
		t.Fatal(err)
	}
	return out, resp.Header, sent
}

func TestEncryptedReasoningStaysWithItsResponsesProviderAndIsDroppedOnAnother(t *testing.T) {
	ra := newProvider(t, "resp-a", "openai_responses", nil)
	rb := newProvider(t, "resp-b", "openai_responses", nil)
	path := filepath.Join(t.TempDir(), requestlog.FileName)
	l, err := requestlog.New(requestlog.Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	g := startGatewayWith(t, doc([]any{ra.model("codex", 1), rb.model("codex", 2)}, map[string]any{"allowed_fails": 100}), nil,
		func(o *gateway.Options) { o.RequestLog = l })
	client := openaiClient(g, gatewayKey)

	history := responses.ResponseInputParam{responses.ResponseInputItemParamOfMessage("weather in Paris?", responses.EasyInputMessageRoleUser)}
	first, h, _ := sendResponses(t, client, codexTurn("codex", history))
	if h.Get("X-Flowgate-Deployment") != "resp-a" || first.Output[0].Type != "reasoning" || !strings.HasPrefix(first.Output[0].EncryptedContent, "enc-resp-a") {
		t.Fatalf("turn 1: %s, %+v", h.Get("X-Flowgate-Deployment"), first.Output)
	}
	turn2 := codexTurn("codex", replayResponse(history, first))

	// Same deployment: the reasoning item reaches it exactly as sent.
	final, h, sent := sendResponses(t, client, turn2)
	if h.Get("X-Flowgate-Deployment") != "resp-a" || final.OutputText() != "It is sunny." || h.Get("X-Flowgate-Reasoning") != "" {
		t.Fatalf("turn 2 on A: %s %q, %+v", h.Get("X-Flowgate-Deployment"), h.Get("X-Flowgate-Reasoning"), final.Output)
	}
	item := gjson.GetBytes(sent, `input.#(type=="reasoning")`).Raw
	if got := ra.seen(); len(got) != 2 || item == "" || !strings.Contains(got[1], item) || strings.Replace(string(sent), `"model":"codex"`, `"model":"up-model"`, 1) != got[1] {
		t.Fatalf("A should get the client's body with only the model rewritten:\nsent %s\ngot  %v", sent, got)
	}

	// A is rate limited: B takes the turn without A's encrypted reasoning.
	ra.setFail(429)
	final, h, _ = sendResponses(t, client, turn2)
	want := "dropped=1 from=resp-a to=resp-b"
	if h.Get("X-Flowgate-Deployment") != "resp-b" || final.OutputText() != "It is sunny." || h.Get("X-Flowgate-Reasoning") != want {
		t.Fatalf("turn 2 on B: %s %q, %+v", h.Get("X-Flowgate-Deployment"), h.Get("X-Flowgate-Reasoning"), final.Output)
	}
	got := rb.seen()
	if len(got) != 1 || strings.Contains(got[0], "enc-resp-a") || !strings.Contains(got[0], `"function_call_output"`) {
		t.Fatalf("B got %v", got)
	}
	rows := readLog(t, path, 3)
	if r := rows[h.Get("X-Flowgate-Request-Id")]; r.Reasoning != want || r.Attempts != 2 {
		t.Fatalf("request log: %+v", r)
	}
}

func TestAnthropicThinkingRoundTripsThroughACodexSession(t *testing.T) {
	a := newProvider(t, "claude-a", "anthropic", nil)
	g := startGateway(t, doc([]any{a.model("codex", 1)}, nil), nil)
	client := openaiClient(g, gatewayKey)

	history := responses.ResponseInputParam{responses.ResponseInputItemParamOfMessage("weather in Paris?", responses.EasyInputMessageRoleUser)}
	first, _, _ := sendResponses(t, client, codexTurn("codex", history))
	sig := a.sigs.last()
	if first.Output[0].Type != "reasoning" || first.Output[0].EncryptedContent != "flowgate-anthropic-signature:"+sig || sig == "" {
		t.Fatalf("turn 1: %+v (signature %q)", first.Output, sig)
	}
	final, _, _ := sendResponses(t, client, codexTurn("codex", replayResponse(history, first)))
	if final.OutputText() != "It is sunny." {
		t.Fatalf("turn 2: %+v", final.Output)
	}
	got := a.seen()
	thinking := gjson.Get(got[1], `messages.1.content.0`)
	if len(got) != 2 || thinking.Get("type").String() != "thinking" || thinking.Get("signature").String() != sig ||
		thinking.Get("thinking").String() != "The user wants the weather." || !gjson.Get(got[1], "thinking").Exists() {
		t.Fatalf("Anthropic should get its thinking block back, thinking on: %v", got)
	}
}
