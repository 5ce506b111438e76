package translate

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/flowgate/flowgate/internal/sse"
)

// The recorded wire fixtures in testdata/wire hold, for every translation
// direction, representative inputs and the output the translators gave
// when they were recorded. The test asserts that today's translators give
// semantically equal JSON (member order and number spelling do not matter
// to clients; random ids and timestamps are masked). Record them again
// only on purpose, after checking the change: go test -run TestWireFixtures -update
var update = flag.Bool("update", false, "rewrite testdata/wire from the current translators")

// wireCase is one recorded translation.
type wireCase struct {
	Name    string  `json:"name"`
	Options Options `json:"options,omitzero"`
	// Input is the body (or, for streams, one SSE data payload per
	// element) as text; InputBase64 replaces it when it is not UTF-8.
	Input       json.RawMessage `json:"input,omitempty"`
	InputBase64 []byte          `json:"input_base64,omitempty"`
	// EndError makes the upstream stream break instead of ending cleanly.
	EndError bool `json:"end_error,omitempty"`

	Output json.RawMessage    `json:"output,omitempty"`
	Error  bool               `json:"error,omitempty"`
	Notes  []string           `json:"notes,omitempty"`
	Stream bool               `json:"stream,omitempty"`
	Model  string             `json:"client_model,omitempty"`
	Tools  map[string]ToolRef `json:"tools,omitempty"`
}

type wireFrame struct {
	Event string          `json:"event,omitempty"`
	Data  json.RawMessage `json:"data"`
}

type requestFunc func([]byte, Options) (*Result, error)
type responseFunc func([]byte) ([]byte, error)
type streamFunc func() streamMachine

var wireOptions = []Options{{}, {Model: "gpt-up"},
	{MaxCompletionTokens: true, ReasoningInHistory: true, DeveloperRole: true, DefaultMaxTokens: 1000}}

func wireRequests() map[string]requestFunc {
	return map[string]requestFunc{
		"anthropic_to_chat": AnthropicToChat, "anthropic_to_responses": AnthropicToResponses,
		"responses_to_chat": ResponsesToChat, "responses_to_anthropic": ResponsesToAnthropic,
		"chat_to_anthropic": ChatToAnthropic, "chat_to_responses": ChatToResponses,
	}
}

func wireResponses() map[string]responseFunc {
	return map[string]responseFunc{
		"chat_response_to_anthropic":      func(b []byte) ([]byte, error) { return ChatResponseToAnthropic(b, "alias") },
		"chat_response_to_responses":      func(b []byte) ([]byte, error) { return ChatResponseToResponses(b, "alias", nil) },
		"anthropic_response_to_chat":      func(b []byte) ([]byte, error) { return AnthropicResponseToChat(b, "alias") },
		"anthropic_response_to_responses": func(b []byte) ([]byte, error) { return AnthropicResponseToResponses(b, "alias", nil) },
		"responses_response_to_chat":      func(b []byte) ([]byte, error) { return ResponsesResponseToChat(b, "alias") },
		"responses_response_to_anthropic": func(b []byte) ([]byte, error) { return ResponsesResponseToAnthropic(b, "alias") },
	}
}

func wireStreams() map[string]streamFunc {
	o := StreamOptions{ID: "id_1", InputTokens: 42, CreatedAt: 1700000000}
	return map[string]streamFunc{
		"chat_stream_to_anthropic":      func() streamMachine { return NewChatToAnthropicStream("alias", o) },
		"chat_stream_to_responses":      func() streamMachine { return NewChatToResponsesStream("alias", o) },
		"anthropic_stream_to_chat":      func() streamMachine { return NewAnthropicToChatStream("alias", o) },
		"anthropic_stream_to_responses": func() streamMachine { return NewAnthropicToResponsesStream("alias", o) },
		"responses_stream_to_chat":      func() streamMachine { return NewResponsesToChatStream("alias", o) },
		"responses_stream_to_anthropic": func() streamMachine { return NewResponsesToAnthropicStream("alias", o) },
	}
}

