package supervisor

import (
	"context"
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"
)

// lock takes the exclusive per-service flock on PidDir/NAME.lock, waiting
// up to wait for another flowgate process (or goroutine) to release it.
// The lock is per open file description, so goroutines of one process
// exclude each other too. The returned function releases it.
func (s *Supervisor) lock(ctx context.Context, name string, wait time.Duration) (func(), error) {
	if err := os.MkdirAll(s.PidDir, 0o700); err != nil {
		return nil, fmt.Errorf("creating pid folder: %w", err)
	}
	path := s.lockPath(name)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening lock file: %w", err)
	}
	deadline := time.Now().Add(wait)
	delay := 10 * time.Millisecond
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() {
				syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
				f.Close()
			}, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			f.Close()
			return nil, fmt.Errorf("locking %s: %w", path, err)
		}
		if time.Now().After(deadline) {
			f.Close()
			return nil, fmt.Errorf("another flowgate command is still starting or stopping %s (lock %s is held); wait for it to finish and retry", name, path)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("waiting for the lock of %s: %w", name, ctx.Err())
		case <-time.After(delay):
		}
		delay = min(delay*2, 100*time.Millisecond)
	}
}
