package cli

import (
	"strings"
	"testing"
)

// complete runs cobra's hidden __complete command as a shell would and
// returns the offered words (the last line is the directive).
func complete(t *testing.T, args ...string) []string {
	t.Helper()
	r := runCLI(t, append([]string{"__complete"}, args...)...)
	if r.code != 0 {
		t.Fatalf("__complete %v: %+v", args, r)
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) == 0 || !strings.HasPrefix(lines[len(lines)-1], ":") {
		t.Fatalf("__complete %v: no directive line: %q", args, r.stdout)
	}
	var words []string
	for _, l := range lines[:len(lines)-1] {
		words = append(words, strings.SplitN(l, "\t", 2)[0])
	}
	return words
}

func TestCompletionOffersServicesProfilesProvidersAndClients(t *testing.T) {
	cfg := project(t)
	cases := []struct {
		args []string
		want []string
	}{
		{[]string{"service", "restart", ""}, []string{"all", "cliproxyapi_plus", "gateway"}},
		{[]string{"service", "start", "g"}, []string{"gateway"}},
		{[]string{"logs", ""}, []string{"cliproxyapi_plus", "gateway"}},
		{[]string{"profile", "set", ""}, []string{"balanced", "cost", "reliability"}},
		{[]string{"profile", "show", "c"}, []string{"cost"}},
		{[]string{"auth", "login", ""}, []string{"codex", "copilot"}},
		{[]string{"integration", "apply", ""}, []string{"codex", "claude-code"}},
		{[]string{"integration", "print", "cl"}, []string{"claude-code"}},
		{[]string{"serv"}, []string{"service"}},
		{[]string{"auth", ""}, []string{"import-headless", "list", "login", "status"}},
		{[]string{"status", ""}, nil},
	}
	for _, c := range cases {
		got := complete(t, append([]string{"--config", cfg}, c.args...)...)
		if strings.Join(got, ",") != strings.Join(c.want, ",") {
			t.Errorf("complete %v = %v, want %v", c.args, got, c.want)
		}
	}
	// ShellCompDirectiveNoFileComp (4): a shell never falls back to file names.
	r := runCLI(t, "--config", cfg, "__complete", "service", "restart", "")
	if !strings.HasSuffix(strings.TrimSpace(r.stdout), ":4") {
		t.Errorf("service names must not fall back to file names: %q", r.stdout)
	}
}

func TestCompletionWithoutAConfigStillOffersServicesAndProviders(t *testing.T) {
	missing := t.TempDir() + "/none.yaml"
	if got := complete(t, "--config", missing, "service", "stop", ""); strings.Join(got, ",") != "all,cliproxyapi_plus,gateway" {
		t.Errorf("services = %v", got)
	}
	if got := complete(t, "--config", missing, "auth", "login", "co"); strings.Join(got, ",") != "codex,copilot" {
		t.Errorf("providers = %v", got)
	}
}

func TestCompletionScriptsForEveryShell(t *testing.T) {
	for shell, marker := range map[string]string{
		"bash":       "__start_flowgate",
		"zsh":        "#compdef flowgate",
		"fish":       "complete -c flowgate",
		"powershell": "Register-ArgumentCompleter",
	} {
		r := runCLI(t, "completion", shell)
		if r.code != 0 || !strings.Contains(r.stdout, marker) {
			t.Errorf("completion %s: exit %d, output lacks %q", shell, r.code, marker)
		}
	}
	r := runCLI(t, "completion", "tcsh")
	if r.code != ExitUsage || !strings.Contains(r.stderr, "Available commands: bash, fish, powershell, zsh") {
		t.Errorf("completion tcsh: %+v", r)
	}
}
