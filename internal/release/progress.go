package release

import (
	"fmt"
	"io"
	"os"
	"time"
)

// isTerminal reports whether w is an interactive terminal (a character device
// other than /dev/null).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok || f == nil {
		return false
	}
	fi, err := f.Stat()
	if err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		return false
	}
	if null, err := os.Stat(os.DevNull); err == nil && os.SameFile(fi, null) {
		return false
	}
	return true
}

// progressBar is an io.Writer that counts bytes and redraws one line on a
// terminal at most every 100 ms.
type progressBar struct {
	w     io.Writer
	name  string
	total int64 // 0 when unknown
	done  int64
	last  time.Time
}

func newProgressBar(w io.Writer, name string, total int64) *progressBar {
	if w == nil || !isTerminal(w) {
		return nil
	}
	return &progressBar{w: w, name: name, total: total}
}

func (p *progressBar) Write(b []byte) (int, error) {
	p.done += int64(len(b))
	if now := time.Now(); now.Sub(p.last) >= 100*time.Millisecond {
		p.last = now
		p.draw()
	}
	return len(b), nil
}

func (p *progressBar) draw() {
	const width = 30
	mb := func(n int64) float64 { return float64(n) / (1 << 20) }
	if p.total <= 0 {
		fmt.Fprintf(p.w, "\rdownloading %s %.1f MB", p.name, mb(p.done))
		return
	}
	frac := min(float64(p.done)/float64(p.total), 1)
	filled := int(frac * width)
	bar := make([]byte, width)
	for i := range bar {
		bar[i] = ' '
		if i < filled {
			bar[i] = '='
		}
	}
	fmt.Fprintf(p.w, "\rdownloading %s [%s] %3.0f%% %.1f/%.1f MB", p.name, bar, frac*100, mb(p.done), mb(p.total))
}

// finish draws the final state and ends the line.
func (p *progressBar) finish() {
	p.draw()
	fmt.Fprintln(p.w)
}
