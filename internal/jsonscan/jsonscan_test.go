package jsonscan

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

func TestScanBodyFindsTopLevelModelAndStream(t *testing.T) {
	body := []byte(`{"messages":[{"role":"user","content":"say \"model\": x","model":"inner"}],"model" : "ali\u0061s","tools":{"model":"y"},"stream":true}`)
	info, err := ScanBody(body)
	if err != nil || info.Model != "alias" || !info.Stream {
		t.Fatalf("%+v %v", info, err)
	}
	out := AppendRewritten(nil, body, info, AppendString(nil, "up/model-1"))
	var m map[string]any
	if err := json.Unmarshal(out, &m); err != nil || m["model"] != "up/model-1" {
		t.Fatalf("%s %v", out, err)
	}
	if !bytes.Contains(out, []byte(`"model":"inner"`)) {
		t.Fatal("nested model touched")
	}
	info, _ = ScanBody([]byte(`{"stream":false}`))
	out = AppendRewritten(nil, []byte(`{"stream":false}`), info, []byte(`"m"`))
	if string(out) != `{"model":"m","stream":false}` || info.Stream {
		t.Fatalf("%s", out)
	}
	for _, bad := range []string{`[]`, `{"model":`, `{"a" 1}`, ``} {
		if _, err := ScanBody([]byte(bad)); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func bigBody(n int) []byte {
	return []byte(`{"model":"claude-sonnet","max_tokens":1024,"stream":true,"system":"x","messages":[{"role":"user","content":"` + strings.Repeat("lorem ipsum \\\"q\\\" ", n/18) + `"}]}`)
}

func BenchmarkModelRewrite(b *testing.B) {
	for _, n := range []int{300, 200 << 10} {
		body := bigBody(n)
		mj := AppendString(nil, "upstream-model")
		dst := make([]byte, 0, len(body)+64)
		b.Run(fmt.Sprintf("%dB", len(body)), func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				info, err := ScanBody(body)
				if err != nil || !info.Stream {
					b.Fatal(err)
				}
				dst = AppendRewritten(dst[:0], body, info, mj)
			}
		})
	}
}

func TestFindModelTopLevelOrOneNestedObject(t *testing.T) {
	cases := []struct {
		in, nested, want string
	}{
		{`{"id":"c1","object":"chat.completion.chunk","model":"up","choices":[{"delta":{"content":"\"model\":\"x\""}}]}`, "", `"up"`},
		{`{"choices":[{"model":"inner"}],"model" : "up\"1"}`, "", `"up\"1"`},
		{`{"type":"message_start","message":{"id":"m","content":[],"model":"up","usage":{}}}`, "message", `"up"`},
		{`{"type":"response.created","sequence_number":0,"response":{"id":"r","output":[{"model":"no"}],"model":"up"}}`, "response", `"up"`},
		{`{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"model"}}`, "message", ``},
		{`{"type":"message_start","message":{"id":"m"},"model":"late"}`, "message", `"late"`},
		{`{"message":{"model":"nested"}}`, "", ``},
		{`{"model":1}`, "", ``},
		{`{"model":"trunc`, "", ``},
		{`{"message":{"id":"x"`, "message", ``},
		{`not json`, "", ``},
		{``, "", ``},
	}
	for _, c := range cases {
		s, e, ok := FindModel([]byte(c.in), c.nested)
		got := ""
		if ok {
			got = c.in[s:e]
		}
		if got != c.want {
			t.Errorf("FindModel(%s, %q) = %q, want %q", c.in, c.nested, got, c.want)
		}
	}
}

