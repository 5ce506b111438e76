package translate

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/flowgate/flowgate/internal/apierr"
)

// defaultAnthropicMaxTokens is sent as max_tokens when neither the client
// nor Options.DefaultMaxTokens sets a limit (Anthropic requires one). 8192
// is accepted by every current Claude model.
const defaultAnthropicMaxTokens = 8192

// Thinking budgets for a chat reasoning_effort; AnthropicToChat maps them
// back to the same effort (>= 10000 high, >= 4000 medium, else low).
var effortBudget = map[string]int{"minimal": 1024, "low": 2048, "medium": 6144, "high": 16384, "xhigh": 24576, "max": 24576}

// minThinkingBudget is Anthropic's smallest thinking.budget_tokens.
const minThinkingBudget = 1024

// anthOutRequest is the Messages request ChatToAnthropic writes.
type anthOutRequest struct {
	Model         string          `json:"model"`
	MaxTokens     int             `json:"max_tokens"`
	System        []aBlock        `json:"system,omitempty"`
	Messages      []aTurn         `json:"messages"`
	Tools         []anthTool      `json:"tools,omitempty"`
	ToolChoice    *anthToolChoice `json:"tool_choice,omitempty"`
	StopSequences []string        `json:"stop_sequences,omitempty"`
	Temperature   *float64        `json:"temperature,omitempty"`
	TopP          *float64        `json:"top_p,omitempty"`
	Thinking      *anthThinking   `json:"thinking,omitempty"`
	OutputConfig  *anthOutConfig  `json:"output_config,omitempty"`
	Metadata      *anthMetadata   `json:"metadata,omitempty"`
	Stream        bool            `json:"stream,omitempty"`
}

// aBlock is one content block ChatToAnthropic writes. The pointer members
// belong to one block type each and are written whenever set, even empty.
type aBlock struct {
	Type      string          `json:"type"`               // text, image, thinking, tool_use, tool_result
	Text      string          `json:"text,omitempty"`     // text (never empty)
	Thinking  *string         `json:"thinking,omitempty"` // thinking, with Signature
	Signature string          `json:"signature,omitempty"`
	Source    *anthSource     `json:"source,omitempty"` // image, document
	Title     string          `json:"title,omitempty"`  // document
	ID        string          `json:"id,omitempty"`     // tool_use, with Name and Input
	Name      *string         `json:"name,omitempty"`
	Input     json.RawMessage `json:"input,omitempty"`
	ToolUseID *string         `json:"tool_use_id,omitempty"` // tool_result, with Content
	Content   *string         `json:"content,omitempty"`
	// CacheControl is the client's cache_control (with its ttl), as sent.
	CacheControl cacheMark `json:"cache_control,omitempty"`
}

type aTurn struct {
	Role    string   `json:"role"`
	Content []aBlock `json:"content"`
}

