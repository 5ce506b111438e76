package gateway

import (
	"crypto/subtle"
	"net/http"
	"strings"
)

// authorized reports whether the request carries one of the generation's
// keys, as Authorization: Bearer or x-api-key. With no keys configured the
// gateway is open (only allowed on loopback, see New and Serve).
func (g *generation) authorized(r *http.Request) bool {
	if len(g.keys) == 0 {
		return true
	}
	ok := false
	if v := r.Header.Get("Authorization"); v != "" {
		if len(v) > 7 && strings.EqualFold(v[:7], "bearer ") {
			ok = g.match(strings.TrimSpace(v[7:]))
		}
	}
	if !ok {
		if v := r.Header.Get("X-Api-Key"); v != "" {
			ok = g.match(v)
		}
	}
	return ok
}

// match compares against every key in constant time per key.
func (g *generation) match(tok string) bool {
	found := 0
	for _, k := range g.keys {
		found |= subtle.ConstantTimeCompare([]byte(tok), k)
	}
	return found == 1
}
