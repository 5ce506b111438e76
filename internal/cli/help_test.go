package cli

import (
	"testing"

	"github.com/spf13/cobra"
)

// TestEveryCommandHasHelpWithExamples walks the command tree: each command a
// user runs has a short description and at least one example.
func TestEveryCommandHasHelpWithExamples(t *testing.T) {
	a := &app{}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			if sub.Hidden || sub.Name() == "help" || sub.Name() == "completion" || sub.Parent().Name() == "completion" {
				continue
			}
			if sub.Short == "" {
				t.Errorf("%s has no short help", sub.CommandPath())
			}
			if sub.Example == "" {
				t.Errorf("%s has no example", sub.CommandPath())
			}
			walk(sub)
		}
	}
	walk(a.rootCommand())
}
