package ui

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Charts are server-rendered SVG: the geometry is computed here and drawn by
// the chart template, styled by the stylesheet through class names (the
// strict Content-Security-Policy forbids inline styles), so light and dark
// mode need nothing from the chart code.

// Chart geometry, in SVG user units. The SVG scales to the width of its box;
// the box reserves the aspect ratio, so a refresh never moves the page.
const (
	chartW      = 600
	chartH      = 200
	chartLeft   = 52 // room for the y labels
	chartRight  = 8
	chartTop    = 10
	chartBottom = 22 // room for the x labels
)

// chart is what the chart template draws.
type chart struct {
	ID     string
	Title  string
	Unit   string
	W, H   int
	Grid   []gridLine
	XTicks []xTick
	Lines  []line
	Bars   []bar
	Legend []legendItem
	// Empty is shown instead of data when there is none.
	Empty string
}

type gridLine struct {
	Y     float64
	Label string
}

type xTick struct {
	X     float64
	Label string
}

// line is one polyline series; Points is the SVG points attribute.
type line struct {
	Class  string
	Points string
	// Dots mark each point when there are too few for a line to show.
	Dots []dot
}

type dot struct{ X, Y float64 }

type bar struct {
	Class      string
	X, Y, W, H float64
	Title      string
}

type legendItem struct{ Class, Label string }

// timeAxis maps the window [from, to) onto the plot's x range.
type timeAxis struct {
	from, to time.Time
}

func (a timeAxis) x(t time.Time) float64 {
	span := a.to.Sub(a.from).Seconds()
	f := t.Sub(a.from).Seconds() / span
	return chartLeft + f*float64(chartW-chartLeft-chartRight)
}

func (a timeAxis) ticks(loc *time.Location) []xTick {
	span := a.to.Sub(a.from)
	step := niceTimeStep(span / 6)
	var out []xTick
	t := a.from.Truncate(step)
	if t.Before(a.from) {
		t = t.Add(step)
	}
	for ; t.Before(a.to); t = t.Add(step) {
		out = append(out, xTick{X: a.x(t), Label: t.In(loc).Format("15:04")})
	}
	return out
}

func niceTimeStep(d time.Duration) time.Duration {
	for _, s := range []time.Duration{time.Minute, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute, 30 * time.Minute, time.Hour, 2 * time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour} {
		if s >= d {
			return s
		}
	}
	return 24 * time.Hour
}

// valueAxis maps [0, max] onto the plot's y range.
type valueAxis struct{ max float64 }

func newValueAxis(maxV float64) valueAxis { return valueAxis{max: niceCeil(maxV)} }

func (a valueAxis) y(v float64) float64 {
	h := float64(chartH - chartTop - chartBottom)
	return chartTop + h - v/a.max*h
}

func (a valueAxis) grid(format func(float64) string) []gridLine {
	var out []gridLine
	for i := 0; i <= 4; i++ {
		v := a.max * float64(i) / 4
		out = append(out, gridLine{Y: a.y(v), Label: format(v)})
	}
	return out
}

// niceCeil is the top of an axis with four grid steps that covers v: each
// step is 1, 1.5, 2, 2.5, 3, 4, 5, 6 or 8 times a power of ten, so the
// grid lines fall on round numbers.
func niceCeil(v float64) float64 {
	if v <= 0 {
		return 4
	}
	step := v / 4
	p := math.Pow(10, math.Floor(math.Log10(step)))
	for _, m := range []float64{1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10} {
		if step <= m*p*(1+1e-9) {
			return 4 * m * p
		}
	}
	return 40 * p
}

