package translate

import (
	"crypto/sha256"
	"encoding/hex"
)

// ToolRef is a client-side tool name: Namespace is set for a function that
// lives inside a Responses "namespace" tool.
type ToolRef struct {
	Namespace string
	Name      string
}

// ToolNames is the reversible mapping between flattened upstream function
// names and the client's (namespace, name) pairs. A nil *ToolNames maps
// every name to itself.
type ToolNames struct {
	toClient   map[string]ToolRef
	toUpstream map[ToolRef]string
}

// NamespaceSeparator joins a namespace and a function name in the flattened
// upstream name: "multi_agent_v1__spawn_agent".
const NamespaceSeparator = "__"

// maxToolName is the OpenAI limit on function names.
const maxToolName = 64

// Client returns the client-side name for an upstream function name.
func (t *ToolNames) Client(upstream string) ToolRef {
	if t != nil {
		if r, ok := t.toClient[upstream]; ok {
			return r
		}
	}
	return ToolRef{Name: upstream}
}

// Upstream returns the upstream function name for a client (namespace, name).
func (t *ToolNames) Upstream(namespace, name string) string {
	if t != nil {
		if u, ok := t.toUpstream[ToolRef{namespace, name}]; ok {
			return u
		}
		if _, plain := t.toUpstream[ToolRef{Name: name}]; namespace == "" && !plain {
			// A client may send a namespaced call back without its
			// namespace; map it when exactly one namespace has that name.
			found, n := "", 0
			for r, u := range t.toUpstream {
				if r.Name == name {
					found, n = u, n+1
				}
			}
			if n == 1 {
				return found
			}
		}
	}
	if namespace != "" {
		return flatName(namespace, name)
	}
	return name
}

// add registers a namespaced function and returns its upstream name.
func (t *ToolNames) add(namespace, name string) string {
	if t.toClient == nil {
		t.toClient = map[string]ToolRef{}
		t.toUpstream = map[ToolRef]string{}
	}
	ref := ToolRef{namespace, name}
	if u, ok := t.toUpstream[ref]; ok {
		return u
	}
	u := flatName(namespace, name)
	t.toClient[u] = ref
	t.toUpstream[ref] = u
	return u
}

// flatName builds "<namespace>__<name>", sanitised to [a-zA-Z0-9_-] and
// shortened to 64 bytes with a stable hash suffix when too long.
func flatName(namespace, name string) string {
	s := sanitizeName(namespace + NamespaceSeparator + name)
	if len(s) <= maxToolName {
		return s
	}
	sum := sha256.Sum256([]byte(namespace + "\x00" + name))
	h := hex.EncodeToString(sum[:4])
	return s[:maxToolName-len(h)-1] + "_" + h
}

// sanitizeName replaces every byte outside [a-zA-Z0-9_-] with '_'.
func sanitizeName(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !(c == '_' || c == '-' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			b[i] = '_'
		}
	}
	return string(b)
}
