package config

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"

	rt "github.com/flowgate/flowgate/internal/runtime"
)

// CLIProxyChange is one setting of CLIProxyAPIPlus's own config that differs
// from what services.cliproxyapi_plus says.
type CLIProxyChange struct {
	// Key is the top-level key in the CLIProxyAPIPlus config (host, port).
	Key string
	// Was is the value found ("" when the key is missing); Want the value
	// FlowGate's config implies.
	Was, Want string
}

func (c CLIProxyChange) String() string {
	was := c.Was
	if was == "" {
		was = "(missing)"
	}
	return fmt.Sprintf("%s %s -> %s", c.Key, was, c.Want)
}

// SyncCLIProxyConfig makes host and port in CLIProxyAPIPlus's own config
// (services.cliproxyapi_plus.config_file) equal services.cliproxyapi_plus
// host and port, which are the source of truth. Only those two values are
// edited in place; every other byte (comments, api-keys, the user's other
// settings) stays. The file is replaced atomically with its own mode narrowed
// to owner-only, since it holds client keys. With dryRun nothing is written.
// It returns what differed (nil when the file already agrees).
//
// The service start path calls it before starting CLIProxyAPIPlus; doctor
// calls it with dryRun to report drift.
func SyncCLIProxyConfig(cfg *Config, dryRun bool) ([]CLIProxyChange, error) {
	svc := cfg.Services[ServiceCLIProxy]
	path := svc.ConfigFile
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("CLIProxyAPIPlus config %s does not exist; run `flowgate --config %s init` to write it, or set services.cliproxyapi_plus.config_file", path, cfg.File)
	}
	if err != nil {
		return nil, fmt.Errorf("reading CLIProxyAPIPlus config: %w", err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading CLIProxyAPIPlus config: %w", err)
	}
	out, changes, err := editCLIProxyYAML(data, map[string]string{
		"host": strconv.Quote(svc.Host),
		"port": strconv.Itoa(svc.Port),
	})
	if err != nil {
		return nil, fmt.Errorf("CLIProxyAPIPlus config %s: %w; fix the file by hand (host: %q, port: %d) or rewrite it with `flowgate init --force`", path, err, svc.Host, svc.Port)
	}
	if len(changes) == 0 || dryRun {
		return changes, nil
	}
	mode := fi.Mode().Perm() & 0o600
	if mode == 0 {
		mode = 0o600
	}
	if err := rt.WriteFileAtomic(path, out, mode); err != nil {
		return nil, fmt.Errorf("updating CLIProxyAPIPlus config: %w", err)
	}
	return changes, nil
}

// editCLIProxyYAML sets top-level scalar keys to the given YAML-encoded
// values: an existing value is replaced where it stands, a missing key is
// appended. Keys are handled in sorted order for a stable result.
func editCLIProxyYAML(data []byte, want map[string]string) ([]byte, []CLIProxyChange, error) {
	f, err := parser.ParseBytes(data, parser.ParseComments)
	if err != nil {
		return nil, nil, fmt.Errorf("does not parse as YAML: %v", err)
	}
	var top *ast.MappingNode
	if len(f.Docs) > 0 && f.Docs[0] != nil {
		switch b := f.Docs[0].Body.(type) {
		case *ast.MappingNode:
			top = b
		case *ast.MappingValueNode:
			top = &ast.MappingNode{Values: []*ast.MappingValueNode{b}}
		case nil:
		default:
			return nil, nil, errors.New("the top level is not a mapping of keys")
		}
	}
	if top != nil && top.IsFlowStyle {
		return nil, nil, errors.New("the top level is a {...} flow mapping, which is not edited automatically")
	}
	type edit struct {
		start, end int
		text       string
	}
	var edits []edit
	var appended []string
	var changes []CLIProxyChange
	for _, key := range slices.Sorted(maps.Keys(want)) {
		val := want[key]
		var node ast.Node
		if top != nil {
			for _, mv := range top.Values {
				if mv.Key != nil && mv.Key.GetToken() != nil && mv.Key.GetToken().Value == key {
					node = mv.Value
				}
			}
		}
		if node == nil {
			changes = append(changes, CLIProxyChange{Key: key, Want: unquote(val)})
			appended = append(appended, key+": "+val)
			continue
		}
		tk := node.GetToken()
		if _, scalar := node.(ast.ScalarNode); !scalar || tk == nil || tk.Position == nil {
			return nil, nil, fmt.Errorf("%s is not a plain value", key)
		}
		if tk.Value == unquote(val) {
			continue
		}
		start, ok := offsetOf(data, tk.Position.Line, tk.Position.Column)
		src := strings.TrimSpace(tk.Origin)
		if !ok || !bytes.HasPrefix(data[start:], []byte(src)) || src == "" {
			return nil, nil, fmt.Errorf("cannot locate the value of %s (line %d)", key, tk.Position.Line)
		}
		changes = append(changes, CLIProxyChange{Key: key, Was: tk.Value, Want: unquote(val)})
		edits = append(edits, edit{start, start + len(src), val})
	}
	if len(changes) == 0 {
		return data, nil, nil
	}
	// Apply from the end so earlier offsets stay valid.
	out := append([]byte(nil), data...)
	slices.SortFunc(edits, func(a, b edit) int { return a.start - b.start })
	for i := len(edits) - 1; i >= 0; i-- {
		e := edits[i]
		out = append(out[:e.start], append([]byte(e.text), out[e.end:]...)...)
	}
	if len(appended) > 0 {
		if len(out) > 0 && out[len(out)-1] != '\n' {
			out = append(out, '\n')
		}
		out = append(out, strings.Join(appended, "\n")+"\n"...)
	}
	return out, changes, nil
}

// offsetOf converts a 1-based line and column (in characters) to a byte offset.
func offsetOf(data []byte, line, col int) (int, bool) {
	off := 0
	for l := 1; l < line; l++ {
		i := bytes.IndexByte(data[off:], '\n')
		if i < 0 {
			return 0, false
		}
		off += i + 1
	}
	for c := 1; c < col; c++ {
		if off >= len(data) || data[off] == '\n' {
			return 0, false
		}
		_, size := utf8.DecodeRune(data[off:])
		off += size
	}
	return off, off <= len(data)
}

func unquote(v string) string {
	if s, err := strconv.Unquote(v); err == nil {
		return s
	}
	return v
}
