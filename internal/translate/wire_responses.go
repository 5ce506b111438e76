package translate

import "encoding/json"

// OpenAI Responses wire types.

type respRequest struct {
	Model             string          `json:"model"`
	Instructions      json.RawMessage `json:"instructions"`
	Input             json.RawMessage `json:"input"`
	Tools             []respTool      `json:"tools"`
	ToolChoice        json.RawMessage `json:"tool_choice"`
	ParallelToolCalls *bool           `json:"parallel_tool_calls"`
	Reasoning         *struct {
		Effort  string `json:"effort"`
		Summary string `json:"summary"`
	} `json:"reasoning"`
	Stream             bool      `json:"stream"`
	MaxOutputTokens    *int      `json:"max_output_tokens"`
	Temperature        *float64  `json:"temperature"`
	TopP               *float64  `json:"top_p"`
	Text               *respText `json:"text"`
	User               string    `json:"user"`
	PreviousResponseID string    `json:"previous_response_id"`
	PromptCacheKey     string    `json:"prompt_cache_key"`
}

type respText struct {
	Format *schemaFormat `json:"format"`
}

type respTool struct {
	Type        string          `json:"type"`
	Name        string          `json:"name,omitempty"`
	Description string          `json:"description,omitempty"`
	Parameters  json.RawMessage `json:"parameters,omitempty"`
	Strict      *bool           `json:"strict,omitempty"`
	Tools       []respTool      `json:"tools,omitempty"` // namespace
}

// respItem is one input item (or output item of a response).
type respItem struct {
	Type      string          `json:"type"`
	ID        string          `json:"id"`
	Role      string          `json:"role"`
	Content   json.RawMessage `json:"content"`
	CallID    string          `json:"call_id"`
	Name      string          `json:"name"`
	Namespace string          `json:"namespace"`
	Arguments string          `json:"arguments"`
	Input     string          `json:"input"` // custom_tool_call
	Output    json.RawMessage `json:"output"`
	Summary   []struct {
		Text string `json:"text"`
	} `json:"summary"`
	EncryptedContent string `json:"encrypted_content"` // reasoning
}

// respPart is a content part of a message item (and the file parts
// FlowGate writes).
type respPart struct {
	Type     string          `json:"type"`
	Text     string          `json:"text,omitempty"`
	ImageURL json.RawMessage `json:"image_url,omitempty"` // a string
	Detail   string          `json:"detail,omitempty"`
	Refusal  string          `json:"refusal,omitempty"`
	Filename string          `json:"filename,omitempty"`
	FileData string          `json:"file_data,omitempty"`
	FileURL  string          `json:"file_url,omitempty"`
}
