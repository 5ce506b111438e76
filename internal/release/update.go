package release

import (
	"context"
	"fmt"
)

// UpdateCheck compares the installed tag with the latest release.
type UpdateCheck struct {
	// Current is the installed tag; "" when unknown.
	Current string `json:"current"`
	// Latest is the newest release's tag.
	Latest string `json:"latest"`
	// ReleaseURL is the release page.
	ReleaseURL string `json:"release_url"`
	// UpdateAvailable is true when Latest is newer than Current, or Current is
	// unknown.
	UpdateAvailable bool `json:"update_available"`
}

// Lines renders the check as the CLI's key=value lines.
func (c *UpdateCheck) Lines() []string {
	cur := c.Current
	if cur == "" {
		cur = "unknown"
	}
	return []string{
		"current=" + cur,
		"latest=" + c.Latest,
		fmt.Sprintf("update_available=%t", c.UpdateAvailable),
		"release=" + c.ReleaseURL,
	}
}

// CheckUpdate resolves the latest release of opts.Repo (opts.Version is
// ignored) and compares it with the installed tag, numerically including the
// -N suffix. To install, call Download with opts.Version = check.Latest.
func CheckUpdate(ctx context.Context, opts Options) (*UpdateCheck, error) {
	opts = opts.withDefaults()
	opts.Version = "latest"
	current, err := InstalledVersion(opts.RuntimeDir)
	if err != nil {
		return nil, err
	}
	rel, err := ResolveRelease(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("checking for a CLIProxyAPIPlus update: %w", err)
	}
	check := &UpdateCheck{Current: current, Latest: rel.TagName, ReleaseURL: rel.HTMLURL}
	if current == "" {
		check.UpdateAvailable = true
		return check, nil
	}
	cmp, err := CompareVersions(rel.TagName, current)
	if err != nil {
		return nil, fmt.Errorf("checking for a CLIProxyAPIPlus update: %w", err)
	}
	check.UpdateAvailable = cmp > 0
	return check, nil
}

// UpdateResult is what Update did.
type UpdateResult struct {
	UpdateCheck
	// Installed is set when a new binary was installed.
	Installed *DownloadResult `json:"installed,omitempty"`
}

// Update checks for a newer release and installs it when there is one. The
// caller confirms with the user first (CheckUpdate) and restarts
// cliproxyapi_plus afterwards when it was running.
func Update(ctx context.Context, opts Options) (*UpdateResult, error) {
	check, err := CheckUpdate(ctx, opts)
	if err != nil {
		return nil, err
	}
	res := &UpdateResult{UpdateCheck: *check}
	if !check.UpdateAvailable {
		return res, nil
	}
	opts.Version = check.Latest
	installed, err := Download(ctx, opts)
	if err != nil {
		return nil, err
	}
	res.Installed = installed
	return res, nil
}
