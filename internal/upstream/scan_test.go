package upstream

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
	out := AppendRewritten(nil, body, info, AppendJSONString(nil, "up/model-1"))
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

func TestNewTargetURLs(t *testing.T) {
	tg := NewTarget(KindOpenAI, "m", "http://h:1/v1/", "", []string{"/v1/responses"})
	if tg.URL(OpChat) != "http://h:1/v1/chat/completions" || tg.URL(OpResponses) != "http://h:1/v1/responses" || !tg.NativeFor(Responses) || tg.NativeFor(Messages) {
		t.Fatalf("%+v", tg)
	}
	a := NewTarget(KindAnthropic, "m", "http://h:2/v1", "", nil)
	if a.URL(OpMessages) != "http://h:2/v1/messages" || a.URL(OpCountTokens) != "http://h:2/v1/messages/count_tokens" {
		t.Fatal(a.URL(OpMessages))
	}
}

func bigBody(n int) []byte {
	return []byte(`{"model":"claude-sonnet","max_tokens":1024,"stream":true,"system":"x","messages":[{"role":"user","content":"` + strings.Repeat("lorem ipsum \\\"q\\\" ", n/18) + `"}]}`)
}

func BenchmarkModelRewrite(b *testing.B) {
	for _, n := range []int{300, 200 << 10} {
		body := bigBody(n)
		mj := AppendJSONString(nil, "upstream-model")
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
