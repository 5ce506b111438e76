package translate

import (
	"bytes"
	"fmt"
	"math/rand"
	"reflect"
	"strings"
	"testing"
)

// compareFastSlow checks that AnthropicToChat gives exactly what the
// reference (anthropicToChatSlow) gives, and that the fast path, when it
// accepts a body, agrees byte for byte. It reports whether the fast path
// took the body.
func compareFastSlow(t testing.TB, body []byte, opts Options) bool {
	t.Helper()
	want, werr := anthropicToChatSlow(body, opts)
	got, gerr := AnthropicToChat(body, opts)
	if (werr == nil) != (gerr == nil) || werr != nil && werr.Error() != gerr.Error() {
		t.Fatalf("errors differ: %v vs %v\nbody: %s", werr, gerr, body)
	}
	if werr == nil && !sameResult(want, got) {
		t.Fatalf("results differ\nbody: %s\nwant: %s %q\ngot:  %s %q", body, want.Body, want.Notes, got.Body, got.Notes)
	}
	fast, ok := anthropicToChatFast(body, opts)
	if !ok {
		return false
	}
	if werr != nil {
		t.Fatalf("fast path accepted a body the reference rejects (%v): %s", werr, body)
	}
	if !sameResult(want, fast) {
		t.Fatalf("fast path differs\nbody: %s\nwant: %s %q\ngot:  %s %q", body, want.Body, want.Notes, fast.Body, fast.Notes)
	}
	return true
}

func sameResult(a, b *Result) bool {
	return bytes.Equal(a.Body, b.Body) && a.Stream == b.Stream && a.ClientModel == b.ClientModel &&
		reflect.DeepEqual(a.Notes, b.Notes) && reflect.DeepEqual(a.Tools, b.Tools)
}

var fastOptions = []Options{{}, {Model: "gpt-up"}, {MaxCompletionTokens: true, ReasoningInHistory: true}}

func TestAnthropicToChatFastMatchesReferenceOnFixtures(t *testing.T) {
	bodies := map[string][]byte{
		"first_turn": fixture(t, "anthropic_first_turn.json"),
		"tool_turn":  fixture(t, "anthropic_tool_turn.json"),
	}
	for _, n := range []int{1_000, 76_000, 200_000, 600_000} {
		bodies[fmt.Sprintf("big%d", n)] = bigAnthropicRequest(t, n)
	}
	for name, body := range bodies {
		for _, o := range fastOptions {
			if !compareFastSlow(t, body, o) {
				t.Errorf("%s: fast path refused a Claude Code body", name)
			}
		}
	}
}

func TestAnthropicToChatFastMatchesReferenceOnGeneratedBodies(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	fast := 0
	const n = 3000
	for i := 0; i < n; i++ {
		body := genAnthRequest(rng, 1+rng.Intn(12))
		if compareFastSlow(t, body, fastOptions[i%len(fastOptions)]) {
			fast++
		}
	}
	if fast < n*9/10 {
		t.Fatalf("fast path took only %d of %d generated bodies", fast, n)
	}
	// Large ones: long, escape-heavy conversations.
	for i := 0; i < 5; i++ {
		if !compareFastSlow(t, genAnthRequest(rng, 400), Options{ReasoningInHistory: i%2 == 0}) {
			t.Fatal("fast path refused a large generated body")
		}
	}
}

// TestAnthropicToChatFastEdgeCases: bodies the fast path must translate
// like the reference, or hand to it (errors, odd keys, odd kinds).
func TestAnthropicToChatFastEdgeCases(t *testing.T) {
	for _, b := range []string{
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
		`{"a":01}`, `{"a":1.}`, `{"a":-}`, `{"a":1e}`, `{"a":tru}`, `{"a":nul}`, `{"a":"\x01"}`, `{"a":"\q"}`, `{"a":"\u12"}`, `{"a" 1}`, `{"a":1,}`, `{"a":[1,]}`, `{,}`,
		`{"a":` + strings.Repeat("[", 300) + strings.Repeat("]", 300) + `}`,
		`{"a":` + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + `}`,
	} {
		for _, o := range fastOptions {
			compareFastSlow(t, []byte(b), o)
		}
	}
}

func FuzzAnthropicToChatFastMatchesReference(f *testing.F) {
	f.Add(fixture(f, "anthropic_tool_turn.json"))
	f.Add(fixture(f, "anthropic_first_turn.json"))
	rng := rand.New(rand.NewSource(7))
	for i := 0; i < 4; i++ {
		f.Add(genAnthRequest(rng, 3))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		compareFastSlow(t, body, Options{ReasoningInHistory: len(body)%2 == 0})
	})
}

