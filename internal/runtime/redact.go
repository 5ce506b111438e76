package runtime

import (
	"encoding/json"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

// Redacted replaces a secret wherever text leaves the process.
const Redacted = "[redacted]"

// MinSecretLen is the shortest value redacted by value. Shorter "secrets"
// would turn common words and numbers in every message into [redacted]
// while protecting nothing (they are guessed in moments); the shape-based
// pass still applies to them.
const MinSecretLen = 6

// secretPattern matches the shapes of credentials that must never reach a log:
// bearer tokens, sk-/gho_-style API keys, and JWTs.
var secretPattern = regexp.MustCompile(`(?i)(bearer\s+)[A-Za-z0-9._~+/=-]{8,}|\b(sk|gho|ghp|ghu|ghs|pk|rk)[-_][A-Za-z0-9._-]{6,}|\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*`)

// Redactor removes known secret values from text, whatever their shape,
// then applies the shape-based pass as a second net. It is immutable and
// safe for concurrent use; the zero value and nil redact by shape only.
// It is meant for error paths (error bodies, health, logs, events), not
// for traffic that succeeds.
type Redactor struct {
	values []string // distinct secret values, sorted
	rep    *strings.Replacer
}

// NewRedactor builds a redactor for secrets. Values shorter than
// MinSecretLen (after trimming spaces) are ignored.
func NewRedactor(secrets ...string) *Redactor {
	return (&Redactor{}).With(secrets...)
}

// With returns a redactor that knows r's secrets and secrets; r itself is
// unchanged. It returns r when nothing is new.
func (r *Redactor) With(secrets ...string) *Redactor {
	var have []string
	if r != nil {
		have = r.values
	}
	values := slices.Clone(have)
	for _, s := range secrets {
		s = strings.TrimSpace(s)
		if len(s) < MinSecretLen {
			continue
		}
		if _, found := slices.BinarySearch(values, s); !found {
			values = append(values, s)
			slices.Sort(values)
		}
	}
	if r != nil && len(values) == len(have) {
		return r
	}
	return &Redactor{values: values, rep: newReplacer(values)}
}

// Len is how many secret values r knows.
func (r *Redactor) Len() int {
	if r == nil {
		return 0
	}
	return len(r.values)
}

// newReplacer replaces every form in which a secret can appear in text
// FlowGate emits: as is (which covers "Bearer <key>" and "x-api-key: <key>"),
// escaped inside a JSON string, and URL-escaped in a query or path. Longer
// forms come first so that a secret containing another is replaced whole.
func newReplacer(values []string) *strings.Replacer {
	seen := map[string]bool{}
	var forms []string
	for _, v := range values {
		for _, f := range secretForms(v) {
			if !seen[f] {
				seen[f] = true
				forms = append(forms, f)
			}
		}
	}
	if len(forms) == 0 {
		return nil
	}
	slices.SortFunc(forms, func(a, b string) int {
		if len(a) != len(b) {
			return len(b) - len(a)
		}
		return strings.Compare(a, b)
	})
	pairs := make([]string, 0, 2*len(forms))
	for _, f := range forms {
		pairs = append(pairs, f, Redacted)
	}
	return strings.NewReplacer(pairs...)
}

func secretForms(v string) []string {
	forms := []string{v}
	if b, err := json.Marshal(v); err == nil {
		forms = append(forms, string(b[1:len(b)-1]))
	}
	var sb strings.Builder
	enc := json.NewEncoder(&sb)
	enc.SetEscapeHTML(false)
	if enc.Encode(v) == nil {
		s := strings.TrimSuffix(sb.String(), "\n")
		forms = append(forms, s[1:len(s)-1])
	}
	forms = append(forms, url.QueryEscape(v), url.PathEscape(v))
	return forms
}

// Redact returns s with every known secret value and everything shaped
// like a credential replaced by [redacted] ("Bearer [redacted]" for bearer
// tokens).
func (r *Redactor) Redact(s string) string {
	if s == "" {
		return s
	}
	if r != nil && r.rep != nil {
		s = r.rep.Replace(s)
	}
	return secretPattern.ReplaceAllStringFunc(s, func(m string) string {
		if len(m) > 7 && strings.EqualFold(m[:7], "bearer ") {
			return m[:7] + Redacted
		}
		return Redacted
	})
}

// RedactValues replaces only the known secret values, leaving the rest of
// b byte for byte (a JSON body stays the same JSON with [redacted] inside
// its strings). It returns b itself when no secret occurs.
func (r *Redactor) RedactValues(b []byte) []byte {
	if r == nil || r.rep == nil || len(b) == 0 {
		return b
	}
	s := string(b)
	out := r.rep.Replace(s)
	if out == s {
		return b
	}
	return []byte(out)
}

// The process-wide set of known secrets: every secret this process has
// resolved (gateway keys, upstream keys, CLIProxyAPIPlus keys and its
// management password) is registered, so RedactSecrets removes it from
// every message, log line and event the process writes.
var (
	knownMu sync.Mutex
	known   atomic.Pointer[Redactor]
)

// RegisterSecrets adds secret values to the process-wide set that
// RedactSecrets and Known use. Callers register a secret as soon as they
// have resolved it; registering a value twice is harmless.
func RegisterSecrets(values ...string) {
	knownMu.Lock()
	defer knownMu.Unlock()
	known.Store(known.Load().With(values...))
}

// Known is the redactor of every secret registered so far (never nil).
func Known() *Redactor {
	if r := known.Load(); r != nil {
		return r
	}
	return &Redactor{}
}

// RedactSecrets replaces every registered secret and anything that looks
// like a credential in s with "[redacted]". It is a last line of defence:
// callers should not put secrets in messages in the first place.
func RedactSecrets(s string) string {
	return known.Load().Redact(s)
}
