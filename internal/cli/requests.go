package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/flowgate/flowgate/internal/config"
	"github.com/flowgate/flowgate/internal/jsonscan"
	"github.com/flowgate/flowgate/internal/requestlog"
	"github.com/flowgate/flowgate/internal/supervisor"
)

// startRequestLog opens the gateway's request log as configured
// (services.gateway.request_log, capture); nil when it is off. A log that
// cannot be opened is a warning: the gateway serves anyway and retries.
func startRequestLog(cfg *config.Config, logger *slog.Logger) *requestlog.Log {
	gw := cfg.Services[config.ServiceGateway]
	if gw.RequestLog.Off {
		return nil
	}
	l, err := requestlog.New(requestlog.Options{
		Path:            requestlog.Path(cfg.Paths.RuntimeDir),
		MaxAge:          gw.RequestLog.MaxAge,
		MaxBytes:        int64(gw.RequestLog.MaxSizeMB) << 20,
		Capture:         gw.Capture.Enabled,
		CaptureMaxBytes: gw.Capture.MaxBodyKB << 10,
		CaptureMaxAge:   gw.Capture.MaxAge,
		Logger:          logger,
	})
	if err != nil {
		logger.Warn("request log unavailable; requests are served, their rows dropped until it works", "error", err.Error())
	}
	return l
}

func (a *app) openRequestLog() (*requestlog.Reader, error) {
	cfg, err := a.load()
	if err != nil {
		return nil, err
	}
	r, err := requestlog.Open(requestlog.Path(cfg.Paths.RuntimeDir))
	if err != nil {
		return nil, failed("%v", err)
	}
	return r, nil
}

func (a *app) requestsCommand() *cobra.Command {
	var (
		f      requestlog.Filter
		follow bool
	)
	cmd := &cobra.Command{
		Use:   "requests",
		Short: "Show recent gateway requests from the request log (.router/runtime/requests.db)",
		Long: `requests lists the most recent requests the builtin gateway served, oldest
first: time, request id, client protocol and family, the alias asked for and
the model group and deployment that answered, attempts and fallbacks, status
and error class, latency, time to first byte, tokens (input/output/cache
read/cache write), the estimated cost and, when the gateway removed reasoning
state the answering deployment could not verify (signed thinking or
encrypted reasoning made by another provider), what it removed, as the
X-Flowgate-Reasoning header said it. -f keeps printing new requests as
they arrive. --json prints an array (with -f, one object per line) with
stable field names: id, time, key_name, protocol, client, alias, model_group,
deployment, model, deployments_tried, attempts, fallbacks, session_id, stream,
status, error_class, latency_ms, ttfb_ms, upstream_ms, overhead_ms, tokens
{input, output, cache_read, cache_write, reasoning}, cost_usd_estimate, captured,
reasoning (omitted when nothing was removed).

With services.gateway.capture on, 'requests show ID' prints a request's bodies
and 'requests replay ID --model ALIAS' sends it again to another alias.`,
		Example: "  flowgate requests -n 50\n  flowgate requests -f --errors\n  flowgate requests --alias router-default --json",
		// No arguments; a word is an unknown subcommand (with suggestions).
		Args: unknownSubcommand,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if f.Limit < 1 {
				return usage("-n %d: the number of requests must be 1 or more", f.Limit)
			}
			r, err := a.openRequestLog()
			if err != nil {
				return err
			}
			defer r.Close()
			return a.listRequests(ctxOf(cmd), r, f, follow)
		},
	}
	cmd.Flags().IntVarP(&f.Limit, "lines", "n", 20, "how many of the newest requests to show")
	cmd.Flags().BoolVarP(&follow, "follow", "f", false, "keep printing new requests until interrupted")
	cmd.Flags().StringVar(&f.Alias, "alias", "", "only requests for this alias (asked for or answered by)")
	cmd.Flags().BoolVar(&f.Errors, "errors", false, "only failed requests")
	cmd.AddCommand(a.requestsShowCommand(), a.requestsReplayCommand())
	return cmd
}

func (a *app) listRequests(ctx context.Context, r *requestlog.Reader, f requestlog.Filter, follow bool) error {
	rows, err := r.List(ctx, f)
	if err != nil {
		return failed("%v", err)
	}
	if a.jsonOut && !follow {
		recs := make([]requestlog.Record, len(rows))
		for i, row := range rows {
			recs[i] = row.Record
		}
		return a.printJSON(recs)
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	print := func(rows []requestlog.Row) {
		for _, row := range rows {
			if a.jsonOut {
				b, _ := json.Marshal(row.Record)
				fmt.Fprintf(a.stdout, "%s\n", b)
				continue
			}
			fmt.Fprintln(tw, requestLine(row.Record))
		}
		tw.Flush()
	}
	if !a.jsonOut {
		fmt.Fprintln(tw, "TIME\tID\tPROTOCOL\tCLIENT\tALIAS\tDEPLOYMENT\tATTEMPTS\tFALLBACKS\tSTATUS\tLATENCY\tTTFB\tTOKENS in/out/cache r/w\tCOST~\tREASONING")
	}
	print(rows)
	if !a.jsonOut && len(rows) == 0 && !follow {
		fmt.Fprintln(a.stderr, "no requests in the log yet")
	}
	if !follow {
		return nil
	}
	var last int64
	if len(rows) > 0 {
		last = rows[len(rows)-1].Seq
	}
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		f.After, f.Limit = last, 1000
		rows, err := r.List(ctx, f)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return failed("%v", err)
		}
		if len(rows) > 0 {
			last = rows[len(rows)-1].Seq
			print(rows)
		}
	}
}

