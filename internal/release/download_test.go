package release

import (
	"bytes"
	"context"
	"debug/elf"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"testing"
)

const testTag = "v6.8.16-0"

func linuxOpts(t *testing.T, gh *fakeGitHub, rec *recorder) Options {
	t.Helper()
	o := Options{
		RuntimeDir: filepath.Join(t.TempDir(), "runtime"),
		BaseURL:    gh.srv.URL,
		Token:      "test-token",
		GOOS:       "linux",
		GOARCH:     "amd64",
	}
	if rec != nil {
		o.Events = rec.emitter()
	}
	return o
}

func linuxAsset(t *testing.T, tag string, bin []byte) fakeAsset {
	return fakeAsset{name: AssetName(tag, "linux", "amd64"), data: releaseArchive(t, bin)}
}

func assertNoTempFiles(t *testing.T, runtimeDir string) {
	t.Helper()
	entries, _ := os.ReadDir(filepath.Join(runtimeDir, "bin"))
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("temp file left behind: %s", e.Name())
		}
	}
}

func TestDownloadInstallsVerifiedBinaryAndRecordsVersion(t *testing.T) {
	gh := newFakeGitHub(t)
	bin := tinyELF(elf.EM_X86_64)
	gh.addRelease(testTag, []fakeAsset{
		{name: AssetName(testTag, "linux", "arm64"), data: releaseArchive(t, tinyELF(elf.EM_AARCH64))},
		linuxAsset(t, testTag, bin),
		{name: AssetName(testTag, "darwin", "amd64"), data: []byte("not this one")},
	}, nil, true)
	rec := &recorder{}
	opts := linuxOpts(t, gh, rec)
	opts.Version = testTag

	res, err := Download(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	wantPath := filepath.Join(opts.RuntimeDir, "bin", "CLIProxyAPIPlus")
	if res.Path != wantPath || res.Version != testTag || !res.Verified || res.Asset != "CLIProxyAPIPlus_6.8.16-0_linux_amd64.tar.gz" {
		t.Fatalf("unexpected result %+v", res)
	}
	got, err := os.ReadFile(wantPath)
	if err != nil || !bytes.Equal(got, bin) {
		t.Fatalf("installed binary differs from the archive member (err=%v)", err)
	}
	fi, _ := os.Stat(wantPath)
	if fi.Mode().Perm() != 0o755 {
		t.Errorf("mode %v, want 0755", fi.Mode().Perm())
	}
	v, _ := os.ReadFile(VersionFilePath(opts.RuntimeDir))
	if strings.TrimSpace(string(v)) != testTag {
		t.Errorf("version file holds %q", v)
	}
	if gh.auth[0] != "Bearer test-token" {
		t.Errorf("API saw Authorization %q", gh.auth[0])
	}
	assertNoTempFiles(t, opts.RuntimeDir)
	evs := rec.all()
	if len(evs) != 1 || evs[0].Event != "bootstrap_download" || evs[0].Result != "success" || !strings.Contains(evs[0].Detail, testTag) {
		t.Errorf("events %+v", evs)
	}
	st := installedStatus(opts.RuntimeDir, "linux", "amd64")
	if !st.Installed || !st.Executable || st.Version != testTag || st.Problem != "" {
		t.Errorf("status after install %+v", st)
	}
	if goruntime.GOOS == "linux" && goruntime.GOARCH == "amd64" {
		if err := exec.Command(wantPath).Run(); err != nil {
			t.Errorf("installed fixture does not run: %v", err)
		}
	}
}

func TestDownloadLatestRecordsResolvedTag(t *testing.T) {
	gh := newFakeGitHub(t)
	gh.latest = "v6.8.28-1"
	gh.addRelease("v6.8.28-1", []fakeAsset{linuxAsset(t, "v6.8.28-1", tinyELF(elf.EM_X86_64))}, nil, true)
	opts := linuxOpts(t, gh, nil)
	opts.Version = "latest"
	res, err := Download(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if res.Version != "v6.8.28-1" {
		t.Errorf("version %q", res.Version)
	}
	if v, _ := InstalledVersion(opts.RuntimeDir); v != "v6.8.28-1" {
		t.Errorf("recorded %q, want the resolved tag", v)
	}
}

// installGood puts a known binary in place so that failure tests can check it
// is left untouched.
func installGood(t *testing.T, opts Options) []byte {
	t.Helper()
	good := []byte("previous binary")
	bin := filepath.Join(opts.RuntimeDir, "bin")
	os.MkdirAll(bin, 0o755)
	if err := os.WriteFile(filepath.Join(bin, "CLIProxyAPIPlus"), good, 0o755); err != nil {
		t.Fatal(err)
	}
	return good
}

func assertUntouched(t *testing.T, opts Options, good []byte) {
	t.Helper()
	got, _ := os.ReadFile(filepath.Join(opts.RuntimeDir, "bin", "CLIProxyAPIPlus"))
	if !bytes.Equal(got, good) {
		t.Error("the installed binary was replaced by a failed download")
	}
	if _, err := os.Stat(VersionFilePath(opts.RuntimeDir)); err == nil {
		t.Error("a version was recorded for a failed download")
	}
	assertNoTempFiles(t, opts.RuntimeDir)
}

func TestDownloadRefusesChecksumMismatch(t *testing.T) {
	gh := newFakeGitHub(t)
	a := linuxAsset(t, testTag, tinyELF(elf.EM_X86_64))
	gh.addRelease(testTag, []fakeAsset{a}, map[string]string{a.name: strings.Repeat("ab", 32)}, true)
	rec := &recorder{}
	opts := linuxOpts(t, gh, rec)
	opts.InsecureSkipVerify = true // a present, different checksum is refused regardless
	good := installGood(t, opts)

	_, err := Download(context.Background(), opts)
	if err == nil || !strings.Contains(err.Error(), "sha256 mismatch") {
		t.Fatalf("want sha256 mismatch, got %v", err)
	}
	assertUntouched(t, opts, good)
	if evs := rec.all(); len(evs) != 1 || evs[0].Result != "failed" || !strings.Contains(evs[0].Detail, "mismatch") {
		t.Errorf("events %+v", evs)
	}
}

func TestDownloadRefusesMissingChecksumEntryUnlessInsecure(t *testing.T) {
	gh := newFakeGitHub(t)
	a := linuxAsset(t, testTag, tinyELF(elf.EM_X86_64))
	gh.addRelease(testTag, []fakeAsset{a}, map[string]string{a.name: ""}, true)
	opts := linuxOpts(t, gh, nil)
	good := installGood(t, opts)

	_, err := Download(context.Background(), opts)
	if err == nil || !strings.Contains(err.Error(), "no entry for "+a.name) || !strings.Contains(err.Error(), "--insecure-skip-verify") {
		t.Fatalf("want missing-entry refusal, got %v", err)
	}
	assertUntouched(t, opts, good)

	opts.InsecureSkipVerify = true
	res, err := Download(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if res.Verified {
		t.Error("an unverified install reports verified=true")
	}
}

func TestDownloadRefusesReleaseWithoutChecksumsFile(t *testing.T) {
	gh := newFakeGitHub(t)
	gh.addRelease(testTag, []fakeAsset{linuxAsset(t, testTag, tinyELF(elf.EM_X86_64))}, nil, false)
	opts := linuxOpts(t, gh, nil)
	_, err := Download(context.Background(), opts)
	if err == nil || !strings.Contains(err.Error(), "has no checksums.txt") {
		t.Fatalf("want refusal, got %v", err)
	}
}

func TestDownloadRefusesReleaseWithOnlyWrongArchitecture(t *testing.T) {
	gh := newFakeGitHub(t)
	gh.addRelease(testTag, []fakeAsset{
		{name: AssetName(testTag, "linux", "arm64"), data: releaseArchive(t, tinyELF(elf.EM_AARCH64))},
		{name: AssetName(testTag, "darwin", "amd64"), data: []byte("mach-o")},
	}, nil, true)
	opts := linuxOpts(t, gh, nil)
	good := installGood(t, opts)
	_, err := Download(context.Background(), opts)
	if err == nil || !strings.Contains(err.Error(), "no archive for linux/amd64") ||
		!strings.Contains(err.Error(), "CLIProxyAPIPlus_6.8.16-0_linux_amd64.tar.gz") {
		t.Fatalf("want no-archive error, got %v", err)
	}
	if gh.hits["/download/"+testTag+"/"+AssetName(testTag, "linux", "arm64")] != 0 {
		t.Error("the wrong-architecture archive was downloaded")
	}
	assertUntouched(t, opts, good)
}

func TestDownloadRefusesBinaryForAnotherMachine(t *testing.T) {
	gh := newFakeGitHub(t)
	// Named for amd64, but the member is an arm64 executable.
	gh.addRelease(testTag, []fakeAsset{linuxAsset(t, testTag, tinyELF(elf.EM_AARCH64))}, nil, true)
	opts := linuxOpts(t, gh, nil)
	good := installGood(t, opts)
	_, err := Download(context.Background(), opts)
	if err == nil || !strings.Contains(err.Error(), "for arm64, not for linux/amd64") {
		t.Fatalf("want machine mismatch, got %v", err)
	}
	assertUntouched(t, opts, good)
}

func TestDownloadNeverFallsBackToAnotherArchiveMember(t *testing.T) {
	gh := newFakeGitHub(t)
	archive := tarGz(t,
		member{"LICENSE", []byte("MIT"), 0o755},
		member{"cliproxyapi", tinyELF(elf.EM_X86_64), 0o755},
	)
	gh.addRelease(testTag, []fakeAsset{{name: AssetName(testTag, "linux", "amd64"), data: archive}}, nil, true)
	opts := linuxOpts(t, gh, nil)
	good := installGood(t, opts)
	_, err := Download(context.Background(), opts)
	if err == nil || !strings.Contains(err.Error(), "has no cli-proxy-api-plus (it holds: LICENSE, cliproxyapi)") {
		t.Fatalf("want missing member error, got %v", err)
	}
	assertUntouched(t, opts, good)
}

func TestDownloadRejectsTruncatedArchive(t *testing.T) {
	gh := newFakeGitHub(t)
	a := linuxAsset(t, testTag, tinyELF(elf.EM_X86_64))
	a.truncate = len(a.data) / 2
	gh.addRelease(testTag, []fakeAsset{a}, nil, true)
	opts := linuxOpts(t, gh, nil)
	opts.InsecureSkipVerify = true // the length check alone must catch it
	good := installGood(t, opts)
	_, err := Download(context.Background(), opts)
	if err == nil || !strings.Contains(err.Error(), "downloading "+a.name) {
		t.Fatalf("want a truncated download error, got %v", err)
	}
	assertUntouched(t, opts, good)
}

func TestDownloadReplacesRunningBinaryByRename(t *testing.T) {
	gh := newFakeGitHub(t)
	gh.addRelease(testTag, []fakeAsset{linuxAsset(t, testTag, tinyELF(elf.EM_X86_64))}, nil, true)
	opts := linuxOpts(t, gh, nil)
	good := installGood(t, opts)
	// An open descriptor stands in for the running process's mapping.
	running, err := os.Open(filepath.Join(opts.RuntimeDir, "bin", "CLIProxyAPIPlus"))
	if err != nil {
		t.Fatal(err)
	}
	defer running.Close()
	if _, err := Download(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	n, _ := running.ReadAt(buf, 0)
	if !bytes.Equal(buf[:n], good) {
		t.Errorf("the old inode was written in place: %q", buf[:n])
	}
}

func TestDownloadUnknownTagSaysWhatToCheck(t *testing.T) {
	gh := newFakeGitHub(t)
	opts := linuxOpts(t, gh, nil)
	opts.Version = "v9.9.9-9"
	_, err := Download(context.Background(), opts)
	if err == nil || !strings.Contains(err.Error(), "v9.9.9-9") || !strings.Contains(err.Error(), "--cliproxy-version") {
		t.Fatalf("got %v", err)
	}
}

func TestDownloadOfflineSaysUseMirrorOrPlaceByHand(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	rec := &recorder{}
	opts := Options{RuntimeDir: t.TempDir(), BaseURL: "http://" + addr, GOOS: "linux", GOARCH: "amd64", Events: rec.emitter()}
	_, err = Download(context.Background(), opts)
	if err == nil {
		t.Fatal("want an error")
	}
	for _, want := range []string{"--base-url", filepath.Join(opts.RuntimeDir, "bin", "CLIProxyAPIPlus"), "connection refused"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if evs := rec.all(); len(evs) != 1 || evs[0].Result != "failed" {
		t.Errorf("events %+v", evs)
	}
}

func TestExtractBinaryFromWindowsZip(t *testing.T) {
	pe := []byte("MZ pretend")
	data := zipArchive(t, member{name: "LICENSE", data: []byte("MIT")}, member{name: "cli-proxy-api-plus.exe", data: pe})
	p := filepath.Join(t.TempDir(), "a.zip")
	os.WriteFile(p, data, 0o600)
	var out bytes.Buffer
	if err := extractBinary(p, AssetName(testTag, "windows", "amd64"), "windows", &out); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out.Bytes(), pe) {
		t.Errorf("extracted %q", out.Bytes())
	}
}

func TestAssetNameFollowsGoreleaser(t *testing.T) {
	cases := map[[3]string]string{
		{"v6.8.16-0", "linux", "amd64"}:   "CLIProxyAPIPlus_6.8.16-0_linux_amd64.tar.gz",
		{"v6.8.16-0", "darwin", "arm64"}:  "CLIProxyAPIPlus_6.8.16-0_darwin_arm64.tar.gz",
		{"v6.8.16-0", "windows", "amd64"}: "CLIProxyAPIPlus_6.8.16-0_windows_amd64.zip",
	}
	for in, want := range cases {
		if got := AssetName(in[0], in[1], in[2]); got != want {
			t.Errorf("AssetName%v = %s, want %s", in, got, want)
		}
	}
}

func TestInstalledStatusReportsMissingAndNonExecutable(t *testing.T) {
	dir := t.TempDir()
	st := installedStatus(dir, "linux", "amd64")
	if st.Installed || st.Executable || !strings.Contains(st.Problem, "flowgate bootstrap download") {
		t.Errorf("missing: %+v", st)
	}
	os.MkdirAll(filepath.Join(dir, "bin"), 0o755)
	os.WriteFile(filepath.Join(dir, "bin", "CLIProxyAPIPlus"), []byte("LICENSE text"), 0o755)
	st = installedStatus(dir, "linux", "amd64")
	if !st.Installed || st.Executable || !strings.Contains(st.Problem, "not an ELF") {
		t.Errorf("garbage: %+v", st)
	}
	if lines := strings.Join(st.Lines(), "\n"); !strings.Contains(lines, "version=unknown") || !strings.Contains(lines, "executable=false") {
		t.Errorf("lines %s", lines)
	}
}
