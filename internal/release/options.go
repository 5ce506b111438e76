// Package release installs and updates the CLIProxyAPIPlus binary: it resolves
// a GitHub release, picks the archive for this OS and architecture, verifies
// it against the release's checksums.txt, extracts cli-proxy-api-plus, checks
// that it is an executable for this platform and renames it into
// <runtime>/bin/CLIProxyAPIPlus. A running binary is never overwritten in
// place, and nothing is installed that has not been verified.
package release

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"time"

	"github.com/flowgate/flowgate/internal/runtime"
)

const (
	// DefaultRepo is the GitHub repository CLIProxyAPIPlus is released from.
	DefaultRepo = "router-for-me/CLIProxyAPIPlus"
	// DefaultVersion is the pinned, tested CLIProxyAPIPlus tag.
	DefaultVersion = "v6.8.16-0"
	// DefaultBaseURL is the GitHub API.
	DefaultBaseURL = "https://api.github.com"
	// ServiceName is the supervised service the binary belongs to.
	ServiceName = "cliproxyapi_plus"
	// VersionFileName holds the installed tag, in the runtime folder.
	VersionFileName = "cliproxyapiplus.version"

	binaryBaseName = "CLIProxyAPIPlus"
	userAgent      = "flowgate-bootstrap"
)

// Options say what to install and where. Zero values take the defaults noted
// on each field.
type Options struct {
	// RuntimeDir is the .router/runtime folder; the binary goes to
	// RuntimeDir/bin/CLIProxyAPIPlus and the tag to
	// RuntimeDir/cliproxyapiplus.version. Required.
	RuntimeDir string
	// Repo is OWNER/NAME. Default DefaultRepo.
	Repo string
	// Version is a tag such as v6.8.16-0, or "latest". Default DefaultVersion.
	Version string
	// BaseURL is the GitHub API root, overridable for mirrors and tests.
	// Default DefaultBaseURL.
	BaseURL string
	// Token is sent to the API as "Authorization: Bearer". Default: the
	// GITHUB_TOKEN environment variable. It is sent only to BaseURL's host.
	Token string
	// InsecureSkipVerify installs even when checksums.txt is missing or has no
	// entry for the archive. A checksum that is present and differs is always
	// refused. Default false.
	InsecureSkipVerify bool
	// GOOS and GOARCH select the platform. Default: this binary's platform.
	GOOS, GOARCH string
	// HTTPClient does the requests. Default: a client with a 10 minute
	// overall timeout.
	HTTPClient *http.Client
	// Progress receives a progress bar when it is a terminal; otherwise
	// nothing is written to it. Nil means quiet.
	Progress io.Writer
	// Events receives bootstrap_download. Nil drops events.
	Events runtime.Emitter
}

func (o Options) withDefaults() Options {
	if o.Repo == "" {
		o.Repo = DefaultRepo
	}
	o.Repo = strings.Trim(o.Repo, "/")
	if o.Version == "" {
		o.Version = DefaultVersion
	}
	if strings.EqualFold(o.Version, "latest") {
		o.Version = "latest"
	}
	if o.BaseURL == "" {
		o.BaseURL = DefaultBaseURL
	}
	o.BaseURL = strings.TrimRight(o.BaseURL, "/")
	if o.Token == "" {
		o.Token = strings.TrimSpace(os.Getenv("GITHUB_TOKEN"))
	}
	if o.GOOS == "" {
		o.GOOS = goruntime.GOOS
	}
	if o.GOARCH == "" {
		o.GOARCH = goruntime.GOARCH
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: 10 * time.Minute}
	}
	return o
}

// offlineHint is the "what to do" part of every network error.
func (o Options) offlineHint() string {
	return "if this machine is offline, set --base-url to a GitHub API mirror, or place the binary by hand at " +
		binaryPathFor(o.RuntimeDir, o.GOOS) + " (mode 0755) and write its tag to " + VersionFilePath(o.RuntimeDir)
}

// BinaryPath is where the CLIProxyAPIPlus binary is installed for this
// platform: <runtimeDir>/bin/CLIProxyAPIPlus (.exe on Windows).
func BinaryPath(runtimeDir string) string {
	return binaryPathFor(runtimeDir, goruntime.GOOS)
}

func binaryPathFor(runtimeDir, goos string) string {
	name := binaryBaseName
	if goos == "windows" {
		name += ".exe"
	}
	return filepath.Join(runtimeDir, "bin", name)
}

// VersionFilePath is <runtimeDir>/cliproxyapiplus.version.
func VersionFilePath(runtimeDir string) string {
	return filepath.Join(runtimeDir, VersionFileName)
}

// AssetName is the release archive for a tag and platform, as goreleaser names
// it: CLIProxyAPIPlus_<tag without v>_<os>_<arch>.tar.gz (.zip on windows).
func AssetName(tag, goos, goarch string) string {
	ext := ".tar.gz"
	if goos == "windows" {
		ext = ".zip"
	}
	return binaryBaseName + "_" + strings.TrimPrefix(tag, "v") + "_" + goos + "_" + goarch + ext
}

// archiveMember is the binary's name inside the release archive.
func archiveMember(goos string) string {
	if goos == "windows" {
		return "cli-proxy-api-plus.exe"
	}
	return "cli-proxy-api-plus"
}