func requestLine(r requestlog.Record) string {
	alias := r.Alias
	if r.Group != "" && r.Group != r.Alias {
		alias += "->" + r.Group
	}
	status := fmt.Sprint(r.Status)
	if r.ErrorClass != "" {
		status += " " + r.ErrorClass
	}
	proto := r.Protocol
	if r.Stream {
		proto += "/stream"
	}
	t := r.Tokens
	return fmt.Sprintf("%s\t%s\t%s\t%s\t%s\t%s\t%d\t%d\t%s\t%.0fms\t%.0fms\t%d/%d/%d/%d\t$%.4f\t%s",
		r.Time.Local().Format("01-02 15:04:05"), r.ID, proto, r.Client, alias, orDefault(r.Deployment, "-"),
		r.Attempts, r.Fallbacks, status, r.LatencyMS, r.TTFBMS, t.Input, t.Output, t.CacheRead, t.CacheWrite, r.CostUSD,
		orDefault(r.Reasoning, "-"))
}

func (a *app) requestsShowCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "show ID",
		Short: "Print one request: what the log recorded and, when captured, its bodies",
		Long: `show prints one request from the request log. With services.gateway.capture
on, it also prints the client's request body and the upstream's answer as the
gateway received them (secrets redacted, cut at capture.max_body_kb). --json
prints {"request": {...record...}, "capture": {"path", "request", "response",
"truncated"}} (capture omitted when there is none).`,
		Example: "  flowgate requests show 3k9x2m1qa0",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := a.openRequestLog()
			if err != nil {
				return err
			}
			defer r.Close()
			row, err := r.Get(ctxOf(cmd), args[0])
			if err != nil {
				return lookupFailed(err)
			}
			var capt *requestlog.Capture
			if row.Captured {
				c, err := r.Capture(ctxOf(cmd), row.ID)
				if err == nil {
					capt = &c
				} else if !errors.Is(err, requestlog.ErrNoCapture) {
					return failed("%v", err)
				}
			}
			if a.jsonOut {
				return a.printJSON(struct {
					Request requestlog.Record   `json:"request"`
					Capture *requestlog.Capture `json:"capture,omitempty"`
				}{row.Record, capt})
			}
			b, _ := json.MarshalIndent(row.Record, "", "  ")
			fmt.Fprintf(a.stdout, "%s\n", b)
			if capt == nil {
				fmt.Fprintln(a.stderr, "no bodies captured for this request (services.gateway.capture is off, or the capture is older than capture.max_age)")
				return nil
			}
			trunc := ""
			if capt.Truncated {
				trunc = " (cut at the capture size limit)"
			}
			fmt.Fprintf(a.stdout, "\n--- request body (POST %s)%s\n%s\n\n--- answer\n%s\n", capt.Path, trunc, capt.Request, capt.Response)
			return nil
		},
	}
}

// lookupFailed: an unknown id is the caller's mistake (exit 2), a log that
// cannot be read an operation failure (exit 1).
func lookupFailed(err error) error {
	if errors.Is(err, requestlog.ErrNotFound) {
		return usage("%v", err)
	}
	return failed("%v", err)
}

// replayResult is `requests replay --json`.
type replayResult struct {
	ID       string       `json:"id"`
	Original replayAnswer `json:"original"`
	Replay   replayAnswer `json:"replay"`
}

type replayAnswer struct {
	Alias      string `json:"alias"`
	Deployment string `json:"deployment,omitempty"`
	Status     int    `json:"status"`
	Text       string `json:"text"`
}

