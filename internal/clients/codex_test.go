package clients

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/pelletier/go-toml/v2"
)

func testSpec() Spec {
	return Spec{GatewayURL: "http://0.0.0.0:4000/", DefaultModel: "router-default", FastModel: "router-fast", Aliases: []string{"router-default", "router-fast"}}
}

func TestPrintCodexIsTheEightLineSnippet(t *testing.T) {
	got := PrintCodex(Spec{})
	want := `model_provider = "flowgate"
model = "router-default"

[model_providers.flowgate]
name = "FlowGate Local"
base_url = "http://127.0.0.1:4000/v1"
env_key = "OPENAI_API_KEY"
wire_api = "responses"
`
	if got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
	got = PrintCodex(Spec{GatewayURL: "http://[::]:4100", DefaultModel: `we"ird`, EnvKey: "FLOWGATE_KEY"})
	for _, s := range []string{`model = "we\"ird"`, `base_url = "http://[::1]:4100/v1"`, `env_key = "FLOWGATE_KEY"`} {
		if !strings.Contains(got, s) {
			t.Errorf("missing %q in\n%s", s, got)
		}
	}
	var doc map[string]any
	if err := toml.Unmarshal([]byte(got), &doc); err != nil {
		t.Fatal(err)
	}
}

func TestGatewayURLForRewritesWildcardAndBracketsIPv6(t *testing.T) {
	cases := map[string]string{
		"0.0.0.0":   "http://127.0.0.1:4000",
		"":          "http://127.0.0.1:4000",
		"::":        "http://[::1]:4000",
		"::1":       "http://[::1]:4000",
		"10.0.0.2":  "http://10.0.0.2:4000",
		"localhost": "http://localhost:4000",
	}
	for host, want := range cases {
		if got := GatewayURLFor(host, 4000); got != want {
			t.Errorf("GatewayURLFor(%q) = %q, want %q", host, got, want)
		}
	}
	for in, want := range map[string]string{
		"http://127.0.0.1:4000/v1/": "http://127.0.0.1:4000",
		"127.0.0.1:4000":            "http://127.0.0.1:4000",
		"https://gw.example/base/":  "https://gw.example/base",
		"http://0.0.0.0:4000":       "http://127.0.0.1:4000",
	} {
		got, err := NormalizeGatewayURL(in)
		if err != nil || got != want {
			t.Errorf("NormalizeGatewayURL(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := NormalizeGatewayURL("ftp://x"); err == nil {
		t.Error("ftp scheme accepted")
	}
}

func TestCheckModelsWarnsAboutUnknownAliases(t *testing.T) {
	if w := CheckModels(testSpec()); len(w) != 0 {
		t.Fatalf("unexpected warnings %v", w)
	}
	s := testSpec()
	s.HaikuModel = "router-cheap"
	w := CheckModels(s)
	if len(w) != 1 || !strings.Contains(w[0], "integration.haiku_model") || !strings.Contains(w[0], `"router-cheap"`) {
		t.Fatalf("warnings %v", w)
	}
	s.Aliases = nil
	if CheckModels(s) != nil {
		t.Fatal("nil aliases must disable the check")
	}
}

const codexExisting = `# my codex config
model = "gpt-5"            # the model I like
model_provider = "azure"
approval_policy = "never"

[model_providers.azure]
name = "Azure"
base_url = "https://example.openai.azure.com/openai"
env_key = "AZURE_OPENAI_API_KEY"
wire_api = "responses"
query_params = { api-version = "2025-04-01-preview" }

[profiles.work]
model_provider = "azure"
model = "gpt-5-codex"

[profiles.local]
model_provider = "ollama" # stays

[mcp_servers.docs]
command = "npx"
args = ["-y", "docs-mcp"]
env = { TOKEN = "abc" }

[mcp_servers.docs.tools]
enabled = true
`

func readTOML(t *testing.T, path string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]any{}
	if err := toml.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: %v\n%s", path, err, b)
	}
	return m
}

func TestApplyCodexKeepsOtherProvidersProfilesAndMCPServers(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(path, []byte(codexExisting), 0o640); err != nil {
		t.Fatal(err)
	}
	before := readTOML(t, path)
	res, err := ApplyCodex(path, testSpec(), false)
	if err != nil {
		t.Fatal(err)
	}
	after := readTOML(t, path)
	if after["model_provider"] != "flowgate" || after["model"] != "router-default" {
		t.Fatalf("top-level not set: %v %v", after["model_provider"], after["model"])
	}
	fg := after["model_providers"].(map[string]any)["flowgate"].(map[string]any)
	want := map[string]any{"name": "FlowGate Local", "base_url": "http://127.0.0.1:4000/v1", "env_key": "OPENAI_API_KEY", "wire_api": "responses"}
	if !reflect.DeepEqual(fg, want) {
		t.Fatalf("flowgate provider = %v", fg)
	}
	for _, k := range []string{"profiles", "mcp_servers", "approval_policy"} {
		if !reflect.DeepEqual(before[k], after[k]) {
			t.Errorf("%s changed: %v -> %v", k, before[k], after[k])
		}
	}
	if !reflect.DeepEqual(before["model_providers"].(map[string]any)["azure"], after["model_providers"].(map[string]any)["azure"]) {
		t.Error("azure provider changed")
	}
	text, _ := os.ReadFile(path)
	for _, s := range []string{"# my codex config", "# the model I like", "# stays", "[profiles.work]\nmodel_provider = \"azure\""} {
		if !strings.Contains(string(text), s) {
			t.Errorf("lost %q:\n%s", s, text)
		}
	}
	if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], `"azure"`) {
		t.Errorf("warnings %v", res.Warnings)
	}
	st, _ := os.Stat(path)
	if st.Mode().Perm() != 0o640 {
		t.Errorf("mode %v, want the file's own 0640", st.Mode().Perm())
	}
	checkBackup(t, res.BackupPath, codexExisting)

	// A second apply is a no-op: nothing written, no backup.
	res2, err := ApplyCodex(path, testSpec(), false)
	if err != nil || res2.Changed || res2.BackupPath != "" {
		t.Fatalf("second apply: %+v %v", res2, err)
	}
}

