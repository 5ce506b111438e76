package translate

import "encoding/json"

// OpenAI Responses wire types.

// respRequest is a Responses request as a client sends it
// (ResponsesToChat) and as FlowGate writes it for a Responses upstream
// (ChatToResponses).
type respRequest struct {
	Model              string          `json:"model"`
	Instructions       json.RawMessage `json:"instructions,omitempty"`
	Input              json.RawMessage `json:"input"`
	Tools              []respTool      `json:"tools,omitempty"`
	ToolChoice         json.RawMessage `json:"tool_choice,omitempty"`
	ParallelToolCalls  *bool           `json:"parallel_tool_calls,omitempty"`
	Reasoning          *respReasoning  `json:"reasoning,omitempty"`
	Stream             bool            `json:"stream"`
	Store              bool            `json:"store"`
	MaxOutputTokens    *int            `json:"max_output_tokens,omitempty"`
	Temperature        *float64        `json:"temperature,omitempty"`
	TopP               *float64        `json:"top_p,omitempty"`
	Text               *respText       `json:"text,omitempty"`
	User               string          `json:"user,omitempty"`
	PreviousResponseID string          `json:"previous_response_id,omitempty"`
	PromptCacheKey     string          `json:"prompt_cache_key,omitempty"`
}

type respReasoning struct {
	Effort  string `json:"effort"`
	Summary string `json:"summary,omitempty"`
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

// respItem is one input item (read, or written by ChatToResponses) or
// output item of a response.
type respItem struct {
	Type      string          `json:"type"`
	ID        string          `json:"id,omitempty"`
	Role      string          `json:"role,omitempty"`
	Content   json.RawMessage `json:"content,omitempty"` // []respPart
	CallID    string          `json:"call_id,omitempty"`
	Name      string          `json:"name,omitempty"`
	Namespace string          `json:"namespace,omitempty"`
	Arguments string          `json:"arguments,omitempty"`
	Input     string          `json:"input,omitempty"` // custom_tool_call
	Output    json.RawMessage `json:"output,omitempty"`
	Summary   []struct {
		Text string `json:"text"`
	} `json:"summary,omitempty"`
	EncryptedContent string `json:"encrypted_content,omitempty"` // reasoning
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
