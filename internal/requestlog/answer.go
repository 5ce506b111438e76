package requestlog

import (
	"bytes"
	"encoding/json"
	"strings"
)

// AnswerText is the text an answer carries, for people to read: a whole
// JSON answer or an SSE stream of any of the three protocols (Chat
// Completions, Messages, Responses). Tool calls appear as
// "[tool NAME ARGS]". It is for display only (flowgate requests replay).
func AnswerText(b []byte) string {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '{' {
		return wholeText(b)
	}
	var sb strings.Builder
	for _, line := range bytes.Split(b, []byte("\n")) {
		line = bytes.TrimSpace(line)
		data, ok := bytes.CutPrefix(line, []byte("data:"))
		if !ok {
			continue
		}
		data = bytes.TrimSpace(data)
		if len(data) == 0 || data[0] != '{' {
			continue
		}
		var ev struct {
			Type    string `json:"type"`
			Delta   json.RawMessage
			Choices []struct {
				Delta struct {
					Content   string `json:"content"`
					ToolCalls []struct {
						Function struct {
							Name      string `json:"name"`
							Arguments string `json:"arguments"`
						} `json:"function"`
					} `json:"tool_calls"`
				} `json:"delta"`
			} `json:"choices"`
			ContentBlock struct {
				Type string `json:"type"`
				Name string `json:"name"`
			} `json:"content_block"`
			Item struct {
				Type string `json:"type"`
				Name string `json:"name"`
			} `json:"item"`
			Error json.RawMessage `json:"error"`
		}
		if json.Unmarshal(data, &ev) != nil {
			continue
		}
		for _, c := range ev.Choices {
			sb.WriteString(c.Delta.Content)
			for _, tc := range c.Delta.ToolCalls {
				if tc.Function.Name != "" {
					sb.WriteString("[tool " + tc.Function.Name + " ")
				}
				sb.WriteString(tc.Function.Arguments)
			}
		}
		switch ev.Type {
		case "content_block_start":
			if ev.ContentBlock.Type == "tool_use" {
				sb.WriteString("[tool " + ev.ContentBlock.Name + " ")
			}
		case "content_block_delta":
			var d struct {
				Text        string `json:"text"`
				PartialJSON string `json:"partial_json"`
			}
			json.Unmarshal(ev.Delta, &d)
			sb.WriteString(d.Text + d.PartialJSON)
		case "content_block_stop":
		case "response.output_text.delta", "response.function_call_arguments.delta":
			var s string
			json.Unmarshal(ev.Delta, &s)
			sb.WriteString(s)
		case "response.output_item.added":
			if ev.Item.Type == "function_call" {
				sb.WriteString("[tool " + ev.Item.Name + " ")
			}
		case "error":
			sb.WriteString("[error " + string(ev.Error) + "]")
		}
		if ev.Type == "" && len(ev.Choices) == 0 && len(ev.Error) > 0 {
			sb.WriteString("[error " + string(ev.Error) + "]")
		}
	}
	return sb.String()
}

func wholeText(b []byte) string {
	var a struct {
		Choices []struct {
			Message struct {
				Content   string `json:"content"`
				ToolCalls []struct {
					Function struct {
						Name      string `json:"name"`
						Arguments string `json:"arguments"`
					} `json:"function"`
				} `json:"tool_calls"`
			} `json:"message"`
		} `json:"choices"`
		Content []struct {
			Type  string          `json:"type"`
			Text  string          `json:"text"`
			Name  string          `json:"name"`
			Input json.RawMessage `json:"input"`
		} `json:"content"`
		Output []struct {
			Type      string `json:"type"`
			Name      string `json:"name"`
			Arguments string `json:"arguments"`
			Content   []struct {
				Text string `json:"text"`
			} `json:"content"`
		} `json:"output"`
		Error json.RawMessage `json:"error"`
	}
	if json.Unmarshal(b, &a) != nil {
		return string(b)
	}
	var sb strings.Builder
	for _, c := range a.Choices {
		sb.WriteString(c.Message.Content)
		for _, tc := range c.Message.ToolCalls {
			sb.WriteString("[tool " + tc.Function.Name + " " + tc.Function.Arguments + "]")
		}
	}
	for _, c := range a.Content {
		if c.Type == "tool_use" {
			sb.WriteString("[tool " + c.Name + " " + string(c.Input) + "]")
		} else {
			sb.WriteString(c.Text)
		}
	}
	for _, o := range a.Output {
		if o.Type == "function_call" {
			sb.WriteString("[tool " + o.Name + " " + o.Arguments + "]")
		}
		for _, c := range o.Content {
			sb.WriteString(c.Text)
		}
	}
	if sb.Len() == 0 && len(a.Error) > 0 && string(a.Error) != "null" {
		return "[error " + string(a.Error) + "]"
	}
	return sb.String()
}