func TestApplyCodexUpdatesExistingFlowgateTableAndKeepsItsExtraKeys(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.toml")
	in := `model_provider = "flowgate"

[model_providers.flowgate]
base_url = "http://127.0.0.1:9999/v1" # old port
request_max_retries = 7

[model_providers.flowgate.http_headers]
X-Team = "a"
`
	os.WriteFile(path, []byte(in), 0o600)
	spec := testSpec()
	spec.EnvKey = "FLOWGATE_API_KEY"
	if _, err := ApplyCodex(path, spec, false); err != nil {
		t.Fatal(err)
	}
	after := readTOML(t, path)
	fg := after["model_providers"].(map[string]any)["flowgate"].(map[string]any)
	if fg["base_url"] != "http://127.0.0.1:4000/v1" || fg["env_key"] != "FLOWGATE_API_KEY" || fg["request_max_retries"] != int64(7) || fg["http_headers"].(map[string]any)["X-Team"] != "a" {
		t.Fatalf("flowgate = %v", fg)
	}
	text, _ := os.ReadFile(path)
	if !strings.Contains(string(text), "# old port") || after["model"] != "router-default" {
		t.Fatalf("got\n%s", text)
	}
}

func TestApplyCodexFallsBackToReserializeForInlineProviders(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.toml")
	in := `# comment
model_providers = { azure = { name = "Azure", base_url = "https://az/v1" } }
[profiles.x]
model_provider = "azure"
`
	os.WriteFile(path, []byte(in), 0o600)
	res, err := ApplyCodex(path, testSpec(), false)
	if err != nil {
		t.Fatal(err)
	}
	after := readTOML(t, path)
	mp := after["model_providers"].(map[string]any)
	if mp["azure"].(map[string]any)["base_url"] != "https://az/v1" || mp["flowgate"].(map[string]any)["wire_api"] != "responses" {
		t.Fatalf("providers = %v", mp)
	}
	if after["profiles"].(map[string]any)["x"].(map[string]any)["model_provider"] != "azure" {
		t.Fatal("profile changed")
	}
	if len(res.Warnings) == 0 || !strings.Contains(res.Warnings[len(res.Warnings)-1], "comments") {
		t.Fatalf("expected a comments-lost warning, got %v", res.Warnings)
	}
}

func TestApplyCodexCreatesNewFileAt0600WithoutBackup(t *testing.T) {
	path := filepath.Join(t.TempDir(), "codex", "config.toml")
	res, err := ApplyCodex(path, Spec{}, false)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Created || res.BackupPath != "" {
		t.Fatalf("%+v", res)
	}
	got, _ := os.ReadFile(path)
	if string(got) != PrintCodex(Spec{}) {
		t.Fatalf("new file differs from print:\n%s", got)
	}
	st, _ := os.Stat(path)
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v", st.Mode().Perm())
	}
	dst, _ := os.Stat(filepath.Dir(path))
	if dst.Mode().Perm() != 0o700 {
		t.Fatalf("dir mode %v", dst.Mode().Perm())
	}
}

func TestApplyCodexInvalidTOMLChangesNothing(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.toml")
	in := "model = \"x\"\n[broken\n"
	os.WriteFile(path, []byte(in), 0o600)
	_, err := ApplyCodex(path, testSpec(), false)
	if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "line 2") {
		t.Fatalf("err = %v", err)
	}
	assertOnlyFile(t, dir, "config.toml", in)
}

func TestApplyCodexDryRunWritesNothing(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.toml")
	os.WriteFile(path, []byte(codexExisting), 0o600)
	res, err := ApplyCodex(path, testSpec(), true)
	if err != nil {
		t.Fatal(err)
	}
	if !res.DryRun || !res.Changed || !strings.Contains(res.Diff, `+model_provider = "flowgate"`) || !strings.Contains(res.Diff, `-model_provider = "azure"`) {
		t.Fatalf("diff:\n%s", res.Diff)
	}
	assertOnlyFile(t, dir, "config.toml", codexExisting)
}

func checkBackup(t *testing.T, path, want string) {
	t.Helper()
	if path == "" {
		t.Fatal("no backup made")
	}
	b, err := os.ReadFile(path)
	if err != nil || string(b) != want {
		t.Fatalf("backup %s: %v\n%s", path, err, b)
	}
	st, _ := os.Stat(path)
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("backup mode %v", st.Mode().Perm())
	}
}

func assertOnlyFile(t *testing.T, dir, name, content string) {
	t.Helper()
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 || ents[0].Name() != name {
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		t.Fatalf("dir holds %v, want only %s", names, name)
	}
	b, _ := os.ReadFile(filepath.Join(dir, name))
	if string(b) != content {
		t.Fatalf("content changed:\n%s", b)
	}
}
