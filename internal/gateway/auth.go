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
		found |= equalConstantTime(tok, k)
	}
	return found == 1
}

// equalConstantTime is subtle.ConstantTimeCompare for a string against
// bytes, without converting the (possibly long) token to a new slice on
// every request. Like it, it returns at once on a length mismatch.
func equalConstantTime(tok string, k []byte) int {
	if len(tok) != len(k) {
		return 0
	}
	var v byte
	for i := 0; i < len(k); i++ {
		v |= tok[i] ^ k[i]
	}
	return subtle.ConstantTimeByteEq(v, 0)
}
