package compat_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/anthropics/anthropic-sdk-go"
	aoption "github.com/anthropics/anthropic-sdk-go/option"
	"github.com/openai/openai-go/v3"
	ooption "github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/responses"
)

// proto is a client protocol: the other half of a column.
type proto int

const (
	pMessages  proto = iota // Anthropic Messages (Claude Code), anthropic-sdk-go
	pResponses              // OpenAI Responses (Codex), openai-go
	pChat                   // OpenAI Chat Completions, openai-go
)

var protos = []proto{pMessages, pResponses, pChat}

func (p proto) String() string { return [...]string{"Messages", "Responses", "Chat"}[p] }

// reply is what a client made of one answer, in protocol-neutral terms.
type reply struct {
	header    http.Header
	model     string // the model the answer names
	text      string
	reasoning string
	calls     []call
	// prompt tokens in all (cache included), of them read from / written
	// to the cache, and output tokens
	in, cacheRead, cacheWrite, out int64
	// history is the answer as the client sends it back next turn: a
	// Messages assistant message, or the Responses output items.
	history []json.RawMessage
	// err is an HTTP error answered before any byte of an answer.
	err *apiError
	// streamErr is the error a stream ended with after it started (the
	// protocol's in-stream error event); "" when it ended cleanly.
	streamErr string
}

// apiError is an error answer as the SDK received it.
type apiError struct {
	status     int
	retryAfter string
	raw        string // the body
	typ, msg   string // error type and message from the body
}

// send sends body (a request of protocol p without its stream field)
// through the official SDK of p, streaming or not, with extra headers.
func send(t *testing.T, g *gw, p proto, body string, stream bool, hdr map[string]string) reply {
	t.Helper()
	if stream {
		extra := `"stream":true,`
		if p == pChat {
			extra += `"stream_options":{"include_usage":true},`
		}
		body = "{" + extra + strings.TrimPrefix(strings.TrimSpace(body), "{")
	}
	switch p {
	case pMessages:
		return sendMessages(t, g, body, stream, hdr)
	case pResponses:
		return sendResponses(t, g, body, stream, hdr)
	}
	return sendChat(t, g, body, stream, hdr)
}

func anthropicClient(g *gw, hdr map[string]string) anthropic.Client {
	opts := []aoption.RequestOption{aoption.WithBaseURL(g.URL), aoption.WithAPIKey(gatewayKey), aoption.WithMaxRetries(0)}
	for k, v := range hdr {
		opts = append(opts, aoption.WithHeader(k, v))
	}
	return anthropic.NewClient(opts...)
}

func openaiClient(g *gw, hdr map[string]string) openai.Client {
	opts := []ooption.RequestOption{ooption.WithBaseURL(g.URL + "/v1/"), ooption.WithAPIKey(gatewayKey), ooption.WithMaxRetries(0)}
	for k, v := range hdr {
		opts = append(opts, ooption.WithHeader(k, v))
	}
	return openai.NewClient(opts...)
}

func errorOf(err error) *apiError {
	var ae *anthropic.Error
	if errors.As(err, &ae) {
		e := &apiError{status: ae.StatusCode, raw: ae.RawJSON(), retryAfter: ae.Response.Header.Get("Retry-After")}
		var b struct {
			Type  string
			Error struct{ Type, Message string }
		}
		if json.Unmarshal([]byte(e.raw), &b) == nil && b.Type == "error" {
			e.typ, e.msg = b.Error.Type, b.Error.Message
		}
		return e
	}
	var oe *openai.Error
	if errors.As(err, &oe) {
		// The SDK keeps the body's "error" object; its type and message
		// are set only when the body had the OpenAI error shape.
		return &apiError{status: oe.StatusCode, raw: oe.RawJSON(), retryAfter: oe.Response.Header.Get("Retry-After"), typ: oe.Type, msg: oe.Message}
	}
	return nil
}

func sendMessages(t *testing.T, g *gw, body string, stream bool, hdr map[string]string) reply {
	t.Helper()
	c := anthropicClient(g, hdr)
	var resp *http.Response
	opts := []aoption.RequestOption{aoption.WithRequestBody("application/json", []byte(body)), aoption.WithResponseInto(&resp)}
	var msg anthropic.Message
	var r reply
	if !stream {
		m, err := c.Messages.New(context.Background(), anthropic.MessageNewParams{}, opts...)
		if err != nil {
			if r.err = errorOf(err); r.err == nil {
				t.Fatalf("messages: %v", err)
			}
			return r
		}
		msg = *m
	} else {
		st := c.Messages.NewStreaming(context.Background(), anthropic.MessageNewParams{}, opts...)
		stopped := false
		for st.Next() {
			ev := st.Current()
			if err := msg.Accumulate(ev); err != nil {
				t.Fatalf("the SDK's accumulator rejected the stream at %s: %v", ev.Type, err)
			}
			stopped = stopped || ev.Type == "message_stop"
		}
		if err := st.Err(); err != nil {
			if e := errorOf(err); e != nil && resp != nil && resp.StatusCode >= 400 {
				r.err = e
				return r
			}
			r.streamErr = err.Error()
		} else if !stopped {
			r.streamErr = "stream ended without message_stop"
		}
	}
	if resp != nil {
		r.header = resp.Header
	}
	r.model = string(msg.Model)
	for _, b := range msg.Content {
		switch b.Type {
		case "text":
			r.text += b.Text
		case "thinking":
			r.reasoning += b.Thinking
		case "tool_use":
			r.calls = append(r.calls, call{b.ID, b.Name, string(b.Input)})
		}
	}
	u := msg.Usage
	r.in, r.cacheRead, r.cacheWrite, r.out = u.InputTokens+u.CacheReadInputTokens+u.CacheCreationInputTokens, u.CacheReadInputTokens, u.CacheCreationInputTokens, u.OutputTokens
	h, _ := json.Marshal(msg.ToParam())
	r.history = []json.RawMessage{h}
	return r
}

