package supervisor

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/flowgate/flowgate/internal/runtime"
)

// PidRecord is the content of PidDir/NAME.pid.
type PidRecord struct {
	Pid  int `json:"pid"`
	Pgid int `json:"pgid"`
	// StartTime is the kernel start time of Pid in clock ticks after boot
	// (/proc/<pid>/stat field 22). 0 means unknown (a legacy pid file), and
	// such a record is never trusted.
	StartTime uint64    `json:"start_time"`
	Argv      []string  `json:"argv"`
	Cwd       string    `json:"cwd"`
	StartedAt time.Time `json:"started_at"`
}

// readPidRecord reads path. It returns (nil, nil) when the file does not
// exist. A bare decimal pid (the Python predecessor's format) is accepted
// with StartTime 0.
func readPidRecord(path string) (*PidRecord, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading pid file %s: %w", path, err)
	}
	text := strings.TrimSpace(string(data))
	if text == "" {
		return nil, nil
	}
	if pid, err := strconv.Atoi(text); err == nil && pid > 0 {
		return &PidRecord{Pid: pid}, nil
	}
	var rec PidRecord
	if err := json.Unmarshal(data, &rec); err != nil || rec.Pid <= 0 {
		return nil, fmt.Errorf("pid file %s is not valid; remove it once you made sure the service is not running", path)
	}
	return &rec, nil
}

// writePidRecord writes rec to path atomically (temp file in the same
// folder, fsync, rename) with mode 0600.
func writePidRecord(path string, rec *PidRecord) error {
	data, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return err
	}
	return runtime.WriteFileAtomic(path, append(data, '\n'), 0o600)
}

// removePidRecord deletes path; a missing file is fine.
func removePidRecord(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("removing pid file: %w", err)
	}
	return nil
}

// moveStaleRecord renames path to path+".stale" so that the record is kept
// for inspection but no longer names the service.
func moveStaleRecord(path string) error {
	if err := os.Rename(path, path+".stale"); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("moving stale pid file aside: %w", err)
	}
	return nil
}
