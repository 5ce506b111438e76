package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

// logsReport is `logs --json` without -f. The field names are stable.
type logsReport struct {
	Service string   `json:"service"`
	File    string   `json:"file"`
	Lines   []string `json:"lines"`
}

// logLine is one line of `logs -f --json`, one JSON object per log line.
type logLine struct {
	Service string `json:"service"`
	Line    string `json:"line"`
}

func (a *app) logsCommand() *cobra.Command {
	var follow bool
	var n int
	cmd := &cobra.Command{
		Use:   "logs [NAME]",
		Short: "Show process logs from .router/runtime/process-logs (default gateway; supervisor for the supervisor's own)",
		Long: `logs prints the last N lines of a service's log (stdout and stderr of the
child); -n 0 prints none. -f keeps following it across rotations until
interrupted.

--json prints {"service": NAME, "file": PATH, "lines": [...]}; with -f it
prints one {"service": NAME, "line": TEXT} object per line as lines arrive.`,
		Example: "  flowgate logs\n  flowgate logs cliproxyapi_plus -n 100\n  flowgate logs gateway -f\n  flowgate logs gateway --json",
		Args:    cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if n < 0 {
				return usage("-n %d: the number of lines must be 0 or more", n)
			}
			cfg, err := a.load()
			if err != nil {
				return err
			}
			name := "gateway"
			if len(args) == 1 {
				name = args[0]
			}
			if _, ok := cfg.Services[name]; !ok && name != supervisorLogName {
				names, _ := serviceNames(cfg, "all")
				return usage("unknown service %q; logs are kept for %v and %s", name, names, supervisorLogName)
			}
			sup := supervisorFor(cfg)
			if follow {
				ctx, stop := signal.NotifyContext(ctxOf(cmd), os.Interrupt, syscall.SIGTERM)
				defer stop()
				if !a.jsonOut {
					return sup.FollowLog(ctx, name, n, a.stdout)
				}
				w := &jsonLineWriter{service: name, enc: json.NewEncoder(a.stdout)}
				w.enc.SetEscapeHTML(false)
				err := sup.FollowLog(ctx, name, n, w)
				if ferr := w.flush(); err == nil {
					err = ferr
				}
				return err
			}
			lines, err := sup.TailLog(name, n)
			if err != nil {
				return failed("reading %s: %v", sup.LogPath(name), err)
			}
			if a.jsonOut {
				return a.printJSON(logsReport{Service: name, File: sup.LogPath(name), Lines: append([]string{}, lines...)})
			}
			if n > 0 && len(lines) == 0 {
				hint := fmt.Sprintf("start the service with `%s service start %s`", flowgateCmd(cfg), name)
				if name == supervisorLogName {
					hint = fmt.Sprintf("the supervisor writes it when `%s up` or `service start` starts it", flowgateCmd(cfg))
				}
				fmt.Fprintf(a.stderr, "no log yet at %s; %s\n", sup.LogPath(name), hint)
			}
			for _, l := range lines {
				fmt.Fprintln(a.stdout, l)
			}
			return nil
		},
	}
	cmd.Flags().BoolVarP(&follow, "follow", "f", false, "keep printing new lines")
	cmd.Flags().IntVarP(&n, "lines", "n", 50, "how many of the last lines to show (0: none)")
	return cmd
}

// jsonLineWriter turns the bytes FollowLog copies into one logLine object per
// complete line; a partial last line waits for its newline (or flush).
type jsonLineWriter struct {
	service string
	enc     *json.Encoder
	partial []byte
}

var _ io.Writer = (*jsonLineWriter)(nil)

func (w *jsonLineWriter) Write(p []byte) (int, error) {
	w.partial = append(w.partial, p...)
	for {
		i := bytes.IndexByte(w.partial, '\n')
		if i < 0 {
			return len(p), nil
		}
		line := string(bytes.TrimSuffix(w.partial[:i], []byte("\r")))
		w.partial = w.partial[i+1:]
		if err := w.enc.Encode(logLine{Service: w.service, Line: line}); err != nil {
			return len(p), err
		}
	}
}

func (w *jsonLineWriter) flush() error {
	if len(w.partial) == 0 {
		return nil
	}
	line := string(w.partial)
	w.partial = nil
	return w.enc.Encode(logLine{Service: w.service, Line: line})
}
