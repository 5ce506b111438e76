package cliproxy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Credential is one account: a credential file in the auth dir and, when
// the running CLIProxyAPIPlus was asked, its state as the service reports it.
type Credential struct {
	// File is the name inside the auth dir.
	File string `json:"file"`
	Path string `json:"path"`
	// Provider is FlowGate's provider name (codex, copilot), or the raw
	// "type" for providers FlowGate does not know.
	Provider string `json:"provider"`
	// Type is the file's "type" field, as CLIProxyAPIPlus reads it.
	Type string `json:"type"`
	// Account is the e-mail, or the GitHub username.
	Account   string `json:"account,omitempty"`
	AccountID string `json:"account_id,omitempty"`
	// Plan is the ChatGPT plan of a Codex account (plus, pro, team).
	Plan string `json:"plan,omitempty"`
	// Expires is the token expiry when the file records one. For Codex it is
	// the access token's; CLIProxyAPIPlus refreshes it by itself.
	Expires  *time.Time `json:"expires,omitempty"`
	Expired  bool       `json:"expired"`
	Disabled bool       `json:"disabled,omitempty"`
	// Mode is the file's permission bits, e.g. 0600.
	Mode string `json:"mode"`
	// Loaded says whether the running CLIProxyAPIPlus lists it; nil when the
	// service was not asked.
	Loaded *bool `json:"loaded,omitempty"`
	// Status, StatusMessage, Unavailable and NextRetryAfter are the
	// service's view of a loaded account (see AuthFile); Disabled is then
	// the service's too.
	Status         string     `json:"status,omitempty"`
	StatusMessage  string     `json:"status_message,omitempty"`
	Unavailable    bool       `json:"unavailable"`
	NextRetryAfter *time.Time `json:"next_retry_after,omitempty"`
	// Elsewhere: the service lists it from outside the auth dir.
	Elsewhere bool `json:"elsewhere,omitempty"`
	// Problem explains a file CLIProxyAPIPlus will ignore or should not use.
	Problem string `json:"problem,omitempty"`
}

// expiryKeys are the fields CLIProxyAPIPlus accepts as an expiry.
var expiryKeys = []string{"expired", "expire", "expires_at", "expiresAt", "expiry", "expires"}

// ScanAuthDir lists the credential files in dir the way CLIProxyAPIPlus reads
// it: flat, *.json only, .oauth-* transient files skipped, files without
// "type" reported with a Problem. A missing dir is an empty list.
func ScanAuthDir(dir string, now time.Time) ([]Credential, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading auth folder %s: %w", dir, err)
	}
	var out []Credential
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(strings.ToLower(name), ".json") || strings.HasPrefix(name, ".") {
			continue
		}
		out = append(out, readCredential(filepath.Join(dir, name), now))
	}
	return out, nil
}

func readCredential(path string, now time.Time) Credential {
	c := Credential{File: filepath.Base(path), Path: path}
	if fi, err := os.Stat(path); err == nil {
		c.Mode = fmt.Sprintf("%04o", fi.Mode().Perm())
	}
	data, err := os.ReadFile(path)
	if err != nil {
		c.Problem = "unreadable: " + err.Error()
		return c
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		c.Problem = "not a JSON object; CLIProxyAPIPlus ignores it"
		return c
	}
	c.Type = strings.ToLower(claimString(m, "type"))
	if c.Type == "" {
		c.Problem = `no "type" field; CLIProxyAPIPlus ignores it`
		return c
	}
	c.Provider = providerForType(c.Type)
	c.Account = claimString(m, "email")
	if c.Account == "" {
		c.Account = claimString(m, "username")
	}
	c.AccountID = claimString(m, "account_id")
	if tok := claimString(m, "id_token"); tok != "" {
		if claims, err := jwtClaims(tok); err == nil {
			c.Plan = claimString(openAIAuth(claims), "chatgpt_plan_type")
		}
	}
	c.Disabled, _ = m["disabled"].(bool)
	for _, k := range expiryKeys {
		if t, ok := parseExpiry(m[k]); ok {
			c.Expires = &t
			c.Expired = !t.After(now)
			break
		}
	}
	return c
}

// parseExpiry reads an RFC 3339 string or a Unix time (seconds or millis).
func parseExpiry(v any) (time.Time, bool) {
	switch x := v.(type) {
	case string:
		if t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(x)); err == nil {
			return t.UTC(), true
		}
		if n, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64); err == nil {
			return unixAny(n), true
		}
	case float64:
		if x > 0 {
			return unixAny(int64(x)), true
		}
	}
	return time.Time{}, false
}

func unixAny(n int64) time.Time {
	if n > 1e12 {
		return time.UnixMilli(n).UTC()
	}
	return time.Unix(n, 0).UTC()
}

// AuthStatus is `auth status`: the credentials on disk and, when the service
// was asked, which of them CLIProxyAPIPlus has loaded.
type AuthStatus struct {
	AuthDir     string       `json:"auth_dir"`
	Credentials []Credential `json:"credentials"`
	// PermissionIssues lists the auth dir or files open to group/others.
	PermissionIssues []string `json:"permission_issues"`
	// Service is "running", "not-running", "not-checked" or "error".
	Service      string `json:"service"`
	ServiceError string `json:"service_error,omitempty"`
	// LoadedElsewhere are credentials CLIProxyAPIPlus lists that are not in
	// AuthDir: its auth-dir differs from FlowGate's.
	LoadedElsewhere []string `json:"loaded_elsewhere,omitempty"`
}

