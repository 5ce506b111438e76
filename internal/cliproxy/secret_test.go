package cliproxy

import (
	"os"
	"path/filepath"
	"sync"
	"testing"
)

func TestEnsureManagementPasswordGeneratesOnceAt0600(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "secrets")
	pw, err := EnsureManagementPassword(dir)
	if err != nil || len(pw) < 32 {
		t.Fatalf("%q %v", pw, err)
	}
	fi, _ := os.Stat(filepath.Join(dir, ManagementPasswordFile))
	di, _ := os.Stat(dir)
	if fi.Mode().Perm() != 0o600 || di.Mode().Perm() != 0o700 {
		t.Errorf("modes file %v dir %v", fi.Mode().Perm(), di.Mode().Perm())
	}
	again, err := EnsureManagementPassword(dir)
	if err != nil || again != pw {
		t.Errorf("second call gave %q, %v", again, err)
	}
}

func TestEnsureManagementPasswordConcurrentCallersAgree(t *testing.T) {
	dir := t.TempDir()
	var wg sync.WaitGroup
	got := make([]string, 8)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i], _ = EnsureManagementPassword(dir)
		}()
	}
	wg.Wait()
	for _, pw := range got {
		if pw == "" || pw != got[0] {
			t.Fatalf("callers disagree: %q", got)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("%d entries left in the secrets folder", len(entries))
	}
}

func TestEnsureManagementPasswordTightensLooseMode(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, ManagementPasswordFile)
	os.WriteFile(p, []byte("existing\n"), 0o644)
	pw, err := EnsureManagementPassword(dir)
	if err != nil || pw != "existing" {
		t.Fatalf("%q %v", pw, err)
	}
	if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v", fi.Mode().Perm())
	}
}
