package runtime

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// Event is one line of .router/runtime/events.log. Empty fields are written
// as JSON null so that every line carries exactly the same seven keys, in the
// order timestamp, event, service, profile, provider, result, detail.
type Event struct {
	// Event names what happened: service_start, service_stop, service_restart,
	// profile_switch, oauth_login, auth_import, bootstrap_download, ...
	Event string
	// Service is the supervised service the event is about, if any.
	Service string
	// Profile is the routing profile the event is about, if any.
	Profile string
	// Provider is the auth provider the event is about, if any.
	Provider string
	// Result is success, failed, already-running, ...
	Result string
	// Detail is a short free-form explanation; it must never hold a secret.
	Detail string
}

// Emitter receives events. Packages that do state-changing work take one so
// that the CLI decides where events go (the events log) and tests can record
// them. A nil Emitter drops events.
type Emitter func(Event)

// Emit calls e when it is not nil.
func (e Emitter) Emit(ev Event) {
	if e != nil {
		e(ev)
	}
}

// EncodeEvent renders ev as one JSON line (with the trailing newline) stamped
// with the given time in RFC 3339 UTC. The keys come in a fixed order, each
// followed by ": " and separated by ", " (the form Python's json.dumps
// writes), so that a search such as grep '"event": "oauth_login"' or
// '"result": "success"' finds the line:
//
//	{"timestamp": "2026-01-02T03:04:05Z", "event": "oauth_login", "service": null, "profile": null, "provider": "codex", "result": "success", "detail": null}
func EncodeEvent(ev Event, at time.Time) ([]byte, error) {
	if ev.Event == "" {
		return nil, fmt.Errorf("event name is empty")
	}
	fields := [...]struct{ key, value string }{
		{"timestamp", at.UTC().Format(time.RFC3339Nano)},
		{"event", ev.Event},
		{"service", ev.Service},
		{"profile", ev.Profile},
		{"provider", ev.Provider},
		{"result", ev.Result},
		{"detail", RedactSecrets(ev.Detail)},
	}
	var buf bytes.Buffer
	buf.WriteByte('{')
	for i, f := range fields {
		if i > 0 {
			buf.WriteString(", ")
		}
		buf.WriteString(`"` + f.key + `": `)
		if f.value == "" && f.key != "event" {
			buf.WriteString("null")
			continue
		}
		if err := writeJSONString(&buf, f.value); err != nil {
			return nil, err
		}
	}
	buf.WriteString("}\n")
	return buf.Bytes(), nil
}

// writeJSONString appends s as a JSON string without escaping <, > and &.
func writeJSONString(buf *bytes.Buffer, s string) error {
	var tmp bytes.Buffer
	enc := json.NewEncoder(&tmp)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		return err
	}
	buf.Write(bytes.TrimSuffix(tmp.Bytes(), []byte("\n")))
	return nil
}

// Events log rotation defaults: events.log is renamed to events.log.1 (the
// older ones shifted to .2, .3) once it passes EventsMaxBytes; EventsKeep
// rotated files are kept.
const (
	EventsMaxBytes = 5 << 20
	EventsKeep     = 3
)

// AppendEvent appends ev to the events log at path with a single write(2) on
// an O_APPEND descriptor, so that lines from concurrent processes never
// interleave. The folder is created (0700) when missing. Once the log is
// larger than EventsMaxBytes it is rotated (see appendEvent).
func AppendEvent(path string, ev Event) error {
	return appendEvent(path, ev, EventsMaxBytes, EventsKeep)
}

// appendEvent writes the line, then rotates when the file it wrote to is
// over maxBytes. Several processes may append and rotate at once: the one
// that rotates holds an flock on the file it renames and first checks that
// the path still names that file, so one full log is rotated exactly once
// and no rotated file is overwritten. A writer that opened the file just
// before the rename lands its line in events.log.1, which is still a
// complete log; no line is lost or split.
func appendEvent(path string, ev Event, maxBytes int64, keep int) error {
	data, err := EncodeEvent(ev, time.Now())
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("creating events log folder: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("opening events log: %w", err)
	}
	defer f.Close()
	if _, err := f.Write(data); err != nil {
		return fmt.Errorf("writing events log: %w", err)
	}
	if fi, err := f.Stat(); err == nil && fi.Size() > maxBytes {
		if err := rotateOpenLog(path, f, keep); err != nil {
			return fmt.Errorf("rotating events log: %w", err)
		}
	}
	return nil
}

// rotateOpenLog renames path (open as f) to path.1 unless another process
// rotated it first.
func rotateOpenLog(path string, f *os.File, keep int) error {
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		return err
	}
	defer syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	mine, err := f.Stat()
	if err != nil {
		return err
	}
	onDisk, err := os.Stat(path)
	if err != nil || !os.SameFile(mine, onDisk) {
		return nil // already rotated by someone else
	}
	if err := ShiftRotated(path, keep); err != nil {
		return err
	}
	return os.Rename(path, path+".1")
}
