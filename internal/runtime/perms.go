package runtime

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
)

// PermissionIssue is a secret-holding file readable or writable by group or
// others.
type PermissionIssue struct {
	Path string      `json:"path"`
	Mode os.FileMode `json:"-"`
	// ModeString is the octal mode, e.g. 0644.
	ModeString string `json:"mode"`
	// Fix is the command that fixes it.
	Fix string `json:"fix"`
}

// AuditSecrets checks files that hold secrets: every *.json directly in the
// auth folder, every file in the secrets folder, and the extra paths given
// (credential files, secret_files, generated configs). Missing files are
// skipped. 0600 or stricter passes. It only reads.
func AuditSecrets(authDir, secretsDir string, extra []string) []PermissionIssue {
	seen := map[string]bool{}
	var paths []string
	addPath := func(p string) {
		if p != "" && !seen[p] {
			seen[p] = true
			paths = append(paths, p)
		}
	}
	if m, err := filepath.Glob(filepath.Join(authDir, "*.json")); err == nil {
		for _, p := range m {
			addPath(p)
		}
	}
	if entries, err := os.ReadDir(secretsDir); err == nil {
		for _, e := range entries {
			if !e.IsDir() {
				addPath(filepath.Join(secretsDir, e.Name()))
			}
		}
	}
	for _, p := range extra {
		addPath(p)
	}
	sort.Strings(paths)
	var issues []PermissionIssue
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			if !errors.Is(err, os.ErrNotExist) {
				issues = append(issues, PermissionIssue{Path: p, ModeString: "unreadable", Fix: fmt.Sprintf("check %s: %v", p, err)})
			}
			continue
		}
		if fi.IsDir() {
			continue
		}
		mode := fi.Mode().Perm()
		if mode&0o077 != 0 {
			issues = append(issues, PermissionIssue{Path: p, Mode: mode, ModeString: fmt.Sprintf("%04o", mode), Fix: "chmod 600 " + p})
		}
	}
	return issues
}
