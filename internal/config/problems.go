package config

import (
	"fmt"
	"sort"
	"strings"
)

// Problem is one thing wrong with a config file.
type Problem struct {
	// Path is the field path, e.g. services.gateway.port.
	Path string
	// Message says what is wrong and, where it helps, what to write instead.
	Message string
	// Line and Column locate the problem in the file when known (1-based).
	Line, Column int
}

func (p Problem) String() string {
	loc := ""
	if p.Line > 0 {
		loc = fmt.Sprintf(" (line %d, column %d)", p.Line, p.Column)
	}
	if p.Path == "" {
		return p.Message + loc
	}
	return p.Path + ": " + p.Message + loc
}

// Error reports every problem found in one config file. Commands exit 2 on it.
type Error struct {
	File     string
	Problems []Problem
}

func (e *Error) Error() string {
	var b strings.Builder
	if len(e.Problems) == 1 {
		fmt.Fprintf(&b, "config %s: %s", e.File, e.Problems[0])
		return b.String()
	}
	fmt.Fprintf(&b, "config %s has %d problems:", e.File, len(e.Problems))
	for _, p := range e.Problems {
		b.WriteString("\n  - ")
		b.WriteString(p.String())
	}
	return b.String()
}

type collector struct {
	problems []Problem
}

func (c *collector) add(path, format string, args ...any) {
	c.problems = append(c.problems, Problem{Path: path, Message: fmt.Sprintf(format, args...)})
}

func (c *collector) sorted() []Problem {
	sort.SliceStable(c.problems, func(i, j int) bool {
		a, b := c.problems[i], c.problems[j]
		if a.Line != b.Line && a.Line > 0 && b.Line > 0 {
			return a.Line < b.Line
		}
		return false
	})
	return c.problems
}

func join(base, key string) string {
	if base == "" {
		return key
	}
	return base + "." + key
}

func index(base string, i int) string { return fmt.Sprintf("%s[%d]", base, i) }

func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case map[string]any:
		return "a mapping"
	case []any:
		return "a list"
	case float64, float32:
		return "a number"
	}
	if _, ok := asInt(v); ok {
		return "a number"
	}
	return fmt.Sprintf("%T", v)
}

// asInt accepts the integer types a YAML or JSON decoder produces.
func asInt(v any) (int64, bool) {
	switch n := v.(type) {
	case int:
		return int64(n), true
	case int64:
		return n, true
	case int32:
		return int64(n), true
	case uint64:
		return int64(n), true
	case uint32:
		return int64(n), true
	case uint:
		return int64(n), true
	case float64:
		if n == float64(int64(n)) {
			return int64(n), true
		}
	}
	return 0, false
}

func asFloat(v any) (float64, bool) {
	if f, ok := v.(float64); ok {
		return f, true
	}
	if i, ok := asInt(v); ok {
		return float64(i), true
	}
	return 0, false
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
