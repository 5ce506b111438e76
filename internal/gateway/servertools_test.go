package gateway_test

import (
	"encoding/json"
	"strings"
	"testing"
)

// Anthropic server tools and PDF documents through a real gateway and a
// real upstream on 127.0.0.1: a Responses upstream gets its own web_search
// tool and an input_file; a Chat upstream is never called and the client
// gets a 400 in Messages shape naming the tool or block and the alias.

func serverToolTurn(alias string, stream bool, tools, block string) string {
	s := "false"
	if stream {
		s = "true"
	}
	return `{"model":"` + alias + `","max_tokens":64,"stream":` + s + `,"tools":[` + tools + `],
 "messages":[{"role":"user","content":[{"type":"text","text":"what does it say?"}` + block + `]}]}`
}

const (
	webSearchTool = `{"type":"web_search_20250305","name":"web_search","max_uses":8}`
	pdfBlock      = `,{"type":"document","source":{"type":"base64","media_type":"application/pdf","data":"JVBERi0xLjQ="}}`
)

func (u *cacheUpstream) count(path string) int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return len(u.bodies[path])
}

func TestServerToolsAndDocumentsThroughGateway(t *testing.T) {
	u := newCacheUpstream(t)
	g := cacheGateway(t, u)
	refused := []struct {
		name, body string
		want       []string
	}{
		{"web_search", serverToolTurn("chat", false, webSearchTool, ""),
			[]string{"tool web_search (type web_search_20250305)", `model \"chat\"`, "openai_responses/", "turn the tool off"}},
		{"web_search streamed", serverToolTurn("chat", true, webSearchTool, ""),
			[]string{"tool web_search", `model \"chat\"`}},
		{"pdf", serverToolTurn("chat", false, "", pdfBlock),
			[]string{"messages[0].content[1] is a document block (a PDF)", `model \"chat\"`}},
	}
	for _, c := range refused {
		resp, answer := g.post(t, "/v1/messages", c.body, nil)
		var e struct {
			Type  string
			Error struct{ Type, Message string }
		}
		if resp.StatusCode != 400 || json.Unmarshal([]byte(answer), &e) != nil || e.Type != "error" || e.Error.Type != "invalid_request_error" {
			t.Fatalf("%s: want a 400 invalid_request_error in Messages shape, got %d %s", c.name, resp.StatusCode, answer)
		}
		for _, w := range c.want {
			if !strings.Contains(answer, w) {
				t.Errorf("%s: message lacks %s: %s", c.name, w, answer)
			}
		}
	}
	if n := u.count("/v1/chat/completions"); n != 0 {
		t.Fatalf("the chat upstream was called %d times for requests it cannot serve", n)
	}

	for _, stream := range []bool{false, true} {
		resp, answer := g.post(t, "/v1/messages", serverToolTurn("resp", stream, webSearchTool, pdfBlock), nil)
		if resp.StatusCode != 200 || !strings.Contains(answer, "PONG") {
			t.Fatalf("stream=%v: responses upstream: %d %s", stream, resp.StatusCode, answer)
		}
		got := u.only(t, "/v1/responses")
		for _, w := range []string{`{"type":"web_search"}`, `{"type":"input_file","filename":"document.pdf","file_data":"data:application/pdf;base64,JVBERi0xLjQ="}`} {
			if !strings.Contains(got, w) {
				t.Fatalf("stream=%v: upstream body lacks %s:\n%s", stream, w, got)
			}
		}
	}
}

// A Chat deployment whose model_info says it reads PDFs gets the document
// as a file part instead of the refusal.
func TestPDFReachesAChatDeploymentThatReadsFiles(t *testing.T) {
	u := newCacheUpstream(t)
	pdfDep := dep("pdf-chat", "openai/up-model", u.URL+"/v1", nil)
	pdfDep["model_info"] = map[string]any{"supports_pdf_input": true}
	g := startGateway(t, doc([]any{pdfDep}, nil), nil)
	resp, answer := g.post(t, "/v1/messages", serverToolTurn("pdf-chat", false, "", pdfBlock), nil)
	if resp.StatusCode != 200 || !strings.Contains(answer, "PONG") {
		t.Fatalf("pdf to a file-reading chat deployment: %d %s", resp.StatusCode, answer)
	}
	got := u.only(t, "/v1/chat/completions")
	if !strings.Contains(got, `"type":"file"`) || !strings.Contains(got, "data:application/pdf;base64,JVBERi0xLjQ=") {
		t.Fatalf("the chat upstream did not get the PDF as a file part:\n%s", got)
	}
}
