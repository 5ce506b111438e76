package cli

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

func (a *app) eventsCommand() *cobra.Command {
	var n int
	cmd := &cobra.Command{
		Use:   "events",
		Short: "Show the last events from .router/runtime/events.log",
		Long: `events prints the last N lines of the events log: service starts and stops,
profile switches, logins, imports and downloads, one JSON object per line with
timestamp, event, service, profile, provider, result and detail (written as
{"timestamp": ..., "event": "oauth_login", ...}, so grep '"event": "oauth_login"'
finds them). -n 0 prints none. --json prints them as one JSON array.`,
		Example: "  flowgate events -n 20\n  flowgate events --json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if n < 0 {
				return usage("-n %d: the number of events must be 0 or more", n)
			}
			cfg, err := a.load()
			if err != nil {
				return err
			}
			lines, err := lastLines(cfg.Paths.LogFile, n)
			if err != nil {
				return err
			}
			if a.jsonOut {
				out := make([]json.RawMessage, 0, len(lines))
				for _, l := range lines {
					if json.Valid([]byte(l)) {
						out = append(out, json.RawMessage(l))
					}
				}
				return a.printJSON(out)
			}
			if n > 0 && len(lines) == 0 {
				fmt.Fprintf(a.stderr, "no events yet in %s\n", cfg.Paths.LogFile)
			}
			for _, l := range lines {
				fmt.Fprintln(a.stdout, l)
			}
			return nil
		},
	}
	cmd.Flags().IntVarP(&n, "lines", "n", 50, "how many of the newest events to show (0: none)")
	return cmd
}

// lastLines returns the last n lines of a file; a missing file has none.
func lastLines(path string, n int) ([]string, error) {
	if n <= 0 {
		return nil, nil
	}
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var ring []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 4*1024*1024)
	for sc.Scan() {
		ring = append(ring, sc.Text())
		if len(ring) > n {
			ring = ring[1:]
		}
	}
	return ring, sc.Err()
}