// Lines renders the status as the CLI's key=value lines.
func (s *AuthStatus) Lines() []string {
	lines := []string{"auth_dir=" + s.AuthDir, "service=" + s.Service}
	if s.ServiceError != "" {
		lines = append(lines, "service_error="+s.ServiceError)
	}
	lines = append(lines, fmt.Sprintf("credentials=%d", len(s.Credentials)))
	for _, c := range s.Credentials {
		l := fmt.Sprintf("provider=%s file=%s", orDash(c.Provider), c.File)
		if c.Account != "" {
			l += " account=" + c.Account
		}
		if c.Plan != "" {
			l += " plan=" + c.Plan
		}
		if c.Expires != nil {
			l += " expires=" + c.Expires.Format(time.RFC3339)
		}
		l += fmt.Sprintf(" expired=%t disabled=%t", c.Expired, c.Disabled)
		if c.Loaded != nil {
			l += fmt.Sprintf(" loaded=%t", *c.Loaded)
		}
		if c.Status != "" {
			l += " status=" + c.Status
			if c.StatusMessage != "" {
				l += " status_message=" + strconv.Quote(c.StatusMessage)
			}
			l += fmt.Sprintf(" unavailable=%t", c.Unavailable)
		}
		if c.NextRetryAfter != nil {
			l += " next_retry_after=" + c.NextRetryAfter.UTC().Format(time.RFC3339)
		}
		if c.Problem != "" {
			l += " problem=" + strconv.Quote(c.Problem)
		}
		lines = append(lines, l)
	}
	if len(s.LoadedElsewhere) > 0 {
		lines = append(lines, "loaded_elsewhere="+strings.Join(s.LoadedElsewhere, ","))
	}
	return append(lines, fmt.Sprintf("secret_permission_issues=%d", len(s.PermissionIssues)))
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// Status inspects authDir and, when client is not nil, asks CLIProxyAPIPlus
// which credentials it has loaded. A service that is not running is reported
// in Service, not as an error.
func Status(ctx context.Context, authDir string, client *Client, now time.Time) (*AuthStatus, error) {
	creds, err := ScanAuthDir(authDir, now)
	if err != nil {
		return nil, err
	}
	st := &AuthStatus{AuthDir: authDir, Credentials: creds, PermissionIssues: []string{}, Service: "not-checked"}
	if fi, err := os.Stat(authDir); err == nil && fi.Mode().Perm()&0o077 != 0 {
		st.PermissionIssues = append(st.PermissionIssues, fmt.Sprintf("%s mode %04o (want 0700)", authDir, fi.Mode().Perm()))
	}
	for _, c := range creds {
		if c.Mode != "" {
			if m, _ := strconv.ParseUint(c.Mode, 8, 32); m&0o077 != 0 {
				st.PermissionIssues = append(st.PermissionIssues, fmt.Sprintf("%s mode %s (want 0600)", c.Path, c.Mode))
			}
		}
	}
	if client == nil {
		return st, nil
	}
	files, err := client.ListAuthFiles(ctx)
	switch {
	case errors.Is(err, ErrNotRunning):
		st.Service = "not-running"
		return st, nil
	case err != nil:
		st.Service, st.ServiceError = "error", err.Error()
		return st, nil
	}
	st.Service = "running"
	loaded := make(map[string]*AuthFile, len(files))
	for i, f := range files {
		loaded[f.Name] = &files[i]
	}
	local := make(map[string]bool, len(creds))
	for i := range st.Credentials {
		c := &st.Credentials[i]
		local[c.File] = true
		f := loaded[c.File]
		l := f != nil
		c.Loaded = &l
		if f != nil {
			c.merge(f)
		}
	}
	for i, f := range files {
		if local[f.Name] || f.RuntimeOnly {
			continue
		}
		st.LoadedElsewhere = append(st.LoadedElsewhere, f.Name)
		c := Credential{File: f.Name, Path: f.Path, Elsewhere: true}
		if f.Path != "" {
			c = readCredential(f.Path, now)
			c.Elsewhere = true
		}
		yes := true
		c.Loaded = &yes
		c.merge(&files[i])
		st.Credentials = append(st.Credentials, c)
	}
	sort.Strings(st.LoadedElsewhere)
	return st, nil
}

// merge takes the service's view of a loaded account.
func (c *Credential) merge(f *AuthFile) {
	c.Status, c.StatusMessage = f.Status, f.StatusMessage
	c.Unavailable, c.NextRetryAfter = f.Unavailable, f.NextRetryAfter
	c.Disabled = f.Disabled || f.Status == "disabled"
	if c.Type == "" {
		c.Type = strings.ToLower(f.kind())
		c.Provider = providerForType(c.Type)
		c.Problem = ""
	}
	if f.Email != "" {
		c.Account = f.Email
	} else if c.Account == "" {
		c.Account = f.Account
	}
	if f.IDToken != nil {
		if f.IDToken.PlanType != "" {
			c.Plan = f.IDToken.PlanType
		}
		if c.AccountID == "" {
			c.AccountID = f.IDToken.ChatGPTAccountID
		}
	}
}
