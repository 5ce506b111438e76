// Package clientkeys is the store of named client keys that `flowgate keys`
// creates and the gateway accepts: one JSON file under .router/secrets
// (0600, written atomically) holding each key's name, limits and SHA-256
// hash, never the key itself. The plaintext exists only in the output of
// Create.
package clientkeys

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/flowgate/flowgate/internal/runtime"
)

// FileName is the store's file name inside the secrets folder.
const FileName = "client_keys.json"

// Prefix starts every generated key, so a leaked one is recognisable.
const Prefix = "fgk_"

// Limits bound what one key may use. Zero means unlimited.
type Limits struct {
	// Aliases are the model aliases the key may call. Default: all.
	Aliases []string `json:"aliases,omitempty"`
	// RPM is requests per minute. Default: 0 (unlimited).
	RPM int64 `json:"rpm,omitempty"`
	// TPD is tokens (input + output) per UTC day. Default: 0 (unlimited).
	TPD int64 `json:"tpd,omitempty"`
	// TokensPerMonth is tokens per UTC calendar month. Default: 0 (unlimited).
	TokensPerMonth int64 `json:"tokens_per_month,omitempty"`
	// BudgetUSD is the spend allowed per UTC calendar month, priced from
	// model_info. Default: 0 (unlimited).
	BudgetUSD float64 `json:"budget_usd,omitempty"`
}

// IsZero reports whether no limit is set.
func (l Limits) IsZero() bool {
	return len(l.Aliases) == 0 && l.RPM == 0 && l.TPD == 0 && l.TokensPerMonth == 0 && l.BudgetUSD == 0
}

// Key is one stored key: its name, limits and hash.
type Key struct {
	Name string `json:"name"`
	// Hash is "sha256:" and the hex SHA-256 of the key.
	Hash string `json:"hash"`
	// Hint is the key's first characters, to tell keys apart in a listing.
	Hint      string    `json:"hint"`
	CreatedAt time.Time `json:"created_at"`
	Limits
}

type file struct {
	Version int   `json:"version"`
	Keys    []Key `json:"keys"`
}

// Path is the store's path in secretsDir.
func Path(secretsDir string) string { return filepath.Join(secretsDir, FileName) }

// Hash is the stored form of key.
func Hash(key string) string {
	sum := sha256.Sum256([]byte(key))
	return "sha256:" + hex.EncodeToString(sum[:])
}

var validName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// CheckName reports whether name may name a key.
func CheckName(name string) error {
	if !validName.MatchString(name) {
		return fmt.Errorf("key name %q: use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit", name)
	}
	return nil
}

// Load reads the store; a missing file is an empty store.
func Load(path string) ([]Key, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading client keys %s: %w", path, err)
	}
	var f file
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("client keys %s is not valid JSON (%v): restore it from a backup, or delete it and create the keys again with `flowgate keys create NAME`", path, err)
	}
	for i, k := range f.Keys {
		if err := CheckName(k.Name); err != nil {
			return nil, fmt.Errorf("client keys %s: keys[%d]: %v", path, i, err)
		}
		if !strings.HasPrefix(k.Hash, "sha256:") || len(k.Hash) != len("sha256:")+64 {
			return nil, fmt.Errorf("client keys %s: keys[%d].hash (key %s) is not a sha256 hash: revoke it with `flowgate keys revoke %s` and create it again", path, i, k.Name, k.Name)
		}
	}
	return f.Keys, nil
}

func save(path string, keys []Key) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("creating %s: %w", filepath.Dir(path), err)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].Name < keys[j].Name })
	b, err := json.MarshalIndent(file{Version: 1, Keys: keys}, "", "  ")
	if err != nil {
		return err
	}
	return runtime.WriteFileAtomic(path, append(b, '\n'), 0o600)
}

// ErrExists and ErrUnknown are returned by Create and Revoke.
var (
	ErrExists  = errors.New("key exists")
	ErrUnknown = errors.New("unknown key")
)

// Create adds a key named name with limits and returns the key itself,
// which is stored only as its hash. taken lists names already used
// elsewhere (general_settings), which a new key may not reuse.
func Create(path, name string, lim Limits, taken []string) (string, Key, error) {
	if err := CheckName(name); err != nil {
		return "", Key{}, err
	}
	if lim.RPM < 0 || lim.TPD < 0 || lim.TokensPerMonth < 0 || lim.BudgetUSD < 0 {
		return "", Key{}, fmt.Errorf("key %s: limits must not be negative", name)
	}
	keys, err := Load(path)
	if err != nil {
		return "", Key{}, err
	}
	for _, k := range keys {
		if k.Name == name {
			return "", Key{}, fmt.Errorf("%w: a key named %s exists; revoke it first (`flowgate keys revoke %s`) or pick another name", ErrExists, name, name)
		}
	}
	for _, t := range taken {
		if t == name {
			return "", Key{}, fmt.Errorf("%w: general_settings already names a key %s; pick another name", ErrExists, name)
		}
	}
	var raw [24]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", Key{}, err
	}
	secret := Prefix + hex.EncodeToString(raw[:])
	k := Key{Name: name, Hash: Hash(secret), Hint: secret[:len(Prefix)+4] + "...", CreatedAt: time.Now().UTC().Truncate(time.Second), Limits: lim}
	if err := save(path, append(keys, k)); err != nil {
		return "", Key{}, err
	}
	return secret, k, nil
}

// Revoke removes the key named name.
func Revoke(path, name string) error {
	keys, err := Load(path)
	if err != nil {
		return err
	}
	out := keys[:0]
	names := make([]string, 0, len(keys))
	for _, k := range keys {
		if k.Name != name {
			out = append(out, k)
			names = append(names, k.Name)
		}
	}
	if len(out) == len(keys) {
		have := "none"
		if len(names) > 0 {
			have = strings.Join(names, ", ")
		}
		return fmt.Errorf("%w %q: no key of that name in %s (have: %s); `flowgate keys list` shows them", ErrUnknown, name, path, have)
	}
	return save(path, out)
}