// ChatToAnthropic translates a Chat Completions request (an OpenAI SDK,
// Codex 0.94 wire_api=chat) into a Messages request. system and developer
// messages become "system" blocks wherever they appear; role "tool"
// messages become tool_result blocks leading one user turn, a repeated id
// merged into its first result; turns of one role are merged (Anthropic
// wants them alternating). Assistant reasoning_content is replayed as
// thinking only with a real reasoning_signature. cache_control (with its
// ttl) stays on the part, message or tool it marks. Thinking is left off
// (with a note) where Anthropic would reject it: a forced tool_choice, or a
// tool loop whose last assistant turn has no signed thinking. What has no
// Anthropic equivalent (n, seed, penalties, logprobs, json_object) is
// dropped with a note.
func ChatToAnthropic(body []byte, opts Options) (*Result, error) {
	var req chatRequest
	if err := unmarshal(body, &req); err != nil {
		return nil, fmt.Errorf("decoding chat request: %w", err)
	}
	res := &Result{Stream: req.Stream, ClientModel: req.Model}

	var system []aBlock
	turns := []aTurn{}
	var ids callIDs // ids generated for id-less tool calls, for id-less results
	droppedReasoning := false
	for i := range req.Messages {
		m := &req.Messages[i]
		parts, err := chatParts(m.Content)
		if err != nil {
			return nil, res.at(fmt.Sprintf("messages[%d]", i), err)
		}
		if n := len(parts); n > 0 && parts[n-1].CacheControl == nil {
			parts[n-1].CacheControl = m.CacheControl // a message-level marker caches through its end
		}
		switch m.Role {
		case "system", "developer":
			system = append(system, textBlocks(parts, res)...)
		case "assistant":
			var bs []aBlock
			switch sig := m.ReasoningSignature; {
			case sig != "" && sig != UnsignedThinkingSignature:
				bs = append(bs, aBlock{Type: "thinking", Thinking: new(m.ReasoningContent), Signature: sig})
			case sig != "" || m.ReasoningContent != "":
				droppedReasoning = true
			}
			bs = append(bs, textBlocks(parts, res)...)
			for _, tc := range m.ToolCalls {
				bs = append(bs, aBlock{Type: "tool_use", ID: ids.call(tc.ID, "toolu_"), Name: new(tc.Function.Name),
					Input: argsObject(tc.Function.Arguments)})
			}
			turns = appendTurn(turns, "assistant", bs)
		case "tool", "function":
			turns = appendToolResult(turns, ids.result(m.ToolCallID), parts, res)
		default: // "user"
			turns = appendTurn(turns, "user", chatUserBlocks(parts, res))
		}
	}
	if droppedReasoning {
		res.note("dropped assistant reasoning_content from history: no Anthropic signature to replay it with")
	}

	var tools []anthTool
	for _, t := range req.Tools {
		name := t.toolName()
		if t.Type != "" && t.Type != "function" || name == "" {
			res.note("dropped tool " + name + " (type " + t.Type + "): only function tools are supported by an anthropic upstream")
			continue
		}
		tools = append(tools, anthTool{Name: name, Description: t.Function.Description, InputSchema: schemaOrEmpty(t.Function.Parameters),
			CacheControl: t.CacheControl})
	}
	toolChoice, forced := chatToolChoiceToAnth(req.ToolChoice, req.ParallelToolCalls, len(tools) > 0, res)

	maxTokens, explicitMax := opts.DefaultMaxTokens, false
	if mt := req.maxTokens(); mt != nil {
		maxTokens, explicitMax = *mt, true
	} else if maxTokens <= 0 {
		maxTokens = defaultAnthropicMaxTokens
	}
	budget := effortBudget[req.ReasoningEffort]
	switch e := req.ReasoningEffort; {
	case budget == 0 && e != "" && e != "none":
		res.note("ignored reasoning_effort " + strconv.Quote(e))
	case budget == 0:
	case forced:
		res.note("thinking left off: Anthropic does not allow thinking with a forced tool_choice")
		budget = 0
	case lastToolTurnUnsigned(turns):
		res.note("thinking left off: the last assistant tool call has no signed thinking block to replay")
		budget = 0
	case budget < maxTokens:
	case !explicitMax:
		maxTokens = budget + defaultAnthropicMaxTokens
	case maxTokens-1 < minThinkingBudget:
		res.note("thinking left off: max_tokens too small for a thinking budget")
		budget = 0
	default:
		budget = maxTokens - 1
	}
	temp, topP := req.Temperature, req.TopP
	if budget > 0 && (temp != nil || topP != nil) {
		res.note("dropped temperature/top_p: Anthropic does not allow them with thinking")
		temp, topP = nil, nil
	}
	if temp != nil && topP != nil {
		res.note("dropped top_p: newer Claude models reject temperature and top_p together")
		topP = nil
	}
	if temp != nil && *temp > 1 {
		temp = new(1.0)
		res.note("temperature clamped to 1 (Anthropic's maximum)")
	}
	stops, err := stopList(req.Stop)
	if err != nil {
		return nil, fmt.Errorf("decoding chat stop: %w", err)
	}
	format := readChatFormat(req.ResponseFormat, res)
	if format != nil && (format.Type != "json_schema" || !validObject(format.Schema)) {
		res.note("dropped response_format " + format.Type + ": no Anthropic equivalent")
		format = nil
	}
	if req.N != nil && *req.N > 1 {
		res.note("dropped n: an anthropic upstream returns one choice")
	}
	for _, f := range []struct {
		name string
		raw  json.RawMessage
	}{{"seed", req.Seed}, {"presence_penalty", req.PresencePenalty}, {"frequency_penalty", req.FrequencyPenalty}, {"logprobs", req.Logprobs}, {"logit_bias", req.LogitBias}} {
		if r := trimSpace(f.raw); len(r) > 0 && string(r) != "null" && string(r) != "false" {
			res.note("dropped " + f.name + ": not part of the Anthropic API")
		}
	}

	out := anthOutRequest{Model: opts.model(req.Model), MaxTokens: maxTokens, System: system, Messages: turns, Tools: tools,
		StopSequences: stops, Temperature: temp, TopP: topP, Stream: req.Stream, ToolChoice: toolChoice}
	if budget > 0 {
		out.Thinking = &anthThinking{Type: "enabled", BudgetTokens: budget}
	}
	if format != nil {
		out.OutputConfig = &anthOutConfig{Format: mustJSON(schemaFormat{Type: "json_schema", Schema: appendCompact(nil, format.Schema)})}
	}
	if req.User != "" {
		out.Metadata = &anthMetadata{UserID: jsonString(apierr.TruncateUTF8(req.User, maxUserLen))}
	}
	return res.encode(&out, len(body)+256)
}

