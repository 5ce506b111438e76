package translate

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// chunkSeeds are chat stream payloads from the fixtures plus odd shapes.
func chunkSeeds(tb testing.TB) [][]byte {
	var out [][]byte
	for _, name := range []string{"chat_stream_parallel2.sse", "chat_stream_parallel3.sse", "chat_stream_reasoning.sse",
		"chat_stream_stopseq.sse", "chat_stream_text.sse", "chat_stream_error.sse", "chat_stream_broken.sse", "chat_stream_garbage.sse"} {
		for _, line := range strings.Split(string(fixture(tb, name)), "\n") {
			if d, ok := strings.CutPrefix(line, "data: "); ok {
				out = append(out, []byte(d))
			}
		}
	}
	for _, s := range []string{
		`{"id":"c","object":"chat.completion.chunk","created":1700000000,"model":"m","system_fingerprint":null,"choices":[{"index":0,"delta":{"role":"assistant","content":"hi \u00e9\n","reasoning_content":null,"tool_calls":[]},"logprobs":null,"finish_reason":null,"stop_reason":null}],"usage":null}`,
		`{"choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"call_1","type":"function","function":{"name":"f","arguments":"{\"a\":"}}]},"finish_reason":"tool_calls","matched_stop":151645}],"usage":{"prompt_tokens":3,"completion_tokens":2,"prompt_tokens_details":{"cached_tokens":1}}}`,
		`{"choices":[{"index":0,"delta":{"reasoning":"r","reasoning_details":[{"type":"reasoning.text","text":"t","signature":"s"}],"function_call":{"name":"n","arguments":""},"refusal":"no","signature":"g","reasoning_signature":null}}]}`,
		`{"choices":[{"index":0,"delta":{"tool_calls":[{"index":null,"function":null}]}}]}`,
		`{"choices":null,"created":null}`, `{"choices":[null]}`, `{"choices":[{"index":1.5}]}`, `{"created":1e3}`, `{"created":-0}`,
		`{"Choices":[]}`, `{"id":"a","id":"b"}`, `{"error":{"message":"x"}}`, `{"id":5}`, `{"choices":[{"delta":{"content":5}}]}`,
		`{"choices":[{"delta":{"tool_calls":[{"index":"0"}]}}]}`, `{"choices":[{"message":{"content":"x"},"delta":null}]}`,
		`{"id":"\ud800x\/"}`, "{\"id\":\"\xff\"}", `{"a":[1,2,{"b":true}]}  `, `{} {}`, ``, `[]`, `{"id":"a",}`,
	} {
		out = append(out, []byte(s))
	}
	return out
}

func checkChunkDecode(t *testing.T, data []byte) {
	var want, got chatResponse
	werr := json.Unmarshal(data, &want)
	if !decodeChunkFast(data, &got) {
		return
	}
	if werr != nil {
		t.Fatalf("fast decode accepted what encoding/json rejects (%v): %s", werr, data)
	}
	if want.Error != nil {
		t.Fatalf("fast decode accepted an error chunk: %s", data)
	}
	if !reflect.DeepEqual(want, got) {
		t.Fatalf("decodes differ for %s:\n%s\n%s", data, dump(want), dump(got))
	}
}

func TestDecodeChunkFastMatchesEncodingJSON(t *testing.T) {
	fast := 0
	for _, d := range chunkSeeds(t) {
		checkChunkDecode(t, d)
		var c chatResponse
		if decodeChunkFast(d, &c) {
			fast++
		}
	}
	if fast < 20 {
		t.Fatalf("fast decode took only %d chunks", fast)
	}
	for _, p := range streamPayloads(t) {
		var c chatResponse
		if !sseIsDone(p) && !decodeChunkFast(p, &c) {
			t.Fatalf("fast decode refused %s", p)
		}
	}
}

func sseIsDone(p []byte) bool { return strings.TrimSpace(string(p)) == "[DONE]" }

func FuzzDecodeChunkFastMatchesEncodingJSON(f *testing.F) {
	for _, d := range chunkSeeds(f) {
		f.Add(d)
	}
	f.Fuzz(checkChunkDecode)
}

// TestDecodeChunkCutBeforeANumberIsAnErrorNotAPanic: a chunk that ends
// right after a number-valued key (a truncated upstream line) made
// scanNumber read past the end.
func TestDecodeChunkCutBeforeANumberIsAnErrorNotAPanic(t *testing.T) {
	for _, in := range []string{`{"created":`, `{"created":-`, `{"choices":[{"index":`, `{"choices":[{"delta":{"tool_calls":[{"index":`} {
		var c chatResponse
		if decodeChunkFast([]byte(in), &c) {
			t.Errorf("%s: fast decoder accepted it", in)
		}
		if err := decodeChunk([]byte(in), &chatResponse{}); err == nil {
			t.Errorf("%s: no error", in)
		}
	}
}
