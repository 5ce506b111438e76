package release

import (
	"context"
	"debug/elf"
	"os"
	"path/filepath"
	"testing"
)

func TestCompareVersionsOrdersNumericallyWithBuildSuffix(t *testing.T) {
	cases := []struct {
		a, b string
		want int
	}{
		{"v6.8.16-0", "v6.8.16-0", 0},
		{"v6.8.9-0", "v6.8.16-0", -1},
		{"v6.8.16-1", "v6.8.16-0", 1},
		{"v6.8.18-1", "v6.8.18-10", -1},
		{"v6.9.0-0", "v6.8.99-9", 1},
		{"6.8.16-0-plus", "v6.8.16-0", 0},
		{"v6.8.16", "v6.8.16-0", 0},
		{"v7.0.0", "v6.9.8-0", 1},
	}
	for _, c := range cases {
		got, err := CompareVersions(c.a, c.b)
		if err != nil || got != c.want {
			t.Errorf("CompareVersions(%s, %s) = %d, %v; want %d", c.a, c.b, got, err, c.want)
		}
	}
	for _, bad := range []string{"latest", "", "v6.x.1", "v6.8.16-beta"} {
		if _, err := CompareVersions(bad, "v6.8.16-0"); err == nil {
			t.Errorf("CompareVersions(%q) accepted", bad)
		}
	}
}

func TestCheckUpdateAndUpdateInstallNewerRelease(t *testing.T) {
	gh := newFakeGitHub(t)
	gh.latest = "v6.8.16-1"
	gh.addRelease("v6.8.16-1", []fakeAsset{linuxAsset(t, "v6.8.16-1", tinyELF(elf.EM_X86_64))}, nil, true)
	opts := linuxOpts(t, gh, nil)
	os.MkdirAll(opts.RuntimeDir, 0o755)
	os.WriteFile(filepath.Join(opts.RuntimeDir, VersionFileName), []byte("v6.8.16-0\n"), 0o644)

	check, err := CheckUpdate(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if !check.UpdateAvailable || check.Current != "v6.8.16-0" || check.Latest != "v6.8.16-1" {
		t.Fatalf("check %+v", check)
	}
	res, err := Update(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if res.Installed == nil || res.Installed.Version != "v6.8.16-1" {
		t.Fatalf("update %+v", res)
	}
	check, err = CheckUpdate(context.Background(), opts)
	if err != nil || check.UpdateAvailable {
		t.Fatalf("after update: %+v %v", check, err)
	}
	res, err = Update(context.Background(), opts)
	if err != nil || res.Installed != nil {
		t.Fatalf("an up-to-date install was reinstalled: %+v %v", res, err)
	}
}
