package requestlog

import (
	"strings"
	"testing"
)

func TestScanUsageReadsEveryProtocolIncludingCacheTokens(t *testing.T) {
	for _, tc := range []struct {
		name   string
		frames []string
		want   Tokens
	}{
		{"chat whole answer", []string{`{"id":"c","choices":[{"message":{"content":"the \"usage\": {\"prompt_tokens\": 999}"}}],"usage":{"prompt_tokens":120,"completion_tokens":30,"prompt_tokens_details":{"cached_tokens":100},"completion_tokens_details":{"reasoning_tokens":12}}}`},
			Tokens{Input: 20, Output: 30, CacheRead: 100, Reasoning: 12}},
		{"chat stream with include_usage", []string{
			"data: {\"choices\":[{\"delta\":{\"content\":\"hi\"}}],\"usage\":null}\n\n",
			"data: {\"choices\":[],\"usage\":{\"prompt_tokens\":50,\"completion_tokens\":7,\"prompt_tokens_details\":{\"cached_tokens\":40}}}\n\n",
			"data: [DONE]\n\n"},
			Tokens{Input: 10, Output: 7, CacheRead: 40}},
		{"messages stream", []string{
			"event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m\",\"usage\":{\"input_tokens\":8,\"cache_creation_input_tokens\":300,\"cache_read_input_tokens\":2000,\"output_tokens\":1}}}\n\n",
			"event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"usage\"}}\n\n",
			"event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":42}}\n\n"},
			Tokens{Input: 8, Output: 42, CacheRead: 2000, CacheWrite: 300}},
		{"messages whole answer", []string{`{"type":"message","content":[{"type":"text","text":"x"}],"usage":{"input_tokens":5,"output_tokens":6,"cache_read_input_tokens":7,"cache_creation_input_tokens":8}}`},
			Tokens{Input: 5, Output: 6, CacheRead: 7, CacheWrite: 8}},
		{"responses completed", []string{
			"event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"delta\":\"x\"}\n\n",
			"event: response.completed\ndata: {\"type\":\"response.completed\",\"response\":{\"id\":\"r\",\"usage\":{\"input_tokens\":900,\"input_tokens_details\":{\"cached_tokens\":800},\"output_tokens\":60,\"output_tokens_details\":{\"reasoning_tokens\":50},\"total_tokens\":960}}}\n\n"},
			Tokens{Input: 100, Output: 60, CacheRead: 800, Reasoning: 50}},
		{"chat answer translated from a cache write", []string{`{"choices":[],"usage":{"prompt_tokens":1310,"completion_tokens":5,"prompt_tokens_details":{"cached_tokens":1000},"cache_creation_input_tokens":300}}`},
			Tokens{Input: 10, Output: 5, CacheRead: 1000, CacheWrite: 300}},
		{"no usage at all", []string{`{"choices":[{"message":{"content":"usage"}}]}`}, Tokens{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got Tokens
			for _, f := range tc.frames {
				ScanUsage(&got, []byte(f))
			}
			if got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestPricesComeFromModelInfoElseTheListOfKnownModels(t *testing.T) {
	p, err := PriceFromModelInfo(map[string]any{"input_cost_per_million": 2.0, "output_cost_per_million": 8, "cache_read_cost_per_million": 0.5}, "openai/whatever", "model_list[0].model_info")
	if err != nil || p != (Price{Input: 2, Output: 8, CacheRead: 0.5}) {
		t.Fatalf("per-million keys: %+v %v", p, err)
	}
	p, err = PriceFromModelInfo(map[string]any{"input_cost_per_token": 3e-6, "output_cost_per_token": 1.5e-5}, "x", "m")
	if err != nil || p.Input < 2.999 || p.Input > 3.001 || p.Output < 14.999 || p.Output > 15.001 {
		t.Fatalf("LiteLLM per-token keys: %+v %v", p, err)
	}
	p, _ = PriceFromModelInfo(nil, "anthropic/claude-sonnet-4-5-20250929", "m")
	if p != DefaultPrices["claude-sonnet-4"] {
		t.Errorf("default for a dated Sonnet: %+v", p)
	}
	if p, _ := DefaultPrice("openai/gpt-4o-mini-2024-07-18"); p != DefaultPrices["gpt-4o-mini"] {
		t.Errorf("longest prefix must win: %+v", p)
	}
	if _, ok := DefaultPrice("my-local-llama"); ok {
		t.Error("an unknown model has no default price")
	}
	if _, err := PriceFromModelInfo(map[string]any{"input_cost_per_million": "cheap"}, "x", "model_list[3].model_info"); err == nil ||
		!strings.Contains(err.Error(), "model_list[3].model_info.input_cost_per_million") {
		t.Errorf("a bad price must name its field: %v", err)
	}
	cost := Price{Input: 3, Output: 15, CacheRead: 0.3, CacheWrite: 3.75}.Cost(Tokens{Input: 1e6, Output: 1e6, CacheRead: 1e6, CacheWrite: 1e6, Reasoning: 5e5})
	if cost < 22.049 || cost > 22.051 {
		t.Errorf("cost = %v, want 22.05 (reasoning is part of output)", cost)
	}
}

func TestAnswerTextReadsWholeAnswersAndStreams(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`{"choices":[{"message":{"content":"PONG"}}]}`, "PONG"},
		{`{"content":[{"type":"text","text":"PO"},{"type":"text","text":"NG"}]}`, "PONG"},
		{`{"output":[{"type":"message","content":[{"type":"output_text","text":"PONG"}]}]}`, "PONG"},
		{"data: {\"choices\":[{\"delta\":{\"content\":\"PO\"}}]}\n\ndata: {\"choices\":[{\"delta\":{\"content\":\"NG\"}}]}\n\ndata: [DONE]\n\n", "PONG"},
		{"event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"delta\":{\"type\":\"text_delta\",\"text\":\"PONG\"}}\n\n", "PONG"},
		{"event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"delta\":\"PONG\"}\n\n", "PONG"},
	} {
		if got := AnswerText([]byte(tc.in)); got != tc.want {
			t.Errorf("AnswerText(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
