package cli

import (
	"context"
	"errors"
	"net"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/flowgate/flowgate/internal/cliproxy"
	"github.com/flowgate/flowgate/internal/config"
	"github.com/flowgate/flowgate/internal/gateway"
	"github.com/flowgate/flowgate/internal/requestlog"
	"github.com/flowgate/flowgate/internal/supervisor"
	"github.com/flowgate/flowgate/internal/ui"
)

// How long the dashboard reuses what is costly to look up: the services
// (pid files and the process table) and the accounts (the auth folder and
// CLIProxyAPIPlus's management API). An open page refreshes every 2s.
const (
	servicesTTL = 3 * time.Second
	accountsTTL = 10 * time.Second
	// readerIdle closes the request log's read handle when no page asked
	// for a while, which gives its page cache back.
	readerIdle = 30 * time.Second
)

// uiSource is what the gateway's dashboard shows, read in the gateway
// process: the services from the supervisor's pid files and state, the
// accounts from CLIProxyAPIPlus, the aliases from the gateway's live
// routing state, the requests from the request log. It only reads.
type uiSource struct {
	cfg atomic.Pointer[config.Config]
	srv *gateway.Server

	services cachedValue[[]ui.Service]
	accounts cachedValue[[]ui.Account]

	logMu  sync.Mutex
	reader *requestlog.Reader
	idle   *time.Timer
}

func newUISource(cfg *config.Config, srv *gateway.Server) *uiSource {
	s := &uiSource{srv: srv}
	s.cfg.Store(cfg)
	return s
}

// setConfig makes the source follow a reloaded config.
func (s *uiSource) setConfig(cfg *config.Config) { s.cfg.Store(cfg) }

// close drops the request log's read handle.
func (s *uiSource) close() {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	s.closeReaderLocked()
}

// cachedValue is a value loaded at most once per ttl; concurrent callers
// wait for the one load.
type cachedValue[T any] struct {
	mu  sync.Mutex
	at  time.Time
	v   T
	err error
}

func (c *cachedValue[T]) get(ttl time.Duration, load func() (T, error)) (T, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.at.IsZero() || time.Since(c.at) >= ttl {
		c.v, c.err = load()
		c.at = time.Now()
	}
	return c.v, c.err
}

// Services are the supervised children as `flowgate status` sees them.
func (s *uiSource) Services(context.Context) ([]ui.Service, error) {
	return s.services.get(servicesTTL, func() ([]ui.Service, error) {
		cfg := s.cfg.Load()
		rep := buildStatus(cfg)
		snap := s.srv.Snapshot()
		out := make([]ui.Service, 0, len(rep.Services))
		for _, st := range rep.Services {
			svc := ui.Service{Name: st.Service, State: string(st.State), Pid: st.Pid, Note: st.Note}
			if st.State == supervisor.StateRunning {
				svc.Since = st.StartedAt
			}
			if st.Port != 0 {
				svc.Addr = net.JoinHostPort(st.Host, strconv.Itoa(st.Port))
			}
			if k := st.Keeper; k != nil && k.Desired && st.State != supervisor.StateRunning {
				// The supervisor knows more: it is restarting it, or gave up.
				svc.State = strings.ReplaceAll(k.State, "_", "-")
				if k.Note != "" {
					svc.Note = k.Note
				}
			}
			if st.Service == config.ServiceGateway {
				if svc.State != string(supervisor.StateRunning) || svc.Pid != os.Getpid() {
					// This process serves the page, so the gateway runs,
					// whatever the pid file says: it was started by hand.
					svc.State, svc.Pid, svc.Since = string(supervisor.StateRunning), os.Getpid(), time.Time{}
					svc.Note = "not started by the supervisor (`flowgate gateway serve` by hand); `flowgate service start gateway` supervises it"
				}
				if len(snap.Warnings) > 0 {
					svc.Note = snap.Warnings[0]
				}
			}
			out = append(out, svc)
		}
		return out, nil
	})
}