func sendResponses(t *testing.T, g *gw, body string, stream bool, hdr map[string]string) reply {
	t.Helper()
	c := openaiClient(g, hdr)
	var resp *http.Response
	opts := []ooption.RequestOption{ooption.WithRequestBody("application/json", []byte(body)), ooption.WithResponseInto(&resp)}
	var out *responses.Response
	var r reply
	if !stream {
		o, err := c.Responses.New(context.Background(), responses.ResponseNewParams{}, opts...)
		if err != nil {
			if r.err = errorOf(err); r.err == nil {
				t.Fatalf("responses: %v", err)
			}
			return r
		}
		out = o
	} else {
		st := c.Responses.NewStreaming(context.Background(), responses.ResponseNewParams{}, opts...)
		var failed string
		for st.Next() {
			ev := st.Current()
			switch ev.Type {
			case "response.completed":
				resp := ev.Response
				out = &resp
			case "response.failed", "response.incomplete", "error":
				failed = ev.Type + ": " + ev.RawJSON()
			}
		}
		if err := st.Err(); err != nil {
			if e := errorOf(err); e != nil && resp != nil && resp.StatusCode >= 400 {
				r.err = e
				return r
			}
			r.streamErr = err.Error()
		}
		switch {
		case failed != "":
			r.streamErr = failed
		case out == nil && r.streamErr == "":
			r.streamErr = "stream ended without response.completed"
		}
		if out == nil {
			return r
		}
	}
	if resp != nil {
		r.header = resp.Header
	}
	r.model = string(out.Model)
	for _, it := range out.Output {
		r.history = append(r.history, json.RawMessage(it.RawJSON()))
		switch it.Type {
		case "message":
			for _, c := range it.Content {
				r.text += c.Text
			}
		case "reasoning":
			for _, s := range it.Summary {
				r.reasoning += s.Text
			}
		case "function_call":
			r.calls = append(r.calls, call{it.CallID, it.Name, it.Arguments.OfString})
		}
	}
	u := out.Usage
	r.in, r.cacheRead, r.out = u.InputTokens, u.InputTokensDetails.CachedTokens, u.OutputTokens
	return r
}

func sendChat(t *testing.T, g *gw, body string, stream bool, hdr map[string]string) reply {
	t.Helper()
	c := openaiClient(g, hdr)
	var resp *http.Response
	opts := []ooption.RequestOption{ooption.WithRequestBody("application/json", []byte(body)), ooption.WithResponseInto(&resp)}
	var cc openai.ChatCompletion
	var r reply
	if !stream {
		o, err := c.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{}, opts...)
		if err != nil {
			if r.err = errorOf(err); r.err == nil {
				t.Fatalf("chat: %v", err)
			}
			return r
		}
		cc = *o
	} else {
		st := c.Chat.Completions.NewStreaming(context.Background(), openai.ChatCompletionNewParams{}, opts...)
		var acc openai.ChatCompletionAccumulator
		for st.Next() {
			acc.AddChunk(st.Current())
		}
		if err := st.Err(); err != nil {
			if e := errorOf(err); e != nil && resp != nil && resp.StatusCode >= 400 {
				r.err = e
				return r
			}
			r.streamErr = err.Error()
		}
		cc = acc.ChatCompletion
	}
	if resp != nil {
		r.header = resp.Header
	}
	r.model = cc.Model
	if len(cc.Choices) > 0 {
		m := cc.Choices[0].Message
		r.text = m.Content
		for _, tc := range m.ToolCalls {
			r.calls = append(r.calls, call{tc.ID, tc.Function.Name, tc.Function.Arguments})
		}
	}
	r.in, r.cacheRead, r.out = cc.Usage.PromptTokens, cc.Usage.PromptTokensDetails.CachedTokens, cc.Usage.CompletionTokens
	return r
}

// countTokens counts "hi" for alias with the Anthropic SDK; it returns the
// count and the method the gateway reports in X-Flowgate-Token-Count.
func countTokens(t *testing.T, g *gw) (int64, string) {
	t.Helper()
	var resp *http.Response
	c := anthropicClient(g, nil)
	n, err := c.Messages.CountTokens(context.Background(), anthropic.MessageCountTokensParams{
		Model: alias, Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("hi"))}}, aoption.WithResponseInto(&resp))
	if err != nil {
		t.Fatalf("count_tokens: %v", err)
	}
	return n.InputTokens, resp.Header.Get("X-Flowgate-Token-Count")
}
