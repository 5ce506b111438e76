package translate

import (
	"cmp"
	"encoding/json"
	"strings"

	"github.com/flowgate/flowgate/internal/apierr"
)

// Chat Completions wire types (the subset FlowGate reads and writes).

// chatRequest is a Chat Completions request as a client sends it
// (ChatToAnthropic, ChatToResponses) and as FlowGate writes it
// (AnthropicToChat, ResponsesToChat). The fields after PromptCacheKey are
// only read, to be reported as dropped.
type chatRequest struct {
	Model               string          `json:"model"`
	Messages            []chatMessage   `json:"messages"`
	MaxTokens           *int            `json:"max_tokens,omitempty"`
	MaxCompletionTokens *int            `json:"max_completion_tokens,omitempty"`
	Temperature         *float64        `json:"temperature,omitempty"`
	TopP                *float64        `json:"top_p,omitempty"`
	Stop                json.RawMessage `json:"stop,omitempty"`
	Stream              bool            `json:"stream,omitempty"`
	StreamOptions       *chatStreamOpts `json:"stream_options,omitempty"`
	Tools               []chatTool      `json:"tools,omitempty"`
	ToolChoice          json.RawMessage `json:"tool_choice,omitempty"`
	ParallelToolCalls   *bool           `json:"parallel_tool_calls,omitempty"`
	User                string          `json:"user,omitempty"`
	ReasoningEffort     string          `json:"reasoning_effort,omitempty"`
	ResponseFormat      json.RawMessage `json:"response_format,omitempty"`
	PromptCacheKey      string          `json:"prompt_cache_key,omitempty"`
	N                   *int            `json:"n,omitempty"`
	Seed                json.RawMessage `json:"seed,omitempty"`
	PresencePenalty     json.RawMessage `json:"presence_penalty,omitempty"`
	FrequencyPenalty    json.RawMessage `json:"frequency_penalty,omitempty"`
	Logprobs            json.RawMessage `json:"logprobs,omitempty"`
	LogitBias           json.RawMessage `json:"logit_bias,omitempty"`
}

// newChatRequest starts the Chat request AnthropicToChat and
// ResponsesToChat write: the model, the token limit under the name
// MaxCompletionTokens picks, and for a stream usage in its last chunk.
func (o Options) newChatRequest(model string, maxTokens *int, stream bool) chatRequest {
	out := chatRequest{Model: o.model(model), Messages: []chatMessage{}, Stream: stream}
	if o.MaxCompletionTokens {
		out.MaxCompletionTokens = maxTokens
	} else {
		out.MaxTokens = maxTokens
	}
	if stream {
		out.StreamOptions = &chatStreamOpts{IncludeUsage: true}
	}
	return out
}

type chatStreamOpts struct {
	IncludeUsage bool `json:"include_usage"`
}

type chatMessage struct {
	Role             string          `json:"role"`
	Content          json.RawMessage `json:"content"`
	Name             string          `json:"name,omitempty"`
	ToolCalls        []chatDeltaCall `json:"tool_calls,omitempty"`
	ToolCallID       string          `json:"tool_call_id,omitempty"`
	ReasoningContent string          `json:"reasoning_content,omitempty"`
	// ReasoningSignature is read from chat clients that echo back the
	// signature FlowGate streamed (ChatToAnthropic), and carries a tagged
	// Responses reasoning item's signature on the way to Anthropic.
	ReasoningSignature string `json:"reasoning_signature,omitempty"`
	Refusal            string `json:"refusal,omitempty"`
	// CacheControl (message-level, as LiteLLM takes it) is read from chat
	// clients for an anthropic upstream (ChatToAnthropic); never written.
	CacheControl cacheMark `json:"cache_control,omitempty"`
}

// chatPart is a content part of a chat message (text, image_url, refusal,
// file; input_audio is dropped).
type chatPart struct {
	Type     string          `json:"type"`
	Text     string          `json:"text,omitempty"`
	Refusal  string          `json:"refusal,omitempty"`
	ImageURL json.RawMessage `json:"image_url,omitempty"` // {"url":..} or a bare string
	File     *chatFile       `json:"file,omitempty"`
	// CacheControl is Anthropic's prompt caching marker, read for an
	// anthropic upstream (ChatToAnthropic); never written.
	CacheControl cacheMark `json:"cache_control,omitempty"`
}

// chatFile is a chat "file" part's file: inline data (a data: URL) and a
// name. FileURL is never sent to a chat upstream; it carries a document's
// URL through the chat form to ChatToResponses.
type chatFile struct {
	Filename string `json:"filename,omitempty"`
	FileData string `json:"file_data,omitempty"`
	FileURL  string `json:"file_url,omitempty"`
}

