package apierr

import (
	"encoding/json"
	"errors"
	"testing"
)

var errReset = errors.New("connection reset by peer")

func TestErrorShapes(t *testing.T) {
	cases := []struct {
		status              int
		body                string
		anthType, oaiType   string
		message, oaiCodeStr string
	}{
		{429, `{"error":{"message":"slow down","type":"rate_limit_exceeded","code":"rate_limit_exceeded"}}`, "rate_limit_error", "rate_limit_exceeded", "slow down", "rate_limit_exceeded"},
		{401, `{"type":"error","error":{"type":"authentication_error","message":"bad key"}}`, "authentication_error", "authentication_error", "bad key", "401"},
		{502, `<html>Bad Gateway</html>`, "api_error", "server_error", "<html>Bad Gateway</html>", "502"},
		{503, ``, "overloaded_error", "server_error", "upstream returned status 503", "503"},
	}
	for _, tc := range cases {
		var a struct {
			Type  string
			Error struct{ Type, Message string }
		}
		if err := json.Unmarshal(ErrorJSON(true, ParseUpstreamError(tc.status, []byte(tc.body))), &a); err != nil {
			t.Fatal(err)
		}
		if a.Type != "error" || a.Error.Type != tc.anthType || a.Error.Message != tc.message {
			t.Errorf("%d anthropic: %+v", tc.status, a)
		}
		var o struct {
			Error struct {
				Message, Type string
				Param         any
				Code          string
			}
		}
		if err := json.Unmarshal(ErrorJSON(false, ParseUpstreamError(tc.status, []byte(tc.body))), &o); err != nil {
			t.Fatal(err)
		}
		if o.Error.Type != tc.oaiType || o.Error.Message != tc.message || o.Error.Code != tc.oaiCodeStr {
			t.Errorf("%d openai: %+v", tc.status, o)
		}
	}
	f := AnthropicErrorFrame(errReset)
	if f.Event != "error" || !json.Valid(f.Data) {
		t.Fatal(f)
	}
	rf := ResponsesErrorFrame(&UpstreamError{Status: 429, Message: "x"}, 3)
	var r map[string]any
	_ = json.Unmarshal(rf.Data, &r)
	if r["type"] != "error" || r["sequence_number"].(float64) != 3 || r["code"] != "rate_limit_error" {
		t.Fatal(string(rf.Data))
	}
	if c := ChatErrorFrame(errReset); c.Event != "" || !json.Valid(c.Data) {
		t.Fatal(c)
	}
}

func TestFailureNamesTheCodeOrTypeWhenTheMessageIsEmpty(t *testing.T) {
	for _, c := range []struct {
		w    *Wire
		want string
	}{
		{nil, "upstream stream error"},
		{&Wire{Message: "slow down", Type: "rate_limit_error"}, "slow down"},
		{&Wire{Type: "overloaded_error"}, "upstream stream error (overloaded_error)"},
		{&Wire{Type: "server_error", Code: []byte(`"boom"`)}, "upstream stream error (boom)"},
		{&Wire{Code: []byte(`503`)}, "upstream stream error (503)"},
	} {
		if got := c.w.Failure(0, "upstream stream error").Message; got != c.want {
			t.Errorf("%+v: %q, want %q", c.w, got, c.want)
		}
	}
}
