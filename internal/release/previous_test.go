package release

import (
	"bytes"
	"context"
	"debug/elf"
	"os"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"testing"
)

// TestKeepPreviousSurvivesDownloadAndRestorePutsItBack installs an old binary,
// keeps it, downloads a new one over it and restores: the old bytes and tag
// are back and nothing is left behind.
func TestKeepPreviousSurvivesDownloadAndRestorePutsItBack(t *testing.T) {
	if goruntime.GOOS != "linux" {
		t.Skip("the fixtures are linux binaries")
	}
	gh := newFakeGitHub(t)
	newBin := tinyELF(elf.EM_X86_64)
	gh.addRelease("v6.9.0-0", []fakeAsset{linuxAsset(t, "v6.9.0-0", newBin)}, nil, true)
	opts := linuxOpts(t, gh, &recorder{})
	opts.Version = "v6.9.0-0"
	oldBin := []byte("#!/bin/sh\necho old\n")
	os.MkdirAll(filepath.Join(opts.RuntimeDir, "bin"), 0o755)
	os.WriteFile(BinaryPath(opts.RuntimeDir), oldBin, 0o755)
	os.WriteFile(VersionFilePath(opts.RuntimeDir), []byte(testTag+"\n"), 0o644)

	prev, err := KeepPrevious(opts.RuntimeDir)
	if err != nil || prev == nil || prev.Version != testTag {
		t.Fatalf("KeepPrevious = %+v, %v", prev, err)
	}
	if _, err := Download(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(BinaryPath(opts.RuntimeDir)); !bytes.Equal(got, newBin) {
		t.Fatal("the new binary was not installed")
	}
	if got, _ := os.ReadFile(prev.Path); !bytes.Equal(got, oldBin) {
		t.Fatal("the kept binary changed when the new one was installed")
	}
	if err := prev.Restore(); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(BinaryPath(opts.RuntimeDir)); !bytes.Equal(got, oldBin) {
		t.Fatal("Restore did not put the old binary back")
	}
	if v, _ := os.ReadFile(VersionFilePath(opts.RuntimeDir)); strings.TrimSpace(string(v)) != testTag {
		t.Fatalf("version file after Restore: %q", v)
	}
	assertNoTempFiles(t, opts.RuntimeDir)
}

func TestKeepPreviousWithNothingInstalledKeepsNothingAndDiscardRemovesTheCopy(t *testing.T) {
	rt := t.TempDir()
	if p, err := KeepPrevious(rt); p != nil || err != nil {
		t.Fatalf("nothing installed: %+v %v", p, err)
	}
	os.MkdirAll(filepath.Join(rt, "bin"), 0o755)
	os.WriteFile(BinaryPath(rt), []byte("bin"), 0o755)
	p, err := KeepPrevious(rt)
	if err != nil || p.Version != "" {
		t.Fatalf("%+v %v", p, err)
	}
	if err := p.Discard(); err != nil {
		t.Fatal(err)
	}
	assertNoTempFiles(t, rt)
	if _, err := os.Stat(BinaryPath(rt)); err != nil {
		t.Fatal("Discard removed the installed binary")
	}
}
