package cli

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// gatewayLog writes lines as the gateway's process log of the project at cfg
// and returns its path.
func gatewayLog(t *testing.T, cfg string, lines ...string) string {
	t.Helper()
	p := filepath.Join(filepath.Dir(filepath.Dir(cfg)), ".router", "runtime", "process-logs", "gateway.log")
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLogsWithZeroLinesPrintsNothingAndExits0(t *testing.T) {
	cfg := project(t)
	gatewayLog(t, cfg, "one", "two")
	for _, args := range [][]string{{"logs", "-n", "0"}, {"logs", "gateway", "-n", "0"}, {"events", "-n", "0"}} {
		r := runCLI(t, append([]string{"--config", cfg}, args...)...)
		if r.code != 0 || r.stdout != "" || r.stderr != "" {
			t.Errorf("%v: want nothing and exit 0, got %+v", args, r)
		}
	}
	r := runCLI(t, "--config", cfg, "logs", "-n", "-1")
	if r.code != ExitUsage || !strings.Contains(r.stderr, "0 or more") {
		t.Errorf("-n -1: %+v", r)
	}
	r = runCLI(t, "--config", cfg, "logs", "-n", "1")
	if r.code != 0 || r.stdout != "two\n" {
		t.Errorf("-n 1: %+v", r)
	}
}

func TestLogsJSONIsOneObjectWithServiceFileAndLines(t *testing.T) {
	cfg := project(t)
	path := gatewayLog(t, cfg, "first", `a "quoted" <line>`)
	r := runCLI(t, "--config", cfg, "--json", "logs")
	var rep struct {
		Service string   `json:"service"`
		File    string   `json:"file"`
		Lines   []string `json:"lines"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || r.code != 0 {
		t.Fatalf("logs --json is not JSON: %v %+v", err, r)
	}
	if rep.Service != "gateway" || rep.File != path || strings.Join(rep.Lines, "|") != `first|a "quoted" <line>` {
		t.Fatalf("got %+v", rep)
	}
	r = runCLI(t, "--config", cfg, "--json", "logs", "cliproxyapi_plus")
	if r.code != 0 || !strings.Contains(r.stdout, `"lines": []`) {
		t.Fatalf("a missing log is an empty list: %+v", r)
	}
}

// TestLogsFollowJSONPrintsOneObjectPerLineAsLinesArrive runs the built binary:
// `logs -f --json` prints the tail, then each appended line, one JSON object
// per line, and exits 0 on interrupt.
func TestLogsFollowJSONPrintsOneObjectPerLineAsLinesArrive(t *testing.T) {
	cfg := project(t)
	path := gatewayLog(t, cfg, "old-1", "old-2")
	cmd := exec.Command(flowgateBinary(t), "--config", cfg, "--json", "logs", "-f", "-n", "1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	next := func(wait time.Duration) (logLine, bool) {
		t.Helper()
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatal("logs -f ended early")
			}
			var ll logLine
			if err := json.Unmarshal([]byte(l), &ll); err != nil {
				t.Fatalf("not a JSON object: %q", l)
			}
			return ll, true
		case <-time.After(wait):
			return logLine{}, false
		}
	}
	if got, ok := next(10 * time.Second); !ok || got != (logLine{Service: "gateway", Line: "old-2"}) {
		t.Fatalf("tail = %+v (%t)", got, ok)
	}
	appendLine := func(s string) {
		f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		f.WriteString(s + "\n")
		f.Close()
	}
	// The follower starts at the end of the file some time after it printed
	// the tail: append until a line arrives, then everything after it must.
	deadline := time.Now().Add(10 * time.Second)
	for i := 0; ; i++ {
		if time.Now().After(deadline) {
			t.Fatal("no appended line arrived within 10s")
		}
		appendLine(fmt.Sprintf("new-%d", i))
		if got, ok := next(200 * time.Millisecond); ok {
			if got.Service != "gateway" || !strings.HasPrefix(got.Line, "new-") {
				t.Fatalf("got %+v", got)
			}
			break
		}
	}
	appendLine("final")
	for {
		got, ok := next(10 * time.Second)
		if !ok {
			t.Fatal("the line appended last did not arrive within 10s")
		}
		if got.Line == "final" {
			break
		}
		if !strings.HasPrefix(got.Line, "new-") {
			t.Fatalf("got %+v", got)
		}
	}
	cmd.Process.Signal(os.Interrupt)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("logs -f must exit 0 on interrupt: %v", err)
	}
}
