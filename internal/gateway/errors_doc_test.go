package gateway

import (
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/flowgate/flowgate/internal/apierr"
	"github.com/flowgate/flowgate/internal/router"
	"github.com/flowgate/flowgate/internal/upstream"
)

// docs/errors.md documents the error table; each of its status rows says
// what apierr and the router's classification do for that status.
func TestDocsErrorTableMatchesTheCode(t *testing.T) {
	doc, err := os.ReadFile("../../docs/errors.md")
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile("^\\| (\\d{3})[^|]*\\| `([a-z_]+)` \\| `([a-z_]+)` \\| `([a-z_]+)` \\| `([a-z_]+)`")
	seen := 0
	for _, line := range strings.Split(string(doc), "\n") {
		m := row.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		seen++
		status, _ := strconv.Atoi(m[1])
		want := apierr.For(status)
		if m[2] != want.Chat || m[3] != want.Responses || m[4] != want.Anthropic {
			t.Errorf("docs/errors.md row %d says %s / %s / %s; the table gives %+v", status, m[2], m[3], m[4], want)
		}
		if class := router.Classify(&upstream.Error{Kind: upstream.FailStatus, Status: status}).String(); m[5] != class {
			t.Errorf("docs/errors.md row %d says router class %s; the router says %s", status, m[5], class)
		}
	}
	if seen < 17 {
		t.Fatalf("docs/errors.md: found %d status rows, want 17", seen)
	}
}
