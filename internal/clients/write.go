package clients

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Result describes what an apply did (or, with dry-run, would do).
type Result struct {
	// Path is the file that was (or would be) written; symlinks resolved.
	Path string
	// BackupPath is the copy of the previous content, "" when none was made
	// (new file, dry run, or nothing changed).
	BackupPath string
	// Created is true when the file did not exist before.
	Created bool
	// Changed is false when the file already had the wanted content; nothing
	// is written then.
	Changed bool
	// DryRun is true when nothing was written on purpose.
	DryRun bool
	// Content is the new (planned) file content.
	Content []byte
	// Diff is a line diff from the old to the new content ("" if unchanged).
	Diff string
	// TightenedFrom is the previous mode when apply narrowed the file to
	// 0600 because it holds the gateway key (with dry-run: would narrow);
	// 0 when the mode was kept.
	TightenedFrom fs.FileMode
	// Warnings are things the user should know (token placeholder kept,
	// comments lost, ...), one sentence each, for stderr.
	Warnings []string
}

// readTarget resolves path (symlinks followed so that a dotfile manager's link
// stays a link) and reads it. A missing file is not an error: exists is false.
func readTarget(path string) (real string, data []byte, mode fs.FileMode, exists bool, err error) {
	if path == "" {
		return "", nil, 0, false, errors.New("no target path")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", nil, 0, false, err
	}
	real = abs
	if r, err := filepath.EvalSymlinks(abs); err == nil {
		real = r
	}
	fi, err := os.Stat(real)
	if errors.Is(err, fs.ErrNotExist) {
		return real, nil, 0o600, false, nil
	}
	if err != nil {
		return real, nil, 0, false, fmt.Errorf("reading %s: %w", real, err)
	}
	if !fi.Mode().IsRegular() {
		return real, nil, 0, false, fmt.Errorf("%s is not a regular file", real)
	}
	data, err = os.ReadFile(real)
	if err != nil {
		return real, nil, 0, false, fmt.Errorf("reading %s: %w", real, err)
	}
	return real, data, fi.Mode().Perm(), true, nil
}

// commit writes res.Content to res.Path unless it is a dry run or unchanged:
// backup first (0600, unique name) when the file existed, then an atomic
// replace keeping the old mode (new files 0600, new folders 0700). On any
// failure the target is untouched and the backup is removed.
func commit(res *Result, old []byte, mode fs.FileMode, existed, dryRun bool) error {
	res.Created = !existed
	res.Changed = !existed || !bytes.Equal(old, res.Content)
	if res.Changed {
		res.Diff = lineDiff(res.Path, old, res.Content)
	}
	if dryRun {
		res.DryRun = true
		return nil
	}
	if !res.Changed {
		return nil
	}
	dir := filepath.Dir(res.Path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("creating %s: %w", dir, err)
	}
	// Refuse to clobber a concurrent edit made since we read the file.
	cur, err := os.ReadFile(res.Path)
	switch {
	case err == nil && (!existed || !bytes.Equal(cur, old)):
		return fmt.Errorf("%s changed while applying; run the command again", res.Path)
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("reading %s: %w", res.Path, err)
	case err != nil && existed:
		return fmt.Errorf("%s was removed while applying; run the command again", res.Path)
	}
	if existed {
		b, err := writeBackup(res.Path, old)
		if err != nil {
			return err
		}
		res.BackupPath = b
	}
	if err := atomicWrite(res.Path, res.Content, mode); err != nil {
		if res.BackupPath != "" {
			os.Remove(res.BackupPath)
			res.BackupPath = ""
		}
		return err
	}
	return nil
}

// backupName is "<file>.backup.<UTC time with nanoseconds>-<random hex>", so
// two applies in the same second never share a name.
func backupName(path string, now time.Time) string {
	var rnd [4]byte
	_, _ = rand.Read(rnd[:])
	return fmt.Sprintf("%s.backup.%s-%s", path, now.UTC().Format("20060102T150405.000000000Z"), hex.EncodeToString(rnd[:]))
}

func writeBackup(path string, data []byte) (string, error) {
	for range 5 {
		name := backupName(path, time.Now())
		f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return "", fmt.Errorf("backing up %s: %w", path, err)
		}
		_, werr := f.Write(data)
		if werr == nil {
			werr = f.Sync()
		}
		if cerr := f.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			os.Remove(name)
			return "", fmt.Errorf("backing up %s: %w", path, werr)
		}
		return name, nil
	}
	return "", fmt.Errorf("backing up %s: could not pick a unique backup name", path)
}

// atomicWrite replaces path with data: temp file in the same folder, mode set
// before any byte is written, fsync, rename, fsync of the folder.
func atomicWrite(path string, data []byte, mode fs.FileMode) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	tmp := f.Name()
	fail := func(err error) error {
		f.Close()
		os.Remove(tmp)
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := f.Chmod(mode); err != nil {
		return fail(err)
	}
	if _, err := f.Write(data); err != nil {
		return fail(err)
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}

// lineDiff renders a small unified-style diff (changed lines with up to three
// lines of context, hunks separated by "@@"). Config files are small; very
// large inputs fall back to showing the whole new content.
func lineDiff(path string, old, new []byte) string {
	a := splitLines(old)
	b := splitLines(new)
	var sb strings.Builder
	fmt.Fprintf(&sb, "--- %s\n+++ %s (planned)\n", path, path)
	if len(a)*len(b) > 4_000_000 {
		for _, l := range b {
			sb.WriteString("+" + l + "\n")
		}
		return sb.String()
	}
	// LCS table.
	n, m := len(a), len(b)
	lcs := make([][]int32, n+1)
	for i := range lcs {
		lcs[i] = make([]int32, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	type op struct {
		kind byte
		text string
	}
	var ops []op
	i, j := 0, 0
	for i < n || j < m {
		switch {
		case i < n && j < m && a[i] == b[j]:
			ops = append(ops, op{' ', a[i]})
			i++
			j++
		case i < n && (j == m || lcs[i+1][j] >= lcs[i][j+1]):
			ops = append(ops, op{'-', a[i]})
			i++
		default:
			ops = append(ops, op{'+', b[j]})
			j++
		}
	}
	const ctx = 3
	show := make([]bool, len(ops))
	for k, o := range ops {
		if o.kind != ' ' {
			for d := max(0, k-ctx); d <= min(len(ops)-1, k+ctx); d++ {
				show[d] = true
			}
		}
	}
	gap := true
	for k, o := range ops {
		if !show[k] {
			gap = true
			continue
		}
		if gap {
			sb.WriteString("@@\n")
			gap = false
		}
		sb.WriteByte(o.kind)
		sb.WriteString(o.text)
		sb.WriteByte('\n')
	}
	return sb.String()
}

func splitLines(b []byte) []string {
	if len(b) == 0 {
		return nil
	}
	s := strings.TrimSuffix(string(b), "\n")
	return strings.Split(s, "\n")
}
