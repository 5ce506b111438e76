package cliproxy

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode"

	"github.com/flowgate/flowgate/internal/runtime"
)

// ImportOptions configure `auth import-headless`.
type ImportOptions struct {
	// Provider is the provider to import; only codex has a headless import.
	Provider string
	// Source is Codex CLI's auth.json. Default DefaultCodexAuthPath(). A
	// leading ~ is expanded.
	Source string
	// DestDir is CLIProxyAPIPlus's auth dir. Required. Created 0700 (an
	// existing folder is tightened to 0700).
	DestDir string
	// Now stamps last_refresh when the source has none. Default time.Now.
	Now func() time.Time
	// Events receives auth_import. Nil drops events.
	Events runtime.Emitter
}

// ImportResult describes an imported credential.
type ImportResult struct {
	Provider string `json:"provider"`
	// Path is the written credential file.
	Path      string `json:"saved_auth"`
	Email     string `json:"email"`
	AccountID string `json:"account_id"`
	Plan      string `json:"plan,omitempty"`
	// Expires is the access token's expiry; zero when unknown.
	Expires time.Time `json:"expires,omitzero"`
	// Replaced is true when an older file of the same account was replaced.
	Replaced bool `json:"replaced"`
	// Warning must be shown to the user (stderr).
	Warning string `json:"warning"`
}

// Lines renders the result as the CLI's key=value lines (the warning is
// printed separately, to stderr).
func (r *ImportResult) Lines() []string {
	lines := []string{"saved_auth=" + r.Path, "provider=" + r.Provider, "account=" + r.Email, "account_id=" + r.AccountID}
	if r.Plan != "" {
		lines = append(lines, "plan="+r.Plan)
	}
	if !r.Expires.IsZero() {
		lines = append(lines, "expires="+r.Expires.Format(time.RFC3339))
	}
	return append(lines, fmt.Sprintf("replaced=%t", r.Replaced))
}

// SharedRefreshTokenWarning is returned with every Codex import.
const SharedRefreshTokenWarning = "the refresh token is now shared by Codex CLI and CLIProxyAPIPlus; whichever refreshes first may log the other out. If that happens, run `codex login` or `flowgate auth login codex` again (a separate login per tool avoids it)"

// DefaultCodexAuthPath is $CODEX_HOME/auth.json, or ~/.codex/auth.json.
func DefaultCodexAuthPath() (string, error) {
	if home := os.Getenv("CODEX_HOME"); home != "" {
		return filepath.Join(expandHome(home), "auth.json"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("finding Codex CLI's auth.json: %w; pass --source", err)
	}
	return filepath.Join(home, ".codex", "auth.json"), nil
}

func expandHome(p string) string {
	if p == "~" || strings.HasPrefix(p, "~/") {
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, p[1:])
		}
	}
	return p
}

// ImportHeadless converts an existing login of another tool into a
// CLIProxyAPIPlus credential file in DestDir. For codex it reads Codex CLI's
// auth.json and writes codex-<email>-<plan>.json (team plans:
// codex-<8 hex of sha256(account_id)>-<email>-team.json) atomically at 0600.
// A file of another account is never overwritten; the same account's file is
// replaced. It emits auth_import with result success or failed.
func ImportHeadless(opts ImportOptions) (*ImportResult, error) {
	res, err := importHeadless(opts)
	ev := runtime.Event{Event: "auth_import", Service: "cliproxyapi_plus", Provider: opts.Provider}
	if err != nil {
		ev.Result, ev.Detail = "failed", err.Error()
		opts.Events.Emit(ev)
		return nil, err
	}
	ev.Result = "success"
	ev.Detail = fmt.Sprintf("method=headless file=%s replaced=%t", filepath.Base(res.Path), res.Replaced)
	opts.Events.Emit(ev)
	return res, nil
}