// chatContent is the content of a chat message made of parts: the parts
// when one is not text (an image or a file), else their text as lines (a
// string every chat upstream accepts).
func chatContent(parts []chatPart) json.RawMessage {
	var sb lines
	for _, p := range parts {
		if p.Type != "text" {
			return mustJSON(parts)
		}
		sb.add(p.Text)
	}
	return jsonString(sb.String())
}

type chatImageURL struct {
	URL    string `json:"url"`
	Detail string `json:"detail,omitempty"`
}

type chatTool struct {
	Type     string          `json:"type"`
	Function chatToolFuncDef `json:"function"`
	// Name appears beside "function" in Codex 0.94 chat bodies; used only
	// when function.name is empty.
	Name string `json:"name,omitempty"`
	// CacheControl is read for an anthropic upstream; never written.
	CacheControl cacheMark `json:"cache_control,omitempty"`
}

type chatToolFuncDef struct {
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	Parameters  json.RawMessage `json:"parameters,omitempty"`
	Strict      *bool           `json:"strict,omitempty"`
}

// chatFunctionTool is a function tool of a chat request, its schema
// emptySchema when it declares none.
func chatFunctionTool(name, description string, schema json.RawMessage, strict *bool) chatTool {
	return chatTool{Type: "function", Function: chatToolFuncDef{Name: name, Description: description,
		Parameters: schemaOrEmpty(schema), Strict: strict}}
}

// chatResponse is a non-streaming completion or a stream chunk (also the
// chunks the machines that end in Chat write).
type chatResponse struct {
	ID      string       `json:"id"`
	Object  string       `json:"object,omitempty"`
	Created int64        `json:"created"`
	Model   string       `json:"model"`
	Choices []chatChoice `json:"choices"`
	Usage   *chatUsage   `json:"usage,omitempty"`
	Error   *apierr.Wire `json:"error,omitempty"`
}

type chatChoice struct {
	Index        int             `json:"index"`
	Message      *chatRespMsg    `json:"message,omitempty"`
	Delta        *chatRespMsg    `json:"delta,omitempty"`
	Logprobs     alwaysNull      `json:"logprobs"`
	FinishReason finishReason    `json:"finish_reason"`
	StopReason   json.RawMessage `json:"stop_reason,omitempty"`  // vLLM: matched stop string (or token id)
	MatchedStop  json.RawMessage `json:"matched_stop,omitempty"` // SGLang
}

// finishReason is a chat finish_reason, written as null while the choice
// goes on.
type finishReason string

func (f finishReason) MarshalJSON() ([]byte, error) {
	if f == "" {
		return []byte("null"), nil
	}
	return jsonString(string(f)), nil
}

// alwaysNull is a member FlowGate writes as null and ignores when read
// (chunk logprobs).
type alwaysNull struct{}

func (alwaysNull) MarshalJSON() ([]byte, error) { return []byte("null"), nil }

func (*alwaysNull) UnmarshalJSON([]byte) error { return nil }

// chatRespMsg is a response message or a stream delta.
type chatRespMsg struct {
	Role               string          `json:"role,omitempty"`
	Content            *string         `json:"content,omitempty"`
	ReasoningContent   *string         `json:"reasoning_content,omitempty"`
	Reasoning          *string         `json:"reasoning,omitempty"`
	ReasoningSignature *string         `json:"reasoning_signature,omitempty"`
	Signature          *string         `json:"signature,omitempty"`
	ReasoningDetails   []reasonDetail  `json:"reasoning_details,omitempty"`
	Refusal            *string         `json:"refusal,omitempty"`
	ToolCalls          []chatDeltaCall `json:"tool_calls,omitempty"`
	FunctionCall       *chatDeltaFunc  `json:"function_call,omitempty"`
}

// chatDeltaCall is a tool call of a request or response message, or a
// fragment of one in a stream delta: a fragment carries only what it adds,
// so empty members are left out.
type chatDeltaCall struct {
	Index    *int          `json:"index,omitempty"`
	ID       string        `json:"id,omitempty"`
	Type     string        `json:"type,omitempty"`
	Function chatDeltaFunc `json:"function"`
}

type chatDeltaFunc struct {
	Name      string `json:"name,omitempty"`
	Arguments string `json:"arguments"`
}

// text returns the message's content, or its refusal.
func (m *chatRespMsg) text() string {
	switch {
	case m.Content != nil && *m.Content != "":
		return *m.Content
	case m.Refusal != nil:
		return *m.Refusal
	}
	return ""
}

