// Package build finds the FlowGate module and builds the flowgate binary
// for the benchmark and the soak, which measure it as a real process.
package build

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
)

// ModuleRoot finds the folder holding the FlowGate go.mod, from the working
// directory upwards.
func ModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && bytes.Contains(b, []byte("module github.com/flowgate/flowgate")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("run it inside the FlowGate repository (no go.mod for github.com/flowgate/flowgate above the working directory)")
		}
		dir = parent
	}
}

// FlowGate compiles ./cmd/flowgate of the module at root into dir/name.
func FlowGate(ctx context.Context, root, dir, name string) (string, error) {
	bin := filepath.Join(dir, name)
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/flowgate")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/flowgate: %w\n%s", err, out)
	}
	return bin, nil
}

// FreePort is a loopback port free at the moment of the call.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
