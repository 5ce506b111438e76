package clientkeys

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCreateStoresTheHashOnlyAndRefusesBadOrTakenNames(t *testing.T) {
	path := Path(filepath.Join(t.TempDir(), "secrets"))
	secret, k, err := Create(path, "alice", Limits{RPM: 3}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if k.Hash != Hash(secret) || !strings.HasPrefix(secret, Prefix) {
		t.Fatalf("%+v", k)
	}
	b, _ := os.ReadFile(path)
	if strings.Contains(string(b), secret[len(Prefix)+4:]) {
		t.Fatalf("the file holds the key: %s", b)
	}
	if fi, _ := os.Stat(filepath.Dir(path)); fi.Mode().Perm() != 0o700 {
		t.Fatalf("folder mode %v", fi.Mode().Perm())
	}
	if _, _, err := Create(path, "master_key", Limits{}, []string{"master_key"}); !errors.Is(err, ErrExists) || !strings.Contains(err.Error(), "general_settings already names a key master_key") {
		t.Fatalf("taken name: %v", err)
	}
	if _, _, err := Create(path, "bad name!", Limits{}, nil); err == nil || !strings.Contains(err.Error(), `key name "bad name!"`) {
		t.Fatalf("bad name: %v", err)
	}
	if err := Revoke(path, "bob"); !errors.Is(err, ErrUnknown) || !strings.Contains(err.Error(), "have: alice") {
		t.Fatalf("unknown: %v", err)
	}
}

func TestACorruptStoreSaysWhichFileAndWhatToDo(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	os.WriteFile(path, []byte("{not json"), 0o600)
	_, err := Load(path)
	if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "flowgate keys create NAME") {
		t.Fatalf("%v", err)
	}
}
