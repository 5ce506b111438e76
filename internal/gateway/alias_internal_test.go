package gateway

import (
	"testing"

	"github.com/flowgate/flowgate/internal/jsonscan"
)

func TestAliasLiteralIsWhatTheEncoderWrites(t *testing.T) {
	for _, raw := range []string{`"coder"`, `"gpt-5.1-codex"`, `"a<b"`, `"caf\u00e9"`, `"café"`, `"q\"x"`, `"x&y"`} {
		info, err := jsonscan.ScanBody([]byte(`{"model":` + raw + `}`))
		if err != nil {
			t.Fatal(err)
		}
		body := []byte(`{"model":` + raw + `}`)
		got := aliasLiteral(body[info.ModelStart:info.ModelEnd], info.Model)
		if want := jsonscan.AppendString(nil, info.Model); string(got) != string(want) {
			t.Errorf("%s: alias literal %s, the encoder writes %s", raw, got, want)
		}
	}
}
