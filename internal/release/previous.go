package release

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/flowgate/flowgate/internal/runtime"
)

// Previous is the installed CLIProxyAPIPlus kept under a second name while a
// new one is tried: Restore puts it back, Discard forgets it.
type Previous struct {
	// Version is the tag it was installed from; "" when unknown.
	Version string
	// Path is where the kept copy lives until Restore or Discard.
	Path string

	binary      string
	versionFile string
	versionData []byte // nil when there was no version file
}

// KeepPrevious keeps the binary installed in runtimeDir under
// <runtimeDir>/bin/.CLIProxyAPIPlus.previous (a hard link, or a copy where a
// link is not possible), so that Download's rename leaves it whole. It
// returns nil and no error when nothing is installed.
func KeepPrevious(runtimeDir string) (*Previous, error) {
	binary := BinaryPath(runtimeDir)
	if _, err := os.Stat(binary); errors.Is(err, os.ErrNotExist) {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("checking the installed binary: %w", err)
	}
	p := &Previous{
		binary:      binary,
		Path:        filepath.Join(filepath.Dir(binary), "."+filepath.Base(binary)+".previous"),
		versionFile: VersionFilePath(runtimeDir),
	}
	if data, err := os.ReadFile(p.versionFile); err == nil {
		p.versionData = data
		p.Version = strings.TrimSpace(string(data))
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("reading %s: %w", p.versionFile, err)
	}
	_ = os.Remove(p.Path) // left by an interrupted update
	if err := os.Link(binary, p.Path); err != nil {
		if err := copyExecutable(binary, p.Path); err != nil {
			return nil, fmt.Errorf("keeping a copy of %s to roll back to: %w", binary, err)
		}
	}
	return p, nil
}

// Restore renames the kept binary back into place and rewrites the version
// file as it was.
func (p *Previous) Restore() error {
	if err := os.Rename(p.Path, p.binary); err != nil {
		return fmt.Errorf("putting the previous binary back at %s: %w", p.binary, err)
	}
	runtime.SyncDir(filepath.Dir(p.binary))
	if p.versionData == nil {
		if err := os.Remove(p.versionFile); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("removing %s: %w", p.versionFile, err)
		}
		return nil
	}
	if err := runtime.WriteFileAtomic(p.versionFile, p.versionData, 0o644); err != nil {
		return fmt.Errorf("restoring %s: %w", p.versionFile, err)
	}
	return nil
}

// Discard removes the kept binary.
func (p *Previous) Discard() error {
	if err := os.Remove(p.Path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("removing %s: %w", p.Path, err)
	}
	return nil
}

func copyExecutable(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	tmp, err := os.CreateTemp(filepath.Dir(dst), "."+filepath.Base(dst)+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := io.Copy(tmp, in); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o755); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), dst)
}
