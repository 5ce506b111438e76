package runtime

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"
)

// State is state.json: which profile is active and since when.
type State struct {
	CurrentProfile string    `json:"current_profile"`
	UpdatedAt      time.Time `json:"updated_at"`
}

// ReadState reads state.json. A missing file is the zero State, not an error.
func ReadState(path string) (State, error) {
	var s State
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return s, fmt.Errorf("reading %s: %w", path, err)
	}
	if err := json.Unmarshal(data, &s); err != nil {
		return State{}, fmt.Errorf("%s is not valid JSON (%v); run `flowgate profile set NAME` to rewrite it", path, err)
	}
	return s, nil
}

// WriteState writes state.json atomically (0600).
func WriteState(path string, s State) error {
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	return WriteFileAtomic(path, append(data, '\n'), 0o600)
}
