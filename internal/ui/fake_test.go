package ui

import (
	"context"
	"sort"
	"sync"
	"time"
)

// fakeSource is an in-memory Source. Series and Usage are computed from the
// requests it holds, so a request a test adds shows in every section.
type fakeSource struct {
	mu       sync.Mutex
	services []Service
	accounts []Account
	aliases  []Alias
	reqs     []Request
	// price is USD per million tokens per kind, for every alias.
	priceIn, priceOut, priceCache float64
}

func (f *fakeSource) add(r Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reqs = append(f.reqs, r)
}

func (f *fakeSource) Services(context.Context) ([]Service, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Service(nil), f.services...), nil
}

func (f *fakeSource) Accounts(context.Context) ([]Account, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Account(nil), f.accounts...), nil
}

func (f *fakeSource) Aliases(context.Context) ([]Alias, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Alias(nil), f.aliases...), nil
}

func (f *fakeSource) sorted() []Request {
	out := append([]Request(nil), f.reqs...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Time.After(out[j].Time) })
	return out
}

func (f *fakeSource) Requests(_ context.Context, flt Filter) ([]Request, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []Request
	for _, r := range f.sorted() {
		if flt.Alias != "" && r.Alias != flt.Alias {
			continue
		}
		if flt.ErrorsOnly && r.Status >= 200 && r.Status < 300 {
			continue
		}
		out = append(out, r)
		if flt.Limit > 0 && len(out) == flt.Limit {
			break
		}
	}
	return out, nil
}

func (f *fakeSource) Request(_ context.Context, id string) (Request, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, r := range f.reqs {
		if r.ID == id {
			return r, nil
		}
	}
	return Request{}, ErrNotFound
}

func (f *fakeSource) Series(_ context.Context, since time.Time, step time.Duration) ([]Bucket, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	lat := map[time.Time][]time.Duration{}
	ttfb := map[time.Time][]time.Duration{}
	byStart := map[time.Time]*Bucket{}
	for _, r := range f.reqs {
		if r.Time.Before(since) {
			continue
		}
		start := since.Add(r.Time.Sub(since).Truncate(step))
		b := byStart[start]
		if b == nil {
			b = &Bucket{Start: start}
			byStart[start] = b
		}
		b.Requests++
		if r.Status < 200 || r.Status >= 300 {
			b.Errors++
		}
		b.TokensIn += r.TokensIn
		b.TokensOut += r.TokensOut
		b.TokensCacheRead += r.TokensCacheRead
		b.TokensCacheWrite += r.TokensCacheWrite
		lat[start] = append(lat[start], r.Latency)
		ttfb[start] = append(ttfb[start], r.TTFB)
	}
	var out []Bucket
	for start, b := range byStart {
		b.LatencyP50 = percentile(lat[start], 50)
		b.LatencyP95 = percentile(lat[start], 95)
		b.TTFBP50 = percentile(ttfb[start], 50)
		out = append(out, *b)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Start.Before(out[j].Start) })
	return out, nil
}

func percentile(ds []time.Duration, p int) time.Duration {
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	return ds[(len(ds)-1)*p/100]
}

func (f *fakeSource) KeyUsage(_ context.Context, since time.Time) ([]UsageRow, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	by := map[string]*UsageRow{}
	var keys []string
	for _, r := range f.reqs {
		if r.Time.Before(since) {
			continue
		}
		u := by[r.KeyName]
		if u == nil {
			u = &UsageRow{Key: r.KeyName, CostKnown: true}
			by[r.KeyName] = u
			keys = append(keys, r.KeyName)
		}
		u.Requests++
		if r.Status >= 400 {
			u.Errors++
		}
		u.TokensIn += r.TokensIn
		u.TokensOut += r.TokensOut
		u.TokensCacheRead += r.TokensCacheRead
		u.TokensCacheWrite += r.TokensCacheWrite
		u.CostUSD += r.CostUSD
	}
	sort.Strings(keys)
	out := make([]UsageRow, 0, len(keys))
	for _, k := range keys {
		out = append(out, *by[k])
	}
	return out, nil
}

func (f *fakeSource) Usage(_ context.Context, since time.Time) ([]UsageRow, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	type k struct{ day, alias string }
	rows := map[k]*UsageRow{}
	for _, r := range f.reqs {
		if r.Time.Before(since) {
			continue
		}
		key := k{r.Time.UTC().Format(time.DateOnly), r.Alias}
		u := rows[key]
		if u == nil {
			u = &UsageRow{Day: key.day, Alias: key.alias, CostKnown: true}
			rows[key] = u
		}
		u.Requests++
		if r.Status < 200 || r.Status >= 300 {
			u.Errors++
		}
		u.TokensIn += r.TokensIn
		u.TokensOut += r.TokensOut
		u.TokensCacheRead += r.TokensCacheRead
		u.TokensCacheWrite += r.TokensCacheWrite
		u.CostUSD += (float64(r.TokensIn+r.TokensCacheWrite)*f.priceIn + float64(r.TokensOut)*f.priceOut + float64(r.TokensCacheRead)*f.priceCache) / 1e6
	}
	var out []UsageRow
	for _, u := range rows {
		out = append(out, *u)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Day != out[j].Day {
			return out[i].Day > out[j].Day
		}
		return out[i].Alias < out[j].Alias
	})
	return out, nil
}