// latencyChart draws p50 and p95 latency and median time to first byte.
func latencyChart(buckets []Bucket, from, to time.Time, loc *time.Location) chart {
	c := chart{ID: "chart-latency", Title: "Latency", Unit: "ms", W: chartW, H: chartH,
		Legend: []legendItem{{"s-p95", "p95"}, {"s-p50", "p50"}, {"s-ttfb", "TTFB p50"}}}
	ta := timeAxis{from, to}
	c.XTicks = ta.ticks(loc)
	maxV := 0.0
	for _, b := range buckets {
		maxV = math.Max(maxV, ms(b.LatencyP95))
		maxV = math.Max(maxV, ms(b.LatencyP50))
	}
	va := newValueAxis(maxV)
	c.Grid = va.grid(formatMS)
	if len(buckets) == 0 {
		c.Empty = "No requests in this window."
		return c
	}
	series := []struct {
		class string
		v     func(Bucket) time.Duration
	}{
		{"s-p95", func(b Bucket) time.Duration { return b.LatencyP95 }},
		{"s-p50", func(b Bucket) time.Duration { return b.LatencyP50 }},
		{"s-ttfb", func(b Bucket) time.Duration { return b.TTFBP50 }},
	}
	for _, s := range series {
		var pts []string
		var dots []dot
		for _, b := range buckets {
			x, y := ta.x(b.Start), va.y(ms(s.v(b)))
			pts = append(pts, coord(x)+","+coord(y))
			if len(buckets) < 3 {
				dots = append(dots, dot{x, y})
			}
		}
		c.Lines = append(c.Lines, line{Class: s.class, Points: strings.Join(pts, " "), Dots: dots})
	}
	return c
}

// tokenChart draws stacked bars of input, cache read, output and cache
// write tokens per bucket.
func tokenChart(buckets []Bucket, from, to time.Time, step time.Duration, loc *time.Location) chart {
	c := chart{ID: "chart-tokens", Title: "Tokens", Unit: "tokens", W: chartW, H: chartH,
		Legend: []legendItem{{"s-in", "input"}, {"s-cache", "cache read"}, {"s-cachew", "cache write"}, {"s-out", "output"}}}
	ta := timeAxis{from, to}
	c.XTicks = ta.ticks(loc)
	maxV := 0.0
	for _, b := range buckets {
		maxV = math.Max(maxV, float64(b.TokensIn+b.TokensCacheRead+b.TokensCacheWrite+b.TokensOut))
	}
	va := newValueAxis(maxV)
	c.Grid = va.grid(formatCount)
	if len(buckets) == 0 {
		c.Empty = "No requests in this window."
		return c
	}
	w := ta.x(from.Add(step)) - ta.x(from)
	gap := math.Min(2, w*0.2)
	for _, b := range buckets {
		x := ta.x(b.Start) + gap/2
		acc := 0.0
		for _, part := range []struct {
			class, label string
			v            int64
		}{
			{"s-in", "input", b.TokensIn},
			{"s-cache", "cache read", b.TokensCacheRead},
			{"s-cachew", "cache write", b.TokensCacheWrite},
			{"s-out", "output", b.TokensOut},
		} {
			if part.v <= 0 {
				continue
			}
			top := va.y(acc + float64(part.v))
			c.Bars = append(c.Bars, bar{Class: part.class, X: x, Y: top, W: w - gap, H: va.y(acc) - top,
				Title: fmt.Sprintf("%s: %s %s tokens", b.Start.In(loc).Format("15:04"), formatCount(float64(part.v)), part.label)})
			acc += float64(part.v)
		}
	}
	return c
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func coord(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }

func formatMS(v float64) string {
	if v >= 1000 {
		return strconv.FormatFloat(v/1000, 'f', -1, 64) + " s"
	}
	return strconv.FormatFloat(v, 'f', -1, 64) + " ms"
}

// formatCount writes 1234567 as 1.2M, 12345 as 12.3k.
func formatCount(v float64) string {
	switch {
	case v >= 1e9:
		return trimZero(strconv.FormatFloat(v/1e9, 'f', 1, 64)) + "B"
	case v >= 1e6:
		return trimZero(strconv.FormatFloat(v/1e6, 'f', 1, 64)) + "M"
	case v >= 1e3:
		return trimZero(strconv.FormatFloat(v/1e3, 'f', 1, 64)) + "k"
	}
	return strconv.FormatFloat(v, 'f', 0, 64)
}

func trimZero(s string) string { return strings.TrimSuffix(s, ".0") }