// appendTurn adds blocks as a turn of role, merged into the previous turn
// when it has the same role (Anthropic wants alternating turns). A turn
// without blocks is dropped.
func appendTurn(turns []aTurn, role string, bs []aBlock) []aTurn {
	if len(bs) == 0 {
		return turns
	}
	if n := len(turns); n > 0 && turns[n-1].Role == role {
		t := &turns[n-1]
		if role == "user" {
			// tool_result blocks must lead a user turn: keep them first.
			for _, b := range bs {
				if b.Type == "tool_result" {
					t.Content = insertResult(t.Content, b)
				} else {
					t.Content = append(t.Content, b)
				}
			}
			return turns
		}
		t.Content = append(t.Content, bs...)
		return turns
	}
	return append(turns, aTurn{Role: role, Content: bs})
}

// insertResult puts a tool_result after the turn's other results; a result
// for an id already present is merged into it (never duplicated).
func insertResult(bs []aBlock, r aBlock) []aBlock {
	k := 0
	for k < len(bs) && bs[k].Type == "tool_result" {
		if *bs[k].ToolUseID == *r.ToolUseID {
			var text lines
			text.add(*bs[k].Content)
			text.add(*r.Content)
			*bs[k].Content = text.String()
			return bs
		}
		k++
	}
	return slices.Insert(bs, k, r)
}

// appendToolResult adds a tool message's text as a tool_result, marked
// with the cache_control of its parts (the last one that has one).
func appendToolResult(turns []aTurn, id string, parts []chatPart, res *Result) []aTurn {
	text := chatText(parts, res)
	r := aBlock{Type: "tool_result", ToolUseID: &id, Content: &text}
	for _, p := range parts {
		if p.CacheControl != nil {
			r.CacheControl = p.CacheControl
		}
	}
	return appendTurn(turns, "user", []aBlock{r})
}

