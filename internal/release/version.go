package release

import (
	"fmt"
	"strconv"
	"strings"
)

// version is a parsed CLIProxyAPIPlus tag: v<major>.<minor>.<patch>-<n>.
type version struct {
	nums  []int // major, minor, patch, ...
	build int   // the -N suffix; 0 when absent
}

// parseVersion accepts "v6.8.16-0", "6.8.16-0", "6.8.16-0-plus" (the
// X-CPA-VERSION header form) and "6.8.16".
func parseVersion(s string) (version, error) {
	raw := s
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(strings.TrimPrefix(s, "v"), "V")
	s = strings.TrimSuffix(s, "-plus")
	main, suffix, hasSuffix := strings.Cut(s, "-")
	var v version
	if main == "" {
		return v, fmt.Errorf("version %q is not of the form v<major>.<minor>.<patch>-<n>", raw)
	}
	for _, part := range strings.Split(main, ".") {
		n, err := strconv.Atoi(part)
		if err != nil || n < 0 {
			return v, fmt.Errorf("version %q is not of the form v<major>.<minor>.<patch>-<n>", raw)
		}
		v.nums = append(v.nums, n)
	}
	if hasSuffix {
		n, err := strconv.Atoi(suffix)
		if err != nil || n < 0 {
			return v, fmt.Errorf("version %q has a suffix %q that is not a number", raw, suffix)
		}
		v.build = n
	}
	return v, nil
}

// CompareVersions compares two CLIProxyAPIPlus tags numerically, including the
// -N build suffix: v6.8.9-0 < v6.8.16-0 < v6.8.16-1 < v6.9.0-0. It returns -1,
// 0 or 1, or an error naming the tag that does not parse (so that callers never
// report a bogus update from a string comparison).
func CompareVersions(a, b string) (int, error) {
	va, err := parseVersion(a)
	if err != nil {
		return 0, err
	}
	vb, err := parseVersion(b)
	if err != nil {
		return 0, err
	}
	n := max(len(va.nums), len(vb.nums))
	for i := 0; i < n; i++ {
		x, y := at(va.nums, i), at(vb.nums, i)
		if x != y {
			return sign(x - y), nil
		}
	}
	return sign(va.build - vb.build), nil
}

func at(s []int, i int) int {
	if i < len(s) {
		return s[i]
	}
	return 0
}

func sign(d int) int {
	switch {
	case d < 0:
		return -1
	case d > 0:
		return 1
	}
	return 0
}
