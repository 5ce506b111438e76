package runtime

import "regexp"

// secretPattern matches the shapes of credentials that must never reach a log:
// bearer tokens, sk-/gho_-style API keys, and JWTs.
var secretPattern = regexp.MustCompile(`(?i)(bearer\s+)[A-Za-z0-9._~+/=-]{8,}|\b(sk|gho|ghp|ghu|ghs|pk|rk)[-_][A-Za-z0-9._-]{6,}|\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*`)

// RedactSecrets replaces anything that looks like a credential in s with
// "[redacted]". It is a last line of defence: callers should not put secrets
// in messages in the first place.
func RedactSecrets(s string) string {
	if s == "" {
		return s
	}
	return secretPattern.ReplaceAllStringFunc(s, func(m string) string {
		if len(m) > 7 && (m[:7] == "Bearer " || m[:7] == "bearer ") {
			return m[:7] + "[redacted]"
		}
		return "[redacted]"
	})
}
