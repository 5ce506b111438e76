package translate

import (
	"strings"
	"testing"
)

// Server tools and document blocks either reach an upstream that can serve
// them or are refused naming the tool or block and the alias; never dropped.
func TestAnthropicServerToolsAndDocuments(t *testing.T) {
	const pdf = `{"type":"document","title":"spec.pdf","source":{"type":"base64","media_type":"application/pdf","data":"JVBERi0="}}`
	body := func(tools, block string) []byte {
		return []byte(`{"model":"fast","max_tokens":10,"tools":[` + tools + `],"messages":[` +
			`{"role":"user","content":"hi"},{"role":"assistant","content":"ok"},` +
			`{"role":"user","content":[{"type":"text","text":"read this"}` + block + `]}]}`)
	}
	search := `{"type":"web_search_20250305","name":"web_search","max_uses":5}`
	fetch := `{"type":"web_fetch_20250910","name":"web_fetch"}`
	cases := []struct {
		name      string
		body      []byte
		fn        requestFunc
		opts      Options
		wantErr   []string // substrings of the refusal
		wantBody  []string // substrings of the upstream body
		wantNotIn string
	}{
		{name: "web_search to chat", body: body(search, ""), fn: AnthropicToChat,
			wantErr: []string{"tool web_search (type web_search_20250305)", `model "fast"`, "anthropic/ or openai_responses/", "turn the tool off"}},
		{name: "web_fetch to chat", body: body(fetch, ""), fn: AnthropicToChat,
			wantErr: []string{"tool web_fetch (type web_fetch_20250910)", `"fast"`, "an anthropic/ deployment"}},
		{name: "web_fetch to responses", body: body(fetch, ""), fn: AnthropicToResponses,
			wantErr: []string{"tool web_fetch", "an anthropic/ deployment"}},
		{name: "web_search to responses", body: body(search+`,{"name":"Bash","input_schema":{"type":"object"}}`, ""), fn: AnthropicToResponses,
			wantBody: []string{`{"type":"web_search"}`, `"name":"Bash"`}},
		{name: "other server tool still dropped", body: body(`{"type":"bash_20250124","name":"bash"}`, ""), fn: AnthropicToChat,
			wantNotIn: "bash_20250124"},
		{name: "pdf to chat", body: body("", ","+pdf), fn: AnthropicToChat,
			wantErr: []string{"messages[2].content[1] is a document block (a PDF)", `model "fast"`, "document's text"}},
		{name: "pdf to chat with file input", body: body("", ","+pdf), fn: AnthropicToChat, opts: Options{FileInput: true},
			wantBody: []string{`{"type":"file","file":{"filename":"spec.pdf","file_data":"data:application/pdf;base64,JVBERi0="}}`, `"text":"read this"`}},
		{name: "pdf to responses", body: body("", ","+pdf), fn: AnthropicToResponses,
			wantBody: []string{`{"type":"input_file","filename":"spec.pdf","file_data":"data:application/pdf;base64,JVBERi0="}`}},
		{name: "pdf url to responses", body: body("", `,{"type":"document","source":{"type":"url","url":"https://x/a.pdf"}}`), fn: AnthropicToResponses,
			wantBody: []string{`{"type":"input_file","file_url":"https://x/a.pdf"}`}},
		{name: "pdf url to chat", body: body("", `,{"type":"document","source":{"type":"url","url":"https://x/a.pdf"}}`), fn: AnthropicToChat, opts: Options{FileInput: true},
			wantErr: []string{"messages[2].content[1] is a document block (a PDF)"}},
		{name: "text document to chat", body: body("", `,{"type":"document","title":"notes","source":{"type":"text","media_type":"text/plain","data":"the body"}}`), fn: AnthropicToChat,
			wantBody: []string{`notes\n\nthe body`}},
		{name: "content document to responses", body: body("", `,{"type":"document","source":{"type":"content","content":[{"type":"text","text":"c1"}]}}`), fn: AnthropicToResponses,
			wantBody: []string{`"text":"read this\nc1"`}},
		{name: "files api document refused", body: body("", `,{"type":"document","source":{"type":"file","file_id":"file_1"}}`), fn: AnthropicToResponses,
			wantErr: []string{"messages[2].content[1] is a document block with source type \"file\""}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, err := c.fn(c.body, c.opts)
			if len(c.wantErr) > 0 {
				if err == nil {
					t.Fatalf("no error; body %s", res.Body)
				}
				for _, w := range c.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q lacks %q", err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range c.wantBody {
				if !strings.Contains(string(res.Body), w) {
					t.Errorf("body lacks %s:\n%s", w, res.Body)
				}
			}
			if c.wantNotIn != "" && strings.Contains(string(res.Body), c.wantNotIn) {
				t.Errorf("body has %s:\n%s", c.wantNotIn, res.Body)
			}
		})
	}
}

// A chat client's file part reaches a Responses upstream as input_file.
func TestChatFilePartToResponses(t *testing.T) {
	res, err := ChatToResponses([]byte(`{"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"x"},`+
		`{"type":"file","file":{"filename":"a.pdf","file_data":"data:application/pdf;base64,AA=="}}]}]}`), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(res.Body), `{"type":"input_file","filename":"a.pdf","file_data":"data:application/pdf;base64,AA=="}`) {
		t.Fatalf("body %s", res.Body)
	}
}
