package doctor

import (
	"fmt"
	"strings"

	"github.com/flowgate/flowgate/internal/config"
	"github.com/flowgate/flowgate/internal/supervisor"
)

// cliproxyConfigDrift reports CLIProxyAPIPlus's own host and port when they
// no longer match services.cliproxyapi_plus in flowgate.yaml.
func cliproxyConfigDrift(cfg *config.Config) []Check {
	const id = "drift_cliproxy_config"
	svc := cfg.Services[config.ServiceCLIProxy]
	changes, err := config.SyncCLIProxyConfig(cfg, true)
	if err != nil {
		return []Check{{ID: id, Status: Fail, Detail: err.Error(), Fix: "see the message above"}}
	}
	if len(changes) == 0 {
		return []Check{{ID: id, Status: Pass, Detail: fmt.Sprintf("host and port in %s match services.cliproxyapi_plus (%s:%d)", svc.ConfigFile, svc.Host, svc.Port)}}
	}
	var parts []string
	for _, c := range changes {
		parts = append(parts, c.String())
	}
	return []Check{{ID: id, Status: Fail,
		Detail: fmt.Sprintf("%s differs from services.cliproxyapi_plus in %s: %s", svc.ConfigFile, cfg.File, strings.Join(parts, ", ")),
		Fix:    fmt.Sprintf("run `flowgate --config %s service restart cliproxyapi_plus` (it writes host and port from flowgate.yaml before starting)", cfg.File)}}
}

// apiBaseDrift looks at every literal api_base on this machine, where it is
// written (litellm_base or a profile), since that is where it gets fixed.
func apiBaseDrift(cfg *config.Config) []Check {
	const id = "drift_api_base"
	cp := cfg.Services[config.ServiceCLIProxy]
	sources := []struct {
		path string
		doc  map[string]any
	}{{"litellm_base", cfg.LiteLLMBase}}
	for _, name := range cfg.ProfileNames() {
		sources = append(sources, struct {
			path string
			doc  map[string]any
		}{"profiles." + name, cfg.Profiles[name]})
	}
	var out []Check
	local := 0
	for _, src := range sources {
		list, _ := src.doc["model_list"].([]any)
		for i, e := range list {
			m, _ := e.(map[string]any)
			lp, _ := m["litellm_params"].(map[string]any)
			base, _ := lp["api_base"].(string)
			port, isLocal := config.LoopbackPort(base)
			if !isLocal {
				continue
			}
			local++
			field := fmt.Sprintf("%s.model_list[%d].litellm_params.api_base", src.path, i)
			where := cfg.File
			if line, _ := cfg.Position(field); line > 0 {
				where = fmt.Sprintf("%s (line %d)", cfg.File, line)
			}
			ref, _ := lp["api_key_ref"].(string)
			switch {
			case port == cp.Port:
			case ref == "cliproxy_default":
				out = append(out, Check{ID: id, Status: Fail,
					Detail: fmt.Sprintf("%s is %s, an old CLIProxyAPIPlus address: services.cliproxyapi_plus.port is %d", field, base, cp.Port),
					Fix:    fmt.Sprintf("set %s: %s in %s, so it follows services.cliproxyapi_plus", field, config.CLIProxyAPIBase, where)})
			case supervisor.FindPortHolder(hostOf(base), port) == nil:
				out = append(out, Check{ID: id, Status: Fail,
					Detail: fmt.Sprintf("%s is %s, but nothing serves port %d (CLIProxyAPIPlus is on %d)", field, base, port, cp.Port),
					Fix:    fmt.Sprintf("start what should serve port %d, or fix %s in %s (api_base: %s for CLIProxyAPIPlus)", port, field, where, config.CLIProxyAPIBase)})
			}
		}
	}
	if len(out) == 0 {
		out = append(out, Check{ID: id, Status: Pass, Detail: fmt.Sprintf("literal local api_base entries=%d all served; api_base: %s follows services.cliproxyapi_plus (port %d)", local, config.CLIProxyAPIBase, cp.Port)})
	}
	return out
}

func hostOf(rawURL string) string {
	h := rawURL
	if _, rest, ok := strings.Cut(h, "://"); ok {
		h = rest
	}
	h, _, _ = strings.Cut(h, "/")
	if i := strings.LastIndex(h, ":"); i >= 0 && !strings.HasSuffix(h, "]") {
		h = h[:i]
	}
	h = strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")
	if h == "localhost" {
		return "127.0.0.1"
	}
	return config.DialHost(h)
}
