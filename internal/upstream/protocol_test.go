package upstream

import "testing"

func TestNewTargetURLs(t *testing.T) {
	tg := NewTarget(KindOpenAI, "m", "http://h:1/v1/", "", []string{"/v1/responses"})
	if tg.URL(OpChat) != "http://h:1/v1/chat/completions" || tg.URL(OpResponses) != "http://h:1/v1/responses" || !tg.NativeFor(Responses) || tg.NativeFor(Messages) {
		t.Fatalf("%+v", tg)
	}
	a := NewTarget(KindAnthropic, "m", "http://h:2/v1", "", nil)
	if a.URL(OpMessages) != "http://h:2/v1/messages" || a.URL(OpCountTokens) != "http://h:2/v1/messages/count_tokens" {
		t.Fatal(a.URL(OpMessages))
	}
}

func TestOpenAIReasoningModelsAreKnownByName(t *testing.T) {
	for model, want := range map[string]bool{
		"o1": true, "o3-mini": true, "o4-mini-2025-04-16": true, "gpt-5": true, "gpt-5.1-codex": true, "openai/gpt-5-mini": true,
		"GPT-5": true, "gpt-4o": false, "gpt-4.1": false, "omni-moderation": false, "claude-sonnet-4-5": false, "": false, "o": false,
	} {
		if got := isOpenAIReasoningModel(model); got != want {
			t.Errorf("%q: %v, want %v", model, got, want)
		}
	}
	if NewTarget(KindAnthropic, "o3", "", "", nil).ReasoningModel {
		t.Error("an anthropic/ deployment is never an OpenAI reasoning model")
	}
}