func importHeadless(opts ImportOptions) (*ImportResult, error) {
	p, ok := LookupProvider(opts.Provider)
	if !ok || !p.HeadlessImport {
		var names []string
		for _, q := range Providers() {
			if q.HeadlessImport {
				names = append(names, q.Name)
			}
		}
		return nil, fmt.Errorf("headless import is not supported for provider %q; supported: %s", opts.Provider, strings.Join(names, ","))
	}
	if opts.DestDir == "" {
		return nil, errors.New("headless import: destination auth folder is not set")
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	src := expandHome(opts.Source)
	if src == "" {
		var err error
		if src, err = DefaultCodexAuthPath(); err != nil {
			return nil, err
		}
	}
	cred, res, err := convertCodexAuth(src, opts.Now())
	if err != nil {
		return nil, err
	}
	return res, writeCredential(expandHome(opts.DestDir), cred, res)
}

// codexCLIAuth is Codex CLI's auth.json; unknown fields are ignored.
type codexCLIAuth struct {
	OpenAIAPIKey *string `json:"OPENAI_API_KEY"`
	AuthMode     string  `json:"auth_mode"`
	Tokens       *struct {
		IDToken      string `json:"id_token"`
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
		AccountID    string `json:"account_id"`
	} `json:"tokens"`
	LastRefresh string `json:"last_refresh"`
}

// codexCredential is CLIProxyAPIPlus's codex file (field order as it writes).
type codexCredential struct {
	IDToken      string `json:"id_token"`
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	AccountID    string `json:"account_id"`
	LastRefresh  string `json:"last_refresh"`
	Email        string `json:"email"`
	Type         string `json:"type"`
	Expired      string `json:"expired,omitempty"`
}

func convertCodexAuth(src string, now time.Time) (*codexCredential, *ImportResult, error) {
	data, err := os.ReadFile(src)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, fmt.Errorf("Codex CLI auth file not found: %s; log in with `codex login` first, or pass --source", src)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("reading %s: %w", src, err)
	}
	var in codexCLIAuth
	if err := json.Unmarshal(data, &in); err != nil {
		return nil, nil, fmt.Errorf("%s is not a Codex CLI auth.json (invalid JSON object: %v)", src, err)
	}
	if in.Tokens == nil || (in.Tokens.AccessToken == "" && in.Tokens.RefreshToken == "") {
		if in.OpenAIAPIKey != nil && *in.OpenAIAPIKey != "" || strings.EqualFold(in.AuthMode, "apikey") {
			return nil, nil, fmt.Errorf("%s holds an OpenAI API key, not a ChatGPT login, so there is no OAuth session to import: log in with `codex login` (ChatGPT) or `flowgate auth login codex`, or use the key as an API-key upstream in credentials.upstream instead", src)
		}
		return nil, nil, fmt.Errorf("%s has no tokens: log in with `codex login` first", src)
	}
	t := in.Tokens
	for name, v := range map[string]string{"tokens.id_token": t.IDToken, "tokens.access_token": t.AccessToken, "tokens.refresh_token": t.RefreshToken} {
		if v == "" {
			return nil, nil, fmt.Errorf("%s lacks %s: log in again with `codex login`", src, name)
		}
	}
	idClaims, err := jwtClaims(t.IDToken)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: tokens.id_token: %w", src, err)
	}
	auth := openAIAuth(idClaims)
	email := claimString(idClaims, "email")
	if email == "" {
		return nil, nil, fmt.Errorf("%s: the id_token has no email claim, so the credential cannot be named; log in again with `codex login`", src)
	}
	accountID := t.AccountID
	if accountID == "" {
		accountID = claimString(auth, "chatgpt_account_id")
	}
	if accountID == "" {
		return nil, nil, fmt.Errorf("%s has no account id (tokens.account_id or the id_token's chatgpt_account_id): log in again with `codex login`", src)
	}
	plan := claimString(auth, "chatgpt_plan_type")

	cred := &codexCredential{
		IDToken:      t.IDToken,
		AccessToken:  t.AccessToken,
		RefreshToken: t.RefreshToken,
		AccountID:    accountID,
		LastRefresh:  now.UTC().Format(time.RFC3339),
		Email:        email,
		Type:         "codex",
	}
	if lr, err := time.Parse(time.RFC3339Nano, in.LastRefresh); err == nil {
		cred.LastRefresh = lr.UTC().Format(time.RFC3339)
	}
	res := &ImportResult{Provider: "codex", Email: email, AccountID: accountID, Plan: normalizePlan(plan), Warning: SharedRefreshTokenWarning}
	if accClaims, err := jwtClaims(t.AccessToken); err == nil {
		if exp, ok := claimTime(accClaims, "exp"); ok {
			cred.Expired = exp.Format(time.RFC3339)
			res.Expires = exp
		}
	}
	res.Path = codexFileName(email, plan, accountID)
	return cred, res, nil
}