// calls returns the message's tool calls, with a legacy function_call as
// the last one.
func (m *chatRespMsg) calls() []chatDeltaCall {
	if m.FunctionCall == nil {
		return m.ToolCalls
	}
	return append(m.ToolCalls, chatDeltaCall{Function: *m.FunctionCall})
}

// reasonDetail is OpenRouter's reasoning_details entry.
type reasonDetail struct {
	Type      string `json:"type"`
	Text      string `json:"text"`
	Summary   string `json:"summary"`
	Signature string `json:"signature"`
}

// reasoning returns the reasoning text and signature carried by a message
// or delta in any of the field spellings upstreams use.
func (m *chatRespMsg) reasoning() (text, sig string) {
	switch {
	case m.ReasoningContent != nil:
		text = *m.ReasoningContent
	case m.Reasoning != nil:
		text = *m.Reasoning
	}
	if m.ReasoningSignature != nil {
		sig = *m.ReasoningSignature
	} else if m.Signature != nil {
		sig = *m.Signature
	}
	if text == "" && sig == "" {
		for _, d := range m.ReasoningDetails {
			switch d.Type {
			case "reasoning.text":
				text += d.Text
			case "reasoning.summary":
				text += d.Summary
			}
			sig += d.Signature
		}
	}
	return text, sig
}

type chatUsage struct {
	PromptTokens            int                 `json:"prompt_tokens"`
	CompletionTokens        int                 `json:"completion_tokens"`
	TotalTokens             int                 `json:"total_tokens"`
	PromptTokensDetails     *chatCachedTokens   `json:"prompt_tokens_details,omitempty"`
	CompletionTokensDetails *chatReasonedTokens `json:"completion_tokens_details,omitempty"`
	// Some upstreams (DeepSeek) report cache hits at top level.
	PromptCacheHitTokens int `json:"prompt_cache_hit_tokens,omitempty"`
	// CacheCreationInputTokens are cache writes, counted in prompt_tokens,
	// as Anthropic-backed chat upstreams (LiteLLM) and FlowGate's own
	// answers from an anthropic upstream report them.
	CacheCreationInputTokens int `json:"cache_creation_input_tokens,omitempty"`
}

type chatCachedTokens struct {
	CachedTokens int `json:"cached_tokens"`
}

type chatReasonedTokens struct {
	ReasoningTokens int `json:"reasoning_tokens"`
}

func (u *chatUsage) cached() int {
	if u == nil {
		return 0
	}
	if u.PromptTokensDetails != nil && u.PromptTokensDetails.CachedTokens > 0 {
		return u.PromptTokensDetails.CachedTokens
	}
	return u.PromptCacheHitTokens
}

func (u *chatUsage) reasoningTokens() int {
	if u == nil || u.CompletionTokensDetails == nil {
		return 0
	}
	return u.CompletionTokensDetails.ReasoningTokens
}

// chatCompletion is the non-streaming Chat Completions answer FlowGate
// writes for a client (AnthropicResponseToChat, ResponsesResponseToChat).
type chatCompletion struct {
	ID      string           `json:"id"`
	Object  string           `json:"object"` // "chat.completion"
	Created int64            `json:"created"`
	Model   string           `json:"model"`
	Choices [1]chatOutChoice `json:"choices"`
	Usage   *chatUsage       `json:"usage"`
}

type chatOutChoice struct {
	Index        int        `json:"index"`
	Message      chatOutMsg `json:"message"`
	Logprobs     alwaysNull `json:"logprobs"`
	FinishReason string     `json:"finish_reason"`
}

type chatOutMsg struct {
	Role               string          `json:"role"`
	Content            *string         `json:"content"` // null beside tool calls without text
	Refusal            string          `json:"refusal,omitempty"`
	ReasoningContent   *string         `json:"reasoning_content,omitempty"`
	ReasoningSignature string          `json:"reasoning_signature,omitempty"`
	ToolCalls          []chatDeltaCall `json:"tool_calls,omitempty"`
}

// functionCall is a tool call of a chat message (callArgs).
func functionCall(id, name, args string) chatDeltaCall {
	return chatDeltaCall{ID: id, Type: "function", Function: chatDeltaFunc{Name: name, Arguments: callArgs(args)}}
}

// callArgs returns a tool call's arguments, "{}" for empty or null ones.
func callArgs(args string) string {
	if a := strings.TrimSpace(args); a == "" || a == "null" {
		return "{}"
	}
	return args
}

// chatOutCall is a tool call of a chatCompletion: a missing id is
// generated and a missing name is UnnamedToolName.
func chatOutCall(id, name, args string) chatDeltaCall {
	if id == "" {
		id = newID("call_")
	}
	return functionCall(id, cmp.Or(name, UnnamedToolName), args)
}
