package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// The thinking session: turn 1 asks for a shell call with reasoning, gets
// the final text (with reasoning again) once the command output is back;
// turn 2 (a continued session, whose history holds turn 1's reasoning
// state) gets its own text.
const (
	thinkPromptTag = "E2E-THINK-TURN"
	thinkPrompt1   = "E2E-THINK-TURN-1: think, run the marker command with your shell tool, then say what it printed."
	thinkPrompt2   = "E2E-THINK-TURN-2: think again and give the second answer."
	thinkTurn2Tag  = "E2E-THINK-TURN-2"
	thinkMarker    = "MARKER-T-42"
	thinkCommand   = "echo MARKER-T-$((6*7))"
	thinkOneText   = "E2E-THINK-ONE the first turn is done"
	thinkTwoText   = "E2E-THINK-TWO the second turn is done"
	thinkingText   = "E2E-THINKING the fake model reasons step by step."
)

func decideThinking(body []byte) answer {
	switch {
	case bytes.Contains(body, []byte(thinkTurn2Tag)):
		return answer{thinking: thinkingText, text: thinkTwoText}
	case bytes.Contains(body, []byte(thinkMarker)):
		return answer{thinking: thinkingText, text: thinkOneText}
	}
	c, ok := pickShellTool(body, thinkCommand)
	if !ok {
		return answer{text: "E2E-NO-SHELL-TOOL offered"}
	}
	return answer{thinking: thinkingText, preamble: "Running the tool.", calls: []toolCall{c}}
}

// signature and encrypted are the reasoning state this upstream issues:
// an Anthropic thinking signature and a Responses encrypted_content.
func (f *fakeUpstream) signature(id int) string { return fmt.Sprintf("%s%d", f.sigPrefix(), id) }
func (f *fakeUpstream) encrypted(id int) string { return fmt.Sprintf("%s%d", f.encPrefix(), id) }
func (f *fakeUpstream) sigPrefix() string       { return "fake-sig:" + f.name + ":" }
func (f *fakeUpstream) encPrefix() string       { return "fake-enc:" + f.name + ":" }

// foreignReasoning is the 400 message a real provider gives for reasoning
// state it cannot verify ("" when there is none): Anthropic checks every
// thinking block's signature (and redacted_thinking data), OpenAI
// Responses every reasoning item's encrypted_content. Chat upstreams take
// reasoning_content as plain text.
func (f *fakeUpstream) foreignReasoning(protocol string, body []byte) string {
	switch protocol {
	case "anthropic":
		var req struct {
			Messages []struct {
				Role    string          `json:"role"`
				Content json.RawMessage `json:"content"`
			} `json:"messages"`
		}
		_ = json.Unmarshal(body, &req)
		for i, m := range req.Messages {
			var blocks []struct {
				Type      string `json:"type"`
				Signature string `json:"signature"`
				Data      string `json:"data"`
			}
			if json.Unmarshal(m.Content, &blocks) != nil {
				continue // a plain string
			}
			for j, b := range blocks {
				switch {
				case b.Type == "thinking" && !strings.HasPrefix(b.Signature, f.sigPrefix()):
					return fmt.Sprintf("messages.%d.content.%d: Invalid `signature` in `thinking` block", i, j)
				case b.Type == "redacted_thinking" && !strings.HasPrefix(b.Data, f.sigPrefix()):
					return fmt.Sprintf("messages.%d.content.%d: Invalid `data` in `redacted_thinking` block", i, j)
				}
			}
		}
	case "responses":
		var req struct {
			Input json.RawMessage `json:"input"`
		}
		_ = json.Unmarshal(body, &req)
		var items []struct {
			Type             string `json:"type"`
			ID               string `json:"id"`
			EncryptedContent string `json:"encrypted_content"`
		}
		if json.Unmarshal(req.Input, &items) != nil {
			return "" // a plain string
		}
		for _, it := range items {
			if it.Type == "reasoning" && it.EncryptedContent != "" && !strings.HasPrefix(it.EncryptedContent, f.encPrefix()) {
				return fmt.Sprintf("The encrypted content for item %s could not be verified. Reason: Encrypted content could not be decrypted or parsed.", it.ID)
			}
		}
	}
	return ""
}
