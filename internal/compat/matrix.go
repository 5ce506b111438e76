// Package compat renders FlowGate's client/upstream compatibility matrix,
// docs/compatibility.md. The matrix is measured, never written by hand:
// TestCompatibilityMatrix drives the real gateway with the official SDKs
// against fake upstreams of every kind, one subtest per cell, and renders
// the outcomes with Render (go test ./internal/compat -run
// TestCompatibilityMatrix -update writes the file).
package compat

import (
	"fmt"
	"strings"
)

// Verdict is how one cell ended.
type Verdict int

const (
	// Pass: every check of the cell held.
	Pass Verdict = iota
	// Fail: a check did not hold (the subtest failed).
	Fail
	// Refused: the upstream cannot serve the feature and the gateway
	// answered the clear error the cell expects instead.
	Refused
	// NA: the feature does not exist in the client's protocol.
	NA
	// Dropped: the upstream cannot serve an optional part of the request
	// that the client sends with every turn, so the gateway removes it and
	// the turn succeeds without it (the cell checks both).
	Dropped
)

// Outcome is one cell's result; Why explains Refused, NA and Dropped (and, for
// Fail, is the first failure, kept out of the document).
type Outcome struct {
	Verdict Verdict
	Why     string
}

// Row is one feature of the matrix.
type Row struct {
	Name string
	// Note says what the row checks, for the notes under the table.
	Note string
}

// Matrix is the measured table: Cells[row][column].
type Matrix struct {
	Intro   string
	Rows    []Row
	Columns []string
	Cells   [][]Outcome
}

// Render writes the matrix as Markdown: the intro, one table (✅ pass, ❌
// fail, refused and n/a with a numbered footnote each), the footnotes and
// the per-row notes. The output depends only on m: no times, no
// environment, footnotes numbered in row-major order of first use.
func Render(m Matrix) []byte {
	var b strings.Builder
	b.WriteString(strings.TrimSpace(m.Intro) + "\n\n")
	b.WriteString("| feature |")
	for _, c := range m.Columns {
		b.WriteString(" " + c + " |")
	}
	b.WriteString("\n|---|")
	for range m.Columns {
		b.WriteString(":---:|")
	}
	b.WriteString("\n")
	var notes []string
	index := map[string]int{}
	footnote := func(label, why string) string {
		key := label + ": " + why
		n, ok := index[key]
		if !ok {
			notes = append(notes, key)
			n = len(notes)
			index[key] = n
		}
		return fmt.Sprintf("%s [%d]", label, n)
	}
	for i, r := range m.Rows {
		b.WriteString("| " + r.Name + " |")
		for _, o := range m.Cells[i] {
			var cell string
			switch o.Verdict {
			case Pass:
				cell = "✅"
			case Fail:
				cell = "❌"
			case Refused:
				cell = footnote("refused", o.Why)
			case NA:
				cell = footnote("n/a", o.Why)
			case Dropped:
				cell = footnote("dropped", o.Why)
			}
			b.WriteString(" " + cell + " |")
		}
		b.WriteString("\n")
	}
	if len(notes) > 0 {
		b.WriteString("\n")
		for i, n := range notes {
			fmt.Fprintf(&b, "[%d] %s\n", i+1, n)
			if i < len(notes)-1 {
				b.WriteString("\n")
			}
		}
	}
	b.WriteString("\n## What each row checks\n\n")
	for _, r := range m.Rows {
		b.WriteString("- **" + r.Name + "**: " + strings.TrimSpace(r.Note) + "\n")
	}
	return []byte(b.String())
}
