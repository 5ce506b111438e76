package runtime

import (
	"bufio"
	"encoding/json"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestClipCapsLongStringsAndNotesTheLength(t *testing.T) {
	if got := Clip("short"); got != "short" {
		t.Fatalf("Clip(short) = %q", got)
	}
	if got := Quote("short"); got != `"short"` {
		t.Fatalf("Quote(short) = %q", got)
	}
	huge := strings.Repeat("a", 8<<20)
	got := Clip(huge)
	if len(got) > MaxOutsideString+40 || !strings.HasSuffix(got, "… (8388608 bytes)") || !strings.HasPrefix(got, "aaaa") {
		t.Fatalf("Clip(8 MiB) = %q (%d bytes)", got[:min(len(got), 300)], len(got))
	}
	q := Quote(huge)
	if !strings.HasPrefix(q, `"aaa`) || !strings.HasSuffix(q, `…" (8388608 bytes)`) || len(q) > MaxOutsideString+40 {
		t.Fatalf("Quote(8 MiB) = %q", q)
	}
	// A cut never splits a multi-byte character.
	multi := strings.Repeat("é", 300)
	if c := Clip(multi); !utf8.ValidString(c) {
		t.Fatalf("Clip split a rune: %q", c)
	}
	if c := ClipTo(strings.Repeat("b", 50), 10); c != "bbbbbbbbbb… (50 bytes)" {
		t.Fatalf("ClipTo = %q", c)
	}
}

func TestRedactorRemovesSecretsOfAnyShapeInEveryForm(t *testing.T) {
	const key = "zz9-plural-z-alpha-0123456789"
	const odd = `p@ss/"word"<&>+`
	r := NewRedactor(key, odd, "short", "")
	if r.Len() != 2 {
		t.Fatalf("Len = %d, want 2 (values under %d bytes are ignored)", r.Len(), MinSecretLen)
	}
	oddJSON, _ := json.Marshal(odd)
	for _, in := range []string{
		"upstream said: invalid key " + key,
		"Authorization: Bearer " + key,
		`{"error":{"message":"bad key ` + key + `"}}`,
		"https://up.example/v1?key=" + url.QueryEscape(odd),
		`{"message":` + string(oddJSON) + `}`,
		"raw " + odd,
	} {
		out := r.Redact(in)
		if strings.Contains(out, key) || strings.Contains(out, odd) || strings.Contains(out, string(oddJSON[1:len(oddJSON)-1])) || !strings.Contains(out, Redacted) {
			t.Errorf("Redact(%q) = %q", in, out)
		}
	}
	// The shape pass still runs as a second net.
	if out := r.Redact("token sk-abcdefgh1234 and eyJhbGciOiJIUzI1.eyJzdWIiOiIxMjM0.sig"); strings.Contains(out, "sk-abcdefgh1234") || strings.Contains(out, "eyJzdWIi") {
		t.Fatalf("shape pass missed: %q", out)
	}
	// JSON stays JSON when only values are replaced.
	body := []byte(`{"error":{"message":"key ` + key + ` refused","type":"auth"}}`)
	red := r.RedactValues(body)
	if !json.Valid(red) || strings.Contains(string(red), key) {
		t.Fatalf("RedactValues = %s", red)
	}
	if clean := []byte(`{"ok":true}`); &r.RedactValues(clean)[0] != &clean[0] {
		t.Fatal("RedactValues copied a body without secrets")
	}
	// A secret that contains another is replaced whole.
	r2 := NewRedactor("abcdef", "abcdef-longer-secret")
	if out := r2.Redact("x abcdef-longer-secret y"); out != "x [redacted] y" {
		t.Fatalf("overlapping secrets: %q", out)
	}
}

func TestRegisteredSecretsAreRedactedFromEvents(t *testing.T) {
	const mgmt = "Mgmt_Pw.Of.Another.Shape.42"
	RegisterSecrets(mgmt)
	RegisterSecrets(mgmt) // twice is harmless
	if Known().Len() < 1 {
		t.Fatal("nothing registered")
	}
	path := filepath.Join(t.TempDir(), "events.log")
	if err := AppendEvent(path, Event{Event: "service_start", Service: "cliproxyapi_plus", Result: "failed", Detail: "log says: password " + mgmt + " rejected"}); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	if strings.Contains(string(data), mgmt) || !strings.Contains(string(data), "password [redacted] rejected") {
		t.Fatalf("events.log = %s", data)
	}
	if got := RedactSecrets("x " + mgmt); got != "x [redacted]" {
		t.Fatalf("RedactSecrets = %q", got)
	}
}

// eventsLines counts the lines of path and checks each is one whole event.
func eventsLines(t *testing.T, path string) int {
	t.Helper()
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	n := 0
	for sc.Scan() {
		n++
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil || len(m) != 7 {
			t.Fatalf("%s line %d is not one whole event: %q", path, n, sc.Text())
		}
	}
	return n
}

func TestEventsLogRotatesBySizeKeepingWholeLines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.log")
	const maxBytes = 4 << 10
	for i := 0; i < 200; i++ {
		if err := appendEvent(path, Event{Event: "service_restart", Service: "gateway", Result: "success", Detail: strings.Repeat("d", 100) + strconv.Itoa(i)}, maxBytes, 2); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []string{path, path + ".1", path + ".2"} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if fi.Size() > maxBytes+512 {
			t.Fatalf("%s is %d bytes, limit %d", p, fi.Size(), maxBytes)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Fatalf("%s mode %v", p, fi.Mode().Perm())
		}
	}
	if _, err := os.Stat(path + ".3"); !os.IsNotExist(err) {
		t.Fatalf("keep=2 left %s.3 (%v)", path, err)
	}
	// The newest event is in the current log.
	data, _ := os.ReadFile(path)
	if !strings.Contains(string(data), strings.Repeat("d", 100)+"199") {
		t.Fatalf("last event missing from the current log")
	}
}

func TestEventsRotationWithTwoProcessesLosesNoLine(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "events.log")
	var cmds []*exec.Cmd
	for i := 0; i < 2; i++ {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		// 600 lines of ~450 bytes rotate about a dozen times at 20 KB, and
		// 20 kept files hold them all: every line must be found exactly once.
		cmd.Env = append(os.Environ(), "FG_EVENTS_WRITER="+path, "FG_EVENTS_N=300", "FG_EVENTS_MAX=20000", "FG_EVENTS_KEEP=20")
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, cmd)
	}
	for _, c := range cmds {
		if err := c.Wait(); err != nil {
			t.Fatal(err)
		}
	}
	total, files := eventsLines(t, path), 1
	for i := 1; i <= 20; i++ {
		p := path + "." + strconv.Itoa(i)
		if _, err := os.Stat(p); err == nil {
			files++
			total += eventsLines(t, p)
		}
	}
	if total != 600 {
		t.Fatalf("%d lines kept in %d files, want all 600", total, files)
	}
	if files < 5 {
		t.Fatalf("only %d files: the log did not rotate as it grew", files)
	}
}