func (a *app) requestsReplayCommand() *cobra.Command {
	var model string
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "replay ID --model ALIAS",
		Short: "Send a captured request again to another alias and show both answers side by side",
		Long: `replay takes a request captured by the gateway (services.gateway.capture on),
sets its model to ALIAS and sends it through the running gateway (with the
gateway key), then prints the original answer and the new one side by side:
does model B handle this turn? The replay is itself a request in the log.
--json prints {"id", "original": {"alias", "deployment", "status", "text"},
"replay": {...}}.`,
		Example: "  flowgate requests replay 3k9x2m1qa0 --model router-cheap",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if model == "" {
				return usage("replay needs --model ALIAS: the alias to send the request to (`flowgate profile show` lists them)")
			}
			cfg, err := a.load()
			if err != nil {
				return err
			}
			r, err := a.openRequestLog()
			if err != nil {
				return err
			}
			defer r.Close()
			row, err := r.Get(ctxOf(cmd), args[0])
			if err != nil {
				return lookupFailed(err)
			}
			capt, err := r.Capture(ctxOf(cmd), row.ID)
			if err != nil {
				if !cfg.Services[config.ServiceGateway].Capture.Enabled {
					return usage("cannot replay %s: services.gateway.capture is off, so no request bodies are kept; set `capture: true` under services.gateway, run `flowgate service restart gateway`, and replay a request made after that", row.ID)
				}
				return failed("cannot replay %s: %v", row.ID, err)
			}
			if capt.Truncated {
				return failed("cannot replay %s: its body was longer than services.gateway.capture.max_body_kb and was cut; raise the limit to replay such requests", row.ID)
			}
			res, err := replay(ctxOf(cmd), cfg, capt, model, timeout)
			if err != nil {
				return failed("replaying %s: %v", row.ID, err)
			}
			res.ID = row.ID
			res.Original = replayAnswer{Alias: row.Alias, Deployment: row.Deployment, Status: row.Status, Text: requestlog.AnswerText([]byte(capt.Response))}
			if a.jsonOut {
				return a.printJSON(res)
			}
			sideBySide(a.stdout, fmt.Sprintf("original: %s (%s) %d", res.Original.Alias, res.Original.Deployment, res.Original.Status), res.Original.Text,
				fmt.Sprintf("replay: %s (%s) %d", res.Replay.Alias, res.Replay.Deployment, res.Replay.Status), res.Replay.Text, 60)
			if res.Replay.Status >= 400 {
				return silent(ExitFailed)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&model, "model", "", "the alias to send the request to (required)")
	cmd.Flags().DurationVar(&timeout, "timeout", 10*time.Minute, "how long to wait for the answer")
	return cmd
}

// replay sends the captured body, its model set to alias, to the gateway.
func replay(ctx context.Context, cfg *config.Config, c requestlog.Capture, alias string, timeout time.Duration) (replayResult, error) {
	body := []byte(c.Request)
	info, err := jsonscan.ScanBody(body)
	if err != nil || !info.HasModel {
		return replayResult{}, fmt.Errorf("the captured body is not a JSON request with a model")
	}
	body = jsonscan.AppendRewritten(nil, body, info, jsonscan.AppendString(nil, alias))
	gw := cfg.Services[config.ServiceGateway]
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, supervisor.URLFor(gw.Host, gw.Port, c.Path), bytes.NewReader(body))
	if err != nil {
		return replayResult{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	if strings.HasSuffix(c.Path, "/messages") {
		req.Header.Set("Anthropic-Version", "2023-06-01")
	}
	req.Header.Set("User-Agent", "flowgate-replay")
	if key := cfg.GatewayKey(); key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return replayResult{}, fmt.Errorf("%w (is the gateway running? `flowgate status`)", err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return replayResult{}, err
	}
	return replayResult{Replay: replayAnswer{Alias: alias, Deployment: resp.Header.Get("X-Flowgate-Deployment"),
		Status: resp.StatusCode, Text: requestlog.AnswerText(out)}}, nil
}

// sideBySide prints two texts in columns of width w.
func sideBySide(out io.Writer, lt, left, rt, right string, w int) {
	l, r := wrap(left, w), wrap(right, w)
	fmt.Fprintf(out, "%-*s | %s\n%s-+-%s\n", w, lt, rt, strings.Repeat("-", w), strings.Repeat("-", w))
	for i := 0; i < max(len(l), len(r)); i++ {
		var a, b string
		if i < len(l) {
			a = l[i]
		}
		if i < len(r) {
			b = r[i]
		}
		fmt.Fprintf(out, "%-*s | %s\n", w, a, b)
	}
}

// wrap cuts s into lines of at most w runes, at line breaks and spaces.
func wrap(s string, w int) []string {
	var out []string
	for _, para := range strings.Split(s, "\n") {
		line := []rune{}
		for _, word := range strings.Fields(para) {
			rw := []rune(word)
			for len(rw) > w {
				if len(line) > 0 {
					out, line = append(out, string(line)), line[:0]
				}
				out, rw = append(out, string(rw[:w])), rw[w:]
			}
			if len(line) > 0 && len(line)+1+len(rw) > w {
				out, line = append(out, string(line)), line[:0]
			}
			if len(line) > 0 {
				line = append(line, ' ')
			}
			line = append(line, rw...)
		}
		out = append(out, string(line))
	}
	return out
}
