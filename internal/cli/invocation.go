package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/flowgate/flowgate/internal/config"
)

// flowgateCmd is how the user runs this flowgate with this config from
// where they stand, for the commands that messages tell them to run.
func flowgateCmd(cfg *config.Config) string {
	return invocation() + " --config " + relOrAbs(cfg.File)
}

// invocation is `flowgate` when that is on PATH and is this binary; under
// `go run` (a temporary build) it is `go run ./cmd/flowgate` from the
// module root; otherwise the path of this binary.
func invocation() string {
	self, err := os.Executable()
	if err != nil {
		return "flowgate"
	}
	if onPath, err := exec.LookPath("flowgate"); err == nil {
		if same, _ := sameFile(onPath, self); same {
			return "flowgate"
		}
	}
	if strings.Contains(filepath.ToSlash(self), "/go-build") {
		if fi, err := os.Stat(filepath.Join("cmd", "flowgate")); err == nil && fi.IsDir() {
			return "go run ./cmd/flowgate"
		}
		return "flowgate"
	}
	if p := relOrAbs(self); p != self {
		return "./" + p
	}
	return self
}
