package cliproxy

import (
	"context"
	"encoding/json"
	"strings"
	"time"
)

// AuthFile is one credential CLIProxyAPIPlus has loaded, as listed by
// GET /v0/management/auth-files (6.8.x; fields a version lacks stay zero).
type AuthFile struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Provider string `json:"provider"`
	Type     string `json:"type"`
	Label    string `json:"label"`
	Email    string `json:"email"`
	Account  string `json:"account"`
	// Status is its lifecycle state: active, error, disabled, pending,
	// refreshing or unknown.
	Status string `json:"status"`
	// StatusMessage says why: "unauthorized" (the upstream answered 401),
	// "payment_required" (402/403), "quota exhausted" (429), ...
	StatusMessage string `json:"status_message"`
	Disabled      bool   `json:"disabled"`
	// Unavailable: CLIProxyAPIPlus skips it for now (quota, refusal);
	// NextRetryAfter (newer versions only) says until when.
	Unavailable    bool       `json:"unavailable"`
	NextRetryAfter *time.Time `json:"next_retry_after,omitempty"`
	RuntimeOnly    bool       `json:"runtime_only"`
	Source         string     `json:"source"`
	Path           string     `json:"path"`
	Size           int64      `json:"size"`
	// IDToken holds the Codex plan and account decoded from the id_token.
	IDToken *struct {
		ChatGPTAccountID string `json:"chatgpt_account_id"`
		PlanType         string `json:"plan_type"`
	} `json:"id_token,omitempty"`
	// ModTime, UpdatedAt and LastRefresh are kept raw: they only serve to
	// notice that a file changed.
	ModTime     json.RawMessage `json:"modtime,omitempty"`
	UpdatedAt   json.RawMessage `json:"updated_at,omitempty"`
	LastRefresh json.RawMessage `json:"last_refresh,omitempty"`
}

// kind is the provider type of the entry.
func (f AuthFile) kind() string {
	if f.Provider != "" {
		return f.Provider
	}
	return f.Type
}

// fingerprint changes when the file is rewritten (a re-login of the same
// account keeps the name).
func (f AuthFile) fingerprint() string {
	return strings.Join([]string{string(f.ModTime), string(f.UpdatedAt), string(f.LastRefresh)}, "|") + "|" + f.ID
}

// ListAuthFiles returns the credentials CLIProxyAPIPlus has loaded.
func (c *Client) ListAuthFiles(ctx context.Context) ([]AuthFile, error) {
	var out struct {
		Files []AuthFile `json:"files"`
	}
	if err := c.do(ctx, "GET", PathAuthFiles, nil, nil, &out); err != nil {
		return nil, managementOff(err)
	}
	return out.Files, nil
}

// newCredential returns the first entry of after that belongs to p and is
// absent from before or changed since.
func newCredential(p Provider, before, after []AuthFile) *AuthFile {
	seen := make(map[string]string, len(before))
	for _, f := range before {
		seen[f.Name] = f.fingerprint()
	}
	for i, f := range after {
		if !p.ownsType(f.kind()) {
			continue
		}
		if fp, ok := seen[f.Name]; !ok || fp != f.fingerprint() {
			return &after[i]
		}
	}
	return nil
}