// Accounts are the credentials CLIProxyAPIPlus uses: its own list when
// FlowGate runs it, else the files in the auth folder.
func (s *uiSource) Accounts(ctx context.Context) ([]ui.Account, error) {
	return s.accounts.get(accountsTTL, func() ([]ui.Account, error) {
		cfg := s.cfg.Load()
		ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		st, err := cliproxy.Status(ctx, cfg.Paths.AuthDir, managementClientIfRunning(cfg), time.Now())
		if err != nil {
			return nil, err
		}
		out := make([]ui.Account, 0, len(st.Credentials))
		for _, c := range st.Credentials {
			a := ui.Account{Provider: c.Provider, Account: c.Account}
			if a.Provider == "" {
				a.Provider = "unknown"
			}
			if a.Account == "" {
				a.Account = c.File
			}
			if c.Expires != nil {
				a.Expires = *c.Expires
			}
			// The state of this one credential, judged as health judges a
			// provider's logins.
			one := cliproxy.AuthStatus{AuthDir: st.AuthDir, Service: st.Service, Credentials: []cliproxy.Credential{c}}
			l := one.Logins([]string{c.Provider})[0]
			a.State = l.State
			switch {
			case c.Problem != "":
				a.State, a.Note = "invalid", c.Problem+" ("+c.Path+")"
			case l.State == cliproxy.LoginRejected:
				a.State, a.Note = "refused", "run: "+l.Fix
			case l.State != cliproxy.LoginOK:
				a.Note = "run: " + l.Fix
				if l.Detail != "" {
					a.Note = l.Detail + "; " + a.Note
				}
			}
			out = append(out, a)
		}
		sort.SliceStable(out, func(i, j int) bool {
			if out[i].Provider != out[j].Provider {
				return out[i].Provider < out[j].Provider
			}
			return out[i].Account < out[j].Account
		})
		return out, nil
	})
}

// Aliases are the gateway's live routing state, alias by alias in config
// order: the same snapshot /health reports.
func (s *uiSource) Aliases(context.Context) ([]ui.Alias, error) {
	snap := s.srv.Snapshot()
	var out []ui.Alias
	at := map[string]int{}
	for _, d := range snap.Deployments {
		i, ok := at[d.ModelGroup]
		if !ok {
			i = len(out)
			at[d.ModelGroup] = i
			out = append(out, ui.Alias{Name: d.ModelGroup})
		}
		dep := ui.Deployment{Name: d.Model, APIBase: d.APIBase, State: d.State, LastError: d.LastError, Fix: d.Fix}
		if d.CoolingUntil != nil {
			dep.CoolingUntil = *d.CoolingUntil
		}
		out[i].Deployments = append(out[i].Deployments, dep)
	}
	return out, nil
}

// errLogOff blanks the request sections when the log is off.
var errLogOff = errors.New("the request log is off (services.gateway.request_log: false); turn it on and run `flowgate service restart gateway` to see requests here")

// withLog runs fn on a read handle of the request log, opened on first use
// and again when the file was deleted or replaced, closed after readerIdle
// without use. A missing, unreadable or locked log is an error for the
// request sections only.
func (s *uiSource) withLog(fn func(*requestlog.Reader) error) error {
	cfg := s.cfg.Load()
	if cfg.Services[config.ServiceGateway].RequestLog.Off {
		return errLogOff
	}
	s.logMu.Lock()
	defer s.logMu.Unlock()
	if s.reader != nil && s.reader.Stale() {
		s.closeReaderLocked()
	}
	if s.reader == nil {
		r, err := requestlog.Open(requestlog.Path(cfg.Paths.RuntimeDir))
		if err != nil {
			return err
		}
		s.reader = r
	}
	if s.idle == nil {
		s.idle = time.AfterFunc(readerIdle, s.close)
	} else {
		s.idle.Reset(readerIdle)
	}
	return fn(s.reader)
}

func (s *uiSource) closeReaderLocked() {
	if s.reader != nil {
		s.reader.Close()
		s.reader = nil
	}
}

// Requests are the most recent requests, newest first.
func (s *uiSource) Requests(ctx context.Context, f ui.Filter) ([]ui.Request, error) {
	var rows []requestlog.Row
	err := s.withLog(func(r *requestlog.Reader) (err error) {
		rows, err = r.List(ctx, requestlog.Filter{Limit: f.Limit, Alias: f.Alias, Errors: f.ErrorsOnly})
		return err
	})
	if err != nil {
		return nil, err
	}
	out := make([]ui.Request, 0, len(rows))
	for i := len(rows) - 1; i >= 0; i-- {
		out = append(out, uiRequest(rows[i].Record, nil))
	}
	return out, nil
}

// Request is one request with its details; its attempts are named by the
// models of the running config's deployments.
func (s *uiSource) Request(ctx context.Context, id string) (ui.Request, error) {
	var row requestlog.Row
	err := s.withLog(func(r *requestlog.Reader) (err error) {
		row, err = r.Get(ctx, id)
		return err
	})
	if errors.Is(err, requestlog.ErrNotFound) {
		return ui.Request{}, ui.ErrNotFound
	}
	if err != nil {
		return ui.Request{}, err
	}
	names := map[string]string{}
	for _, d := range s.srv.Snapshot().Deployments {
		names[d.ID] = d.Model
	}
	return uiRequest(row.Record, names), nil
}

