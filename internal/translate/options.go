package translate

import (
	"cmp"
	"errors"
	"fmt"
	"strings"
)

// Options tune request translation. The zero value is the most compatible
// choice for generic OpenAI-compatible upstreams.
type Options struct {
	// Model is written as "model" in the upstream body. Default "": keep the
	// model the client sent.
	Model string
	// MaxCompletionTokens sends the token limit as "max_completion_tokens"
	// (OpenAI reasoning models) instead of "max_tokens". Default false.
	MaxCompletionTokens bool
	// DeveloperRole keeps Responses "developer" input messages as Chat
	// "developer" messages. Default false: they become "system" messages,
	// which every Chat upstream accepts (never "user").
	DeveloperRole bool
	// ReasoningInHistory sends earlier assistant thinking / reasoning back to
	// the upstream as "reasoning_content" on the assistant message
	// (DeepSeek-style upstreams need it on tool turns). Default false: dropped.
	ReasoningInHistory bool
	// DefaultMaxTokens is used for ChatToAnthropic / ResponsesToAnthropic when
	// the client sets no limit (Anthropic requires max_tokens). Default 0
	// means 8192, which every current Claude model accepts.
	DefaultMaxTokens int
	// FileInput sends Anthropic PDF document blocks to a chat upstream as
	// "file" parts (OpenAI models that read PDFs). Default false: such a
	// request is refused, naming the block, since most chat upstreams
	// reject or ignore files.
	FileInput bool

	// responses marks the chat form made on the way to a Responses
	// upstream (AnthropicToResponses), which can carry web search and
	// documents by URL.
	responses bool
	// anthropic marks the chat form made on the way to an Anthropic
	// upstream (ResponsesToAnthropic): reasoning items that carry an
	// Anthropic signature (AnthropicSignaturePrefix) come back as signed
	// reasoning on the next assistant message, so they become thinking, and
	// input_file parts by URL are kept (they become document blocks).
	anthropic bool
}

// model is the upstream model: Model, or the client's when Model is "".
func (o Options) model(client string) string {
	return cmp.Or(o.Model, client)
}

// Result is a translated request.
type Result struct {
	// Body is the upstream request body.
	Body []byte
	// Stream reports whether the client asked for a stream.
	Stream bool
	// ClientModel is the model name the client sent (the alias the answer
	// must carry as "model").
	ClientModel string
	// Notes lists what was dropped or approximated ("dropped tool
	// web_search: hosted tool not supported by a chat upstream"). The
	// gateway logs them at debug level; they are never errors.
	Notes []string
	// Tools maps upstream function names back to the client's names
	// (Responses namespace tools are flattened). Pass it to
	// ChatResponseToResponses / NewChatToResponsesStream. Nil when no name
	// was rewritten; a nil *ToolNames is valid everywhere.
	Tools *ToolNames
}

func (r *Result) note(s string) { r.Notes = append(r.Notes, s) }

// encode writes the upstream request v as r.Body, in a buffer of size
// bytes to start with (about the client's body length).
func (r *Result) encode(v any, size int) (*Result, error) {
	body, err := appendJSON(make([]byte, 0, size), v)
	if err != nil {
		return nil, fmt.Errorf("encoding the upstream request: %w", err)
	}
	r.Body = body
	return r, nil
}

// refusal is a request part the upstream cannot take and that must not be
// dropped silently (the answer would pretend it was used). The gateway
// answers it, like every request translation error, with a 400 before
// anything is sent upstream.
type refusal struct {
	what, fix string
	// route is the kind of deployment that can take it; default an
	// anthropic/ or openai_responses/ one.
	route string
}

func (r *refusal) Error() string { return r.what }

// at reports err at where in the client's request ("messages[2]", or ""
// for the request): a refusal with the alias it was sent to and what to do
// instead, any other error as unreadable.
func (res *Result) at(where string, err error) error {
	var r *refusal
	if !errors.As(err, &r) {
		return fmt.Errorf("decoding %s: %w", where, err)
	}
	route := cmp.Or(r.route, "an anthropic/ or openai_responses/ deployment")
	return fmt.Errorf("%s that model %q cannot take through its deployment; route %q to %s, or %s",
		strings.TrimPrefix(where+"."+r.what, "."), res.ClientModel, res.ClientModel, route, r.fix)
}

// ErrUpstreamBody marks an upstream body that could not be parsed or was
// truncated. The gateway answers it with 502 (or an in-stream error event
// once the stream has started); it is never turned into an empty success.
var ErrUpstreamBody = errors.New("invalid upstream response")