// FuzzScanMatchesEncodingJSON: on every JSON object encoding/json accepts,
// ScanBody reports the top-level model and stream that encoding/json
// decodes, the rewritten body decodes to the same object with the new
// model, and FindModel finds a top-level model string when there is one.
func FuzzScanMatchesEncodingJSON(f *testing.F) {
	for _, s := range []string{
		`{"model":"m","stream":true}`, `{"stream":false}`, `{}`, ` { "model" : "a\u00e9\"b" , "x":[{"model":"no"}]} `,
		`{"messages":[{"role":"user","content":"say \"model\": x","model":"inner"}],"model":"ali\u0061s","tools":{"model":"y"},"stream":true}`,
		`{"model":"a","model":5}`, `{"model":5,"model":"b"}`, `{"stream":"true"}`, `{"Model":"x"}`, `{"model":null}`,
		`{"type":"message_start","message":{"id":"m","model":"up"}}`, `[1]`, `"s"`, `{"a":"\\"}`,
		`{"metadata":{"user_id":"u"},"prompt_cache_key":"k","x":{"metadata":{},"prompt_cache_key":"no"}}`,
		`{"metadata":"s","prompt_cache_key":5}`, `{"metadata":{"a":1},"metadata":null}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var want map[string]json.RawMessage
		if json.Unmarshal(b, &want) != nil || want == nil {
			return
		}
		info, err := ScanBody(b)
		if err != nil {
			t.Fatalf("ScanBody refused a JSON object: %v\n%q", err, b)
		}
		var model string
		hasModel := json.Unmarshal(want["model"], &model) == nil && bytes.HasPrefix(bytes.TrimSpace(want["model"]), []byte(`"`))
		if info.HasModel != hasModel || info.Model != model {
			t.Fatalf("model %v %q, encoding/json %v %q\n%q", info.HasModel, info.Model, hasModel, model, b)
		}
		if stream := bytes.Equal(want["stream"], []byte("true")); info.Stream != stream {
			t.Fatalf("stream %v, encoding/json %v\n%q", info.Stream, stream, b)
		}
		for _, c := range []struct {
			field, open string
			got         []byte
		}{{"metadata", "{", info.Metadata}, {"prompt_cache_key", `"`, info.CacheKey}} {
			w := want[c.field]
			if !bytes.HasPrefix(w, []byte(c.open)) {
				w = nil
			}
			if !bytes.Equal(c.got, w) || (c.got == nil) != (w == nil) {
				t.Fatalf("%s %q, encoding/json %q\n%q", c.field, c.got, w, b)
			}
		}
		if _, present := want["model"]; present && !hasModel {
			return // a non-string model: the gateway refuses the request
		}
		var got map[string]json.RawMessage
		out := AppendRewritten(nil, b, info, AppendString(nil, "new\u2028<m>"))
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("rewritten body is not JSON: %v\n%q", err, out)
		}
		if json.Unmarshal(got["model"], &model) != nil || model != "new\u2028<m>" {
			t.Fatalf("rewritten model %s\n%q", got["model"], out)
		}
		delete(got, "model")
		delete(want, "model")
		if len(got) != len(want) {
			t.Fatalf("rewriting changed other members\n%q\n%q", b, out)
		}
		for k, v := range want {
			if !bytes.Equal(bytes.TrimSpace(got[k]), bytes.TrimSpace(v)) {
				t.Fatalf("member %q changed: %s -> %s", k, v, got[k])
			}
		}
		if s, e, ok := FindModel(b, ""); hasModel && !ok {
			t.Fatalf("FindModel missed the top-level model\n%q", b)
		} else if ok && json.Unmarshal(b[s:e], &model) != nil {
			t.Fatalf("FindModel span %q is not a string", b[s:e])
		}
	})
}

func TestAppendStringMatchesEncodingJSON(t *testing.T) {
	for _, s := range []string{"", "plain", "q\"\\", "<a&b>", "\u2028\u2029", "\x00\x1f\n\t", "bad \xff utf8", "é😀"} {
		var back string
		if err := json.Unmarshal(AppendString(nil, s), &back); err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		if want := strings.ToValidUTF8(s, "\uFFFD"); back != want {
			t.Errorf("%q round-trips to %q", s, back)
		}
	}
	if got := string(AppendString(nil, "<a&b>\u2028")); got != `"<a&b>\u2028"` {
		t.Errorf("got %s: no HTML escaping, line separators escaped", got)
	}
}

// FuzzStringsMatchesEncodingJSON: on valid JSON, Strings reports exactly
// the string tokens encoding/json's tokenizer reads, keys marked as keys.
func FuzzStringsMatchesEncodingJSON(f *testing.F) {
	for _, s := range []string{`{"a":"b","c":[1,"d",{"e\"":"\\"}],"f":{"g":null}}`, `"x"`, `[]`, `{"data":"QUJD","signature":"s"}`, `["a\u0022b", "c\\\\"]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if !json.Valid(b) {
			return
		}
		type str struct {
			s   string
			key bool
		}
		var want []str
		dec := json.NewDecoder(bytes.NewReader(b))
		var stack []bool // per open container: is it an object
		expectKey := false
		for {
			tok, err := dec.Token()
			if err != nil {
				break
			}
			isKey := false
			switch v := tok.(type) {
			case json.Delim:
				if v == '{' || v == '[' {
					stack = append(stack, v == '{')
				} else {
					stack = stack[:len(stack)-1]
				}
			case string:
				isKey = len(stack) > 0 && stack[len(stack)-1] && expectKey
				want = append(want, str{v, isKey})
			}
			// In an object, a key follows '{' or a completed value.
			if len(stack) > 0 && stack[len(stack)-1] {
				_, open := tok.(json.Delim)
				expectKey = !isKey && (!open || tok == json.Delim('{')) || tok == json.Delim('}') || tok == json.Delim(']')
			}
		}
		var got []str
		if !Strings(b, func(raw []byte, key bool) {
			var s string
			if err := json.Unmarshal(append(append([]byte{'"'}, raw...), '"'), &s); err != nil {
				t.Fatalf("raw %q is not a string literal's inside: %v", raw, err)
			}
			got = append(got, str{s, key})
		}) {
			t.Fatalf("Strings refused valid JSON %q", b)
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("strings %v, encoding/json %v\n%q", got, want, b)
		}
	})
}
