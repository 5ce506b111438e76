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

func buildModelLists(r *router.Router) modelLists {
	aliases := r.Visible()
	type oaModel struct {
		ID      string `json:"id"`
		Object  string `json:"object"`
		Created int64  `json:"created"`
		OwnedBy string `json:"owned_by"`
	}
	type anModel struct {
		Type        string `json:"type"`
		ID          string `json:"id"`
		DisplayName string `json:"display_name"`
		CreatedAt   string `json:"created_at"`
	}
	created := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	oa := struct {
		Object string    `json:"object"`
		Data   []oaModel `json:"data"`
	}{Object: "list", Data: []oaModel{}}
	an := struct {
		Data    []anModel `json:"data"`
		HasMore bool      `json:"has_more"`
		FirstID *string   `json:"first_id"`
		LastID  *string   `json:"last_id"`
	}{Data: []anModel{}}
	for _, a := range aliases {
		oa.Data = append(oa.Data, oaModel{ID: a, Object: "model", Created: created.Unix(), OwnedBy: "flowgate"})
		an.Data = append(an.Data, anModel{Type: "model", ID: a, DisplayName: a, CreatedAt: created.Format(time.RFC3339)})
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
// anthropic-version (Claude Code's discovery), OpenAI's otherwise.
func (s *Server) models(w http.ResponseWriter, r *http.Request) {
	g := s.gen.Load()
	a := apiFromHeaders(r)
	if !g.authorized(r) {
		writeError(w, a, http.StatusUnauthorized, "invalid_api_key", "missing or wrong gateway key: send it as Authorization: Bearer <key> or x-api-key")
		return
	}
	if a == apiAnthropic {
		writeJSON(w, http.StatusOK, g.models.anthropic)
		return
	}
	writeJSON(w, http.StatusOK, g.models.openai)
}
