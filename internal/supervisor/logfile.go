package supervisor

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/flowgate/flowgate/internal/runtime"
)

// rotateLog renames path to path.1 (shifting path.1 to path.2 ... and
// dropping path.keep) when path is larger than maxBytes. It runs before a
// child is spawned, when nobody holds the log open.
func rotateLog(path string, maxBytes int64, keep int) error {
	if _, err := runtime.RotateByRename(path, maxBytes, keep); err != nil {
		return fmt.Errorf("rotating the log: %w", err)
	}
	return nil
}

// RotateRunningLog rotates service name's log while the service runs,
// when it is larger than maxBytes (defaults when <= 0): the content is
// copied to NAME.log.1 (older copies shifted, keep kept) and NAME.log is
// truncated in place. The children keep their descriptor, opened
// O_APPEND, so their next write lands at the new end of the same file.
// Lines written between the final copy and the truncation (a few
// microseconds) are lost; that is the price of rotating a file other
// processes write without their help. It reports whether it rotated.
func (s *Supervisor) RotateRunningLog(name string, maxBytes int64, keep int) (bool, error) {
	if maxBytes <= 0 {
		maxBytes = DefaultLogMaxBytes
	}
	if keep <= 0 {
		keep = DefaultLogKeep
	}
	path := s.LogPath(name)
	fi, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("checking the log of %s: %w", name, err)
	}
	if fi.Size() <= maxBytes {
		return false, nil
	}
	if err := copyTruncate(path, keep); err != nil {
		return false, fmt.Errorf("rotating the log of %s: %w", name, err)
	}
	return true, nil
}

// copyTruncate copies path to path.1 (after shifting the older copies)
// and truncates path to zero.
func copyTruncate(path string, keep int) error {
	src, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer src.Close()
	if err := runtime.ShiftRotated(path, keep); err != nil {
		return err
	}
	// The copy is written beside and named path.1 only once path is
	// truncated, so path.1 never shows a rotation half done.
	tmp := path + ".1.tmp"
	dst, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	// Copy until caught up, so that what the children write during the
	// copy is kept too; then truncate right away.
	var off int64
	for range 8 {
		n, err := io.Copy(dst, io.NewSectionReader(src, off, 1<<62))
		off += n
		if err != nil {
			dst.Close()
			os.Remove(tmp)
			return err
		}
		if n == 0 {
			break
		}
	}
	if err := dst.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := src.Truncate(0); err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, path+".1")
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