func TestWireFixtures(t *testing.T) {
	if *update {
		recordWireFixtures(t)
	}
	for name, fn := range wireRequests() {
		for _, c := range readWire(t, name) {
			res, err := fn(c.input(t), c.Options)
			if (err != nil) != c.Error {
				t.Errorf("%s/%s: error %v, recorded error %v", name, c.Name, err, c.Error)
				continue
			}
			if err != nil {
				continue
			}
			sameJSON(t, name+"/"+c.Name, res.Body, c.Output)
			if !reflect.DeepEqual(res.Notes, c.Notes) || res.Stream != c.Stream || res.ClientModel != c.Model || !reflect.DeepEqual(toolMap(res.Tools), c.Tools) {
				t.Errorf("%s/%s: notes %q stream %v model %q tools %v; recorded %q %v %q %v", name, c.Name,
					res.Notes, res.Stream, res.ClientModel, toolMap(res.Tools), c.Notes, c.Stream, c.Model, c.Tools)
			}
		}
	}
	for name, fn := range wireResponses() {
		for _, c := range readWire(t, name) {
			out, err := fn(c.input(t))
			if (err != nil) != c.Error {
				t.Errorf("%s/%s: error %v, recorded error %v", name, c.Name, err, c.Error)
			} else if err == nil {
				sameJSON(t, name+"/"+c.Name, out, c.Output)
			}
		}
	}
	for name, fn := range wireStreams() {
		for _, c := range readWire(t, name) {
			sameJSON(t, name+"/"+c.Name, c.runStream(t, fn()), c.Output)
		}
	}
}

func (c *wireCase) input(t testing.TB) []byte {
	if c.InputBase64 != nil {
		return c.InputBase64
	}
	var s string
	if err := json.Unmarshal(c.Input, &s); err != nil {
		t.Fatalf("%s: input: %v", c.Name, err)
	}
	return []byte(s)
}

// runStream feeds the recorded payloads the way the gateway does and
// returns the frames as a JSON array of wireFrame.
func (c *wireCase) runStream(t testing.TB, m streamMachine) []byte {
	var payloads []string
	if err := json.Unmarshal(c.Input, &payloads); err != nil {
		t.Fatalf("%s: input: %v", c.Name, err)
	}
	var frames []sse.Frame
	var ferr error
	for _, p := range payloads {
		var fs []sse.Frame
		fs, ferr = m.Feed([]byte(p))
		frames = append(frames, fs...)
		if ferr != nil {
			break
		}
	}
	if ferr == nil && c.EndError {
		ferr = errReset
	}
	frames = append(frames, m.Finish(ferr)...)
	out := make([]wireFrame, len(frames))
	for i, f := range frames {
		out[i] = wireFrame{Event: f.Event, Data: f.Data}
		if !json.Valid(f.Data) {
			out[i].Data, _ = json.Marshal(string(f.Data))
		}
	}
	b, err := json.Marshal(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func toolMap(t *ToolNames) map[string]ToolRef {
	if t == nil || len(t.toClient) == 0 {
		return nil
	}
	return t.toClient
}

func wirePath(name string) string { return filepath.Join("testdata", "wire", name+".json") }

func readWire(t testing.TB, name string) []wireCase {
	t.Helper()
	b, err := os.ReadFile(wirePath(name))
	if err != nil {
		t.Fatal(err)
	}
	var cs []wireCase
	if err := json.Unmarshal(b, &cs); err != nil {
		t.Fatalf("%s: %v", wirePath(name), err)
	}
	if len(cs) == 0 {
		t.Fatalf("%s: no cases", wirePath(name))
	}
	return cs
}

// randomHex matches the 24 hex digits newID appends; timestamps are the
// other thing that changes from run to run.
var randomHex = regexp.MustCompile(`[0-9a-f]{24}`)

// normalize decodes JSON text and masks random ids and timestamps.
func normalize(t testing.TB, what string, b []byte) any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("%s: output is not JSON: %v\n%s", what, err, b)
	}
	return mask(v, "")
}

