package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
)

// Upstream models the fake upstream knows; the gateway's deployments name
// them as their model.
const (
	modelOK     = "ok"     // answers every request
	modelFlaky  = "flaky"  // fails one request in four with a 500
	modelBroken = "broken" // always answers 503
)

// fakeUpstream is an OpenAI Chat and Anthropic Messages server on loopback
// that answers, or fails, by the requested model.
type fakeUpstream struct {
	ln  net.Listener
	srv *http.Server
}

func startUpstream() (*fakeUpstream, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("fake upstream: %w", err)
	}
	u := &fakeUpstream{ln: ln, srv: &http.Server{Handler: http.HandlerFunc(serveUpstream)}}
	go u.srv.Serve(ln)
	return u, nil
}

func (u *fakeUpstream) addr() string { return u.ln.Addr().String() }
func (u *fakeUpstream) close()       { u.srv.Close() }

func serveUpstream(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Model  string `json:"model"`
		Stream bool   `json:"stream"`
	}
	b, _ := io.ReadAll(r.Body)
	if json.Unmarshal(b, &req) != nil {
		http.Error(w, `{"error":{"message":"bad json","type":"invalid_request_error"}}`, 400)
		return
	}
	anth := strings.HasSuffix(r.URL.Path, "/messages")
	switch req.Model {
	case modelBroken:
		upstreamError(w, anth, 503, "overloaded")
		return
	case modelFlaky:
		if rand.IntN(4) == 0 {
			upstreamError(w, anth, 500, "transient failure")
			return
		}
	}
	if req.Stream {
		streamAnswer(w, anth, req.Model)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	if anth {
		fmt.Fprintf(w, `{"id":"msg_1","type":"message","role":"assistant","model":%q,"content":[{"type":"text","text":"PONG"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":3,"output_tokens":1}}`, req.Model)
		return
	}
	fmt.Fprintf(w, `{"id":"c1","object":"chat.completion","created":1,"model":%q,"choices":[{"index":0,"message":{"role":"assistant","content":"PONG"},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4}}`, req.Model)
}

func upstreamError(w http.ResponseWriter, anth bool, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if anth {
		fmt.Fprintf(w, `{"type":"error","error":{"type":"api_error","message":%q}}`, msg)
		return
	}
	fmt.Fprintf(w, `{"error":{"message":%q,"type":"server_error"}}`, msg)
}

func streamAnswer(w http.ResponseWriter, anth bool, model string) {
	w.Header().Set("Content-Type", "text/event-stream")
	f := w.(http.Flusher)
	if anth {
		fmt.Fprintf(w, "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"model\":%q,\"content\":[],\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":3,\"output_tokens\":0}}}\n\n", model)
		io.WriteString(w, "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n")
	}
	for i := 0; i < 8; i++ {
		if anth {
			fmt.Fprintf(w, "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"P%d \"}}\n\n", i)
		} else {
			fmt.Fprintf(w, "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":%q,\"choices\":[{\"index\":0,\"delta\":{\"content\":\"P%d \"},\"finish_reason\":null}]}\n\n", model, i)
		}
		f.Flush()
	}
	if anth {
		io.WriteString(w, "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n")
		io.WriteString(w, "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":8}}\n\n")
		io.WriteString(w, "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n")
	} else {
		fmt.Fprintf(w, "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":%q,\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n", model)
		io.WriteString(w, "data: [DONE]\n\n")
	}
	f.Flush()
}
