package apierr

import "testing"

func TestForGivesEachProtocolItsTypeForEveryStatusClass(t *testing.T) {
	cases := []struct {
		status                     int
		chat, responses, anthropic string
	}{
		{400, "invalid_request_error", "invalid_request_error", "invalid_request_error"},
		{401, "authentication_error", "authentication_error", "authentication_error"},
		{402, "invalid_request_error", "invalid_request_error", "billing_error"},
		{403, "permission_error", "permission_error", "permission_error"},
		{404, "invalid_request_error", "invalid_request_error", "not_found_error"},
		{408, "invalid_request_error", "invalid_request_error", "timeout_error"},
		{409, "invalid_request_error", "invalid_request_error", "invalid_request_error"},
		{413, "invalid_request_error", "invalid_request_error", "request_too_large"},
		{418, "invalid_request_error", "invalid_request_error", "invalid_request_error"},
		{422, "invalid_request_error", "invalid_request_error", "invalid_request_error"},
		{429, "rate_limit_error", "rate_limit_error", "rate_limit_error"},
		{499, "invalid_request_error", "invalid_request_error", "invalid_request_error"},
		{500, "server_error", "server_error", "api_error"},
		{501, "server_error", "server_error", "api_error"},
		{502, "server_error", "server_error", "api_error"},
		{503, "server_error", "server_error", "overloaded_error"},
		{504, "server_error", "server_error", "timeout_error"},
		{529, "server_error", "server_error", "overloaded_error"},
		{599, "server_error", "server_error", "api_error"},
		// No status (an error inside a stream) or a status that is not an
		// error: the server-error row.
		{0, "server_error", "server_error", "api_error"},
		{200, "server_error", "server_error", "api_error"},
		{600, "server_error", "server_error", "api_error"},
	}
	for _, tc := range cases {
		got := For(tc.status)
		if got.Chat != tc.chat || got.Responses != tc.responses || got.Anthropic != tc.anthropic {
			t.Errorf("For(%d) = %+v, want chat %q responses %q anthropic %q", tc.status, got, tc.chat, tc.responses, tc.anthropic)
		}
	}
}

// Every type the table produces reads back, inside a stream, as a status
// whose row produces the same type again: an upstream error event and the
// same error answered as a status are one failure.
func TestStatusOfRoundTripsEveryTypeTheTableProduces(t *testing.T) {
	for s := 0; s <= 600; s++ {
		row := For(s)
		for proto, typ := range map[string]string{"chat": row.Chat, "responses": row.Responses, "anthropic": row.Anthropic} {
			back := StatusOf(typ, "")
			var again string
			switch proto {
			case "chat":
				again = For(back).Chat
			case "responses":
				again = For(back).Responses
			default:
				again = For(back).Anthropic
			}
			if again != typ {
				t.Errorf("%s %d: type %q reads back as %d, whose type is %q", proto, s, typ, back, again)
			}
		}
	}
}

func TestStatusOfReadsCodesAndBothVocabularies(t *testing.T) {
	cases := []struct {
		typ, code string
		want      int
	}{
		{"", "429", 429},
		{"rate_limit_error", "503", 503},
		{"", "200", 502},
		{"", "42", 502},
		{"rate_limit_exceeded", "", 429},
		{"", "insufficient_quota", 429},
		{"overloaded_error", "", 529},
		{"", "server_is_overloaded", 529},
		{"", "invalid_api_key", 401},
		{"", "model_not_found", 404},
		{"invalid_request_error", "context_length_exceeded", 400},
		{"billing_error", "", 402},
		{"timeout_error", "", 504},
		{"api_error", "", 500},
		{"server_error", "", 500},
		{"something_new", "", 502},
		{"", "", 502},
	}
	for _, tc := range cases {
		if got := StatusOf(tc.typ, tc.code); got != tc.want {
			t.Errorf("StatusOf(%q, %q) = %d, want %d", tc.typ, tc.code, got, tc.want)
		}
	}
}

func TestIsAnthropicAcceptsOnlyTheAnthropicVocabulary(t *testing.T) {
	for _, typ := range []string{"invalid_request_error", "authentication_error", "billing_error", "permission_error",
		"not_found_error", "request_too_large", "rate_limit_error", "api_error", "overloaded_error", "timeout_error"} {
		if !IsAnthropic(typ) {
			t.Errorf("IsAnthropic(%q) = false", typ)
		}
	}
	for _, typ := range []string{"", "server_error", "rate_limit_exceeded", "insufficient_quota", "error"} {
		if IsAnthropic(typ) {
			t.Errorf("IsAnthropic(%q) = true", typ)
		}
	}
}
