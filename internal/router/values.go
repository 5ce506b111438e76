package router

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"time"
)

func (p *parser) str(path string, v any) (string, bool) {
	switch tv := v.(type) {
	case nil:
		return "", false
	case string:
		return tv, true
	case int, int64, float64, uint64:
		return fmt.Sprint(tv), true
	}
	p.add(path, "must be a string")
	return "", false
}

func (p *parser) strList(path string, v any) []string {
	switch tv := v.(type) {
	case nil:
		return nil
	case string:
		return []string{tv}
	case []string:
		return tv
	case []any:
		out := make([]string, 0, len(tv))
		for i, e := range tv {
			s, ok := e.(string)
			if !ok {
				p.add(fmt.Sprintf("%s[%d]", path, i), "must be a string")
				continue
			}
			out = append(out, s)
		}
		return out
	}
	p.add(path, "must be a list of strings")
	return nil
}

// secret resolves a literal or os.environ/NAME value, in memory only.
func (p *parser) secret(path string, v any) string {
	s, ok := p.str(path, v)
	if !ok {
		return ""
	}
	if name, isEnv := strings.CutPrefix(s, "os.environ/"); isEnv {
		if p.check {
			// Resolved where the gateway starts, from its environment.
			return ""
		}
		val, set := os.LookupEnv(name)
		if !set || val == "" {
			p.add(path, "environment variable %s is not set; export it or use a *_ref to a stored secret", name)
		}
		return val
	}
	return s
}

func (p *parser) ref(path string, v any) string {
	name, ok := p.str(path, v)
	if !ok || name == "" {
		p.add(path, "must name a credential defined under credentials.upstream")
		return ""
	}
	if p.check {
		if p.refDefined != nil {
			if err := p.refDefined(name); err != nil {
				p.add(path, "unknown credential %q; %v", name, err)
			}
		}
		return ""
	}
	if p.resolve == nil {
		p.add(path, "secret reference %q cannot be resolved here", name)
		return ""
	}
	val, err := p.resolve(name)
	if err != nil {
		p.add(path, "cannot resolve secret %q: %v", name, err)
		return ""
	}
	if val == "" {
		p.add(path, "secret %q is empty", name)
	}
	return val
}

func (p *parser) float(path string, v any) float64 {
	switch tv := v.(type) {
	case int:
		return float64(tv)
	case int64:
		return float64(tv)
	case uint64:
		return float64(tv)
	case float64:
		return tv
	case float32:
		return float64(tv)
	case json.Number:
		f, err := tv.Float64()
		if err == nil {
			return f
		}
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(tv), 64)
		if err == nil {
			return f
		}
	}
	p.add(path, "must be a number, got %v", v)
	return math.NaN()
}

func (p *parser) intRange(path string, v any, lo, hi, def int) int {
	f := p.float(path, v)
	if math.IsNaN(f) {
		return def
	}
	if f != math.Trunc(f) || f < float64(lo) || f > float64(hi) {
		p.add(path, "must be a whole number from %d to %d, got %v", lo, hi, v)
		return def
	}
	return int(f)
}

func (p *parser) seconds(path string, v any, def time.Duration) time.Duration {
	f := p.float(path, v)
	if math.IsNaN(f) {
		return def
	}
	if f < 0 || f > 86400*7 {
		p.add(path, "must be a number of seconds from 0 to 604800, got %v", v)
		return def
	}
	return time.Duration(f * float64(time.Second))
}

func (p *parser) boolean(path string, v any) bool {
	switch tv := v.(type) {
	case bool:
		return tv
	case string:
		b, err := strconv.ParseBool(tv)
		if err == nil {
			return b
		}
	}
	p.add(path, "must be true or false")
	return false
}

// duration reads a Go duration such as 30m or 1h30m, or a number of
// seconds as seconds does.
func (p *parser) duration(path string, v any, def time.Duration) time.Duration {
	if s, ok := v.(string); ok {
		if d, err := time.ParseDuration(strings.TrimSpace(s)); err == nil {
			if d < 0 || d > 7*24*time.Hour {
				p.add(path, "must be from 0 to 168h, got %v", v)
				return def
			}
			return d
		}
		if _, err := strconv.ParseFloat(strings.TrimSpace(s), 64); err != nil {
			p.add(path, "must be a duration such as 30m or 1h, or a number of seconds; got %q", s)
			return def
		}
	}
	return p.seconds(path, v, def)
}