func mask(v any, key string) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = mask(e, k)
		}
	case []any:
		for i, e := range x {
			x[i] = mask(e, "")
		}
	case string:
		// Stream frames and tool arguments carry JSON inside strings.
		if (strings.HasPrefix(x, "{") || strings.HasPrefix(x, "[")) && json.Valid([]byte(x)) {
			var inner any
			d := json.NewDecoder(strings.NewReader(x))
			d.UseNumber()
			if d.Decode(&inner) == nil {
				return map[string]any{"(json)": mask(inner, "")}
			}
		}
		return randomHex.ReplaceAllString(x, "<random>")
	case json.Number:
		if key == "created" || key == "created_at" {
			return "<time>"
		}
		if f, err := x.Float64(); err == nil {
			return f
		}
	}
	return v
}

func sameJSON(t testing.TB, what string, got, want []byte) {
	t.Helper()
	g, w := normalize(t, what, got), normalize(t, what+" (recorded)", want)
	if !reflect.DeepEqual(g, w) {
		t.Errorf("%s: output differs from the recording\n got: %s\nwant: %s", what, got, want)
	}
}

// --- recording -------------------------------------------------------

func recordWireFixtures(t *testing.T) {
	if err := os.MkdirAll(filepath.Join("testdata", "wire"), 0o755); err != nil {
		t.Fatal(err)
	}
	anth, resp, chat := anthropicInputs(t), responsesInputs(t), chatInputs(t)
	inputs := map[string]map[string][]byte{
		"anthropic_to_chat": anth, "anthropic_to_responses": anth,
		"responses_to_chat": resp, "responses_to_anthropic": resp,
		"chat_to_anthropic": chat, "chat_to_responses": chat,
	}
	for name, fn := range wireRequests() {
		var cs []wireCase
		for n, in := range sortedKeys(inputs[name]) {
			for i, o := range wireOptions {
				if !strings.HasPrefix(in, "edge") && i != n%len(wireOptions) {
					continue // large bodies: one set of options each
				}
				c := newCase(fmt.Sprintf("%s/opts%d", in, i), inputs[name][in])
				c.Options = o
				res, err := fn(inputs[name][in], o)
				if err != nil {
					c.Error = true
				} else {
					c.Output, c.Notes, c.Stream, c.Model, c.Tools = res.Body, res.Notes, res.Stream, res.ClientModel, toolMap(res.Tools)
				}
				cs = append(cs, c)
			}
		}
		writeWire(t, name, cs)
	}
	respIn := responseInputs()
	for name, fn := range wireResponses() {
		var cs []wireCase
		for _, in := range sortedKeys(respIn[strings.SplitN(name, "_", 2)[0]]) {
			body := respIn[strings.SplitN(name, "_", 2)[0]][in]
			c := newCase(in, body)
			out, err := fn(body)
			c.Output, c.Error = out, err != nil
			cs = append(cs, c)
		}
		writeWire(t, name, cs)
	}
	streams := streamInputs(t)
	for name, fn := range wireStreams() {
		var cs []wireCase
		src := streams[strings.SplitN(name, "_", 2)[0]]
		for _, in := range sortedKeys(src) {
			for _, endErr := range []bool{false, true} {
				if endErr && !strings.Contains(in, "truncated") && !strings.Contains(in, "no_done") && !strings.Contains(in, "nostop") {
					continue
				}
				p, _ := json.Marshal(src[in])
				c := wireCase{Name: in, Input: p, EndError: endErr}
				if endErr {
					c.Name += "/reset"
				}
				c.Output = c.runStream(t, fn())
				cs = append(cs, c)
			}
		}
		writeWire(t, name, cs)
	}
}

func newCase(name string, body []byte) wireCase {
	c := wireCase{Name: name}
	if utf8.Valid(body) {
		c.Input, _ = json.Marshal(string(body))
	} else {
		c.InputBase64 = body
	}
	return c
}

