package ui

import (
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"time"
)

// maxRows is the most recent requests a page lists.
const maxRows = 50

// usageDays is how many UTC days the usage table covers, today included.
const usageDays = 7

// ranges are the chart windows the page offers and their bucket sizes.
var ranges = []struct {
	Name string
	Span time.Duration
	Step time.Duration
}{
	{"1h", time.Hour, time.Minute},
	{"6h", 6 * time.Hour, 5 * time.Minute},
	{"24h", 24 * time.Hour, 30 * time.Minute},
}

// query is the page's filter, kept in its URL.
type query struct {
	Alias  string
	Errors bool
	Range  string
}

func parseQuery(v url.Values) query {
	q := query{Alias: v.Get("alias"), Errors: v.Get("errors") == "1", Range: ranges[0].Name}
	if len(q.Alias) > 200 {
		q.Alias = q.Alias[:200]
	}
	for _, r := range ranges {
		if v.Get("range") == r.Name {
			q.Range = r.Name
		}
	}
	return q
}

func (q query) filter() Filter {
	return Filter{Alias: q.Alias, ErrorsOnly: q.Errors, Limit: maxRows}
}

func (q query) window() (span, step time.Duration) {
	for _, r := range ranges {
		if r.Name == q.Range {
			return r.Span, r.Step
		}
	}
	return ranges[0].Span, ranges[0].Step
}

// Encode is the query string of q (for the live URL).
func (q query) Encode() string {
	v := url.Values{}
	if q.Alias != "" {
		v.Set("alias", q.Alias)
	}
	if q.Errors {
		v.Set("errors", "1")
	}
	if q.Range != ranges[0].Name {
		v.Set("range", q.Range)
	}
	return v.Encode()
}

// overviewView is the overview page.
type overviewView struct {
	Title     string
	Query     query
	Ranges    []string
	Aliases   []string
	LiveURL   string
	RefreshMS int64
	Live      liveView
}

// liveView is every section that refreshes while the page is open. An
// error blanks only its own section.
type liveView struct {
	Updated     time.Time
	Query       query
	Services    []Service
	ServicesErr string
	Accounts    []Account
	AccountsErr string
	Aliases     []Alias
	AliasesErr  string
	Requests    []Request
	RequestsErr string
	Latency     chart
	Tokens      chart
	ChartsErr   string
	Usage       []UsageRow
	UsageTotal  UsageRow
	UsageErr    string
	KeyUsage    []UsageRow
	KeyUsageErr string
	KPI         kpis
}

// kpis are the figures at the top of the page, over the chart window.
type kpis struct {
	Window    string
	Requests  int
	Errors    int
	Tokens    int64
	CacheRead int64
	CacheBase int64
	CostToday float64
	CostKnown bool
}

func (h *Handler) overview(w http.ResponseWriter, r *http.Request) {
	q := parseQuery(r.URL.Query())
	v := overviewView{Title: "Overview", Query: q, LiveURL: "/ui/live?" + q.Encode(), RefreshMS: h.opts.Refresh.Milliseconds()}
	for _, rg := range ranges {
		v.Ranges = append(v.Ranges, rg.Name)
	}
	v.Live = h.liveData(r, q)
	for _, a := range v.Live.Aliases {
		v.Aliases = append(v.Aliases, a.Name)
	}
	h.render(w, http.StatusOK, "overview.html", v)
}

func (h *Handler) live(w http.ResponseWriter, r *http.Request) {
	h.render(w, http.StatusOK, "live", h.liveData(r, parseQuery(r.URL.Query())))
}

func (h *Handler) liveData(r *http.Request, q query) liveView {
	ctx, cancel := h.ctx(r)
	defer cancel()
	src := h.opts.Source
	now := h.opts.Now()
	v := liveView{Updated: now, Query: q}
	var err error
	if v.Services, err = src.Services(ctx); err != nil {
		v.ServicesErr = sectionErr("services", err)
	}
	if v.Accounts, err = src.Accounts(ctx); err != nil {
		v.AccountsErr = sectionErr("accounts", err)
	}
	if v.Aliases, err = src.Aliases(ctx); err != nil {
		v.AliasesErr = sectionErr("aliases", err)
	}
	if v.Requests, err = src.Requests(ctx, q.filter()); err != nil {
		v.RequestsErr = sectionErr("recent requests", err)
	}
	if len(v.Requests) > maxRows {
		v.Requests = v.Requests[:maxRows]
	}
	span, step := q.window()
	to := now.Truncate(step).Add(step)
	from := to.Add(-span)
	buckets, err := src.Series(ctx, from, step)
	if err != nil {
		v.ChartsErr = sectionErr("charts", err)
	}
	sort.Slice(buckets, func(i, j int) bool { return buckets[i].Start.Before(buckets[j].Start) })
	v.Latency = latencyChart(buckets, from, to, h.opts.Location)
	v.Tokens = tokenChart(buckets, from, to, step, h.opts.Location)
	v.KPI.Window = q.Range
	for _, b := range buckets {
		v.KPI.Requests += b.Requests
		v.KPI.Errors += b.Errors
		v.KPI.Tokens += b.TokensIn + b.TokensOut + b.TokensCacheRead + b.TokensCacheWrite
		v.KPI.CacheRead += b.TokensCacheRead
		v.KPI.CacheBase += b.TokensIn + b.TokensCacheRead + b.TokensCacheWrite
	}
	dayStart := now.UTC().Truncate(24 * time.Hour)
	if v.Usage, err = src.Usage(ctx, dayStart.AddDate(0, 0, -(usageDays-1))); err != nil {
		v.UsageErr = sectionErr("usage", err)
	}
	if v.KeyUsage, err = src.KeyUsage(ctx, dayStart.AddDate(0, 0, -(usageDays-1))); err != nil {
		v.KeyUsageErr = sectionErr("usage by key", err)
	}
	today := dayStart.Format(time.DateOnly)
	v.UsageTotal.CostKnown = true
	v.KPI.CostKnown = true
	for _, u := range v.Usage {
		t := &v.UsageTotal
		t.Requests += u.Requests
		t.Errors += u.Errors
		t.TokensIn += u.TokensIn
		t.TokensOut += u.TokensOut
		t.TokensCacheRead += u.TokensCacheRead
		t.TokensCacheWrite += u.TokensCacheWrite
		t.CostUSD += u.CostUSD
		t.CostKnown = t.CostKnown && u.CostKnown
		if u.Day == today {
			v.KPI.CostToday += u.CostUSD
			v.KPI.CostKnown = v.KPI.CostKnown && u.CostKnown
		}
	}
	return v
}

