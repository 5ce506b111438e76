package translate

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowgate/flowgate/internal/sse"
)

type streamMachine interface {
	Feed([]byte) ([]sse.Frame, error)
	Finish(error) []sse.Frame
}

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// runStream feeds every data payload of an SSE fixture into m the way the
// gateway does; endErr is the read error at the end of the body (nil for a
// clean EOF).
func runStream(t testing.TB, m streamMachine, in []byte, endErr error) []sse.Frame {
	t.Helper()
	r := sse.NewReader(strings.NewReader(string(in)))
	var out []sse.Frame
	for {
		ev, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		fs, ferr := m.Feed(append([]byte(nil), ev.Data...))
		out = append(out, fs...)
		if ferr != nil {
			return append(out, m.Finish(ferr)...)
		}
	}
	return append(out, m.Finish(endErr)...)
}

type gotBlock struct {
	Type, Text, Thinking, Signature, ID, Name, Input string
	sawSig                                           bool
}

type gotMessage struct {
	ID, Model     string
	Blocks        []gotBlock
	StopReason    string
	StopSequence  *string
	StartUsage    map[string]int
	Usage         map[string]int
	Stopped       bool
	ErrorType     string
	ErrorMessage  string
	EventsInOrder []string
}

// checkAnthropicStream validates the Messages event grammar strictly (one
// block open at a time, indices in order, every frame with event: and a
// matching data.type, thinking signed before stop, nothing after
// message_stop or error) and rebuilds the message.
func checkAnthropicStream(t testing.TB, frames []sse.Frame) gotMessage {
	t.Helper()
	var m gotMessage
	open := -1
	next := 0
	ended := false
	for i, f := range frames {
		if ended {
			t.Fatalf("frame %d (%s) after the end of the stream", i, f.Event)
		}
		if f.Event == "" {
			t.Fatalf("frame %d has no event: line", i)
		}
		var d struct {
			Type         string          `json:"type"`
			Index        int             `json:"index"`
			Message      json.RawMessage `json:"message"`
			ContentBlock json.RawMessage `json:"content_block"`
			Delta        json.RawMessage `json:"delta"`
			Usage        map[string]int  `json:"usage"`
			Error        struct{ Type, Message string }
		}
		if err := json.Unmarshal(f.Data, &d); err != nil {
			t.Fatalf("frame %d invalid JSON %q: %v", i, f.Data, err)
		}
		if d.Type != f.Event {
			t.Fatalf("frame %d event %q but data.type %q", i, f.Event, d.Type)
		}
		m.EventsInOrder = append(m.EventsInOrder, f.Event)
		if i == 0 && f.Event != "message_start" && f.Event != "error" {
			t.Fatalf("first frame is %s", f.Event)
		}
		switch f.Event {
		case "message_start":
			var ms struct {
				ID, Model string
				Usage     map[string]int
			}
			_ = json.Unmarshal(d.Message, &ms)
			m.ID, m.Model, m.StartUsage = ms.ID, ms.Model, ms.Usage
			for _, k := range []string{"input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens"} {
				if _, ok := ms.Usage[k]; !ok {
					t.Fatalf("message_start usage lacks %s", k)
				}
			}
		case "content_block_start":
			if open >= 0 {
				t.Fatalf("frame %d: block %d started while %d open", i, d.Index, open)
			}
			if d.Index != next {
				t.Fatalf("frame %d: block index %d, want %d", i, d.Index, next)
			}
			var b gotBlock
			var cb map[string]any
			_ = json.Unmarshal(d.ContentBlock, &cb)
			b.Type, _ = cb["type"].(string)
			b.ID, _ = cb["id"].(string)
			b.Name, _ = cb["name"].(string)
			m.Blocks = append(m.Blocks, b)
			open = d.Index
		case "content_block_delta":
			if open != d.Index {
				t.Fatalf("frame %d: delta for %d while %d open", i, d.Index, open)
			}
			var dl map[string]string
			if err := json.Unmarshal(d.Delta, &dl); err != nil {
				t.Fatal(err)
			}
			b := &m.Blocks[len(m.Blocks)-1]
			want := map[string]string{"text_delta": "text", "thinking_delta": "thinking", "signature_delta": "thinking", "input_json_delta": "tool_use"}[dl["type"]]
			if want != b.Type {
				t.Fatalf("frame %d: %s in a %s block", i, dl["type"], b.Type)
			}
			b.Text += dl["text"]
			b.Thinking += dl["thinking"]
			b.Input += dl["partial_json"]
			if dl["type"] == "signature_delta" {
				b.Signature += dl["signature"]
				b.sawSig = true
			}
		case "content_block_stop":
			if open != d.Index {
				t.Fatalf("frame %d: stop for %d while %d open", i, d.Index, open)
			}
			if b := m.Blocks[len(m.Blocks)-1]; b.Type == "thinking" && !b.sawSig {
				t.Fatalf("thinking block %d stopped without signature_delta", d.Index)
			}
			open = -1
			next++
		case "message_delta":
			if open >= 0 {
				t.Fatalf("message_delta with block %d open", open)
			}
			var md struct {
				StopReason   string  `json:"stop_reason"`
				StopSequence *string `json:"stop_sequence"`
			}
			_ = json.Unmarshal(d.Delta, &md)
			m.StopReason, m.StopSequence, m.Usage = md.StopReason, md.StopSequence, d.Usage
		case "message_stop":
			m.Stopped = true
			ended = true
		case "error":
			m.ErrorType, m.ErrorMessage = d.Error.Type, d.Error.Message
			ended = true
		case "ping":
		default:
			t.Fatalf("unknown event %s", f.Event)
		}
	}
	for _, b := range m.Blocks {
		if b.Type == "tool_use" && b.Input != "" && !json.Valid([]byte(b.Input)) && m.ErrorType == "" {
			t.Fatalf("tool %s input not valid JSON: %s", b.ID, b.Input)
		}
	}
	return m
}

var errReset = errors.New("connection reset by peer")

func dump(v any) string {
	b, _ := json.MarshalIndent(v, "", " ")
	return fmt.Sprint(string(b))
}
