package gateway

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"

	"github.com/flowgate/flowgate/internal/clientkeys"
)

// clientKey is one key the gateway accepts: a general_settings key (kept
// in memory as configured) or a named key from the keys store (only its
// SHA-256 is known).
type clientKey struct {
	name   string
	limits clientkeys.Limits
	plain  []byte   // general_settings keys
	hash   [32]byte // store keys
	hashed bool
}

// openKey stands for every request of a gateway without keys.
var openKey = &clientKey{name: "open"}

// token is the key a request presents, as Authorization: Bearer or
// x-api-key.
func token(r *http.Request) string {
	if v := r.Header.Get("Authorization"); len(v) > 7 && strings.EqualFold(v[:7], "bearer ") {
		return strings.TrimSpace(v[7:])
	}
	return r.Header.Get("X-Api-Key")
}

// identify returns the client key the request carries, openKey when the
// gateway has no keys at all, nil when none matches. Every key is compared
// in constant time; a stored key by the SHA-256 of the token.
func (s *Server) identify(g *generation, r *http.Request) *clientKey {
	store := s.storeKeys()
	if len(g.keys) == 0 && len(store) == 0 {
		return openKey
	}
	tok := token(r)
	if tok == "" {
		return nil
	}
	return g.match(tok, store)
}

// match finds tok among the generation's keys and the stored ones.
func (g *generation) match(tok string, store []clientKey) *clientKey {
	var found *clientKey
	for i := range g.keys {
		if equalConstantTime(tok, g.keys[i].plain) == 1 {
			found = &g.keys[i]
		}
	}
	if len(store) > 0 {
		sum := sha256.Sum256([]byte(tok))
		for i := range store {
			if subtle.ConstantTimeCompare(sum[:], store[i].hash[:]) == 1 {
				found = &store[i]
			}
		}
	}
	return found
}

// authorized reports whether the request carries one of the gateway's
// keys (or the gateway is open, only allowed on loopback: see New and
// Serve).
func (s *Server) authorized(r *http.Request) bool {
	return s.identify(s.gen.Load(), r) != nil
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