func sectionErr(what string, err error) string {
	return fmt.Sprintf("Could not read %s: %v", what, err)
}

// detailView is one request's page.
type detailView struct {
	Title   string
	Req     Request
	Missing string
	Err     string
}

func (h *Handler) detail(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	ctx, cancel := h.ctx(r)
	defer cancel()
	req, err := h.opts.Source.Request(ctx, id)
	v := detailView{Title: "Request " + truncate(id, 40), Req: req}
	status := http.StatusOK
	switch {
	case errors.Is(err, ErrNotFound):
		status = http.StatusNotFound
		v.Missing = truncate(id, 80)
	case err != nil:
		status = http.StatusInternalServerError
		v.Err = sectionErr("the request", err)
	}
	h.render(w, status, "detail.html", v)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// funcs are the helpers the templates format with.
func (h *Handler) funcs() template.FuncMap {
	loc := func() *time.Location { return h.opts.Location }
	return template.FuncMap{
		"clock": func(t time.Time) string {
			if t.IsZero() {
				return "—"
			}
			return t.In(loc()).Format("15:04:05")
		},
		"stamp": func(t time.Time) string {
			if t.IsZero() {
				return ""
			}
			return t.In(loc()).Format("2006-01-02 15:04:05 MST")
		},
		"ago":   func(t time.Time) string { return relative(h.opts.Now(), t) },
		"dur":   formatDuration,
		"count": func(v int64) string { return formatCount(float64(v)) },
		"int":   func(v int64) string { return groupDigits(v) },
		"usd":   formatUSD,
		"pct": func(num, den int64) string {
			if den <= 0 {
				return "—"
			}
			return strconv.FormatFloat(100*float64(num)/float64(den), 'f', 0, 64) + "%"
		},
		"errRate": func(errs, n int) string {
			if n == 0 {
				return "—"
			}
			return strconv.FormatFloat(100*float64(errs)/float64(n), 'f', 1, 64) + "%"
		},
		"statusClass": func(code int) string {
			switch {
			case code >= 200 && code < 300:
				return "ok"
			case code == 0:
				return "muted"
			case code == 429 || code >= 500:
				return "bad"
			}
			return "warn"
		},
		"stateClass": func(s string) string {
			switch s {
			case "running", "healthy", "ok":
				return "ok"
			case "starting", "cooling", "degraded":
				return "warn"
			case "":
				return "muted"
			}
			return "bad"
		},
		"inc": func(i int) int { return i + 1 },
		"num": func(v int) string { return groupDigits(int64(v)) },
		"add": func(a, b int64) int64 { return a + b },
		"pos": func(v int) bool { return v > 0 },
	}
}

// relative writes t as "in 3h" or "5m ago".
func relative(now, t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	d := t.Sub(now)
	suffix := ""
	prefix := "in "
	if d < 0 {
		d, prefix, suffix = -d, "", " ago"
	}
	var s string
	switch {
	case d < time.Minute:
		s = strconv.Itoa(int(d.Seconds())) + "s"
	case d < time.Hour:
		s = strconv.Itoa(int(d.Minutes())) + "m"
	case d < 48*time.Hour:
		s = strconv.Itoa(int(d.Hours())) + "h"
	default:
		s = strconv.Itoa(int(d.Hours()/24)) + "d"
	}
	return prefix + s + suffix
}

// formatDuration writes 1234ms as "1.23 s" and 87ms as "87 ms".
func formatDuration(d time.Duration) string {
	switch {
	case d <= 0:
		return "—"
	case d < 10*time.Millisecond:
		return strconv.FormatFloat(ms(d), 'f', 1, 64) + " ms"
	case d < time.Second:
		return strconv.FormatFloat(ms(d), 'f', 0, 64) + " ms"
	case d < time.Minute:
		return strconv.FormatFloat(d.Seconds(), 'f', 2, 64) + " s"
	}
	return d.Round(time.Second).String()
}

func formatUSD(v float64) string {
	if v > 0 && v < 0.01 {
		return "$" + strconv.FormatFloat(v, 'f', 4, 64)
	}
	return "$" + strconv.FormatFloat(v, 'f', 2, 64)
}

// groupDigits writes 1234567 as 1,234,567.
func groupDigits(v int64) string {
	s := strconv.FormatInt(v, 10)
	neg := ""
	if v < 0 {
		neg, s = "-", s[1:]
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return neg + s
}
