package translate

import (
	"cmp"
	"encoding/json"
	"strconv"
	"strings"
)

// maxTokens is the client's token limit: max_completion_tokens, else
// max_tokens; nil when neither is positive.
func (r *chatRequest) maxTokens() *int {
	for _, p := range []*int{r.MaxCompletionTokens, r.MaxTokens} {
		if p != nil && *p > 0 {
			return p
		}
	}
	return nil
}

// cacheMark is a cache_control object (with its ttl) as the client sent
// it; null reads as absent, so it is never sent on as null.
type cacheMark json.RawMessage

func (c *cacheMark) UnmarshalJSON(b []byte) error {
	if !isNull(b) {
		*c = append((*c)[:0], b...)
	}
	return nil
}

func (c cacheMark) MarshalJSON() ([]byte, error) { return c, nil }

// chatParts reads chat message content: a string is one text part, null
// none, an array its parts.
func chatParts(raw json.RawMessage) ([]chatPart, error) {
	return stringOrList(raw, func(s string) chatPart { return chatPart{Type: "text", Text: s} })
}

// chatText flattens content parts to lines of text; parts other than
// text and refusal are dropped with a note.
func chatText(parts []chatPart, res *Result) string {
	var sb lines
	for _, p := range parts {
		switch p.Type {
		case "text", "input_text", "output_text":
			sb.add(p.Text)
		case "refusal":
			sb.add(p.Refusal)
		default:
			res.note("dropped " + p.Type + " content part: only text is supported here")
		}
	}
	return sb.String()
}

// lines joins texts with newlines, leaving out empty ones.
type lines struct{ strings.Builder }

func (l *lines) add(s string) {
	if s != "" {
		if l.Len() > 0 {
			l.WriteByte('\n')
		}
		l.WriteString(s)
	}
}

// imageURL reads a chat image_url ({"url":..,"detail":..} or a string).
func imageURL(raw json.RawMessage) (url, detail string) {
	if raw = trimSpace(raw); len(raw) > 0 && raw[0] == '"' {
		return rawText(raw), ""
	}
	var u chatImageURL
	if unmarshal(raw, &u) != nil {
		return "", ""
	}
	return u.URL, u.Detail
}

// toolChoice is a chat or Responses tool_choice: mode "auto", "none",
// "required", or "function" with the function's name (and, in Responses,
// its namespace); mode "" when absent.
type toolChoice struct {
	mode, name, namespace string
}

// readToolChoice reads a chat or Responses tool_choice: a mode string, or
// an object naming a function (function.name in chat; "name" beside the
// type in Responses and Codex 0.94 chat bodies). An unknown string is
// ignored and another object (a hosted tool, allowed_tools) approximated
// as auto, each with a note.
func readToolChoice(raw json.RawMessage, res *Result) toolChoice {
	if raw = trimSpace(raw); isNull(raw) {
		return toolChoice{}
	}
	if raw[0] == '"' {
		switch s := rawText(raw); s {
		case "auto", "none", "required":
			return toolChoice{mode: s}
		default:
			res.note("ignored tool_choice " + strconv.Quote(s))
			return toolChoice{}
		}
	}
	var c struct {
		chatTool         // its name as a function tool's (toolName)
		Namespace string `json:"namespace"`
	}
	if unmarshal(raw, &c) == nil && c.Type == "function" && c.toolName() != "" {
		return toolChoice{mode: "function", name: c.toolName(), namespace: c.Namespace}
	}
	res.note("tool_choice of type " + strconv.Quote(c.Type) + " approximated as auto")
	return toolChoice{mode: "auto"}
}

// wire writes c as a chat tool_choice, or with flat as a Responses one
// (the function's name beside the type); nil when absent.
func (c toolChoice) wire(flat bool) json.RawMessage {
	switch {
	case c.mode == "":
		return nil
	case c.mode != "function":
		return jsonString(c.mode)
	case flat:
		return mustJSON(map[string]string{"type": "function", "name": c.name})
	}
	return mustJSON(map[string]any{"type": "function", "function": map[string]string{"name": c.name}})
}

// chatFormat is a chat response_format.
type chatFormat struct {
	Type       string        `json:"type"`
	JSONSchema *schemaFormat `json:"json_schema,omitempty"`
}

// schemaFormat is a structured output format: flat in Responses
// text.format and Anthropic output_config.format, a chat response_format's
// json_schema (without the type).
type schemaFormat struct {
	Type        string          `json:"type,omitempty"`
	Name        string          `json:"name,omitempty"`
	Description string          `json:"description,omitempty"`
	Schema      json.RawMessage `json:"schema,omitempty"`
	Strict      *bool           `json:"strict,omitempty"`
}

// chat returns a flat format as a chat response_format: json_schema (its
// name "output" when it has none: Chat and Responses require one) or
// json_object; nil for any other type.
func (f *schemaFormat) chat(res *Result) json.RawMessage {
	switch {
	case f == nil:
		return nil
	case f.Type == "json_object":
		return json.RawMessage(`{"type":"json_object"}`)
	case f.Type != "json_schema":
		return nil
	case isNull(f.Schema):
		res.note("dropped json_schema format without a schema")
		return nil
	}
	js := *f
	js.Type, js.Name = "", cmp.Or(f.Name, "output")
	return mustJSON(chatFormat{Type: "json_schema", JSONSchema: &js})
}

// readChatFormat reads a chat response_format as a flat format: nil for
// text (the default), and for an unreadable one or a json_schema without
// a schema, dropped with a note.
func readChatFormat(raw json.RawMessage, res *Result) *schemaFormat {
	if raw = trimSpace(raw); isNull(raw) {
		return nil
	}
	var f chatFormat
	if unmarshal(raw, &f) != nil {
		res.note("dropped unreadable response_format")
		return nil
	}
	switch f.Type {
	case "json_object":
		return &schemaFormat{Type: "json_object"}
	case "json_schema":
		if f.JSONSchema == nil || isNull(f.JSONSchema.Schema) {
			res.note("dropped response_format json_schema without a schema")
			return nil
		}
		js := *f.JSONSchema
		js.Type, js.Name = "json_schema", cmp.Or(js.Name, "output")
		return &js
	}
	return nil
}

// toolName is a chat function tool's name (a top-level "name" beside
// "function", as Codex 0.94 sends, when function.name is empty).
func (t *chatTool) toolName() string {
	return cmp.Or(t.Function.Name, t.Name)
}

// callIDs gives id-less tool calls generated ids and hands them, in order,
// to id-less tool results.
type callIDs []string

func (g *callIDs) call(id, prefix string) string {
	if id == "" {
		id = newID(prefix)
		*g = append(*g, id)
	}
	return id
}

func (g *callIDs) result(id string) string {
	if id == "" && len(*g) > 0 {
		id, *g = (*g)[0], (*g)[1:]
	}
	return id
}

// emptySchema is the parameters schema of a tool that declares none.
var emptySchema = json.RawMessage(`{"type":"object","properties":{}}`)

// schemaOrEmpty returns a tool's parameters schema, emptySchema when absent.
func schemaOrEmpty(raw json.RawMessage) json.RawMessage {
	if raw = trimSpace(raw); isNull(raw) {
		return emptySchema
	}
	return raw
}
