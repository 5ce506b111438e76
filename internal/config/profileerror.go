package config

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml/parser"
)

// docPath matches the field paths the gateway's validator reports in a
// merged document: litellm_settings.num_retries, model_list[0].litellm_params.model.
var docPath = regexp.MustCompile(`^[A-Za-z0-9_*-]+(\[[0-9]+\])?(\.[A-Za-z0-9_*/-]+(\[[0-9]+\])?)*$`)

// ProfileError turns problems found in the merged document of profile (as
// the gateway's validator reports them, "litellm_settings.num_retries: must
// be a number, got two") into an *Error on the config file: each problem
// names the field where the value is written (profiles.<profile>.… when the
// profile sets it, else litellm_base.…) with its line and column. Problems
// that do not start with a field path are kept as they are. It returns nil
// when problems is empty.
func (c *Config) ProfileError(profile string, problems []string) *Error {
	if len(problems) == 0 {
		return nil
	}
	out := make([]Problem, 0, len(problems))
	for _, s := range problems {
		path, msg, ok := strings.Cut(s, ": ")
		if !ok || !docPath.MatchString(path) {
			out = append(out, Problem{Message: s})
			continue
		}
		out = append(out, Problem{Path: c.origin(profile, path), Message: msg})
	}
	locate(c.src, out)
	return &Error{File: c.File, Problems: out}
}

// Position returns the line and column of a field path (services.gateway.port,
// litellm_base.model_list[0].litellm_params.api_base) in the loaded file, or
// of its deepest parent present there; 0, 0 when none is.
func (c *Config) Position(fieldPath string) (line, col int) {
	f, err := parser.ParseBytes(c.src, 0)
	if err != nil {
		return 0, 0
	}
	return find(f, fieldPath)
}

// origin is the config field a merged-document path comes from: the profile
// overlay when it sets that path (or replaces a parent of it, as lists and
// scalars do), else litellm_base.
func (c *Config) origin(profile, path string) string {
	var cur any = c.Profiles[profile]
	for _, seg := range splitDocPath(path) {
		switch node := cur.(type) {
		case map[string]any:
			v, ok := node[seg.key]
			if !ok {
				return join("litellm_base", path)
			}
			cur = v
		default:
			// A non-mapping in the overlay replaces the base value whole.
			return join("profiles."+profile, path)
		}
		if seg.index >= 0 {
			list, ok := cur.([]any)
			if !ok || seg.index >= len(list) {
				return join("profiles."+profile, path)
			}
			cur = list[seg.index]
		}
	}
	return join("profiles."+profile, path)
}

type docSegment struct {
	key   string
	index int
}

func splitDocPath(path string) []docSegment {
	var out []docSegment
	for _, part := range strings.Split(path, ".") {
		key, idx, found := strings.Cut(part, "[")
		seg := docSegment{key: key, index: -1}
		if found {
			if n, err := strconv.Atoi(strings.TrimSuffix(idx, "]")); err == nil {
				seg.index = n
			}
		}
		out = append(out, seg)
	}
	return out
}
