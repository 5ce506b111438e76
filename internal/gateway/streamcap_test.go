package gateway_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/flowgate/flowgate/internal/sse"
)

// hugeUpstream streams head, then an event whose data line is either
// tenMB bytes long and then ends (the answer's tail follows), or never
// ends: it writes until the connection closes, or giveUp bytes. written
// counts what the upstream managed to send; done closes when the handler
// returns.
type hugeUpstream struct {
	*httptest.Server
	written atomic.Int64
	done    chan struct{}
}

const (
	tenMB  = 10 << 20
	giveUp = 256 << 20
)

func newHugeUpstream(t *testing.T, head, tail string, endless bool) *hugeUpstream {
	u := &hugeUpstream{done: make(chan struct{}, 16)}
	chunk := []byte(strings.Repeat("x", 64<<10))
	u.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() { u.done <- struct{}{} }()
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, head+`data: {"type":"x","pad":"`)
		for u.written.Load() < giveUp && (endless || u.written.Load() < tenMB) {
			n, err := w.Write(chunk)
			u.written.Add(int64(n))
			if err != nil {
				return
			}
		}
		io.WriteString(w, "\"}\n\n"+tail)
	}))
	t.Cleanup(func() { u.CloseClientConnections(); u.Close() })
	return u
}

// allocated runs f and returns the bytes the process allocated meanwhile:
// an upper bound of what f made the gateway hold at once.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// An upstream event past sse.MaxEvent (a 10 MB line, or a line that never
// ends) is refused after reading at most about the cap: before the first
// byte the client gets an error in its own shape, after it the protocol's
// error event, and what the gateway reads and allocates stays bounded.
func TestAnUpstreamLineTooLongOrNeverEndingIsAnErrorInTheProtocolWithBoundedMemory(t *testing.T) {
	// What the upstream may send beyond what the gateway reads: the
	// loopback socket buffers of both ends.
	const inFlight = 16 << 20
	// What one such request may allocate: the reader's buffer growing to
	// the cap (about twice the cap in all), plus the request's own.
	const allocBudget = 4 * sse.MaxEvent

	wantType := map[string]string{"chat": `"type":"server_error"`, "messages": `"type":"api_error"`, "responses": `"code":"server_error"`}
	for _, c := range protoCases(nil) {
		for _, endless := range []bool{false, true} {
			for _, started := range []bool{false, true} {
				name := c.name + "/10MB line"
				if endless {
					name = c.name + "/never-ending line"
				}
				if started {
					name += "/after the first byte"
				} else {
					name += "/before the first byte"
				}
				t.Run(name, func(t *testing.T) {
					head := ""
					if started {
						head = c.head
					}
					up := newHugeUpstream(t, head, c.tail, endless)
					g := startGateway(t, doc([]any{dep(c.alias, c.model, c.apiBase(up.URL), nil)}, map[string]any{"num_retries": 0}), newClock())

					var (
						resp *http.Response
						body string
					)
					alloc := allocated(func() { resp, body = g.post(t, c.path, c.body, nil) })
					recv(t, up.done, "the upstream to see its connection closed")

					want := wantType[c.name]
					if !started {
						want = strings.Replace(want, `"code"`, `"type"`, 1) // the error body, not the Responses error event
					}
					if !strings.Contains(body, "larger than 8 MiB") || !strings.Contains(body, want) {
						t.Errorf("answer does not name the failure in the %s shape:\n%.600s", c.name, body)
					}
					if started {
						wantHead := strings.ReplaceAll(head, `"model":"up-model"`, `"model":"`+c.alias+`"`)
						if resp.StatusCode != 200 || !strings.HasPrefix(body, wantHead) {
							t.Fatalf("status %d, want 200 and the events before the long line:\n%.600s", resp.StatusCode, body)
						}
						rest := body[len(wantHead):]
						if strings.Count(rest, "\n\n") != 1 || !strings.HasSuffix(rest, "\n\n") || strings.Contains(rest, "xxxx") {
							t.Errorf("after the head, want exactly one error event:\n%.600s", rest)
						}
					} else if resp.StatusCode != 502 || resp.Header.Get("Content-Type") != "application/json" {
						t.Errorf("status %d %s, want 502 application/json", resp.StatusCode, resp.Header.Get("Content-Type"))
					}
					if n := up.written.Load(); n > sse.MaxEvent+inFlight {
						t.Errorf("the upstream sent %d MiB before the gateway stopped reading; the cap is %d MiB", n>>20, sse.MaxEvent>>20)
					}
					if alloc > allocBudget {
						t.Errorf("the request allocated %d MiB; want at most %d MiB", alloc>>20, allocBudget>>20)
					}
					t.Logf("the upstream sent %.1f MiB; the request allocated %.1f MiB", float64(up.written.Load())/(1<<20), float64(alloc)/(1<<20))
					reason := "invalid_first_event"
					if started {
						reason = "invalid_event"
					}
					id := deployment(t, g.health(t), c.apiBase(up.URL)).ID
					if n := g.metric(t, "flowgate_upstream_stream_failures_total", "deployment", id, "reason", reason); n != 1 {
						t.Errorf("stream failures with reason %s: %v, want 1", reason, n)
					}
				})
			}
		}
	}
}

// Before the first byte an event past the cap is a failed attempt like any
// other bad answer: the next deployment serves the request.
func TestAnUpstreamEventPastTheCapBeforeTheFirstByteIsRetriedOnTheNextDeployment(t *testing.T) {
	c := protoCases(nil)[0]
	bad := newHugeUpstream(t, "", c.tail, true)
	good, _ := sseUpstream(t, c.head+c.tail, false)
	g := startGateway(t, doc([]any{
		dep(c.alias, c.model, c.apiBase(bad.URL), map[string]any{"order": 1}),
		dep(c.alias, c.model, c.apiBase(good.URL), map[string]any{"order": 2}),
	}, map[string]any{"num_retries": 1, "allowed_fails": 10}), newClock())
	resp, body := g.post(t, c.path, c.body, nil)
	want := strings.ReplaceAll(c.head+c.tail, `"model":"up-model"`, `"model":"`+c.alias+`"`)
	if resp.StatusCode != 200 || body != want || resp.Header.Get("X-Flowgate-Attempts") != "2" {
		t.Fatalf("%d attempts=%s\n got %.600q\nwant %q", resp.StatusCode, resp.Header.Get("X-Flowgate-Attempts"), body, want)
	}
	if d := deployment(t, g.health(t), c.apiBase(bad.URL)); d.ConsecutiveFailures != 1 || !strings.Contains(d.LastError, "larger than 8 MiB") {
		t.Fatalf("the deployment that sent the long line: %+v", d)
	}
}
