package translate

import (
	"strings"
	"testing"

	"github.com/tidwall/gjson"
)

// Anthropic thinking reaches a Responses client tagged with its signature,
// and the tagged item sent back becomes the same signed thinking block.
func TestAnthropicThinkingRoundTripsThroughAResponsesClient(t *testing.T) {
	answer := `{"id":"msg_1","type":"message","role":"assistant","model":"claude","content":[` +
		`{"type":"thinking","thinking":"list files","signature":"EqQB+sig/=="},` +
		`{"type":"tool_use","id":"toolu_1","name":"shell","input":{"cmd":"ls"}}],"stop_reason":"tool_use","usage":{"input_tokens":5,"output_tokens":3}}`
	out, err := AnthropicResponseToResponses([]byte(answer), "alias", nil)
	if err != nil {
		t.Fatal(err)
	}
	item := gjson.GetBytes(out, `output.#(type=="reasoning")`)
	if item.Get("encrypted_content").String() != AnthropicSignaturePrefix+"EqQB+sig/==" {
		t.Fatalf("reasoning item %s", item.Raw)
	}
	call := gjson.GetBytes(out, `output.#(type=="function_call")`)
	next := `{"model":"alias","reasoning":{"effort":"high"},"input":[{"type":"message","role":"user","content":"go"},` + item.Raw + `,` + call.Raw + `,` +
		`{"type":"function_call_output","call_id":"toolu_1","output":"a.go"},` +
		`{"type":"reasoning","id":"rs_x","summary":[],"encrypted_content":"gAAAA-openai"}]}`
	res, err := ResponsesToAnthropic([]byte(next), Options{})
	if err != nil {
		t.Fatal(err)
	}
	blocks := gjson.GetBytes(res.Body, "messages.1.content")
	if blocks.Get("0.type").String() != "thinking" || blocks.Get("0.thinking").String() != "list files" ||
		blocks.Get("0.signature").String() != "EqQB+sig/==" || blocks.Get("1.type").String() != "tool_use" {
		t.Fatalf("assistant turn %s", blocks.Raw)
	}
	if !gjson.GetBytes(res.Body, "thinking").Exists() || strings.Contains(string(res.Body), "openai") {
		t.Fatalf("thinking should stay on with the signed block, the untagged item dropped: %s", res.Body)
	}
	// A chat upstream never sees the signature.
	chat, err := ResponsesToChat([]byte(next), Options{ReasoningInHistory: true})
	if err != nil || strings.Contains(string(chat.Body), "EqQB") || !strings.Contains(string(chat.Body), `"reasoning_content":"list files"`) {
		t.Fatalf("chat form %s, %v", chat.Body, err)
	}
}
