package runtime

import (
	"errors"
	"fmt"
	"os"
	"strconv"
)

// ShiftRotated makes room for a new path.1: it drops path.keep and renames
// path.(keep-1) to path.keep ... path.1 to path.2. Missing files are skipped.
// keep below 1 counts as 1.
func ShiftRotated(path string, keep int) error {
	keep = max(keep, 1)
	if err := os.Remove(path + "." + strconv.Itoa(keep)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("rotating %s: %w", path, err)
	}
	for i := keep - 1; i >= 1; i-- {
		from := path + "." + strconv.Itoa(i)
		if err := os.Rename(from, path+"."+strconv.Itoa(i+1)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("rotating %s: %w", path, err)
		}
	}
	return nil
}

// RotateByRename renames path to path.1 (after ShiftRotated) when it is
// larger than maxBytes. It is for files nobody holds open for writing, or
// whose writers reopen the path for every write (the events log); a child
// process that keeps its descriptor needs copy-truncate instead.
func RotateByRename(path string, maxBytes int64, keep int) (bool, error) {
	fi, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("checking the size of %s: %w", path, err)
	}
	if fi.Size() <= maxBytes {
		return false, nil
	}
	if err := ShiftRotated(path, keep); err != nil {
		return false, err
	}
	if err := os.Rename(path, path+".1"); err != nil {
		return false, fmt.Errorf("rotating %s: %w", path, err)
	}
	return true, nil
}
