package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestKeysCreateListRevokeStoreOnlyTheHashAndPrintTheKeyOnce(t *testing.T) {
	cfg := project(t)
	r := runCLI(t, "--config", cfg, "keys", "create", "alice", "--rpm", "5", "--budget", "2.5")
	if r.code != 0 {
		t.Fatalf("create: %+v", r)
	}
	key := strings.TrimSpace(r.stdout)
	if !strings.HasPrefix(key, "fgk_") || len(key) < 40 || !strings.Contains(r.stderr, "only time it is shown") {
		t.Fatalf("create printed %q / %q", r.stdout, r.stderr)
	}
	file := filepath.Join(filepath.Dir(filepath.Dir(cfg)), ".router", "secrets", "client_keys.json")
	fi, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v", fi.Mode().Perm())
	}
	b, _ := os.ReadFile(file)
	if strings.Contains(string(b), key) || strings.Contains(string(b), key[8:]) {
		t.Fatalf("the store holds the key: %s", b)
	}

	r = runCLI(t, "--config", cfg, "--json", "keys", "list")
	var rows []keyRow
	if err := json.Unmarshal([]byte(r.stdout), &rows); err != nil || r.code != 0 {
		t.Fatalf("list: %v %+v", err, r)
	}
	var alice *keyRow
	for i := range rows {
		if rows[i].Name == "alice" {
			alice = &rows[i]
		}
	}
	if alice == nil || alice.Source != "store" || alice.RPM != 5 || alice.BudgetUSD != 2.5 || strings.Contains(r.stdout, key) {
		t.Fatalf("list: %s", r.stdout)
	}
	if r := runCLI(t, "--config", cfg, "keys", "create", "alice"); r.code != ExitUsage || !strings.Contains(r.stderr, "a key named alice exists") {
		t.Fatalf("second create: %+v", r)
	}
	if r := runCLI(t, "--config", cfg, "keys", "create", "bob", "--aliases", "no-such-alias"); r.code != ExitUsage || !strings.Contains(r.stderr, `--aliases: "no-such-alias" is not a model alias`) {
		t.Fatalf("bad alias: %+v", r)
	}
	if r := runCLI(t, "--config", cfg, "keys", "revoke", "alice"); r.code != 0 {
		t.Fatalf("revoke: %+v", r)
	}
	r = runCLI(t, "--config", cfg, "keys", "revoke", "alice")
	if r.code != ExitUsage || !strings.Contains(r.stderr, `unknown key "alice"`) || !strings.Contains(r.stderr, "flowgate keys list") {
		t.Fatalf("revoking an unknown key: %+v", r)
	}
}