func writeWire(t *testing.T, name string, cs []wireCase) {
	var buf bytes.Buffer
	buf.WriteString("[\n")
	for i, c := range cs {
		b, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		if i > 0 {
			buf.WriteString(",\n")
		}
		buf.Write(b)
	}
	buf.WriteString("\n]\n")
	if err := os.WriteFile(wirePath(name), buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// anthropicEdgeBodies are Messages bodies with odd shapes, escapes, kinds
// and errors.
var anthropicEdgeBodies = []string{
	``, `{`, `[]`, `null`, `{}`, ` {} `, `{} x`, `{"messages":[{"role":"user","content":7}]}`,
	`{"messages":null,"system":null,"tools":null}`,
	`{"messages":[null,{"role":"user","content":null},{"role":"assistant"},{"role":"assistant","content":[]}]}`,
	`{"messages":[{"role":"user","content":""}],"system":""}`,
	`{"messages":[{"role":"user","content":"a"}],"MESSAGES":[]}`,
	`{"messages":[{"role":"user","content":"a"}],"messages":[]}`,
	`{"messages":[{"Role":"assistant","content":"a"}]}`,
	`{"messages":[{"role":"assistant","content":"a","role":"user"}]}`,
	`{"messages":[{"role":"user","content":[{"type":"text","TEXT":"x"}]}]}`,
	`{"messages":[{"role":"user","content":[{"t\u0079pe":"text","text":"x"}]}]}`,
	`{"messages":[{"role":"user","content":[{"type":"text","text":"x","text":"y"}]}]}`,
	`{"messages":[{"role":"user","content":[{"type":"text","text":null}]}]}`,
	`{"messages":[{"role":"user","content":[{"type":"text","text":5}]}]}`,
	`{"messages":[{"role":"user","content":[{"type":"te\u0078t","text":"x"},{"type":"text","text":"\u2028\/\b\f\u00e9\u0001\u001F\ud83d\ude00\ud800"}]}]}`,
	"{\"messages\":[{\"role\":\"user\",\"content\":\"bad \xff utf8 \xe2\x80\xa8 sep\"}],\"model\":\"m\xff\"}",
	`{"messages":[{"role":"user","content":[{"type":"tool_result","tool_use_id":"a","content":7}]}]}`,
	`{"messages":[{"role":"assistant","content":[{"type":"tool_result","tool_use_id":"a","content":7}]}]}`,
	`{"messages":[{"role":"user","content":[{"type":"tool_result","content":[1]}]}]}`,
	`{"messages":[{"role":"user","content":[{"type":"text","text":"x","content":[1]}]}]}`,
	`{"messages":[{"role":"user","content":[{"type":"tool_result","tool_use_id":"a","is_error":1}]}]}`,
	`{"messages":[{"role":"user","content":[{"type":"tool_result","tool_use_id":"a","is_error":null,"content":[null,{"type":"text","text":"1"},{"type":"text"},{"type":"image","source":{"type":"url","url":"u"}}]}]}]}`,
	`{"messages":[{"role":"user","content":[{"type":"image","source":{"type":"base64","media_type":"image/png","data":"AA=="}},{"type":"text","text":"\b<&>"},{"type":"image","source":null},{"type":"image","source":{"type":"file"}},{"type":"document","source":{}}]}]}`,
	`{"messages":[{"role":"user","content":[{"type":"image","source":{"type":5}}]}]}`,
	`{"messages":[{"role":"user","content":[{"type":"image","source":[]}]}]}`,
	`{"messages":[{"role":"assistant","content":[{"type":"tool_use","id":"a","name":"n","input":null},{"type":"tool_use","input":  {"x" : [1, 2.5e3, "\u2028"]}},{"type":"thinking","thinking":"t"},{"type":"text","text":""}]}]}`,
	`{"messages":[{"role":"system","content":[{"type":"text","text":"x-anthropic-billing-header: a"},{"type":"text","text":"x-anthropic-billing-header\u003a b"},{"type":"text","text":""}]}]}`,
	`{"messages":[{"role":"system","content":[{"type":"text","text":""},{"type":"text","text":""}]}]}`,
	`{"messages":[{"role":"system","content":"x-anthropic-billing-header: a"}]}`,
	`{"system":[{"type":"text","text":"x-anthropic-billing-heade\u0072: z"},{"type":"text","text":"keep"}],"messages":[]}`,
	`{"system":5,"messages":[]}`, `{"system":[5],"messages":[]}`, `{"System":"s","messages":[]}`,
	`{"tools":[{"name":"a","input_schema":null},{"name":"b","type":"custom","description":""},{"name":"c","type":"web_search_20250305"},{"name":"d","defer_loading":true},{"name":"e","defer_loading":null,"input_schema":{ "type" : "object" }}],"tool_choice":{"type":"tool","name":"a"}}`,
	`{"tools":[null]}`, `{"tools":[{"name":5}]}`, `{"tools":[{"Name":"x"}]}`, `{"tools":{}}`,
	`{"tools":[{"name":"a"}],"tool_choice":{"type":"any","disable_parallel_tool_use":true},"max_tokens":5,"Max_Tokens":6,"temperature":0.000001,"top_p":1e21,"top_k":3,"stop_sequences":["\n\nHuman:"],"stream":true,"metadata":{"user_id":"{\"device_id\":\"d\",\"account_uuid\":\"\"}"},"thinking":{"type":"enabled","budget_tokens":4000},"output_config":{"effort":"max","format":{"type":"json_schema","schema":{}}},"unknown":[1,{"a":null}]}`,
	`{"max_tokens":"x","messages":[]}`, `{"max_tokens":1.5}`, `{"model":5}`, `{"model":"m","model":"n"}`,
	`{"messages":[{"role":"user","content":"a"}] , "model" : "m" , "stream" : false }`,
	`{"a":01}`, `{"a":1.}`, `{"a":"\x01"}`, `{"a":"\q"}`, `{"a":1,}`,
	`{"a":` + strings.Repeat("[", 300) + strings.Repeat("]", 300) + `}`,
}

func anthropicInputs(t testing.TB) map[string][]byte {
	in := map[string][]byte{
		"first_turn": fixture(t, "anthropic_first_turn.json"),
		"tool_turn":  fixture(t, "anthropic_tool_turn.json"),
		"big20k":     bigAnthropicRequest(t, 20_000),
	}
	for i, b := range anthropicEdgeBodies {
		in[fmt.Sprintf("edge%02d", i)] = []byte(b)
	}
	rng := rand.New(rand.NewSource(1))
	for i := 0; i < 24; i++ {
		in[fmt.Sprintf("generated%02d", i)] = genAnthRequest(rng, 1+rng.Intn(12))
	}
	return in
}

func responsesInputs(t testing.TB) map[string][]byte {
	in := map[string][]byte{
		"first_turn": fixture(t, "responses_first_turn.json"),
		"tool_turn":  fixture(t, "responses_tool_turn.json"),
	}
	for i, b := range []string{``, `[]`, `{}`, `{"input":5}`, `{"model":"m","input":"hello","instructions":"be brief","stream":true,"max_output_tokens":100}`,
		`{"model":"m","input":[{"type":"message","role":"developer","content":"dev"},{"type":"message","role":"user","content":[{"type":"input_text","text":"a"},{"type":"input_image","image_url":"data:image/png;base64,AA=="}]},{"type":"reasoning","summary":[{"text":"s"}],"encrypted_content":"enc"},{"type":"function_call","call_id":"c1","name":"f","arguments":"{\"a\":1}"},{"type":"function_call_output","call_id":"c1","output":"ok"},{"type":"custom_tool_call","call_id":"c2","name":"apply_patch","input":"*** Begin"},{"type":"custom_tool_call_output","call_id":"c2","output":[{"type":"input_text","text":"done"}]}],"tools":[{"type":"function","name":"f","parameters":{"type":"object"}},{"type":"custom","name":"apply_patch"},{"type":"web_search"},{"type":"namespace","name":"mcp__srv","tools":[{"type":"function","name":"read","parameters":{}}]}],"tool_choice":{"type":"function","name":"f"},"reasoning":{"effort":"high","summary":"auto"},"text":{"format":{"type":"json_schema","name":"out","schema":{"type":"object"},"strict":true}},"parallel_tool_calls":false,"previous_response_id":"resp_x","store":true,"temperature":0.5}`,
	} {
		in[fmt.Sprintf("edge%02d", i)] = []byte(b)
	}
	return in
}

func chatInputs(t testing.TB) map[string][]byte {
	in := map[string][]byte{"codex094_tool_turn": fixture(t, "chat_codex094_tool_turn.json")}
	for _, name := range []string{"anthropic_first_turn.json", "anthropic_tool_turn.json"} {
		res, err := AnthropicToChat(fixture(t, name), Options{ReasoningInHistory: true})
		if err != nil {
			t.Fatal(err)
		}
		in["from_"+strings.TrimSuffix(name, ".json")] = res.Body
	}
	for i, b := range []string{``, `[]`, `{}`, `{"messages":5}`,
		`{"model":"m","messages":[{"role":"system","content":"s"},{"role":"developer","content":[{"type":"text","text":"d"}]},{"role":"user","content":[{"type":"text","text":"look"},{"type":"image_url","image_url":{"url":"data:image/png;base64,AA=="}},{"type":"image_url","image_url":{"url":"https://x/y.png","detail":"high"}}]},{"role":"assistant","content":null,"reasoning_content":"r","reasoning_signature":"sig","tool_calls":[{"id":"call_1","type":"function","function":{"name":"f","arguments":"{\"a\":1}"}},{"type":"function","function":{"name":"g","arguments":""}}]},{"role":"tool","tool_call_id":"call_1","content":"ok"},{"role":"tool","content":[{"type":"text","text":"no id"}]},{"role":"user","content":"next"}],"tools":[{"type":"function","function":{"name":"f","description":"d","parameters":{"type":"object"},"strict":true}},{"type":"function","name":"g","function":{}}],"tool_choice":"required","parallel_tool_calls":false,"max_completion_tokens":50,"stop":["x","y"],"stream":true,"stream_options":{"include_usage":true},"temperature":0.2,"top_p":0.9,"user":"u","reasoning_effort":"medium","response_format":{"type":"json_schema","json_schema":{"name":"o","schema":{"type":"object"}}}}`,
		`{"model":"m","messages":[{"role":"user","content":"hi"}],"tool_choice":{"type":"function","function":{"name":"f"}},"tools":[{"type":"function","function":{"name":"f"}}],"stop":"END","max_tokens":9,"response_format":{"type":"json_object"}}`,
	} {
		in[fmt.Sprintf("edge%02d", i)] = []byte(b)
	}
	return in
}

// responseInputs are non-streaming upstream answers keyed by protocol.
func responseInputs() map[string]map[string][]byte {
	m := func(bs ...string) map[string][]byte {
		out := map[string][]byte{}
		for i, b := range bs {
			out[fmt.Sprintf("case%02d", i)] = []byte(b)
		}
		return out
	}
	return map[string]map[string][]byte{
		"chat": m(string(benchChatResponse), ``, `{}`, `[]`, `{"choices":[]}`, `{"error":{"message":"quota","type":"insufficient_quota","code":"q"}}`,
			`{"id":"chatcmpl-2","model":"up","created":5,"choices":[{"index":0,"message":{"role":"assistant","content":"Hi <b> & \u2028 there"},"finish_reason":"stop","stop_reason":"END"}],"usage":{"prompt_tokens":7,"completion_tokens":3,"total_tokens":10,"prompt_tokens_details":{"cached_tokens":2},"completion_tokens_details":{"reasoning_tokens":1}}}`,
			`{"choices":[{"index":0,"message":{"content":null,"refusal":"no"},"finish_reason":"content_filter"}]}`,
			`{"choices":[{"index":0,"message":{"content":"x","reasoning_details":[{"type":"reasoning.text","text":"r","signature":"s"}],"tool_calls":[{"id":"","type":"function","function":{"name":"f","arguments":"not json"}}]},"finish_reason":"length"}],"usage":{"prompt_tokens":1,"prompt_cache_hit_tokens":1}}`,
			`{"choices":[{"index":0,"message":{"function_call":{"name":"f","arguments":"{}"}},"finish_reason":"function_call"}]}`),
		"anthropic": m(string(benchAnthResponse), ``, `{}`, `{"type":"error","error":{"type":"overloaded_error","message":"busy"}}`,
			`{"id":"msg_2","type":"message","role":"assistant","content":[{"type":"text","text":"a"},{"type":"redacted_thinking","data":"xx"},{"type":"text","text":"b"}],"stop_reason":"max_tokens","usage":{"input_tokens":1,"output_tokens":2,"cache_creation_input_tokens":3}}`,
			`{"id":"msg_3","type":"message","role":"assistant","content":[],"stop_reason":"stop_sequence","stop_sequence":"END","usage":{}}`,
			`{"id":"msg_4","type":"message","role":"assistant","content":[{"type":"tool_use","id":"toolu_1","name":"mcp__srv__read","input":{}},{"type":"tool_use","name":"g","input":null}],"stop_reason":"tool_use"}`),
		"responses": m(``, `{}`, `{"error":{"message":"bad","code":"x"},"status":"failed"}`,
			`{"id":"resp_1","object":"response","created_at":5,"status":"completed","model":"up","output":[{"type":"reasoning","id":"rs_1","summary":[{"type":"summary_text","text":"think"}],"encrypted_content":"enc"},{"type":"message","id":"msg_1","role":"assistant","content":[{"type":"output_text","text":"Hello"},{"type":"refusal","refusal":"no"}]},{"type":"function_call","id":"fc_1","call_id":"call_1","name":"f","arguments":"{\"a\":1}"},{"type":"custom_tool_call","call_id":"call_2","name":"apply_patch","input":"patch"}],"usage":{"input_tokens":5,"output_tokens":6,"total_tokens":11,"input_tokens_details":{"cached_tokens":1},"output_tokens_details":{"reasoning_tokens":2}}}`,
			`{"id":"resp_2","status":"incomplete","incomplete_details":{"reason":"max_output_tokens"},"output":[{"type":"message","content":[{"type":"output_text","text":"cut"}]}]}`,
			`{"id":"resp_3","status":"failed","error":{"code":"server_error","message":"boom"},"output":[]}`),
	}
}

// streamInputs are upstream streams keyed by protocol: the recorded SSE
// fixtures plus generated tool-call streams.
func streamInputs(t testing.TB) map[string]map[string][]string {
	out := map[string]map[string][]string{"chat": {}, "anthropic": {}, "responses": {}}
	entries, err := os.ReadDir("testdata")
	if err != nil {
		t.Fatal(err)
	}
	add := func(proto, name string, sseText []byte) {
		var ps []string
		for _, ev := range strings.Split(string(sseText), "\n\n") {
			for _, line := range strings.Split(ev, "\n") {
				if d, ok := strings.CutPrefix(line, "data:"); ok {
					ps = append(ps, strings.TrimPrefix(d, " "))
				}
			}
		}
		out[proto][name] = ps
	}
	for _, e := range entries {
		name := e.Name()
		if proto, _, ok := strings.Cut(name, "_"); ok && strings.HasSuffix(name, ".sse") {
			add(proto, strings.TrimSuffix(name, ".sse"), fixture(t, name))
		}
	}
	rng := rand.New(rand.NewSource(3))
	calls := []chatDeltaCall{
		{ID: "call_a", Function: chatDeltaFunc{Name: "Bash", Arguments: `{"command":"ls -la","description":"list é 😀"}`}},
		{ID: "call_b", Function: chatDeltaFunc{Name: "Read", Arguments: `{"path":"/tmp/x","n":[1,2.5,true,null]}`}},
		{ID: "call_c", Function: chatDeltaFunc{Name: "Write", Arguments: `{"path":"a","content":"line\nline \"q\" <&>"}`}},
	}
	for i := 0; i < 4; i++ {
		add("chat", fmt.Sprintf("generated_seq%d", i), chatStreamFor(calls[:1+i%3], "Let me check.", 1+i*3))
		s, _ := chatStreamShuffled(calls, "", 2+i, rng)
		add("chat", fmt.Sprintf("generated_shuffled%d", i), s)
		var uses []anthBlock
		for _, c := range calls[:1+i%3] {
			uses = append(uses, anthBlock{Type: "tool_use", ID: strings.Replace(c.ID, "call", "toolu", 1), Name: c.Function.Name, Input: json.RawMessage(c.Function.Arguments)})
		}
		add("anthropic", fmt.Sprintf("generated%d", i), anthStreamFor(uses, "Let me check.", 1+i*3))
		var items []respItem
		for _, c := range calls[:1+i%3] {
			items = append(items, respItem{Type: "function_call", ID: "fc_" + c.ID, CallID: c.ID, Name: c.Function.Name, Arguments: c.Function.Arguments})
		}
		add("responses", fmt.Sprintf("generated%d", i), respStreamFor(items, "Let me check.", 1+i*3, i%2 == 1))
	}
	return out
}
