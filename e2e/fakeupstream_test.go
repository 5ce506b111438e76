package e2e

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// Words the scripted upstream reacts to and answers with.
const (
	toolPrompt   = "E2E-TOOL-TURN: run the marker command with your shell tool, then say what it printed."
	textPrompt   = "E2E-TEXT-TURN: reply with the pong word."
	pongText     = "E2E-PONG from the fake upstream"
	toolDoneText = "E2E-TOOL-DONE the command ran"
	toolMarker   = "MARKER-42"
	toolCommand  = "echo MARKER-$((6*7))"

	// The parallel turn: the upstream asks for two shell calls at once (a
	// Chat upstream streams them interleaved), each printing its marker.
	parallelPrompt   = "E2E-PARALLEL-TURN: run both marker commands with your shell tool, then say what they printed."
	parallelDoneText = "E2E-PARALLEL-DONE both commands ran"
	parallelMissing  = "E2E-PARALLEL-MISSING a command did not run"
	parallelMarkerA  = "MARKER-A-42"
	parallelMarkerB  = "MARKER-B-42"
	parallelCommandA = "echo MARKER-A-$((6*7))"
	parallelCommandB = "echo MARKER-B-$((6*7))"
)

// recorded is one request the fake upstream saw.
type recorded struct {
	Method, Path string
	Protocol     string // anthropic, responses, chat, other
	Auth         string // bearer or x-api-key value
	Model        string
	Stream       bool
	Body         []byte
	Answer       string // text, tool, tools (parallel calls), error, failed (scripted 500) or rejected (400)
	// Note says why a request was rejected, or where the image was found.
	Note string
}

// fakeUpstream is a scripted model server speaking OpenAI Chat
// (/v1/chat/completions), Anthropic Messages (/v1/messages) and OpenAI
// Responses (/v1/responses), streaming or not. The script is stateless and
// decided by the request body: a body holding the tool's output (MARKER-42)
// gets the final text, a body holding the tool prompt gets a shell tool call
// (the first shell-like tool the request offers), a body holding the
// parallel prompt gets two shell calls at once (and, once tool results
// came back, the final text), the image prompt gets the Read tool call or,
// once the image is there, a text saying where it was (fakeimage_test.go),
// the thinking prompts get reasoning with a tool call or text
// (fakereasoning_test.go), anything else gets the pong text. The wire
// writers are in fakewire_test.go.
type fakeUpstream struct {
	t    *testing.T
	URL  string
	keys map[string]bool
	// name is the issuer written into the reasoning state this upstream
	// hands out (thinking signatures, encrypted_content); like the real
	// providers it answers 400 to reasoning state it did not issue.
	name string
	// failOn: a request whose body contains it is answered 500 (a
	// deployment that fails a later turn of a session).
	failOn string

	mu   sync.Mutex
	reqs []recorded
	seq  int
}

func startFakeUpstream(t *testing.T, keys ...string) *fakeUpstream {
	t.Helper()
	return startNamedUpstream(t, "main", "", keys...)
}

// startNamedUpstream starts a fake upstream that signs its reasoning state
// as name and answers 500 to any request whose body contains failOn
// (nothing when "").
func startNamedUpstream(t *testing.T, name, failOn string, keys ...string) *fakeUpstream {
	t.Helper()
	f := &fakeUpstream{t: t, keys: map[string]bool{}, name: name, failOn: failOn}
	for _, k := range keys {
		f.keys[k] = true
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: f, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	f.URL = "http://" + ln.Addr().String()
	return f
}

func (f *fakeUpstream) requests() []recorded {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]recorded(nil), f.reqs...)
}

func (f *fakeUpstream) nextID() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.seq++
	return f.seq
}

