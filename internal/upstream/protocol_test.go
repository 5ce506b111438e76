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
