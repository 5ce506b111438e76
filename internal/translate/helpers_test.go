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

type gotItem struct {
	Type, ID, CallID, Name, Namespace, Text, Args string
	Index                                         int
}

type gotResponse struct {
	Items        []gotItem
	Final        map[string]any
	FinalType    string
	OutputLen    int
	Usage        map[string]any
	SequenceGaps bool
}

// checkResponsesStream validates Responses events: event name = data.type,
// strictly increasing sequence_number, distinct output_index per item, one
// item open at a time, deltas only for the open item, output_item.done for
// every added item, a terminal event last, and completed.output matching
// the streamed items.
func checkResponsesStream(t testing.TB, frames []sse.Frame) gotResponse {
	t.Helper()
	var g gotResponse
	lastSeq := -1
	open := -1
	ended := false
	for i, f := range frames {
		if ended {
			t.Fatalf("frame %d after terminal event", i)
		}
		var d map[string]any
		if err := json.Unmarshal(f.Data, &d); err != nil {
			t.Fatalf("frame %d invalid JSON: %v %s", i, err, f.Data)
		}
		typ, _ := d["type"].(string)
		if typ != f.Event || typ == "" {
			t.Fatalf("frame %d: event %q type %q", i, f.Event, typ)
		}
		seq, ok := d["sequence_number"].(float64)
		if !ok || int(seq) <= lastSeq {
			t.Fatalf("frame %d: sequence_number %v after %d", i, d["sequence_number"], lastSeq)
		}
		lastSeq = int(seq)
		idx := -1
		if v, ok := d["output_index"].(float64); ok {
			idx = int(v)
		}
		switch typ {
		case "response.created", "response.in_progress":
		case "response.output_item.added":
			if open >= 0 {
				t.Fatalf("frame %d: item %d added while %d open", i, idx, open)
			}
			if idx != len(g.Items) {
				t.Fatalf("frame %d: output_index %d, want %d", i, idx, len(g.Items))
			}
			it := d["item"].(map[string]any)
			gi := gotItem{Index: idx}
			gi.Type, _ = it["type"].(string)
			gi.ID, _ = it["id"].(string)
			gi.CallID, _ = it["call_id"].(string)
			gi.Name, _ = it["name"].(string)
			gi.Namespace, _ = it["namespace"].(string)
			g.Items = append(g.Items, gi)
			open = idx
		case "response.output_item.done":
			if idx != open {
				t.Fatalf("frame %d: done for %d while %d open", i, idx, open)
			}
			it := d["item"].(map[string]any)
			gi := &g.Items[idx]
			if it["id"] != gi.ID {
				t.Fatalf("item id changed")
			}
			switch gi.Type {
			case "function_call":
				if it["arguments"] != gi.Args || it["status"] != "completed" {
					t.Fatalf("function_call done mismatch %v vs %q", it, gi.Args)
				}
			case "message":
				c := it["content"].([]any)[0].(map[string]any)
				if c["text"] != gi.Text {
					t.Fatalf("message done text %q vs %q", c["text"], gi.Text)
				}
			}
			open = -1
		case "response.output_text.delta", "response.reasoning_summary_text.delta", "response.function_call_arguments.delta",
			"response.content_part.added", "response.content_part.done", "response.output_text.done",
			"response.reasoning_summary_part.added", "response.reasoning_summary_part.done", "response.reasoning_summary_text.done",
			"response.function_call_arguments.done":
			if idx != open || idx < 0 {
				t.Fatalf("frame %d: %s for output_index %d while %d open", i, typ, idx, open)
			}
			if d["item_id"] != g.Items[idx].ID {
				t.Fatalf("frame %d: item_id %v != %s", i, d["item_id"], g.Items[idx].ID)
			}
			delta, _ := d["delta"].(string)
			switch typ {
			case "response.output_text.delta", "response.reasoning_summary_text.delta":
				g.Items[idx].Text += delta
			case "response.function_call_arguments.delta":
				g.Items[idx].Args += delta
			case "response.function_call_arguments.done":
				if d["arguments"] != g.Items[idx].Args {
					t.Fatalf("arguments.done %v != %q", d["arguments"], g.Items[idx].Args)
				}
			}
		case "response.completed", "response.incomplete", "response.failed":
			if typ != "response.failed" && open >= 0 {
				t.Fatalf("%s with item %d open", typ, open)
			}
			g.FinalType = typ
			g.Final = d["response"].(map[string]any)
			out, _ := g.Final["output"].([]any)
			g.OutputLen = len(out)
			g.Usage, _ = g.Final["usage"].(map[string]any)
			if typ != "response.failed" {
				if len(out) != len(g.Items) {
					t.Fatalf("completed.output has %d items, stream had %d", len(out), len(g.Items))
				}
				for k, o := range out {
					if o.(map[string]any)["id"] != g.Items[k].ID {
						t.Fatalf("output[%d] id mismatch", k)
					}
				}
			}
			ended = true
		default:
			t.Fatalf("unexpected event %s", typ)
		}
	}
	return g
}