func (f *fakeUpstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rec := recorded{Method: r.Method, Path: r.URL.Path, Body: body}
	switch {
	case strings.HasSuffix(r.URL.Path, "/messages"):
		rec.Protocol = "anthropic"
	case strings.HasSuffix(r.URL.Path, "/responses"):
		rec.Protocol = "responses"
	case strings.HasSuffix(r.URL.Path, "/chat/completions"):
		rec.Protocol = "chat"
	default:
		rec.Protocol = "other"
	}
	if a := r.Header.Get("Authorization"); strings.HasPrefix(a, "Bearer ") {
		rec.Auth = strings.TrimPrefix(a, "Bearer ")
	} else {
		rec.Auth = r.Header.Get("x-api-key")
	}
	var head struct {
		Model  string `json:"model"`
		Stream bool   `json:"stream"`
	}
	_ = json.Unmarshal(body, &head)
	rec.Model, rec.Stream = head.Model, head.Stream

	// Recorded before answering, so a client that has exited has been seen.
	record := func() {
		f.mu.Lock()
		f.reqs = append(f.reqs, rec)
		f.mu.Unlock()
	}

	if r.Method != http.MethodPost || rec.Protocol == "other" {
		record()
		if strings.HasSuffix(r.URL.Path, "/models") {
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"object":"list","data":[{"id":"mock","object":"model","owned_by":"e2e"}]}`)
			return
		}
		w.WriteHeader(http.StatusOK) // HEAD / probes and the like
		return
	}
	if len(f.keys) > 0 && !f.keys[rec.Auth] {
		rec.Answer = "error"
		record()
		writeError(w, rec.Protocol, http.StatusUnauthorized, "authentication_error", "fake upstream: unknown key")
		return
	}
	if f.failOn != "" && bytes.Contains(body, []byte(f.failOn)) {
		rec.Answer = "failed"
		record()
		writeError(w, rec.Protocol, http.StatusInternalServerError, "api_error", "fake upstream: scripted failure of this turn")
		return
	}
	if why := f.foreignReasoning(rec.Protocol, body); why != "" {
		rec.Answer, rec.Note = "rejected", why
		record()
		writeError(w, rec.Protocol, http.StatusBadRequest, "invalid_request_error", why)
		return
	}
	ans := decide(rec.Protocol, body)
	rec.Note = ans.note
	switch {
	case len(ans.calls) > 1:
		rec.Answer = "tools"
	case len(ans.calls) == 1:
		rec.Answer = "tool"
	default:
		rec.Answer = "text"
	}
	record()
	id := f.nextID()
	model := rec.Model
	if model == "" {
		model = "mock"
	}
	switch rec.Protocol {
	case "anthropic":
		writeAnthropic(w, ans, id, model, rec.Stream, f.signature(id))
	case "responses":
		writeResponses(w, ans, id, model, rec.Stream, f.encrypted(id))
	case "chat":
		writeChat(w, ans, id, model, rec.Stream)
	}
}

// writeError answers an error in the protocol's own error shape.
func writeError(w http.ResponseWriter, protocol string, status int, typ, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if protocol == "anthropic" {
		json.NewEncoder(w).Encode(obj{"type": "error", "error": obj{"type": typ, "message": msg}})
		return
	}
	code := any(nil)
	if status == http.StatusUnauthorized {
		typ, code = "invalid_request_error", "invalid_api_key"
	}
	json.NewEncoder(w).Encode(obj{"error": obj{"message": msg, "type": typ, "code": code}})
}

type answer struct {
	thinking string // reasoning before everything else ("" for none)
	preamble string // text before tool calls (Anthropic and Chat only)
	text     string
	calls    []toolCall
	note     string // recorded with the request (where an image was found)
}

type toolCall struct {
	name string
	args string // JSON
}

// toolResultKeys mark a request that carries tool results, in the three
// protocols.
var toolResultKeys = [][]byte{[]byte(`"tool_result"`), []byte(`"function_call_output"`), []byte(`"role":"tool"`)}

func decide(protocol string, body []byte) answer {
	switch {
	case bytes.Contains(body, []byte(imagePromptTag)):
		return decideImage(protocol, body)
	case bytes.Contains(body, []byte(thinkPromptTag)):
		return decideThinking(body)
	case bytes.Contains(body, []byte("E2E-PARALLEL-TURN")):
		if slices.ContainsFunc(toolResultKeys, func(k []byte) bool { return bytes.Contains(body, k) }) {
			// Results came back: end the turn either way (no second round).
			if bytes.Contains(body, []byte(parallelMarkerA)) && bytes.Contains(body, []byte(parallelMarkerB)) {
				return answer{text: parallelDoneText}
			}
			return answer{text: parallelMissing}
		}
		a, aok := pickShellTool(body, parallelCommandA)
		b, bok := pickShellTool(body, parallelCommandB)
		if !aok || !bok {
			return answer{text: "E2E-NO-SHELL-TOOL offered"}
		}
		return answer{preamble: "Running both.", calls: []toolCall{a, b}}
	case bytes.Contains(body, []byte(toolMarker)):
		return answer{text: toolDoneText}
	case bytes.Contains(body, []byte("E2E-TOOL-TURN")):
		c, ok := pickShellTool(body, toolCommand)
		if !ok {
			return answer{text: "E2E-NO-SHELL-TOOL offered"}
		}
		return answer{preamble: "Running the tool.", calls: []toolCall{c}}
	default:
		return answer{text: pongText}
	}
}

// pickShellTool makes a call of the client's shell tool, chosen among the
// request's tools (Anthropic and Responses: tools[].name; Chat:
// tools[].function.name), running command.
func pickShellTool(body []byte, command string) (toolCall, bool) {
	have := toolNames(body)
	mustJSON := func(v any) string { b, _ := json.Marshal(v); return string(b) }
	switch {
	case have["Bash"]:
		return toolCall{"Bash", mustJSON(map[string]string{"command": command, "description": "Print a tool marker"})}, true
	case have["exec_command"]:
		return toolCall{"exec_command", mustJSON(map[string]string{"cmd": command})}, true
	case have["shell_command"]:
		return toolCall{"shell_command", mustJSON(map[string]string{"command": command})}, true
	case have["shell"]:
		return toolCall{"shell", mustJSON(map[string][]string{"command": {"bash", "-lc", command}})}, true
	}
	return toolCall{}, false
}

// toolNames are the names of the tools a request offers (Anthropic and
// Responses: tools[].name; Chat: tools[].function.name).
func toolNames(body []byte) map[string]bool {
	var req struct {
		Tools []struct {
			Name     string `json:"name"`
			Function struct {
				Name string `json:"name"`
			} `json:"function"`
		} `json:"tools"`
	}
	_ = json.Unmarshal(body, &req)
	have := map[string]bool{}
	for _, t := range req.Tools {
		have[t.Name], have[t.Function.Name] = true, true
	}
	return have
}
