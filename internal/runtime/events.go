package runtime

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// Event is one line of .router/runtime/events.log. Empty fields are written
// as JSON null so that every line carries exactly the same seven keys.
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

type eventLine struct {
	Timestamp string  `json:"timestamp"`
	Event     string  `json:"event"`
	Service   *string `json:"service"`
	Profile   *string `json:"profile"`
	Provider  *string `json:"provider"`
	Result    *string `json:"result"`
	Detail    *string `json:"detail"`
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// EncodeEvent renders ev as one JSON line (with the trailing newline) stamped
// with the given time in RFC 3339 UTC.
func EncodeEvent(ev Event, at time.Time) ([]byte, error) {
	if ev.Event == "" {
		return nil, fmt.Errorf("event name is empty")
	}
	line := eventLine{
		Timestamp: at.UTC().Format(time.RFC3339Nano),
		Event:     ev.Event,
		Service:   nullable(ev.Service),
		Profile:   nullable(ev.Profile),
		Provider:  nullable(ev.Provider),
		Result:    nullable(ev.Result),
		Detail:    nullable(RedactSecrets(ev.Detail)),
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(line); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// AppendEvent appends ev to the events log at path with a single write(2) on
// an O_APPEND descriptor, so that lines from concurrent processes never
// interleave. The folder is created (0700) when missing.
func AppendEvent(path string, ev Event) error {
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
	_, werr := f.Write(data)
	cerr := f.Close()
	if werr != nil {
		return fmt.Errorf("writing events log: %w", werr)
	}
	return cerr
}
