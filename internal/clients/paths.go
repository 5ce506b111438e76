package clients

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// DefaultCodexPath is $CODEX_HOME/config.toml, else ~/.codex/config.toml.
func DefaultCodexPath() (string, error) {
	if h := strings.TrimSpace(os.Getenv("CODEX_HOME")); h != "" {
		return ResolveTarget(filepath.Join(h, "config.toml"))
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("finding the Codex config: %w; pass --target", err)
	}
	return filepath.Join(home, ".codex", "config.toml"), nil
}

// DefaultClaudePath is $CLAUDE_CONFIG_DIR/settings.json, else
// ~/.claude/settings.json (Claude Code's user settings).
func DefaultClaudePath() (string, error) {
	if d := strings.TrimSpace(os.Getenv("CLAUDE_CONFIG_DIR")); d != "" {
		return ResolveTarget(filepath.Join(d, "settings.json"))
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("finding the Claude Code settings: %w; pass --target", err)
	}
	return filepath.Join(home, ".claude", "settings.json"), nil
}

// ResolveTarget expands a leading "~" and makes a --target path absolute
// against the current directory.
func ResolveTarget(p string) (string, error) {
	p = strings.TrimSpace(p)
	if p == "" {
		return "", fmt.Errorf("empty target path")
	}
	if p == "~" || strings.HasPrefix(p, "~/") {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("expanding %s: %w", p, err)
		}
		p = filepath.Join(home, strings.TrimPrefix(p, "~"))
	}
	return filepath.Abs(p)
}
