package cli

import (
	"fmt"
	"os"
	"strings"

	"github.com/flowgate/flowgate/internal/clients"
	"github.com/flowgate/flowgate/internal/config"
)

// clientDrift compares the client settings applied earlier with what
// `integration apply` would write now.
func clientDrift(cfg *config.Config) []Check {
	spec, err := clients.SpecFromConfig(cfg, true)
	if err != nil {
		return []Check{{ID: "drift_clients", Status: checkFail, Detail: err.Error(), Fix: "fix integration in " + cfg.File}}
	}
	fix := func(client string) string {
		return fmt.Sprintf("run `flowgate --config %s integration apply %s`", cfg.File, client)
	}
	var out []Check
	report := func(id, client, path string, readErr error, applied bool, drift []string) {
		switch {
		case readErr != nil:
			out = append(out, Check{ID: id, Status: checkWarn, Detail: readErr.Error(), Fix: "fix the file, then " + fix(client)})
		case len(drift) > 0:
			out = append(out, Check{ID: id, Status: checkFail, Detail: strings.Join(drift, "; "), Fix: fix(client)})
		case !applied:
			out = append(out, Check{ID: id, Status: checkPass, Detail: "not applied (" + path + ")"})
		default:
			out = append(out, Check{ID: id, Status: checkPass, Detail: "points at " + spec.GatewayURL + " (" + path + ")"})
		}
	}

	if path, err := clients.DefaultClaudePath(); err == nil {
		s, rerr := clients.ReadClaude(path)
		report("drift_claude_code", "claude-code", s.Path, rerr, s.BaseURL != "", clients.ClaudeDrift(spec, s))
	}
	if path, err := clients.DefaultCodexPath(); err == nil {
		s, rerr := clients.ReadCodex(path)
		report("drift_codex", "codex", s.Path, rerr, s.HasFlowGate, clients.CodexDrift(spec, s))
		// Codex sends whatever its env_key variable holds; a different value
		// in this shell means codex started here would be refused.
		if s.HasFlowGate && s.Provider == clients.CodexProviderID && spec.Token != "" {
			if v := os.Getenv(spec.EnvKey); v != "" && v != spec.Token {
				out = append(out, Check{ID: "drift_codex", Status: checkWarn,
					Detail: fmt.Sprintf("$%s in this shell is not the gateway key, so codex started here is refused", spec.EnvKey),
					Fix:    clients.CodexKeyReminder(cfg, spec)})
			}
		}
	}
	return out
}
