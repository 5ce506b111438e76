package gateway

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/flowgate/flowgate/internal/router"
)

// modelLists are the /v1/models answers, rendered once per generation.
type modelLists struct {
	openai, anthropic []byte
}

// codexModel is one entry of the Codex model catalog (openai/codex
// codex-rs/protocol/src/openai_models.rs ModelInfo, inside ModelsResponse
// {"models":[...]}). Codex reads a provider's /v1/models as that catalog and
// otherwise warns "Model metadata for X not found" and uses fallback
// metadata. Only fields confirmed in ModelInfo are sent, with neutral values.
//
// base_instructions is deliberately absent: Codex uses a catalog entry's
// base_instructions as its system prompt, so any value the gateway invented
// would replace Codex's own agent prompt. A Codex build that requires the
// field rejects the catalog and keeps its built-in prompt and fallback
// metadata, which is the safe outcome.
type codexModel struct {
	Slug                       string          `json:"slug"`
	DisplayName                string          `json:"display_name"`
	Description                string          `json:"description"`
	DefaultReasoningLevel      string          `json:"default_reasoning_level"`
	SupportedReasoningLevels   []codexEffort   `json:"supported_reasoning_levels"`
	ShellType                  string          `json:"shell_type"`
	Visibility                 string          `json:"visibility"`
	SupportedInAPI             bool            `json:"supported_in_api"`
	Priority                   int             `json:"priority"`
	Upgrade                    *struct{}       `json:"upgrade"`
	SupportsReasoningSummaries bool            `json:"supports_reasoning_summaries"`
	SupportVerbosity           bool            `json:"support_verbosity"`
	DefaultVerbosity           *string         `json:"default_verbosity"`
	ApplyPatchToolType         *string         `json:"apply_patch_tool_type"`
	TruncationPolicy           codexTruncation `json:"truncation_policy"`
	SupportsParallelToolCalls  bool            `json:"supports_parallel_tool_calls"`
	// ContextWindow is the alias's model_info window; omitted when unknown
	// (Codex then uses its fallback metadata). Codex compacts at 90% of it
	// when no auto_compact_token_limit is given, so none is sent.
	ContextWindow              int      `json:"context_window,omitempty"`
	ExperimentalSupportedTools []string `json:"experimental_supported_tools"`
	InputModalities            []string `json:"input_modalities"`
}

type codexEffort struct {
	Effort      string `json:"effort"`
	Description string `json:"description"`
}

type codexTruncation struct {
	Mode  string `json:"mode"`
	Limit int64  `json:"limit"`
}

func buildModelLists(r *router.Router) modelLists {
	aliases := r.Visible()
	type oaModel struct {
		ID      string `json:"id"`
		Object  string `json:"object"`
		Created int64  `json:"created"`
		OwnedBy string `json:"owned_by"`
		// The alias's window from model_info (see router.Group.Window),
		// in LiteLLM's spelling; omitted when unknown.
		MaxInputTokens  int `json:"max_input_tokens,omitempty"`
		MaxOutputTokens int `json:"max_output_tokens,omitempty"`
	}
	type anModel struct {
		Type        string `json:"type"`
		ID          string `json:"id"`
		DisplayName string `json:"display_name"`
		CreatedAt   string `json:"created_at"`
		// Anthropic's Models API fields: the context window and the
		// largest max_tokens; omitted when unknown.
		MaxInputTokens int `json:"max_input_tokens,omitempty"`
		MaxTokens      int `json:"max_tokens,omitempty"`
	}
	created := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	// The OpenAI list carries Codex's catalog beside it: OpenAI clients read
	// "data", Codex reads "models".
	oa := struct {
		Object string       `json:"object"`
		Data   []oaModel    `json:"data"`
		Models []codexModel `json:"models"`
	}{Object: "list", Data: []oaModel{}, Models: []codexModel{}}
	an := struct {
		Data    []anModel `json:"data"`
		HasMore bool      `json:"has_more"`
		FirstID *string   `json:"first_id"`
		LastID  *string   `json:"last_id"`
	}{Data: []anModel{}}
	efforts := []codexEffort{{"low", "Fast responses with lighter reasoning"}, {"medium", "Balanced reasoning"}, {"high", "Deeper reasoning for complex tasks"}}
	for i, a := range aliases {
		var in, out int
		if g, ok := r.Lookup(a); ok {
			in, out = g.Window()
		}
		oa.Data = append(oa.Data, oaModel{ID: a, Object: "model", Created: created.Unix(), OwnedBy: "flowgate", MaxInputTokens: in, MaxOutputTokens: out})
		oa.Models = append(oa.Models, codexModel{
			Slug: a, DisplayName: a, Description: "FlowGate alias " + a,
			DefaultReasoningLevel: "medium", SupportedReasoningLevels: efforts,
			ShellType: "shell_command", Visibility: "list", SupportedInAPI: true, Priority: i,
			SupportsReasoningSummaries: true, TruncationPolicy: codexTruncation{Mode: "bytes", Limit: 10000},
			SupportsParallelToolCalls: true, ExperimentalSupportedTools: []string{}, InputModalities: []string{"text", "image"},
			ContextWindow: in,
		})
		an.Data = append(an.Data, anModel{Type: "model", ID: a, DisplayName: a, CreatedAt: created.Format(time.RFC3339), MaxInputTokens: in, MaxTokens: out})
	}
	if len(aliases) > 0 {
		an.FirstID, an.LastID = &aliases[0], &aliases[len(aliases)-1]
	}
	var m modelLists
	m.openai, _ = json.Marshal(oa)
	m.anthropic, _ = json.Marshal(an)
	return m
}

// models lists the aliases: Anthropic's list shape when the request carries
// anthropic-version (Claude Code's discovery, ?limit=1000), OpenAI's
// otherwise, with Codex's "models" catalog beside "data". Query parameters
// (limit, client_version, ...) are accepted and ignored: every alias fits
// in one page (has_more false).
func (s *Server) models(w http.ResponseWriter, r *http.Request) {
	g := s.gen.Load()
	a := apiFromHeaders(r)
	if s.identify(g, r) == nil {
		writeError(w, a, http.StatusUnauthorized, "invalid_api_key", "missing or wrong gateway key: send it as Authorization: Bearer <key> or x-api-key")
		return
	}
	if a == apiAnthropic {
		writeJSON(w, http.StatusOK, g.models.anthropic)
		return
	}
	writeJSON(w, http.StatusOK, g.models.openai)
}
