package e2e

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	_ "image/jpeg" // a client may re-encode the image it read
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// The image turn. Claude Code is asked to read a PNG from its work folder
// (the upstream asks for the Read tool, whose result holds the image);
// Codex gets the PNG attached with `codex exec -i`. The upstream answers
// imageSeenText with the decoded size and where in its own protocol the
// image was.
const (
	imagePromptTag = "E2E-IMAGE-TURN"
	imageSeenText  = "E2E-IMAGE-SEEN"
	imageMissing   = "E2E-IMAGE-MISSING"
	imageW, imageH = 16, 8
)

var imagePathRE = regexp.MustCompile(`E2E-IMAGE-TURN: read the image file (/[^\s"\\]+\.png)`)

func imagePrompt(path string) string {
	return "E2E-IMAGE-TURN: read the image file " + path + " and say what you see."
}

// writeTestPNG writes a small valid PNG (imageW x imageH, two colours) into
// dir and returns its path.
func writeTestPNG(t *testing.T, dir string) string {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, imageW, imageH))
	for x := range imageW {
		for y := range imageH {
			c := color.RGBA{R: 220, G: 40, B: 40, A: 255}
			if x >= imageW/2 {
				c = color.RGBA{R: 40, G: 40, B: 220, A: 255}
			}
			img.Set(x, y, c)
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "e2e-image.png")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func decideImage(protocol string, body []byte) answer {
	if cfg, where, ok := findImage(protocol, body); ok {
		return answer{text: fmt.Sprintf("%s %dx%d in %s", imageSeenText, cfg.Width, cfg.Height, where), note: where}
	}
	if slices.ContainsFunc(toolResultKeys, func(k []byte) bool { return bytes.Contains(body, k) }) {
		return answer{text: imageMissing + " the tool result held no image", note: "no image"}
	}
	m := imagePathRE.FindSubmatch(body)
	if m != nil && toolNames(body)["Read"] {
		args, _ := json.Marshal(map[string]string{"file_path": string(m[1])})
		return answer{preamble: "Reading the image.", calls: []toolCall{{"Read", string(args)}}}
	}
	return answer{text: imageMissing + " no image in the request", note: "no image"}
}

// part is a content block / part / item of any of the three protocols,
// with the fields an image can be found in.
type part struct {
	Type     string          `json:"type"`
	Role     string          `json:"role"`
	Source   *imageSource    `json:"source"`    // Anthropic image block
	ImageURL json.RawMessage `json:"image_url"` // Chat {"url"} object, Responses string
	Content  json.RawMessage `json:"content"`   // nested blocks / parts
	Output   json.RawMessage `json:"output"`    // Responses function_call_output
}

type imageSource struct {
	Type      string `json:"type"`
	MediaType string `json:"media_type"`
	Data      string `json:"data"`
}

func parts(raw json.RawMessage) []part {
	var ps []part
	if json.Unmarshal(raw, &ps) != nil {
		return nil // absent or a plain string
	}
	return ps
}

// findImage looks for a base64 image in the request in the protocol's own
// shape (Anthropic image block with a base64 source, Chat image_url part
// with a data URL, Responses input_image with a data URL) and says where it
// was: "tool_result" (inside an Anthropic tool result),
// "function_call_output" (inside a Responses tool output), "user after
// tool" (a Chat user message right after a tool message: Chat tool
// messages hold only text) or "user message".
func findImage(protocol string, body []byte) (image.Config, string, bool) {
	var req struct {
		Messages json.RawMessage `json:"messages"`
		Input    json.RawMessage `json:"input"`
	}
	_ = json.Unmarshal(body, &req)
	try := func(data, where string) (image.Config, string, bool) {
		raw, err := base64.StdEncoding.DecodeString(data)
		if err != nil {
			return image.Config{}, "", false
		}
		cfg, _, err := image.DecodeConfig(bytes.NewReader(raw))
		return cfg, where, err == nil
	}
	dataURL := func(raw json.RawMessage) string {
		var s string
		if json.Unmarshal(raw, &s) != nil {
			var o struct {
				URL string `json:"url"`
			}
			_ = json.Unmarshal(raw, &o)
			s = o.URL
		}
		if !strings.HasPrefix(s, "data:image/") {
			return ""
		}
		_, data, _ := strings.Cut(s, ";base64,")
		return data
	}
	switch protocol {
	case "anthropic":
		for _, m := range parts(req.Messages) {
			for _, b := range parts(m.Content) {
				if b.Type == "image" && b.Source != nil && b.Source.Type == "base64" {
					if c, w, ok := try(b.Source.Data, "user message"); ok {
						return c, w, ok
					}
				}
				if b.Type == "tool_result" {
					for _, ib := range parts(b.Content) {
						if ib.Type == "image" && ib.Source != nil && ib.Source.Type == "base64" {
							if c, w, ok := try(ib.Source.Data, "tool_result"); ok {
								return c, w, ok
							}
						}
					}
				}
			}
		}
	case "chat":
		msgs := parts(req.Messages)
		for i, m := range msgs {
			for _, p := range parts(m.Content) {
				if p.Type != "image_url" {
					continue
				}
				where := m.Role + " message"
				if m.Role == "user" && i > 0 && msgs[i-1].Role == "tool" {
					where = "user after tool"
				}
				if c, w, ok := try(dataURL(p.ImageURL), where); ok {
					return c, w, ok
				}
			}
		}
	case "responses":
		for _, it := range parts(req.Input) {
			inner, where := it.Content, "user message"
			if it.Type == "function_call_output" {
				inner, where = it.Output, "function_call_output"
			}
			for _, p := range parts(inner) {
				if p.Type == "input_image" {
					if c, w, ok := try(dataURL(p.ImageURL), where); ok {
						return c, w, ok
					}
				}
			}
		}
	}
	return image.Config{}, "", false
}
