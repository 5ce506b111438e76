package release

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	goruntime "runtime"
	"strings"
)

// Status describes the installed CLIProxyAPIPlus binary.
type Status struct {
	// Path is where the binary is expected.
	Path string `json:"path"`
	// Installed is true when a file exists at Path.
	Installed bool `json:"installed"`
	// Executable is true when it is an executable for this platform.
	Executable bool `json:"executable"`
	// Version is the recorded tag; "" when unknown (no version file, e.g. a
	// binary placed by hand).
	Version string `json:"version"`
	// Problem says why it is not usable and what to do; "" when it is.
	Problem string `json:"problem,omitempty"`
}

// Lines renders the status as the CLI's key=value lines.
func (s *Status) Lines() []string {
	v := s.Version
	if v == "" {
		v = "unknown"
	}
	lines := []string{
		"cliproxyapi_plus=" + s.Path,
		fmt.Sprintf("installed=%t", s.Installed),
		fmt.Sprintf("executable=%t", s.Executable),
		"version=" + v,
	}
	if s.Problem != "" {
		lines = append(lines, "problem="+s.Problem)
	}
	return lines
}

// InstalledStatus inspects BinaryPath(runtimeDir) and the version file. It
// does not touch the network and creates nothing.
func InstalledStatus(runtimeDir string) *Status {
	return installedStatus(runtimeDir, goruntime.GOOS, goruntime.GOARCH)
}

func installedStatus(runtimeDir, goos, goarch string) *Status {
	st := &Status{Path: binaryPathFor(runtimeDir, goos)}
	st.Version, _ = InstalledVersion(runtimeDir)
	fi, err := os.Stat(st.Path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		st.Problem = "not installed: run `flowgate bootstrap download`"
		return st
	case err != nil:
		st.Problem = err.Error()
		return st
	}
	st.Installed = true
	if !fi.Mode().IsRegular() {
		st.Problem = "not a regular file: remove it and run `flowgate bootstrap download`"
		return st
	}
	if !isExecutableMode(fi, goos) {
		st.Problem = "not executable: run `chmod 0755 " + st.Path + "` or `flowgate bootstrap download`"
		return st
	}
	if err := checkExecutable(st.Path, goos, goarch); err != nil {
		st.Problem = err.Error() + ": run `flowgate bootstrap download`"
		return st
	}
	st.Executable = true
	return st
}

// InstalledVersion reads the tag recorded by Download, "" when there is none.
func InstalledVersion(runtimeDir string) (string, error) {
	data, err := os.ReadFile(VersionFilePath(runtimeDir))
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("reading the installed CLIProxyAPIPlus version: %w", err)
	}
	return strings.TrimSpace(string(data)), nil
}