// lastToolTurnUnsigned reports whether the conversation ends in a tool loop
// (the last assistant turn has tool_use) whose assistant turn does not
// start with a signed thinking block; Anthropic rejects thinking then.
func lastToolTurnUnsigned(turns []aTurn) bool {
	for i := len(turns) - 1; i >= 0; i-- {
		if turns[i].Role != "assistant" {
			continue
		}
		hasTool := slices.ContainsFunc(turns[i].Content, func(b aBlock) bool { return b.Type == "tool_use" })
		return hasTool && turns[i].Content[0].Type != "thinking"
	}
	return false
}

// textBlocks flattens system or assistant parts to text blocks (chatText),
// ending a block at every part that carries cache_control so the marker
// stays where the client put it; without markers that is one block.
func textBlocks(parts []chatPart, res *Result) []aBlock {
	var bs []aBlock
	start := 0
	for i, p := range parts {
		if p.CacheControl != nil || i == len(parts)-1 {
			if s := chatText(parts[start:i+1], res); s != "" {
				bs = append(bs, aBlock{Type: "text", Text: s, CacheControl: p.CacheControl})
			}
			start = i + 1
		}
	}
	return bs
}

// chatUserBlocks converts user content into text, image and document
// blocks, each with its part's cache_control.
func chatUserBlocks(parts []chatPart, res *Result) []aBlock {
	var bs []aBlock
	for _, p := range parts {
		b := aBlock{CacheControl: p.CacheControl}
		switch p.Type {
		case "text", "input_text":
			if b.Type, b.Text = "text", p.Text; p.Text == "" {
				continue
			}
		case "image_url", "input_image":
			u, _ := imageURL(p.ImageURL)
			if b.Type, b.Source = "image", sourceOf(u); b.Source == nil {
				res.note("dropped image_url part without a usable url")
				continue
			}
		case "file":
			if b.Type, b.Source = "document", pdfSource(p.File); b.Source == nil {
				res.note("dropped file part: only a PDF (a base64 data: URL or a URL) becomes an anthropic document")
				continue
			}
			b.Title = p.File.Filename
		default:
			res.note("dropped " + p.Type + " content part: not supported by an anthropic upstream")
			continue
		}
		bs = append(bs, b)
	}
	return bs
}

// pdfSource is the document source of a chat file part holding a PDF (an
// inline data: URL, or a URL carried from a Responses input_file); nil for
// anything else.
func pdfSource(f *chatFile) *anthSource {
	if f == nil {
		return nil
	}
	src := sourceOf(cmp.Or(f.FileData, f.FileURL))
	if src != nil && (src.MediaType == "application/pdf" || src.Type == "url" && f.FileData == "") {
		return src
	}
	return nil
}

// anthChoiceOf maps the chat tool_choice modes to Anthropic's tool_choice
// types (and back, in AnthropicToChat).
var anthChoiceOf = map[string]string{"auto": "auto", "required": "any", "none": "none", "function": "tool"}

// chatToolChoiceToAnth maps a chat tool_choice (+ parallel_tool_calls) to
// an Anthropic tool_choice; forced reports any/tool.
func chatToolChoiceToAnth(raw json.RawMessage, parallel *bool, hasTools bool, res *Result) (out *anthToolChoice, forced bool) {
	if !hasTools {
		return nil, false
	}
	c := readToolChoice(raw, res)
	noParallel := parallel != nil && !*parallel
	switch {
	case c.mode == "" && !noParallel:
		return nil, false
	case c.mode == "":
		c.mode = "auto" // to carry disable_parallel_tool_use
	}
	typ := anthChoiceOf[c.mode]
	out = &anthToolChoice{Type: typ, Name: c.name, DisableParallelToolUse: noParallel && typ != "none"}
	return out, typ == "any" || typ == "tool"
}

// stopList decodes a chat "stop" (string, array or null); empty strings
// are dropped (Anthropic rejects them).
func stopList(raw json.RawMessage) ([]string, error) {
	list, err := stringOrList(raw, func(s string) string { return s })
	return slices.DeleteFunc(list, func(s string) bool { return strings.TrimSpace(s) == "" }), err
}
