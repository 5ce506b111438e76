package tokens

import (
	"strings"
	"testing"
)

func TestEstimateTokensErrsHigh(t *testing.T) {
	prose := strings.Repeat("The quick brown fox jumps over the lazy dog. ", 200) // ~2000 real tokens
	body := `{"model":"m","system":"` + prose + `","messages":[{"role":"user","content":"hi"}]}`
	n, err := EstimateTokens([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if n < 2000 || n > 4000 {
		t.Fatalf("estimate %d for ~2000 tokens of prose", n)
	}
}

func TestEstimateTokensImagesAndSignatures(t *testing.T) {
	img := strings.Repeat("A", 400_000)
	body := `{"messages":[{"role":"user","content":[{"type":"image","source":{"type":"base64","media_type":"image/png","data":"` + img + `"}}]},
	{"role":"assistant","content":[{"type":"thinking","thinking":"x","signature":"` + img + `"}]}]}`
	n, err := EstimateTokens([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if n < imageTokens || n > imageTokens+200 {
		t.Fatalf("estimate %d", n)
	}
}

func TestEstimateTokensCountsToolsAndResults(t *testing.T) {
	base := `{"messages":[{"role":"user","content":"hi"}]}`
	withTools := `{"messages":[{"role":"user","content":[{"type":"tool_result","tool_use_id":"t","content":"` + strings.Repeat("x", 3000) + `"}]}],
	"tools":[{"name":"Bash","description":"` + strings.Repeat("d", 3000) + `","input_schema":{"type":"object"}}]}`
	a, _ := EstimateTokens([]byte(base))
	b, _ := EstimateTokens([]byte(withTools))
	if b-a < 2000 {
		t.Fatalf("tools/results not counted: %d vs %d", a, b)
	}
}

func TestEstimateTokensRejectsNonObject(t *testing.T) {
	for _, b := range []string{"", "[]", `{"a":"unterminated`} {
		if _, err := EstimateTokens([]byte(b)); err == nil {
			t.Errorf("%q accepted", b)
		}
	}
}
