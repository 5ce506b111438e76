package cli

import (
	"errors"
	"fmt"

	"github.com/flowgate/flowgate/internal/config"
)

// Exit codes, one table for every command.
const (
	// ExitOK: the command did what it was asked.
	ExitOK = 0
	// ExitFailed: an operation failed (a service did not start, something is
	// unhealthy, a doctor check failed, a login failed).
	ExitFailed = 1
	// ExitUsage: the config is invalid or the command line is wrong.
	ExitUsage = 2
)

// exitError carries an exit code through cobra. quiet means the message was
// already printed.
type exitError struct {
	code  int
	err   error
	quiet bool
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

// failed is an operation failure (exit 1).
func failed(format string, args ...any) error {
	return &exitError{code: ExitFailed, err: fmt.Errorf(format, args...)}
}

// usage is a usage or config error (exit 2).
func usage(format string, args ...any) error {
	return &exitError{code: ExitUsage, err: fmt.Errorf(format, args...)}
}

// silent exits with code after the command printed its own report.
func silent(code int) error { return &exitError{code: code, quiet: true} }

// codeFor maps an error to the exit code table.
func codeFor(err error) int {
	if err == nil {
		return ExitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	var ce *config.Error
	if errors.As(err, &ce) || errors.Is(err, config.ErrNotFound) {
		return ExitUsage
	}
	return ExitFailed
}
