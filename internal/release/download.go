package release

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/flowgate/flowgate/internal/runtime"
)

// DownloadResult describes an installed binary. The CLI prints Lines() or the
// struct as JSON.
type DownloadResult struct {
	// Version is the resolved tag (also when "latest" was asked).
	Version string `json:"version"`
	// Asset is the archive that was installed from.
	Asset string `json:"asset"`
	// Path is the installed binary.
	Path string `json:"path"`
	// SHA256 is the archive's digest.
	SHA256 string `json:"sha256"`
	// Verified is false only when InsecureSkipVerify let an archive without a
	// checksums.txt entry through.
	Verified bool `json:"verified"`
	// VersionFile records Version.
	VersionFile string `json:"version_file"`
}

// Lines renders the result as the CLI's key=value lines.
func (r *DownloadResult) Lines() []string {
	return []string{
		"cliproxyapi_plus=" + r.Path,
		"version=" + r.Version,
		"asset=" + r.Asset,
		"sha256=" + r.SHA256,
		fmt.Sprintf("verified=%t", r.Verified),
	}
}

// Download resolves opts.Version, downloads the archive for opts.GOOS and
// opts.GOARCH, verifies its sha256 against checksums.txt, extracts
// cli-proxy-api-plus, checks it is an executable for the platform and renames
// it into BinaryPath(opts.RuntimeDir), then records the tag in
// VersionFilePath(opts.RuntimeDir). Any failure leaves the installed binary
// untouched. It emits bootstrap_download with result success or failed. The
// caller restarts cliproxyapi_plus when it was running.
func Download(ctx context.Context, opts Options) (*DownloadResult, error) {
	opts = opts.withDefaults()
	res, err := download(ctx, opts)
	ev := runtime.Event{Event: "bootstrap_download", Service: ServiceName}
	if err != nil {
		ev.Result, ev.Detail = "failed", err.Error()
		opts.Events.Emit(ev)
		return nil, err
	}
	ev.Result = "success"
	ev.Detail = fmt.Sprintf("version=%s asset=%s verified=%t", res.Version, res.Asset, res.Verified)
	opts.Events.Emit(ev)
	return res, nil
}

