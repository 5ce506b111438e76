package e2e

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// wantImageText is the fake upstream's answer when it found the test PNG,
// whole, at where in its own protocol.
func wantImageText(where string) string {
	return fmt.Sprintf("%s %dx%d in %s", imageSeenText, imageW, imageH, where)
}

// claudeImageTurn: Claude Code reads a PNG from its work folder with its
// Read tool; the image goes back inside the tool result, which an
// Anthropic upstream gets as an image block (base64 source) inside the
// tool_result and a Chat upstream as an image_url data-URL part of the user
// message that follows the tool message (Chat tool messages hold only
// text).
func claudeImageTurn(t *testing.T, bin string, tg target) {
	s := newClaudeSession(t, bin, tg)
	png := writeTestPNG(t, s.work)
	before := len(tg.up.requests())
	out := s.run(t, "-p", imagePrompt(png), "--allowedTools", "Read")
	reqs := modelRequests(tg.up.requests()[before:])
	assertSeen(t, reqs, tg, 2)
	where := "tool_result"
	if tg.wantProtocol == "chat" {
		where = "user after tool"
	}
	asked := slices.IndexFunc(reqs, func(r recorded) bool { return r.Answer == "tool" })
	if asked < 0 {
		t.Fatalf("the fake upstream never asked for the Read tool (answers: %v)", answers(reqs))
	}
	assertImageSeen(t, reqs[asked+1:], where, out)
}

// codexImageTurn: Codex gets the PNG attached (`codex exec --image`); it
// sends it as a Responses input_image, which reaches a Chat upstream as an
// image_url part and an Anthropic one as an image block, in the user
// message.
func codexImageTurn(t *testing.T, bin string, tg target) {
	s := newCodexSession(t, bin, tg)
	png := writeTestPNG(t, s.work)
	before := len(tg.up.requests())
	out := s.run(t, s.execArgs("--image="+png, imagePrompt(png))...)
	reqs := modelRequests(tg.up.requests()[before:])
	assertSeen(t, reqs, tg, 1)
	assertImageSeen(t, reqs, "user message", out)
}

func assertImageSeen(t *testing.T, reqs []recorded, where, out string) {
	t.Helper()
	var notes []string
	for _, r := range reqs {
		notes = append(notes, r.Note)
	}
	if !slices.Contains(notes, where) {
		t.Fatalf("no request carried the PNG in the %s (where the upstream found an image, per request: %q; answers: %v)",
			where, notes, answers(reqs))
	}
	if want := wantImageText(where); !strings.Contains(out, want) {
		t.Fatalf("stdout lacks %q:\n%s", want, out)
	}
}
