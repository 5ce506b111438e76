package cliproxy

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// jwtClaims decodes a JWT's payload without verifying its signature: the
// tokens come from a local file the user owns, and only descriptive claims
// (e-mail, plan, account, expiry) are read.
func jwtClaims(token string) (map[string]any, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, errors.New("not a JWT (want three dot-separated parts)")
	}
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return nil, fmt.Errorf("JWT payload is not base64url: %w", err)
	}
	var claims map[string]any
	if err := json.Unmarshal(raw, &claims); err != nil {
		return nil, fmt.Errorf("JWT payload is not a JSON object: %w", err)
	}
	return claims, nil
}

func claimString(m map[string]any, key string) string {
	s, _ := m[key].(string)
	return strings.TrimSpace(s)
}

// claimTime reads a NumericDate claim such as exp.
func claimTime(m map[string]any, key string) (time.Time, bool) {
	f, ok := m[key].(float64)
	if !ok || f <= 0 {
		return time.Time{}, false
	}
	return time.Unix(int64(f), 0).UTC(), true
}

// openAIAuthClaim is the namespaced claim with the ChatGPT account details.
const openAIAuthClaim = "https://api.openai.com/auth"

func openAIAuth(claims map[string]any) map[string]any {
	m, _ := claims[openAIAuthClaim].(map[string]any)
	return m
}