// genAnthRequest writes a random Messages request as JSON text, with
// random key order, spacing, escapes and block mixes.
func genAnthRequest(rng *rand.Rand, turns int) []byte {
	g := &anthGen{rng: rng}
	var members []string
	members = append(members, `"model":`+g.str())
	if rng.Intn(4) > 0 {
		var sys string
		if rng.Intn(3) == 0 {
			sys = g.str()
		} else {
			var bs []string
			if rng.Intn(2) == 0 {
				bs = append(bs, g.obj(`"type":"text"`, `"text":"x-anthropic-billing-header: cc_version=1;"`))
			}
			for n := rng.Intn(3); n >= 0; n-- {
				bs = append(bs, g.obj(`"type":"text"`, `"text":`+g.str(), `"cache_control":{"type":"ephemeral"}`))
			}
			sys = g.arr(bs)
		}
		members = append(members, `"system":`+sys)
	}
	var msgs []string
	for i := 0; i < turns; i++ {
		msgs = append(msgs, g.message(i))
	}
	members = append(members, `"messages":`+g.arr(msgs))
	if rng.Intn(3) > 0 {
		var ts []string
		for n := rng.Intn(4); n >= 0; n-- {
			fs := []string{`"name":` + g.str(), `"input_schema":{"type":"object","properties":{"p":{"type":"string","description":` + g.str() + `}}}`}
			if rng.Intn(2) == 0 {
				fs = append(fs, `"description":`+g.str())
			}
			switch rng.Intn(8) {
			case 0:
				fs = append(fs, `"type":"web_search_20250305"`)
			case 1:
				fs = append(fs, `"defer_loading":true`)
			case 2:
				fs = append(fs, `"type":"custom"`)
			}
			ts = append(ts, g.obj(fs...))
		}
		members = append(members, `"tools":`+g.arr(ts))
		if rng.Intn(2) == 0 {
			members = append(members, `"tool_choice":{"type":"auto"}`)
		}
	}
	for _, m := range []string{`"max_tokens":32000`, `"stream":true`, `"temperature":1`, `"top_k":5`,
		`"metadata":{"user_id":"{\"device_id\":\"dev\",\"session_id\":\"s\"}"}`, `"thinking":{"type":"enabled","budget_tokens":31999}`,
		`"context_management":{"edits":[]}`, `"stop_sequences":["x"]`} {
		if rng.Intn(2) == 0 {
			members = append(members, m)
		}
	}
	return []byte(g.obj(members...))
}

type anthGen struct{ rng *rand.Rand }

var genFragments = []string{"plain text ", `\n`, `\"`, `\\`, `\t`, `\r`, `<b>&amp;</b>`, "é", "日本語", "😀",
	`\u0001`, `\u001f`, `\u00e9`, `\u2028`, `\/`, `\b`, `\f`, `\ud83d\ude00`, `\ud800`, "\u2028", "\xff", `\u000A`, `\u0000`}

func (g *anthGen) str() string {
	var sb strings.Builder
	sb.WriteByte('"')
	for n := g.rng.Intn(8); n > 0; n-- {
		if g.rng.Intn(4) == 0 {
			sb.WriteString(genFragments[g.rng.Intn(len(genFragments))])
		} else {
			sb.WriteString(genFragments[0])
		}
	}
	sb.WriteByte('"')
	return sb.String()
}

func (g *anthGen) ws() string { return [...]string{"", "", "", " ", "\n  ", "\t"}[g.rng.Intn(6)] }

// obj joins members in random order.
func (g *anthGen) obj(members ...string) string {
	g.rng.Shuffle(len(members), func(i, j int) { members[i], members[j] = members[j], members[i] })
	var sb strings.Builder
	sb.WriteString("{" + g.ws())
	for i, m := range members {
		if i > 0 {
			sb.WriteString(g.ws() + "," + g.ws())
		}
		sb.WriteString(m)
	}
	sb.WriteString(g.ws() + "}")
	return sb.String()
}

func (g *anthGen) arr(elems []string) string {
	return "[" + g.ws() + strings.Join(elems, ","+g.ws()) + g.ws() + "]"
}

func (g *anthGen) block(role string, i int) string {
	id := fmt.Sprintf(`"toolu_%d"`, i)
	cc := `"cache_control":{"type":"ephemeral"}`
	switch r := g.rng.Intn(10); {
	case r < 4:
		if g.rng.Intn(3) == 0 {
			return g.obj(`"type":"text"`, `"text":`+g.str(), cc)
		}
		return g.obj(`"type":"text"`, `"text":`+g.str())
	case r == 4 && role == "assistant":
		return g.obj(`"type":"thinking"`, `"thinking":`+g.str(), `"signature":"c2ln"`)
	case r < 7 && role == "assistant":
		input := `{"command":` + g.str() + `, "n": [1, 2.5, -3e2, true, null]}`
		if g.rng.Intn(6) == 0 {
			input = "null"
		}
		return g.obj(`"type":"tool_use"`, `"id":`+id, `"name":"Bash"`, `"input":`+input)
	case r < 8 && role == "user":
		var content string
		switch g.rng.Intn(3) {
		case 0:
			content = g.str()
		case 1:
			content = g.arr([]string{g.obj(`"type":"text"`, `"text":`+g.str()), g.obj(`"type":"text"`, `"text":`+g.str())})
		default:
			content = g.arr([]string{g.obj(`"type":"text"`, `"text":`+g.str()),
				g.obj(`"type":"image"`, `"source":{"type":"base64","media_type":"image/png","data":"iVBORw0KGgo="}`)})
		}
		fs := []string{`"type":"tool_result"`, `"tool_use_id":` + id, `"content":` + content}
		if g.rng.Intn(3) == 0 {
			fs = append(fs, `"is_error":true`)
		}
		return g.obj(fs...)
	case r == 8 && role == "user":
		return g.obj(`"type":"image"`, `"source":{"type":"url","url":"https://x/y.png"}`)
	case r == 9 && role == "user":
		return g.obj(`"type":"document"`, `"source":{"type":"text","data":"d"}`)
	}
	return g.obj(`"type":"text"`, `"text":`+g.str())
}

func (g *anthGen) message(i int) string {
	role := "user"
	switch {
	case i%2 == 1:
		role = "assistant"
	case g.rng.Intn(8) == 0:
		role = "system"
	}
	var content string
	if g.rng.Intn(4) == 0 {
		content = g.str()
	} else {
		var bs []string
		for n := g.rng.Intn(4); n >= 0; n-- {
			bs = append(bs, g.block(role, i))
		}
		content = g.arr(bs)
	}
	return g.obj(`"role":"`+role+`"`, `"content":`+content)
}
