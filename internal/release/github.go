package release

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// Release is the part of a GitHub release FlowGate uses.
type Release struct {
	// TagName is the resolved tag, e.g. v6.8.16-0 (also when "latest" was asked).
	TagName string `json:"tag_name"`
	// HTMLURL is the release page.
	HTMLURL string `json:"html_url"`
	// Assets are the downloadable files.
	Assets []Asset `json:"assets"`
}

// Asset is one downloadable file of a release.
type Asset struct {
	Name string `json:"name"`
	// Size is the byte size GitHub reports; 0 when the mirror does not say.
	Size int64 `json:"size"`
	// BrowserDownloadURL is where the file is fetched from.
	BrowserDownloadURL string `json:"browser_download_url"`
}

// ResolveRelease fetches the release metadata for opts.Version ("latest" or a
// tag) of opts.Repo from the GitHub API at opts.BaseURL.
func ResolveRelease(ctx context.Context, opts Options) (*Release, error) {
	opts = opts.withDefaults()
	endpoint := opts.BaseURL + "/repos/" + opts.Repo + "/releases/latest"
	if opts.Version != "latest" {
		endpoint = opts.BaseURL + "/repos/" + opts.Repo + "/releases/tags/" + url.PathEscape(opts.Version)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, endpoint, nil)
	if err != nil {
		return nil, fmt.Errorf("resolving release: %w", err)
	}
	req.Header.Set("Accept", "application/vnd.github+json")
	req.Header.Set("X-GitHub-Api-Version", "2022-11-28")
	req.Header.Set("User-Agent", userAgent)
	if opts.Token != "" {
		req.Header.Set("Authorization", "Bearer "+opts.Token)
	}
	resp, err := opts.HTTPClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("resolving release %s of %s from %s: %w; %s",
			opts.Version, opts.Repo, opts.BaseURL, unwrapURLError(err), opts.offlineHint())
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return nil, fmt.Errorf("reading release %s of %s from %s: %w; %s",
			opts.Version, opts.Repo, opts.BaseURL, err, opts.offlineHint())
	}
	switch {
	case resp.StatusCode == http.StatusNotFound:
		what := "release " + opts.Version
		if opts.Version == "latest" {
			what = "a latest release"
		}
		return nil, fmt.Errorf("%s of %s not found at %s (404): check --cliproxy-version and --cliproxy-repo (tags look like %s)",
			what, opts.Repo, opts.BaseURL, DefaultVersion)
	case (resp.StatusCode == http.StatusForbidden || resp.StatusCode == http.StatusTooManyRequests) &&
		(resp.Header.Get("X-RateLimit-Remaining") == "0" || strings.Contains(strings.ToLower(string(body)), "rate limit")):
		hint := "set GITHUB_TOKEN to raise the limit, or wait and retry"
		if opts.Token != "" {
			hint = "wait and retry"
		}
		return nil, fmt.Errorf("resolving release %s of %s: GitHub API rate limit exceeded (%s): %s; or %s",
			opts.Version, opts.Repo, resp.Status, hint, opts.offlineHint())
	case resp.StatusCode == http.StatusUnauthorized:
		return nil, fmt.Errorf("resolving release %s of %s: the GitHub API rejected GITHUB_TOKEN (%s): unset it or use a valid token",
			opts.Version, opts.Repo, resp.Status)
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("resolving release %s of %s from %s: unexpected %s: %s; %s",
			opts.Version, opts.Repo, opts.BaseURL, resp.Status, snippet(body), opts.offlineHint())
	}
	var rel Release
	if err := json.Unmarshal(body, &rel); err != nil {
		return nil, fmt.Errorf("resolving release %s of %s: the answer from %s is not release JSON: %w",
			opts.Version, opts.Repo, opts.BaseURL, err)
	}
	if rel.TagName == "" {
		return nil, fmt.Errorf("resolving release %s of %s: the answer from %s has no tag_name", opts.Version, opts.Repo, opts.BaseURL)
	}
	return &rel, nil
}

// unwrapURLError drops the "Get "https://...": " prefix that repeats the URL.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

func snippet(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return s
}
