package gateway

import (
	"crypto/sha256"
	"encoding/hex"
	"sync"
	"time"

	"github.com/flowgate/flowgate/internal/router"
)

// Snapshot is the gateway's live routing state: the running generation
// and the passive health of every deployment, exactly what /health reports
// without probes. It is a copy; holding it changes nothing.
type Snapshot struct {
	Generation uint64
	Profile    string
	LoadedAt   time.Time
	// CheckedAt is when the snapshot was taken (the gateway's clock).
	CheckedAt time.Time
	// Deployments are in config order (model_list order).
	Deployments []DeploymentState
	// Warnings are what /health lists under "warnings": request log
	// losses, a dashboard that could not listen...
	Warnings []string
}

// DeploymentState is one deployment's passive health, its last error
// redacted, with the fix for a refused credential.
type DeploymentState struct {
	router.DeploymentHealth
	// Fix says what to run or check for an auth_failed deployment.
	Fix string `json:"fix,omitempty"`
}

// Snapshot returns the live routing state (see Snapshot). It reads memory
// only and is safe to call from any goroutine, as often as wanted.
func (s *Server) Snapshot() Snapshot {
	snap, _ := s.snapshot()
	return snap
}

// snapshot also returns the generation it read, whose deployments are in
// the same order as the snapshot's (health probes them).
func (s *Server) snapshot() (Snapshot, *generation) {
	g := s.gen.Load()
	hs := g.router.Health()
	deps := g.router.Config().Deployments
	out := make([]DeploymentState, len(hs))
	for i, h := range hs {
		h.LastError = redactMessage(h.LastError)
		out[i].DeploymentHealth = h
		if h.State == "auth_failed" {
			out[i].Fix = s.authFix(deps[i])
		}
	}
	return Snapshot{Generation: g.id, Profile: g.profile, LoadedAt: g.loadedAt.UTC(),
		CheckedAt: s.now().UTC().Truncate(time.Second), Deployments: out, Warnings: s.warnings()}, g
}

// HasKeys reports whether the running generation has client keys.
func (s *Server) HasKeys() bool { return len(s.gen.Load().keys) > 0 || len(s.storeKeys()) > 0 }

// CheckKey reports whether key is one of the running generation's client
// keys, comparing in constant time per key, as the API's auth does. With
// no keys configured it is false: nothing is a key.
func (s *Server) CheckKey(key string) bool {
	return s.HasKeys() && key != "" && s.gen.Load().match(key, s.storeKeys()) != nil
}

// KeyDigest identifies the running set of client keys without revealing
// them (a SHA-256 over the keys), so a caller can tell whether a reload
// changed them and sign out whoever signed in with an old one.
func (s *Server) KeyDigest() string {
	h := sha256.New()
	for _, k := range s.gen.Load().keys {
		h.Write(k.plain)
		h.Write([]byte{0})
	}
	for _, k := range s.storeKeys() {
		h.Write(k.hash[:])
		h.Write([]byte{1})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// AllowsHost reports whether hostport, a request's Host, names this
// gateway's host with the given port, by the rules of the gateway's own
// listener (loopback names and IPs, the bind address, any IP literal when
// bound to all interfaces, services.gateway.allowed_hosts): the
// DNS-rebinding guard for another listener of the gateway process, such as
// the dashboard's.
func (s *Server) AllowsHost(hostport, port string) bool {
	return s.hostAllowedOn(hostport, port)
}

// Warn adds a warning to /health's "warnings" (and Snapshot's) for as long
// as the gateway runs, once per distinct text: a part of the gateway
// process that does not work while the API does. At most 8 are kept.
func (s *Server) Warn(msg string) { s.notes.add(msg) }

// notes are the warnings given to Warn.
type notes struct {
	mu   sync.Mutex
	list []string
}

func (n *notes) add(msg string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, m := range n.list {
		if m == msg {
			return
		}
	}
	if len(n.list) < 8 {
		n.list = append(n.list, msg)
	}
}

func (n *notes) all() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]string(nil), n.list...)
}