func download(ctx context.Context, opts Options) (*DownloadResult, error) {
	if opts.RuntimeDir == "" {
		return nil, errors.New("the runtime folder is not set")
	}
	binDir := filepath.Join(opts.RuntimeDir, "bin")
	if err := os.MkdirAll(binDir, 0o755); err != nil {
		return nil, fmt.Errorf("creating %s: %w", binDir, err)
	}
	rel, err := ResolveRelease(ctx, opts)
	if err != nil {
		return nil, err
	}
	name := AssetName(rel.TagName, opts.GOOS, opts.GOARCH)
	asset := findAsset(rel, name)
	if asset == nil {
		return nil, fmt.Errorf("release %s of %s has no archive for %s/%s (expected %s; it has: %s); %s",
			rel.TagName, opts.Repo, opts.GOOS, opts.GOARCH, name, assetNames(rel), opts.offlineHint())
	}

	wantSum, err := expectedChecksum(ctx, opts, rel, name)
	if err != nil {
		return nil, err
	}

	archive, err := os.CreateTemp(binDir, ".download-*-"+name)
	if err != nil {
		return nil, fmt.Errorf("creating temp file in %s: %w", binDir, err)
	}
	defer os.Remove(archive.Name())
	defer archive.Close()
	gotSum, err := fetchArchive(ctx, opts, asset, archive)
	if err != nil {
		return nil, err
	}
	verified := wantSum != ""
	if verified && gotSum != wantSum {
		return nil, fmt.Errorf("%s sha256 mismatch: checksums.txt says %s, the download is %s; refusing to install (retry the download; if it persists the mirror or release is corrupt)",
			name, wantSum, gotSum)
	}

	target := binaryPathFor(opts.RuntimeDir, opts.GOOS)
	tmp, err := os.CreateTemp(binDir, "."+filepath.Base(target)+".tmp-*")
	if err != nil {
		return nil, fmt.Errorf("creating temp file in %s: %w", binDir, err)
	}
	installed := false
	defer func() {
		if !installed {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	if err := extractBinary(archive.Name(), name, opts.GOOS, tmp); err != nil {
		return nil, err
	}
	if err := tmp.Chmod(0o755); err != nil {
		return nil, fmt.Errorf("setting mode of %s: %w", tmp.Name(), err)
	}
	if err := tmp.Sync(); err != nil {
		return nil, fmt.Errorf("syncing %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return nil, fmt.Errorf("closing %s: %w", tmp.Name(), err)
	}
	if err := checkExecutable(tmp.Name(), opts.GOOS, opts.GOARCH); err != nil {
		return nil, fmt.Errorf("refusing to install the binary from %s: %w", name, err)
	}
	// Renaming replaces the directory entry; a running CLIProxyAPIPlus keeps
	// its old inode until the caller restarts it.
	if err := os.Rename(tmp.Name(), target); err != nil {
		return nil, fmt.Errorf("installing %s: %w", target, err)
	}
	installed = true
	runtime.SyncDir(binDir)

	vfile := VersionFilePath(opts.RuntimeDir)
	if err := runtime.WriteFileAtomic(vfile, []byte(rel.TagName+"\n"), 0o644); err != nil {
		return nil, fmt.Errorf("recording the installed version (the binary is installed at %s): %w", target, err)
	}
	return &DownloadResult{
		Version:     rel.TagName,
		Asset:       name,
		Path:        target,
		SHA256:      gotSum,
		Verified:    verified,
		VersionFile: vfile,
	}, nil
}

func findAsset(rel *Release, name string) *Asset {
	for i := range rel.Assets {
		if rel.Assets[i].Name == name {
			return &rel.Assets[i]
		}
	}
	return nil
}

func assetNames(rel *Release) string {
	if len(rel.Assets) == 0 {
		return "no assets"
	}
	names := make([]string, len(rel.Assets))
	for i, a := range rel.Assets {
		names[i] = a.Name
	}
	return strings.Join(names, ", ")
}

// expectedChecksum returns the archive's digest from checksums.txt, or "" when
// InsecureSkipVerify allows going on without one.
func expectedChecksum(ctx context.Context, opts Options, rel *Release, name string) (string, error) {
	sumsAsset := findAsset(rel, checksumsAsset)
	if sumsAsset == nil {
		if opts.InsecureSkipVerify {
			return "", nil
		}
		return "", fmt.Errorf("release %s of %s has no %s, so %s cannot be verified; refusing to install (pass --insecure-skip-verify to install unverified)",
			rel.TagName, opts.Repo, checksumsAsset, name)
	}
	data, err := get(ctx, opts, sumsAsset.BrowserDownloadURL, 1<<20)
	if err != nil {
		return "", fmt.Errorf("downloading %s of %s: %w; %s", checksumsAsset, rel.TagName, err, opts.offlineHint())
	}
	sum, ok := parseChecksums(data)[name]
	if !ok {
		if opts.InsecureSkipVerify {
			return "", nil
		}
		return "", fmt.Errorf("%s of release %s has no entry for %s; refusing to install (pass --insecure-skip-verify to install unverified)",
			checksumsAsset, rel.TagName, name)
	}
	return sum, nil
}

func newGet(ctx context.Context, u string) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("User-Agent", userAgent)
	req.Header.Set("Accept", "application/octet-stream")
	return req, nil
}

// get fetches a small file into memory.
func get(ctx context.Context, opts Options, u string, limit int64) ([]byte, error) {
	req, err := newGet(ctx, u)
	if err != nil {
		return nil, err
	}
	resp, err := opts.HTTPClient.Do(req)
	if err != nil {
		return nil, unwrapURLError(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s answered %s", u, resp.Status)
	}
	return io.ReadAll(io.LimitReader(resp.Body, limit))
}

// fetchArchive streams the asset into dst and returns its sha256. A body
// shorter than announced (Content-Length or the release's size) is an error.
func fetchArchive(ctx context.Context, opts Options, asset *Asset, dst *os.File) (string, error) {
	req, err := newGet(ctx, asset.BrowserDownloadURL)
	if err != nil {
		return "", fmt.Errorf("downloading %s: %w", asset.Name, err)
	}
	resp, err := opts.HTTPClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("downloading %s: %w; %s", asset.Name, unwrapURLError(err), opts.offlineHint())
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("downloading %s: %s answered %s; %s", asset.Name, asset.BrowserDownloadURL, resp.Status, opts.offlineHint())
	}
	total := resp.ContentLength
	if total <= 0 {
		total = asset.Size
	}
	h := sha256.New()
	w := io.MultiWriter(dst, h)
	bar := newProgressBar(opts.Progress, asset.Name, total)
	if bar != nil {
		w = io.MultiWriter(dst, h, bar)
	}
	n, err := io.Copy(w, resp.Body)
	if bar != nil {
		bar.finish()
	}
	if err != nil {
		return "", fmt.Errorf("downloading %s: interrupted after %d bytes: %w; retry, or %s", asset.Name, n, err, opts.offlineHint())
	}
	if asset.Size > 0 && n != asset.Size {
		return "", fmt.Errorf("downloading %s: got %d bytes, the release says %d (truncated download); retry", asset.Name, n, asset.Size)
	}
	if err := dst.Sync(); err != nil {
		return "", fmt.Errorf("saving %s: %w", asset.Name, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
