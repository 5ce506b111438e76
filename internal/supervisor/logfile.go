package supervisor

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"
)

// rotateLog renames path to path.1 (shifting path.1 to path.2 ... and
// dropping path.keep) when path is larger than maxBytes.
func rotateLog(path string, maxBytes int64, keep int) error {
	fi, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("checking log size: %w", err)
	}
	if fi.Size() <= maxBytes {
		return nil
	}
	if keep < 1 {
		keep = 1
	}
	os.Remove(path + "." + strconv.Itoa(keep))
	for i := keep - 1; i >= 1; i-- {
		from := path + "." + strconv.Itoa(i)
		if err := os.Rename(from, path+"."+strconv.Itoa(i+1)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("rotating log: %w", err)
		}
	}
	if err := os.Rename(path, path+".1"); err != nil {
		return fmt.Errorf("rotating log: %w", err)
	}
	return nil
}

// TailLog returns the last n lines of service name's current log. A missing
// log gives no lines and no error. It creates nothing.
func (s *Supervisor) TailLog(name string, n int) ([]string, error) {
	f, err := os.Open(s.LogPath(name))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("opening log of %s: %w", name, err)
	}
	defer f.Close()
	return tailFrom(f, 0, n)
}

// tailFrom returns the last n lines of f at or after offset from. It reads
// at most the last 256 KiB.
func tailFrom(f *os.File, from int64, n int) ([]string, error) {
	if n <= 0 {
		return nil, nil
	}
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	start := max(from, fi.Size()-256<<10)
	if start >= fi.Size() {
		return nil, nil
	}
	buf := make([]byte, fi.Size()-start)
	if _, err := f.ReadAt(buf, start); err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	if start > from {
		// Drop the partial first line.
		if i := bytes.IndexByte(buf, '\n'); i >= 0 {
			buf = buf[i+1:]
		}
	}
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(buf))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return lines, nil
}

// FollowLog writes the last n lines of service name's log to w and then
// everything appended to it until ctx ends, like `tail -F`: it waits for a
// missing log to appear and reopens the log after a rotation or truncation.
// It returns nil when ctx is cancelled.
func (s *Supervisor) FollowLog(ctx context.Context, name string, n int, w io.Writer) error {
	path := s.LogPath(name)
	lines, err := s.TailLog(name, n)
	if err != nil {
		return err
	}
	for _, l := range lines {
		if _, err := fmt.Fprintln(w, l); err != nil {
			return err
		}
	}
	var f *os.File
	var offset int64
	if fi, err := os.Stat(path); err == nil {
		offset = fi.Size()
	}
	defer func() {
		if f != nil {
			f.Close()
		}
	}()
	buf := make([]byte, 32<<10)
	for {
		if f == nil {
			if nf, err := os.Open(path); err == nil {
				f = nf
			}
		}
		if f != nil {
			cur, errCur := f.Stat()
			onDisk, errDisk := os.Stat(path)
			if errCur == nil && cur.Size() < offset {
				offset = 0 // truncated
			}
			for {
				k, err := f.ReadAt(buf, offset)
				if k > 0 {
					if _, werr := w.Write(buf[:k]); werr != nil {
						return werr
					}
					offset += int64(k)
				}
				if err != nil || k == 0 {
					break
				}
			}
			if errCur == nil && (errDisk != nil || !os.SameFile(cur, onDisk)) {
				// Rotated: the old file is drained, switch to the new one.
				f.Close()
				f, offset = nil, 0
				continue
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(200 * time.Millisecond):
		}
	}
}