// uiRequest is a record as the dashboard shows it; with names (deployment
// id to model) it fills the detail fields too. The deployment is shown by
// its model (provider/model), as in the aliases section.
func uiRequest(rec requestlog.Record, names map[string]string) ui.Request {
	t := rec.Tokens
	r := ui.Request{
		ID: rec.ID, Time: rec.Time, Alias: rec.Alias, Deployment: orDefault(rec.Model, rec.Deployment),
		Status: rec.Status, ErrorClass: rec.ErrorClass, Latency: msDuration(rec.LatencyMS), TTFB: msDuration(rec.TTFBMS),
		TokensIn: t.Input, TokensOut: t.Output, TokensCacheRead: t.CacheRead, TokensCacheWrite: t.CacheWrite,
		ClientFamily: rec.Client, Attempts: rec.Attempts, Fallbacks: rec.Fallbacks, Stream: rec.Stream,
	}
	if names == nil {
		return r
	}
	r.KeyName, r.Protocol, r.SessionID = rec.KeyName, rec.Protocol, rec.SessionID
	r.Upstream, r.Overhead = msDuration(rec.UpstreamMS), msDuration(rec.OverheadMS)
	r.TokensReasoning = t.Reasoning
	r.CostUSD = rec.CostUSD
	r.CostKnown = priced(rec.CostUSD, t)
	for _, id := range rec.Tried {
		r.Tries = append(r.Tries, ui.Try{Deployment: orDefault(names[id], id)})
	}
	if n := len(r.Tries); n > 0 {
		// The log keeps the outcome of the last attempt only, and the
		// upstream time of all of them together.
		last := &r.Tries[n-1]
		last.Status, last.ErrorClass = rec.Status, rec.ErrorClass
		if n == 1 {
			last.Latency = r.Upstream
		}
	}
	return r
}

// priced reports whether cost is a real estimate: a request with tokens
// but no cost had no price for its model.
func priced(cost float64, t requestlog.Tokens) bool {
	return cost > 0 || t.Prompt()+t.Output == 0
}

func msDuration(ms float64) time.Duration { return time.Duration(ms * float64(time.Millisecond)) }

// Series are the requests since `since` in buckets of step.
func (s *uiSource) Series(ctx context.Context, since time.Time, step time.Duration) ([]ui.Bucket, error) {
	var bs []requestlog.Bucket
	err := s.withLog(func(r *requestlog.Reader) (err error) {
		bs, err = r.Series(ctx, since, step)
		return err
	})
	if err != nil {
		return nil, err
	}
	out := make([]ui.Bucket, len(bs))
	for i, b := range bs {
		out[i] = ui.Bucket{Start: b.Start, Requests: int(b.Requests), Errors: int(b.Errors),
			LatencyP50: msDuration(b.LatencyP50MS), LatencyP95: msDuration(b.LatencyP95MS), TTFBP50: msDuration(b.TTFBP50MS),
			TokensIn: b.Tokens.Input, TokensOut: b.Tokens.Output, TokensCacheRead: b.Tokens.CacheRead, TokensCacheWrite: b.Tokens.CacheWrite}
	}
	return out, nil
}

// Usage is tokens and estimated cost per alias and UTC day.
func (s *uiSource) KeyUsage(ctx context.Context, since time.Time) ([]ui.UsageRow, error) {
	var rows []requestlog.UsageRow
	err := s.withLog(func(r *requestlog.Reader) (err error) {
		rows, _, err = r.Usage(ctx, since, "key")
		return err
	})
	if err != nil {
		return nil, err
	}
	out := make([]ui.UsageRow, len(rows))
	for i, u := range rows {
		out[i] = ui.UsageRow{Key: u.Key, Requests: int(u.Requests), Errors: int(u.Errors),
			TokensIn: u.Tokens.Input, TokensOut: u.Tokens.Output, TokensCacheRead: u.Tokens.CacheRead, TokensCacheWrite: u.Tokens.CacheWrite,
			CostUSD: u.CostUSD, CostKnown: true}
	}
	return out, nil
}

func (s *uiSource) Usage(ctx context.Context, since time.Time) ([]ui.UsageRow, error) {
	var us []requestlog.DayUsage
	err := s.withLog(func(r *requestlog.Reader) (err error) {
		us, err = r.UsageByAliasDay(ctx, since)
		return err
	})
	if err != nil {
		return nil, err
	}
	out := make([]ui.UsageRow, len(us))
	for i, u := range us {
		out[i] = ui.UsageRow{Day: u.Day, Alias: u.Alias, Requests: int(u.Requests), Errors: int(u.Errors),
			TokensIn: u.Tokens.Input, TokensOut: u.Tokens.Output, TokensCacheRead: u.Tokens.CacheRead, TokensCacheWrite: u.Tokens.CacheWrite,
			CostUSD: u.CostUSD, CostKnown: u.Unpriced == 0}
	}
	return out, nil
}
