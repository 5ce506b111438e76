package main

import (
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"math"
	"os"
	"sort"
	"strconv"
)

var palette = []color.RGBA{
	{0x4c, 0x72, 0xb0, 0xff}, // direct: blue
	{0x2c, 0xa0, 0x2c, 0xff}, // flowgate: green
	{0xd6, 0x27, 0x28, 0xff}, // litellm: red
	{0x94, 0x67, 0xbd, 0xff},
	{0xff, 0x7f, 0x0e, 0xff},
	{0x8c, 0x56, 0x4b, 0xff},
}

// writeChart draws one panel per scenario with a horizontal box plot per
// target (pooled over repetitions) on a log-scale millisecond axis.
func writeChart(path string, r *report) error {
	const (
		width   = 1200
		left    = 230
		right   = 40
		rowH    = 26
		titleH  = 30
		axisH   = 26
		scale   = 2
		panelGp = 14
	)
	nt := len(r.Targets)
	panelH := titleH + nt*rowH + axisH + panelGp
	height := 50 + len(r.Scenarios)*panelH
	img := image.NewRGBA(image.Rect(0, 0, width, height))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
	black := color.RGBA{0x20, 0x20, 0x20, 0xff}
	grey := color.RGBA{0xdd, 0xdd, 0xdd, 0xff}
	drawText(img, 12, 12, "LATENCY MS PER SCENARIO AND TARGET - BOX P25-P75, BAR P50, WHISKERS P1-P99, DOT MAX (LOG SCALE)", scale, black)
	y := 50
	for _, sc := range r.Scenarios {
		drawText(img, 12, y+6, sc.Name+"  ("+sc.Desc+")", scale, black)
		// Axis range over every target's pooled samples.
		lo, hi := math.Inf(1), 0.0
		stats := make([][6]float64, nt)
		has := make([]bool, nt)
		for i, t := range r.Targets {
			v := append([]float64(nil), r.pooled[sc.Name+"/"+t.Name]...)
			if len(v) == 0 {
				continue
			}
			sort.Float64s(v)
			stats[i] = [6]float64{pct(v, 1), pct(v, 25), pct(v, 50), pct(v, 75), pct(v, 99), v[len(v)-1]}
			has[i] = true
			lo, hi = math.Min(lo, math.Max(stats[i][0], 0.001)), math.Max(hi, stats[i][5])
		}
		x0, x1 := left, width-right
		if hi == 0 {
			drawText(img, x0, y+titleH+4, "NO DATA", scale, black)
			y += panelH
			continue
		}
		lo = math.Pow(10, math.Floor(math.Log10(lo)))
		hi = math.Pow(10, math.Ceil(math.Log10(hi)))
		if hi <= lo {
			hi = lo * 10
		}
		xOf := func(v float64) int {
			v = math.Max(v, lo)
			return x0 + int(float64(x1-x0)*(math.Log10(v)-math.Log10(lo))/(math.Log10(hi)-math.Log10(lo)))
		}
		top, bottom := y+titleH, y+titleH+nt*rowH
		for d := lo; d <= hi*1.0001; d *= 10 {
			for _, m := range []float64{1, 2, 5} {
				v := d * m
				if v > hi*1.0001 {
					break
				}
				x := xOf(v)
				vline(img, x, top, bottom, grey)
				label := strconv.FormatFloat(v, 'g', 3, 64)
				if m == 1 || (math.Log10(hi)-math.Log10(lo)) <= 3 {
					drawText(img, x-textWidth(label, scale)/2, bottom+6, label, scale, black)
				}
			}
		}
		for i, t := range r.Targets {
			c := palette[i%len(palette)]
			ry := top + i*rowH
			drawText(img, 12, ry+6, t.Name, scale, c)
			if !has[i] {
				drawText(img, x0+4, ry+6, "-", scale, black)
				continue
			}
			s := stats[i]
			mid := ry + rowH/2
			hline(img, xOf(s[0]), xOf(s[4]), mid, c)
			vline(img, xOf(s[0]), mid-5, mid+5, c)
			vline(img, xOf(s[4]), mid-5, mid+5, c)
			fill(img, xOf(s[1]), ry+5, max(xOf(s[3]), xOf(s[1])+2), ry+rowH-5, lighten(c))
			rect(img, xOf(s[1]), ry+5, max(xOf(s[3]), xOf(s[1])+2), ry+rowH-5, c)
			fill(img, xOf(s[2])-1, ry+3, xOf(s[2])+2, ry+rowH-3, black)
			fill(img, xOf(s[5])-3, mid-3, xOf(s[5])+3, mid+3, c)
			label := f3(s[2])
			drawText(img, min(xOf(s[5])+8, x1-textWidth(label, scale)), ry+6, label, scale, black)
		}
		y += panelH
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := png.Encode(f, img); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func lighten(c color.RGBA) color.RGBA {
	return color.RGBA{uint8((int(c.R) + 3*255) / 4), uint8((int(c.G) + 3*255) / 4), uint8((int(c.B) + 3*255) / 4), 0xff}
}

func hline(img *image.RGBA, x0, x1, y int, c color.Color) {
	for x := x0; x <= x1; x++ {
		img.Set(x, y, c)
	}
}

func vline(img *image.RGBA, x, y0, y1 int, c color.Color) {
	for y := y0; y <= y1; y++ {
		img.Set(x, y, c)
	}
}

func fill(img *image.RGBA, x0, y0, x1, y1 int, c color.Color) {
	draw.Draw(img, image.Rect(x0, y0, x1, y1), image.NewUniform(c), image.Point{}, draw.Src)
}

func rect(img *image.RGBA, x0, y0, x1, y1 int, c color.Color) {
	hline(img, x0, x1, y0, c)
	hline(img, x0, x1, y1, c)
	vline(img, x0, y0, y1, c)
	vline(img, x1, y0, y1, c)
}
