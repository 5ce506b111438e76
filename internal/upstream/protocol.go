// Package upstream makes one call to one deployment: it owns the pooled HTTP
// transport, knows each provider kind's endpoints and auth headers, and turns
// a failed call into an *Error whose Kind and Status the router classifies.
package upstream

import (
	"net/url"
	"strings"

	"github.com/flowgate/flowgate/internal/jsonscan"
)

// Protocol is a wire API: the one a client speaks to the gateway, or one a
// deployment serves natively.
type Protocol uint8

const (
	// Chat is OpenAI Chat Completions (/v1/chat/completions).
	Chat Protocol = iota
	// Messages is Anthropic Messages (/v1/messages).
	Messages
	// Responses is OpenAI Responses (/v1/responses).
	Responses
	numProtocols
)

func (p Protocol) String() string {
	switch p {
	case Chat:
		return "chat"
	case Messages:
		return "messages"
	case Responses:
		return "responses"
	}
	return "unknown"
}

// Op is one upstream operation; each maps to one URL per deployment.
type Op uint8

const (
	OpChat Op = iota
	OpMessages
	OpResponses
	OpCountTokens
	numOps
)

// OpFor is the operation that carries protocol p.
func OpFor(p Protocol) Op {
	switch p {
	case Messages:
		return OpMessages
	case Responses:
		return OpResponses
	}
	return OpChat
}

// Kind is the provider family named by the prefix of litellm_params.model.
type Kind uint8

const (
	// KindOpenAI is an OpenAI-compatible Chat API (openai/, hosted_vllm/, custom_openai/).
	KindOpenAI Kind = iota
	// KindAnthropic is the Anthropic Messages API (anthropic/).
	KindAnthropic
	// KindOpenAIResponses is an OpenAI Responses API upstream (openai_responses/).
	KindOpenAIResponses
)

func (k Kind) String() string {
	switch k {
	case KindAnthropic:
		return "anthropic"
	case KindOpenAIResponses:
		return "openai_responses"
	}
	return "openai"
}

// ParseKind maps a litellm provider prefix to a Kind.
func ParseKind(prefix string) (Kind, bool) {
	switch prefix {
	case "openai", "hosted_vllm", "custom_openai", "openai_compatible", "text-completion-openai":
		return KindOpenAI, true
	case "anthropic":
		return KindAnthropic, true
	case "openai_responses":
		return KindOpenAIResponses, true
	}
	return 0, false
}

// DefaultBase is the api_base used when a deployment gives none.
func (k Kind) DefaultBase() string {
	if k == KindAnthropic {
		return "https://api.anthropic.com"
	}
	return "https://api.openai.com/v1"
}

// DefaultAnthropicVersion is sent to Anthropic upstreams when the client sent none.
const DefaultAnthropicVersion = "2023-06-01"

// Target is everything needed to call one deployment. Build it once at load
// time with NewTarget; it is immutable afterwards.
type Target struct {
	Kind Kind
	// Model is the upstream model name (litellm_params.model without the provider prefix).
	Model string
	// ModelJSON is Model as a JSON string literal, ready to splice into a body.
	ModelJSON []byte
	// Base is api_base without a trailing slash.
	Base string
	// APIKey is the resolved upstream key; empty means none is sent.
	APIKey string
	// Native is the set of protocols the deployment serves without translation.
	Native [numProtocols]bool
	// FileInput: the model reads PDF files sent inline in Chat requests
	// (model_info.supports_pdf_input). Default: false.
	FileInput bool
	// ReasoningModel: an OpenAI reasoning model (o1, o3, o4-mini, gpt-5...),
	// which takes the token limit only as max_completion_tokens and wants
	// instructions in the "developer" role. Set by NewTarget from the model
	// name, as LiteLLM does.
	ReasoningModel bool
	// ReasoningInHistory: the upstream needs earlier assistant reasoning
	// sent back as reasoning_content (DeepSeek and Kimi thinking models on
	// tool turns; model_info.reasoning_in_history). Default: false.
	ReasoningInHistory bool
	// MaxOutputTokens is model_info.max_output_tokens, the limit sent to an
	// Anthropic upstream when a translated request sets none (0: 8192).
	MaxOutputTokens int
	urls            [numOps]string
	// parsed are urls parsed once; nil when a URL does not parse or
	// carries user info (the call then goes through http.Client, which
	// reports the error or adds basic auth).
	parsed [numOps]*url.URL
	// bearer is the Authorization value for APIKey, built once. Shared
	// read-only by every request: len == cap, so an append copies.
	bearer []string
}

