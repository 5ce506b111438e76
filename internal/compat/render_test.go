package compat_test

import (
	"strings"
	"testing"

	"github.com/flowgate/flowgate/internal/compat"
)

// TestRenderNumbersFootnotesInOrderOfFirstUseAndIsDeterministic: a reason
// shared by two cells gets one footnote; numbering follows the table,
// row by row; the same matrix renders to the same bytes.
func TestRenderNumbersFootnotesInOrderOfFirstUseAndIsDeterministic(t *testing.T) {
	m := compat.Matrix{Intro: "# T", Columns: []string{"a", "b"}, Rows: []compat.Row{{Name: "r1", Note: "one"}, {Name: "r2", Note: "two"}},
		Cells: [][]compat.Outcome{
			{{Verdict: compat.NA, Why: "no such thing"}, {Verdict: compat.Fail, Why: "kept out"}},
			{{Verdict: compat.Refused, Why: "400 x"}, {Verdict: compat.NA, Why: "no such thing"}},
		}}
	got := string(compat.Render(m))
	for _, want := range []string{
		"| feature | a | b |\n|---|:---:|:---:|\n",
		"| r1 | n/a [1] | ❌ |\n| r2 | refused [2] | n/a [1] |\n",
		"[1] n/a: no such thing\n\n[2] refused: 400 x\n",
		"- **r1**: one\n- **r2**: two\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("render lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "kept out") {
		t.Errorf("a failure's reason reached the document:\n%s", got)
	}
	if again := string(compat.Render(m)); again != got {
		t.Errorf("two renders differ:\n%s\n---\n%s", got, again)
	}
}
