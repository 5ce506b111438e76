package tokens

import "testing"

// Token counts below are the published ones: "hello world" is
// [24912 2375] in o200k_base and [15339 1917] in cl100k_base;
// "tiktoken is great!" is 6 tokens in cl100k_base.
func TestCountTokensUsesTheUpstreamModelsTokenizer(t *testing.T) {
	one := func(text string) []byte {
		return []byte(`{"model":"alias","max_tokens":100,"messages":[{"role":"user","content":[{"type":"text","text":"` + text + `","cache_control":{"type":"ephemeral"}}]}]}`)
	}
	frame := perMessageTokens + replyTokens
	for _, tc := range []struct {
		model, text, method string
		want                int
	}{
		{"gpt-4o", "hello world", "tokenizer=o200k_base", 2},
		{"gpt-5-codex", "Hello, 世界! 你好", "tokenizer=o200k_base", 6},
		{"openai/gpt-4.1-mini", "hello world", "tokenizer=o200k_base", 2},
		{"gpt-4", "tiktoken is great!", "tokenizer=cl100k_base", 6},
		{"gpt-3.5-turbo", "Hello, 世界! 你好", "tokenizer=cl100k_base", 10},
	} {
		n, method, err := CountTokens(one(tc.text), tc.model)
		if err != nil || method != tc.method || n != tc.want+frame {
			t.Errorf("%s %q: %d %q %v; want %d %q", tc.model, tc.text, n, method, err, tc.want+frame, tc.method)
		}
	}
}

func TestCountTokensDecodesEscapesAndChargesImagesFlat(t *testing.T) {
	body := []byte(`{"model":"m","system":"hello world","messages":[{"role":"user","content":[` +
		`{"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBORw0KGgo="}},` +
		`{"type":"text","text":"\u0068ello world"}]},` +
		`{"role":"assistant","content":[{"type":"thinking","thinking":"hello world","signature":"c2lnbmF0dXJl"}]}]}`)
	n, method, err := CountTokens(body, "gpt-4o")
	if err != nil || method != "tokenizer=o200k_base" {
		t.Fatalf("%v %q", err, method)
	}
	if want := 3*2 + imageTokens + 2*perMessageTokens + replyTokens; n != want {
		t.Fatalf("count %d, want %d (three \"hello world\", one image, two messages)", n, want)
	}
}

func TestCountTokensEstimatesModelsWithoutAKnownTokenizer(t *testing.T) {
	body := []byte(`{"model":"m","messages":[{"role":"user","content":"hello world"}]}`)
	for _, model := range []string{"claude-sonnet-4-5", "qwen3-coder", ""} {
		n, method, err := CountTokens(body, model)
		est, _ := EstimateTokens(body)
		if err != nil || method != MethodEstimate || n != est {
			t.Errorf("%q: %d %q %v; want the estimate %d", model, n, method, err, est)
		}
	}
	if _, _, err := CountTokens([]byte(`[1]`), "gpt-4o"); err == nil {
		t.Error("a body that is not a JSON object was counted")
	}
}
