package gateway

import (
	"encoding/json"
	"net/url"

	"github.com/flowgate/flowgate/internal/router"
	"github.com/flowgate/flowgate/internal/runtime"
)

// maxErrorMessage caps the message of an error the gateway writes, so that
// nothing a client or an upstream sent can make an error answer large.
// Outside strings inside it are already capped at runtime.MaxOutsideString.
const maxErrorMessage = 4 << 10

// registerSecrets makes every secret of a loaded config known to the
// process-wide redactor (runtime.RegisterSecrets): the client keys
// (master_key, extra keys) and each deployment's resolved upstream key,
// whether it came from the config, an environment variable or a file,
// plus Options.Secrets. From then on they are removed by value, whatever
// their shape, from upstream error bodies returned to clients, /health,
// the gateway's log and anything else that goes through
// runtime.RedactSecrets. Secrets of earlier generations stay known, so a
// request still running on an old generation cannot leak an old key.
func (s *Server) registerSecrets(cfg *router.Config) {
	secrets := append([]string{}, s.opts.Secrets...)
	secrets = append(secrets, cfg.General.Keys...)
	secrets = append(secrets, cfg.Settings.Redis.Password)
	if u, err := url.Parse(cfg.Settings.Redis.URL); err == nil && u.User != nil {
		if p, ok := u.User.Password(); ok {
			secrets = append(secrets, p)
		}
	}
	for _, d := range cfg.Deployments {
		if d.Target != nil {
			secrets = append(secrets, d.Target.APIKey)
		}
	}
	runtime.RegisterSecrets(secrets...)
}

// redactMessage is msg with every known secret and credential shape
// removed, capped at maxErrorMessage.
func redactMessage(msg string) string {
	return runtime.ClipTo(runtime.RedactSecrets(msg), maxErrorMessage)
}

// redactBody removes known secrets from an upstream error body that is
// returned to the client as is. It returns nil when redaction left
// something that is no longer valid JSON (a secret that was a bare JSON
// value); the caller then answers with a message of its own.
func redactBody(body []byte) []byte {
	out := runtime.Known().Redact(string(body))
	if out == string(body) {
		return body
	}
	if !json.Valid([]byte(out)) {
		return nil
	}
	return []byte(out)
}
