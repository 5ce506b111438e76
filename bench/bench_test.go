package main

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/flowgate/flowgate/bench/internal/build"
)

// TestMain lets the test binary serve as the fake upstream child, as the
// bench binary does.
func TestMain(m *testing.M) {
	if os.Getenv(roleEnv) == "upstream" {
		runUpstreamChild()
		return
	}
	os.Exit(m.Run())
}

func TestGlyphsAreFiveBySeven(t *testing.T) {
	for r, g := range glyphs {
		if len(g) != glyphW*glyphH {
			t.Errorf("glyph %q has %d cells, want %d", r, len(g), glyphW*glyphH)
		}
	}
}

func TestRequestBodyHasRequestedSize(t *testing.T) {
	for _, p := range []string{protoChat, protoMessages, protoResponses} {
		b := requestBody(p, "bench-chat", true, 200<<10)
		if len(b) != 200<<10 || !json.Valid(b) {
			t.Errorf("%s: %d bytes (valid JSON %v), want %d", p, len(b), json.Valid(b), 200<<10)
		}
	}
}

// TestQuickRunMeasuresEveryTarget runs the harness in -quick mode against
// the direct target, the upstream again given as an -extra base URL (so the
// extra-target path runs with gateway aliases and key), and FlowGate
// when its gateway builds and serves; every request must validate.
func TestQuickRunMeasuresEveryTarget(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the fake upstream and the gateway (about 15 s)")
	}
	port, err := build.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	upAddr := "127.0.0.1:" + strconv.Itoa(port)
	out := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rep, err := run(ctx, options{
		Out: out, Quick: true, Reps: 1, NoLiteLLM: true, Key: "sk-test", UpstreamAddr: upAddr,
		Extras:     []string{"mirror=http://" + upAddr + "/v1"},
		Mock:       mockConfig{RespBytes: 300, Chunks: 8, ChunkDelay: time.Millisecond},
		ColdStarts: 1, MaxRun: 10 * time.Second, LiteLLMScale: 0.1,
		Only: "chat-c1,chat-c64,chat-stream-c1,messages-c1,responses-stream-c1,chat-200k-c1",
		Log:  testWriter{t},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"report.md", "report.json", "latency.png"} {
		if st, err := os.Stat(filepath.Join(out, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s not written: %v", f, err)
		}
	}
	seen := map[string]int{}
	for _, s := range rep.Summary {
		seen[s.Target]++
		mustPass := s.Target == "direct" || s.Target == "mirror" || (s.Target == "flowgate" && s.Scenario == "chat-c1")
		if mustPass && (s.Errors > 0 || s.OK == 0) {
			t.Errorf("%s/%s: %d ok, %d errors (%s)", s.Scenario, s.Target, s.OK, s.Errors, s.FirstError)
		}
		if s.Target == "mirror" && s.Scenario == "chat-stream-c1" && s.DeltasRecv != s.DeltasSent {
			t.Errorf("mirror stream: %d deltas received of %d", s.DeltasRecv, s.DeltasSent)
		}
	}
	if seen["direct"] != 6 || seen["mirror"] != 6 {
		t.Errorf("summaries per target: %v", seen)
	}
	if seen["flowgate"] == 0 {
		t.Logf("flowgate not measured: %v", rep.Notes)
	}
	// A request the upstream did not get cannot have been validated.
	resp, err := http.Get("http://" + upAddr + statsPath)
	if err == nil {
		resp.Body.Close()
		t.Errorf("fake upstream still running after run returned")
	}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) { w.t.Log(string(p)); return len(p), nil }
