package cli

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// treeCommands lists every command a user can type, root included, by the
// arguments that reach it (without the program name).
func treeCommands(root *cobra.Command) map[string]*cobra.Command {
	out := map[string]*cobra.Command{}
	var walk func(c *cobra.Command, path []string)
	walk = func(c *cobra.Command, path []string) {
		out[strings.Join(path, " ")] = c
		for _, sub := range c.Commands() {
			if sub.Hidden {
				continue
			}
			walk(sub, append(append([]string(nil), path...), sub.Name()))
		}
	}
	walk(root, nil)
	return out
}

// wrongArgCount returns an argument list of the smallest length that cmd's
// Args rejects, or nil when it takes any number (up to 4).
func wrongArgCount(cmd *cobra.Command) []string {
	for n := 0; n <= 4; n++ {
		args := make([]string, n)
		for i := range args {
			args[i] = "bogus-arg"
		}
		if cmd.Args != nil && cmd.Args(cmd, args) != nil {
			return args
		}
	}
	return nil
}

// TestEveryCommandRefusesUnknownSubcommandsAndWrongArgumentsWithExit2 walks
// the whole command tree: a group given an unknown subcommand and a leaf given
// an argument count it does not take exit 2, say what was wrong and how to get
// help, and a near-miss subcommand name gets a suggestion. Commands added
// later are covered without changing this test.
func TestEveryCommandRefusesUnknownSubcommandsAndWrongArgumentsWithExit2(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "config", "flowgate.yaml") // never created: nothing may run
	tree := treeCommands((&app{}).rootCommand())
	groups, leaves := 0, 0
	for path, cmd := range tree {
		base := append([]string{"--config", cfg}, strings.Fields(path)...)
		if cmd.HasSubCommands() {
			groups++
			t.Run("unknown subcommand of "+cmd.CommandPath(), func(t *testing.T) {
				r := runCLI(t, append(base, "no-such-command")...)
				if r.code != ExitUsage {
					t.Fatalf("exit %d, want 2: %+v", r.code, r)
				}
				for _, want := range []string{`unknown command "no-such-command"`, "Available commands: ", cmd.CommandPath() + " --help"} {
					if !strings.Contains(r.stderr, want) {
						t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
					}
				}
				for _, sub := range cmd.Commands() {
					if !sub.IsAvailableCommand() || len(sub.Name()) < 4 {
						continue
					}
					typo := sub.Name()[:len(sub.Name())-1] + "x"
					r := runCLI(t, append(base, typo)...)
					if r.code != ExitUsage || !strings.Contains(r.stderr, "did you mean '"+sub.Name()+"'") {
						t.Errorf("%s %s: exit %d, want 2 with a suggestion of %s:\n%s", cmd.CommandPath(), typo, r.code, sub.Name(), r.stderr)
					}
				}
			})
			continue
		}
		leaves++
		t.Run("wrong arguments of "+cmd.CommandPath(), func(t *testing.T) {
			if cmd.Args == nil {
				t.Fatal("no Args validator")
			}
			args := wrongArgCount(cmd)
			if args == nil {
				t.Skip("takes any number of arguments")
			}
			r := runCLI(t, append(base, args...)...)
			if r.code != ExitUsage {
				t.Fatalf("%d arguments: exit %d, want 2: %+v", len(args), r.code, r)
			}
			// The hint is the command's usage line, or for help (whose argument
			// is a command path) the list of commands.
			if !strings.Contains(r.stderr, "Usage: "+cmd.UseLine()) && !strings.Contains(r.stderr, "Available commands: ") {
				t.Errorf("stderr has no usage line or command list:\n%s", r.stderr)
			}
			if !strings.Contains(r.stderr, " --help' for ") {
				t.Errorf("stderr does not say which --help to run:\n%s", r.stderr)
			}
		})
	}
	if groups < 6 || leaves < 25 {
		t.Fatalf("walked only %d groups and %d leaves; the tree walk is broken", groups, leaves)
	}
}

func TestBareGroupPrintsItsHelpAndExits0(t *testing.T) {
	r := runCLI(t, "auth")
	if r.code != ExitOK || !strings.Contains(r.stdout, "flowgate auth [command]") || !strings.Contains(r.stdout, "login") {
		t.Fatalf("got %+v", r)
	}
	r = runCLI(t)
	if r.code != ExitOK || !strings.Contains(r.stdout, "Available Commands:") {
		t.Fatalf("bare flowgate: %+v", r)
	}
}

func TestHelpForAnUnknownTopicExits2(t *testing.T) {
	r := runCLI(t, "help", "service", "restar")
	if r.code != ExitUsage || !strings.Contains(r.stderr, "did you mean 'restart'") {
		t.Fatalf("got %+v", r)
	}
	r = runCLI(t, "help", "service", "restart")
	if r.code != ExitOK || !strings.Contains(r.stdout, "flowgate service restart [all|NAME]") {
		t.Fatalf("help service restart: %+v", r)
	}
}
