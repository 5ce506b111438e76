package config

import (
	"fmt"
	"os"
	"strings"
)

// ResolveCredential returns the key for a credentials.upstream entry, read
// from its file or environment variable. The value is for memory only.
func (c *Config) ResolveCredential(name string) (string, error) {
	cred, ok := c.Credentials.Upstream[name]
	if !ok {
		return "", fmt.Errorf("credential %q is not defined in credentials.upstream; add it with file: PATH or env: VAR", name)
	}
	return cred.Resolve(name)
}

// Resolve reads the credential's value.
func (cred Credential) Resolve(name string) (string, error) {
	if cred.Env != "" {
		v := strings.TrimSpace(os.Getenv(cred.Env))
		if v == "" {
			return "", fmt.Errorf("credential %q: environment variable %s is not set or empty; export it before starting FlowGate", name, cred.Env)
		}
		return v, nil
	}
	data, err := os.ReadFile(cred.File)
	if err != nil {
		if os.IsNotExist(err) {
			return "", fmt.Errorf("credential %q: file %s does not exist; write the key into it (chmod 600)", name, cred.File)
		}
		return "", fmt.Errorf("credential %q: reading %s: %w", name, cred.File, err)
	}
	v := strings.TrimSpace(string(data))
	if v == "" {
		return "", fmt.Errorf("credential %q: file %s is empty; write the key into it", name, cred.File)
	}
	return v, nil
}
