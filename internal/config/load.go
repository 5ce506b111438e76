package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

// ErrNotFound is wrapped by Load when the config file does not exist.
var ErrNotFound = errors.New("config file not found")

// Load reads, migrates and validates the config at path. A missing file
// wraps ErrNotFound; anything wrong with the content is an *Error listing
// every problem with its field path (and line and column where known).
func Load(path string) (*Config, error) {
	return load(path, false)
}

// LoadForOps is Load for the commands that must work while the routing
// part of the config is broken (status, service stop, down): problems
// outside paths and services come back as the *Error beside a usable
// config; problems in paths or services (or a file that does not parse)
// still fail with a nil config.
func LoadForOps(path string) (*Config, error) {
	return load(path, true)
}

func load(path string, ops bool) (*Config, error) {
	abs, err := filepath.Abs(expandHome(path))
	if err != nil {
		return nil, fmt.Errorf("resolving config path %s: %w", path, err)
	}
	data, err := os.ReadFile(abs)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%w: %s; run `flowgate init` to create it, or pass --config PATH", ErrNotFound, abs)
		}
		return nil, fmt.Errorf("reading config %s: %w", abs, err)
	}
	return parse(abs, data, ops)
}

func parse(file string, data []byte, ops bool) (*Config, error) {
	var raw any
	if err := yaml.Unmarshal(data, &raw); err != nil {
		p := Problem{Message: "YAML syntax error: " + err.Error()}
		var ye yaml.Error
		if errors.As(err, &ye) {
			p.Message = "YAML syntax error: " + ye.GetMessage()
			if tk := ye.GetToken(); tk != nil && tk.Position != nil {
				p.Line, p.Column = tk.Position.Line, tk.Position.Column
			}
		}
		return nil, &Error{File: file, Problems: []Problem{p}}
	}
	top, ok := raw.(map[string]any)
	if !ok {
		return nil, &Error{File: file, Problems: []Problem{{Message: fmt.Sprintf("the top level must be a mapping of keys (config_version, paths, services, ...), got %s", typeName(raw))}}}
	}
	cfg, c := build(file, top)
	cfg.src = data
	if len(c.problems) > 0 {
		locate(data, c.problems)
		e := &Error{File: file, Problems: c.sorted()}
		if ops && !touchesServices(e.Problems) {
			return cfg, e
		}
		return nil, e
	}
	return cfg, nil
}

// touchesServices reports whether a problem concerns what the operations
// commands need: the file itself, paths or services.
func touchesServices(problems []Problem) bool {
	for _, p := range problems {
		root, _, _ := strings.Cut(p.Path, ".")
		root, _, _ = strings.Cut(root, "[")
		if p.Path == "" || root == "paths" || root == "services" || root == "config_version" {
			return true
		}
	}
	return false
}

var pathSegment = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// locate fills in line and column for problems whose path exists in the file.
func locate(data []byte, problems []Problem) {
	f, err := parser.ParseBytes(data, 0)
	if err != nil {
		return
	}
	for i := range problems {
		line, col := find(f, problems[i].Path)
		problems[i].Line, problems[i].Column = line, col
	}
}

func find(f *ast.File, fieldPath string) (int, int) {
	if fieldPath == "" {
		return 0, 0
	}
	// Walk up to the deepest part of the path present in the file.
	parts := strings.Split(fieldPath, ".")
	for n := len(parts); n > 0; n-- {
		var b strings.Builder
		b.WriteString("$")
		ok := true
		for _, part := range parts[:n] {
			name, idx, _ := strings.Cut(part, "[")
			if !pathSegment.MatchString(name) {
				ok = false
				break
			}
			b.WriteString("." + name)
			if idx != "" {
				b.WriteString("[" + idx)
			}
		}
		if !ok {
			continue
		}
		p, err := yaml.PathString(b.String())
		if err != nil {
			continue
		}
		node, err := p.FilterFile(f)
		if err != nil || node == nil {
			continue
		}
		if tk := node.GetToken(); tk != nil && tk.Position != nil {
			return tk.Position.Line, tk.Position.Column
		}
	}
	return 0, 0
}

func expandHome(p string) string {
	if p == "~" || strings.HasPrefix(p, "~/") {
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, strings.TrimPrefix(p, "~"))
		}
	}
	return p
}

// resolvePath expands ~ and makes p absolute against dir.
func resolvePath(dir, p string) string {
	p = expandHome(p)
	if !filepath.IsAbs(p) {
		p = filepath.Join(dir, p)
	}
	return filepath.Clean(p)
}
