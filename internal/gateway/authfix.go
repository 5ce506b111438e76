package gateway

import (
	"github.com/flowgate/flowgate/internal/cliproxy"
	"github.com/flowgate/flowgate/internal/router"
)

// CLIProxyKeyRef is the credentials.upstream name of the key FlowGate
// presents to CLIProxyAPIPlus (flowgate init writes it); a deployment using
// it routes to CLIProxyAPIPlus wherever that listens.
const CLIProxyKeyRef = "cliproxy_default"

// authFix says how to fix a deployment whose credential the upstream
// refused: a CLIProxyAPIPlus deployment needs a new login of the provider
// serving its model; any other names the key's source to check.
func (s *Server) authFix(d *router.Deployment) string {
	if d == nil {
		return ""
	}
	if cliproxy.OnService(d.Target.Base, s.opts.CLIProxyBase) || d.KeyRef == CLIProxyKeyRef {
		return "run: " + cliproxy.LoginCommand(cliproxy.ProviderForModel(d.Target.Model))
	}
	switch {
	case d.KeyRef != "":
		return "check the key in credentials.upstream." + d.KeyRef + " (the api_key_ref of " + d.Path + ") and run `flowgate doctor`"
	case d.KeyEnv != "":
		return "check the key in the environment variable " + d.KeyEnv + " (the api_key of " + d.Path + "), then restart the gateway: `flowgate service restart gateway`"
	}
	return "check " + d.Path + ".litellm_params.api_key"
}