// NewTarget computes the endpoint URLs for a deployment. extra lists the
// model_info.supported_endpoints values ("/v1/responses", "/v1/messages", ...).
func NewTarget(kind Kind, model, base, apiKey string, extra []string) *Target {
	if base == "" {
		base = kind.DefaultBase()
	}
	base = strings.TrimRight(base, "/")
	t := &Target{Kind: kind, Model: model, ModelJSON: jsonscan.AppendString(nil, model), Base: base, APIKey: apiKey,
		ReasoningModel: kind != KindAnthropic && isOpenAIReasoningModel(model)}
	switch kind {
	case KindAnthropic:
		t.Native[Messages] = true
	case KindOpenAIResponses:
		t.Native[Responses] = true
	default:
		t.Native[Chat] = true
	}
	for _, e := range extra {
		switch strings.TrimPrefix(strings.TrimRight(e, "/"), "/v1") {
		case "/chat/completions":
			t.Native[Chat] = true
		case "/messages":
			t.Native[Messages] = true
		case "/responses":
			t.Native[Responses] = true
		}
	}
	// OpenAI-style bases conventionally end in /v1 and get the path appended;
	// Anthropic-style paths carry /v1 themselves, so strip it from the base.
	openaiBase := base
	anthBase := strings.TrimSuffix(base, "/v1")
	t.urls[OpChat] = openaiBase + "/chat/completions"
	t.urls[OpResponses] = openaiBase + "/responses"
	t.urls[OpMessages] = anthBase + "/v1/messages"
	t.urls[OpCountTokens] = anthBase + "/v1/messages/count_tokens"
	for op, s := range t.urls {
		if u, err := url.Parse(s); err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" && u.User == nil && !strings.HasSuffix(u.Host, ":") {
			t.parsed[op] = u
		}
	}
	if apiKey != "" {
		t.bearer = []string{"Bearer " + apiKey}
	}
	return t
}

// URL is the endpoint for op.
func (t *Target) URL(op Op) string { return t.urls[op] }

// parsedURL is the endpoint for op, parsed once; nil if it must be parsed
// per call. The transport only reads it.
func (t *Target) parsedURL(op Op) *url.URL { return t.parsed[op] }

// NativeFor reports whether the deployment serves p without translation.
func (t *Target) NativeFor(p Protocol) bool { return t.Native[p] }

// PreferredNative is the native protocol a translator should target:
// Chat first, then Messages, then Responses.
func (t *Target) PreferredNative() Protocol {
	for _, p := range []Protocol{Chat, Messages, Responses} {
		if t.Native[p] {
			return p
		}
	}
	return Chat
}

// isOpenAIReasoningModel reports whether model (without a provider prefix,
// possibly with an org path such as "openai/gpt-5") names an OpenAI
// reasoning model: the o-series (o1, o3, o4-mini...) and gpt-5 and later.
func isOpenAIReasoningModel(model string) bool {
	m := strings.ToLower(model[strings.LastIndexByte(model, '/')+1:])
	if len(m) >= 2 && m[0] == 'o' && m[1] >= '1' && m[1] <= '9' {
		return true
	}
	v, ok := strings.CutPrefix(m, "gpt-")
	return ok && len(v) > 0 && v[0] >= '5' && v[0] <= '9'
}
