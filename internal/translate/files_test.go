package translate

import (
	"strings"
	"testing"

	"github.com/tidwall/gjson"
)

const pdfB64 = "JVBERi0xLjQK"

// A Responses input_file reaches a chat upstream that reads files as a file
// part, is refused naming the item and the alias elsewhere, and becomes an
// Anthropic document block (inline or by URL) on the way to Anthropic.
func TestResponsesInputFileIsSentOrRefusedNeverDropped(t *testing.T) {
	body := `{"model":"coder","input":[{"type":"message","role":"user","content":[{"type":"input_text","text":"sum"},` +
		`{"type":"input_file","filename":"a.pdf","file_data":"data:application/pdf;base64,` + pdfB64 + `"}]}]}`
	res, err := ResponsesToChat([]byte(body), Options{FileInput: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := gjson.GetBytes(res.Body, "messages.0.content.1.file.file_data").String(); got != "data:application/pdf;base64,"+pdfB64 {
		t.Errorf("file part: %s", res.Body)
	}
	_, err = ResponsesToChat([]byte(body), Options{})
	if err == nil || !strings.Contains(err.Error(), "input[0].content[1] is an input_file (a.pdf)") || !strings.Contains(err.Error(), `"coder"`) {
		t.Errorf("without file input: %v", err)
	}
	res, err = ResponsesToAnthropic([]byte(body), Options{})
	if err != nil {
		t.Fatal(err)
	}
	doc := gjson.GetBytes(res.Body, "messages.0.content.1")
	if doc.Get("type").String() != "document" || doc.Get("source.data").String() != pdfB64 || doc.Get("title").String() != "a.pdf" {
		t.Errorf("anthropic document: %s", res.Body)
	}
	byURL := strings.Replace(body, `"file_data":"data:application/pdf;base64,`+pdfB64+`"`, `"file_url":"https://example.test/a.pdf"`, 1)
	res, err = ResponsesToAnthropic([]byte(byURL), Options{})
	if err != nil || gjson.GetBytes(res.Body, "messages.0.content.1.source.url").String() != "https://example.test/a.pdf" {
		t.Errorf("anthropic document by URL: %v %s", err, res.Body)
	}
	if _, err := ResponsesToChat([]byte(byURL), Options{FileInput: true}); err == nil {
		t.Error("a file URL cannot be sent to a chat upstream: want a refusal")
	}
}

// Images a tool returned (function_call_output parts) follow the run of
// tool messages as one user message: chat tool messages carry text only.
func TestResponsesToolOutputImagesFollowTheToolMessages(t *testing.T) {
	body := `{"model":"coder","input":[{"type":"function_call","call_id":"c1","name":"shot","arguments":"{}"},` +
		`{"type":"function_call","call_id":"c2","name":"shot","arguments":"{}"},` +
		`{"type":"function_call_output","call_id":"c1","output":[{"type":"input_text","text":"see"},{"type":"input_image","image_url":"data:image/png;base64,AAAA"}]},` +
		`{"type":"function_call_output","call_id":"c2","output":"plain"},` +
		`{"type":"message","role":"user","content":"next"}]}`
	res, err := ResponsesToChat([]byte(body), Options{})
	if err != nil {
		t.Fatal(err)
	}
	m := gjson.GetBytes(res.Body, "messages")
	roles := []string{}
	for _, x := range m.Array() {
		roles = append(roles, x.Get("role").String())
	}
	if strings.Join(roles, ",") != "assistant,tool,tool,user,user" {
		t.Fatalf("roles %v: %s", roles, res.Body)
	}
	if m.Get("1.content").String() != "see" || m.Get("3.content.0.image_url.url").String() != "data:image/png;base64,AAAA" {
		t.Errorf("tool text and image: %s", res.Body)
	}
	res, err = ResponsesToAnthropic([]byte(body), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(res.Body), `"type":"image","source":{"data":"AAAA","media_type":"image/png","type":"base64"}`) {
		t.Errorf("anthropic image after the tool results: %s", res.Body)
	}
}

// A chat client's PDF file part becomes an Anthropic document block.
func TestChatFilePartBecomesAnthropicDocument(t *testing.T) {
	body := `{"model":"coder","messages":[{"role":"user","content":[{"type":"text","text":"sum"},` +
		`{"type":"file","file":{"filename":"a.pdf","file_data":"data:application/pdf;base64,` + pdfB64 + `"}}]}]}`
	res, err := ChatToAnthropic([]byte(body), Options{})
	if err != nil {
		t.Fatal(err)
	}
	doc := gjson.GetBytes(res.Body, "messages.0.content.1")
	if doc.Get("type").String() != "document" || doc.Get("source.media_type").String() != "application/pdf" || doc.Get("source.data").String() != pdfB64 {
		t.Errorf("document: %s", res.Body)
	}
}
