package cliproxy

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/flowgate/flowgate/internal/runtime"
)

// ManagementPasswordFile is the secret's name inside .router/secrets.
const ManagementPasswordFile = "cliproxy_management_password"

// EnsureManagementPassword returns the CLIProxyAPIPlus management password
// stored in secretsDir/cliproxy_management_password, generating it (32 random
// bytes, base64url) on first use. The folder is 0700 and the file 0600. Two
// processes racing here agree on one password: the file is published with a
// hard link that fails when it already exists. The supervisor passes the
// password to the child as MANAGEMENT_PASSWORD; the Client sends it.
func EnsureManagementPassword(secretsDir string) (string, error) {
	path := filepath.Join(secretsDir, ManagementPasswordFile)
	if pw, err := readPassword(path); err == nil && pw != "" {
		return pw, nil
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	if err := os.MkdirAll(secretsDir, 0o700); err != nil {
		return "", fmt.Errorf("creating secrets folder %s: %w", secretsDir, err)
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", fmt.Errorf("generating the management password: %w", err)
	}
	pw := base64.RawURLEncoding.EncodeToString(raw)

	f, err := os.CreateTemp(secretsDir, "."+ManagementPasswordFile+".tmp-*")
	if err != nil {
		return "", fmt.Errorf("writing the management password: %w", err)
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	_, werr := f.WriteString(pw + "\n")
	if werr == nil {
		werr = f.Chmod(0o600)
	}
	if werr == nil {
		werr = f.Sync()
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		return "", fmt.Errorf("writing the management password: %w", werr)
	}
	err = os.Link(tmp, path)
	switch {
	case err == nil:
		runtime.SyncDir(secretsDir)
		return pw, nil
	case errors.Is(err, fs.ErrExist):
		// Another process won, or the file exists but was empty.
		if other, rerr := readPassword(path); rerr == nil && other != "" {
			return other, nil
		}
		if err := os.Rename(tmp, path); err != nil {
			return "", fmt.Errorf("writing the management password: %w", err)
		}
		runtime.SyncDir(secretsDir)
		return pw, nil
	default:
		// File systems without hard links.
		if err := os.Rename(tmp, path); err != nil {
			return "", fmt.Errorf("writing the management password: %w", err)
		}
		runtime.SyncDir(secretsDir)
		return pw, nil
	}
}

// readPassword reads the secret and tightens a too-open mode to 0600.
func readPassword(path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
		if err := os.Chmod(path, 0o600); err != nil {
			return "", fmt.Errorf("%s is readable by others and cannot be fixed: %w; run `chmod 600 %s`", path, err, path)
		}
	}
	return strings.TrimSpace(string(data)), nil
}
