package translate

import (
	"encoding/json"
	"strings"
)

// Anthropic Messages wire types.

type anthRequest struct {
	Model         string          `json:"model"`
	Messages      []anthMessage   `json:"messages"`
	System        anthContent     `json:"system"`
	MaxTokens     *int            `json:"max_tokens"`
	Temperature   *float64        `json:"temperature"`
	TopP          *float64        `json:"top_p"`
	TopK          *int            `json:"top_k"`
	StopSequences []string        `json:"stop_sequences"`
	Stream        bool            `json:"stream"`
	Tools         []anthTool      `json:"tools"`
	ToolChoice    *anthToolChoice `json:"tool_choice"`
	Metadata      *anthMetadata   `json:"metadata"`
	Thinking      *anthThinking   `json:"thinking"`
	OutputConfig  *anthOutConfig  `json:"output_config"`
	OutputFormat  json.RawMessage `json:"output_format"`
}

type anthThinking struct {
	Type         string `json:"type"` // "enabled", "adaptive", "disabled"
	BudgetTokens int    `json:"budget_tokens,omitempty"`
}

type anthOutConfig struct {
	Effort string          `json:"effort,omitempty"`
	Format json.RawMessage `json:"format,omitempty"`
}

type anthMetadata struct {
	UserID json.RawMessage `json:"user_id"` // a string
}

type anthMessage struct {
	Role    string      `json:"role"`
	Content anthContent `json:"content"`
}

type anthBlock struct {
	Type      string          `json:"type"`
	Text      string          `json:"text,omitempty"`
	Thinking  string          `json:"thinking,omitempty"`
	Signature string          `json:"signature,omitempty"`
	Data      string          `json:"data,omitempty"`
	Source    *anthSource     `json:"source,omitempty"`
	ID        string          `json:"id,omitempty"`
	Name      string          `json:"name,omitempty"`
	Input     json.RawMessage `json:"input,omitempty"`
	ToolUseID string          `json:"tool_use_id,omitempty"`
	Content   json.RawMessage `json:"content,omitempty"` // tool_result: anthContent
	IsError   bool            `json:"is_error,omitempty"`
	Title     string          `json:"title,omitempty"` // document
}

// anthSource is an image or document source; ChatToAnthropic writes its
// members in name order.
type anthSource struct {
	// Content is a document's "content" source: text blocks.
	Content   anthContent `json:"content,omitempty"`
	Data      string      `json:"data,omitempty"`
	MediaType string      `json:"media_type,omitempty"`
	Type      string      `json:"type"`
	URL       string      `json:"url,omitempty"`
}

// url returns an image or PDF source as a URL (a data: URL for base64
// data); "" for a nil source or another type.
func (s *anthSource) url() string {
	switch {
	case s == nil:
	case s.Type == "base64":
		return "data:" + s.MediaType + ";base64," + s.Data
	case s.Type == "url":
		return s.URL
	}
	return ""
}

// sourceOf is the source for a URL: a base64 data: URL becomes a base64
// source, any other URL a url source; nil for "" and other data: URLs.
func sourceOf(u string) *anthSource {
	if rest, ok := strings.CutPrefix(u, "data:"); ok {
		media, data, ok := strings.Cut(rest, ",")
		media, isB64 := strings.CutSuffix(media, ";base64")
		if !ok || !isB64 || media == "" {
			return nil
		}
		return &anthSource{Type: "base64", MediaType: media, Data: data}
	}
	if u == "" {
		return nil
	}
	return &anthSource{Type: "url", URL: u}
}

type anthTool struct {
	Type         string          `json:"type,omitempty"`
	Name         string          `json:"name"`
	Description  string          `json:"description,omitempty"`
	InputSchema  json.RawMessage `json:"input_schema,omitempty"`
	DeferLoading bool            `json:"defer_loading,omitempty"`
	CacheControl cacheMark       `json:"cache_control,omitempty"` // written by ChatToAnthropic
}

type anthToolChoice struct {
	Type                   string `json:"type"`
	Name                   string `json:"name,omitempty"`
	DisableParallelToolUse bool   `json:"disable_parallel_tool_use,omitempty"`
}

// anthResponse is a non-streaming Messages answer.
type anthResponse struct {
	ID           string      `json:"id"`
	Type         string      `json:"type"`
	Role         string      `json:"role"`
	Model        string      `json:"model"`
	Content      []anthBlock `json:"content"`
	StopReason   *string     `json:"stop_reason"`
	StopSequence *string     `json:"stop_sequence"`
	Usage        anthUsage   `json:"usage"`
}

type anthUsage struct {
	InputTokens              int `json:"input_tokens"`
	OutputTokens             int `json:"output_tokens"`
	CacheCreationInputTokens int `json:"cache_creation_input_tokens"`
	CacheReadInputTokens     int `json:"cache_read_input_tokens"`
	// CacheCreation is written (zero) in message_start, as Anthropic does.
	CacheCreation *anthCacheCreation `json:"cache_creation,omitempty"`
}

type anthCacheCreation struct {
	Ephemeral5m int `json:"ephemeral_5m_input_tokens"`
	Ephemeral1h int `json:"ephemeral_1h_input_tokens"`
}

// anthContent is message, system or tool_result content: a string (read
// as one text block), an array of blocks, or null.
type anthContent []anthBlock

func (c *anthContent) UnmarshalJSON(b []byte) (err error) {
	*c, err = stringOrList(b, func(s string) anthBlock { return anthBlock{Type: "text", Text: s} })
	return err
}
