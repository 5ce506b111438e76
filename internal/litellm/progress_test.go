package litellm

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// lockedBuffer is a Progress writer the test can read while Bootstrap runs.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// slowPipVenv makes a venv whose python answers the version query once
// "installed" exists and whose pip prints like pip, then waits for release
// to exist before it finishes the install.
func slowPipVenv(t *testing.T, venv, version, release string) {
	t.Helper()
	os.MkdirAll(filepath.Join(venv, "bin"), 0o755)
	installed := filepath.Join(venv, "installed")
	py := `#!/bin/sh
if [ "$1" = "-c" ]; then
  [ -e '` + installed + `' ] || exit 1
  echo ` + version + `
  exit 0
fi
echo "Collecting litellm[proxy]==` + version + `"
echo "  Downloading litellm-` + version + `-py3-none-any.whl.metadata (40 kB)"
echo "Requirement already satisfied: some-noise in /x"
i=0
while [ ! -e '` + release + `' ]; do
  i=$((i+1)); [ $i -gt 1200 ] && exit 1
  sleep 0.05
done
echo "Installing collected packages: litellm"
echo "Successfully installed litellm-` + version + `"
touch '` + installed + `'
`
	if err := os.WriteFile(filepath.Join(venv, "bin", "python"), []byte(py), 0o755); err != nil {
		t.Fatal(err)
	}
}

// TestBootstrapShowsPipProgressAndAHeartbeatWhilePipIsQuiet: pip's progress
// lines reach Progress as they come, the noise does not, and while pip prints
// nothing Progress says it is still installing.
func TestBootstrapShowsPipProgressAndAHeartbeatWhilePipIsQuiet(t *testing.T) {
	rt := t.TempDir()
	venv := filepath.Join(t.TempDir(), "venv")
	release := filepath.Join(t.TempDir(), "release")
	slowPipVenv(t, venv, "7.7.7", release)
	progress := &lockedBuffer{}
	type outcome struct {
		res BootstrapResult
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		res, err := Bootstrap(context.Background(), BootstrapOptions{RuntimeDir: rt, VenvDir: venv, Version: "7.7.7", Progress: progress, Heartbeat: 20 * time.Millisecond})
		done <- outcome{res, err}
	}()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(progress.String(), "still installing") {
		if time.Now().After(deadline) {
			t.Fatalf("no heartbeat while pip was quiet; progress so far:\n%s", progress.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	os.WriteFile(release, nil, 0o600)
	o := <-done
	if o.err != nil {
		t.Fatalf("bootstrap: %v\n%s", o.err, progress.String())
	}
	out := progress.String()
	for _, want := range []string{
		"  pip: Collecting litellm[proxy]==7.7.7\n",
		"  pip: Downloading litellm-7.7.7-py3-none-any.whl.metadata (40 kB)\n",
		"  pip: Installing collected packages: litellm\n",
		"  pip: Successfully installed litellm-7.7.7\n",
		"still installing (",
		o.res.LogPath,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("progress lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "some-noise") {
		t.Errorf("pip noise reached progress:\n%s", out)
	}
	if strings.Index(out, "Collecting") > strings.Index(out, "still installing") || strings.Index(out, "still installing") > strings.Index(out, "Successfully installed") {
		t.Errorf("lines out of order:\n%s", out)
	}
	if log, _ := os.ReadFile(o.res.LogPath); !strings.Contains(string(log), "some-noise") {
		t.Errorf("the log must keep all of pip's output:\n%s", log)
	}
}

func TestBootstrapErrorsDoNotRepeatTheCommandName(t *testing.T) {
	_, err := Bootstrap(context.Background(), BootstrapOptions{RuntimeDir: t.TempDir(), VenvDir: filepath.Join(t.TempDir(), "v"), Python: "/nonexistent/python3"})
	if err == nil || strings.Contains(err.Error(), "bootstrap litellm:") {
		t.Fatalf("err = %v; the CLI adds the command name once", err)
	}
}