// codexFileName names the file as CLIProxyAPIPlus does: codex-<email>-<plan>.json,
// codex-<email>.json without a plan, and for team plans the first 8 hex digits
// of sha256(account_id) before the e-mail. Path separators, colons and control
// characters become "_" so the name never leaves the folder.
func codexFileName(email, plan, accountID string) string {
	plan = normalizePlan(plan)
	parts := []string{"codex"}
	if plan == "team" {
		h := sha256.Sum256([]byte(accountID))
		parts = append(parts, hex.EncodeToString(h[:])[:8])
	}
	parts = append(parts, safeComponent(email))
	if plan != "" {
		parts = append(parts, plan)
	}
	return strings.Join(parts, "-") + ".json"
}

func safeComponent(s string) string {
	s = strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || r == ':' || unicode.IsControl(r) {
			return '_'
		}
		return r
	}, strings.TrimSpace(s))
	if s == "." || s == ".." {
		s = "_"
	}
	return s
}

// normalizePlan lower-cases the plan and joins its letter/digit runs with "-".
func normalizePlan(plan string) string {
	fields := strings.FieldsFunc(strings.ToLower(plan), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
	return strings.Join(fields, "-")
}

// writeCredential writes cred into dir as res.Path (a bare name on entry, the
// full path on return), refusing to replace another account's file.
func writeCredential(dir string, cred *codexCredential, res *ImportResult) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("creating auth folder %s: %w", dir, err)
	}
	if fi, err := os.Stat(dir); err == nil && fi.Mode().Perm()&0o077 != 0 {
		if err := os.Chmod(dir, 0o700); err != nil {
			return fmt.Errorf("auth folder %s is open to other users and cannot be tightened: %w; run `chmod 700 %s`", dir, err, dir)
		}
	}
	path := filepath.Join(dir, res.Path)
	res.Path = path
	existing, err := os.ReadFile(path)
	switch {
	case err == nil:
		var old struct {
			AccountID string `json:"account_id"`
			Email     string `json:"email"`
			Type      string `json:"type"`
		}
		_ = json.Unmarshal(existing, &old)
		same := old.Type == "codex" &&
			((old.AccountID != "" && old.AccountID == cred.AccountID) ||
				(old.AccountID == "" && old.Email != "" && strings.EqualFold(old.Email, cred.Email)))
		if !same {
			return fmt.Errorf("%s already holds another credential (account_id %q, not %q); refusing to overwrite it: move it aside or import into another --dest-dir",
				path, old.AccountID, cred.AccountID)
		}
		res.Replaced = true
	case !errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("checking %s: %w", path, err)
	}
	data, err := json.MarshalIndent(cred, "", "  ")
	if err != nil {
		return err
	}
	if err := runtime.WriteFileAtomic(path, append(data, '\n'), 0o600); err != nil {
		return fmt.Errorf("saving the imported credential: %w", err)
	}
	return nil
}
