package cli

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/flowgate/flowgate/internal/cliproxy"
	"github.com/flowgate/flowgate/internal/config"
	rt "github.com/flowgate/flowgate/internal/runtime"
	"github.com/flowgate/flowgate/internal/supervisor"
)

// selfBinaryName is the copy of this binary the gateway service runs from,
// so that `go run ./cmd/flowgate up` leaves a gateway that outlives go run's
// temporary build folder.
const selfBinaryName = "flowgate"

func supervisorFor(cfg *config.Config) *supervisor.Supervisor {
	l := layoutOf(cfg)
	return &supervisor.Supervisor{PidDir: l.PidDir(), LogDir: l.LogDir(), Emit: l.Emitter()}
}

// serviceNames resolves `all` or one name to names in dependency order.
func serviceNames(cfg *config.Config, target string) ([]string, error) {
	if target == "" || target == "all" {
		return cfg.ServiceOrder, nil
	}
	if _, ok := cfg.Services[target]; !ok {
		return nil, usage("unknown service %q; services: all, %s", target, strings.Join(cfg.ServiceOrder, ", "))
	}
	return []string{target}, nil
}

// baseSpec is what status and health need: name, address, readiness URL.
// It builds no command and touches no files.
func baseSpec(cfg *config.Config, name string) supervisor.Spec {
	svc := cfg.Services[name]
	args := svc.Command.Args
	if len(args) == 0 {
		// Inspect and Stop go by the pid record, not the command; the
		// supervisor only requires that a spec names one.
		args = []string{name}
	}
	return supervisor.Spec{
		Name:         name,
		Args:         args,
		Cwd:          svc.Command.Cwd,
		Host:         svc.Host,
		Port:         svc.Port,
		ReadinessURL: supervisor.URLFor(svc.Host, svc.Port, svc.ReadinessPath),
		ReadyTimeout: svc.ReadyTimeout,
		StopTimeout:  svc.StopTimeout,
		LogMaxBytes:  svc.LogMaxBytes,
		LogKeep:      svc.LogKeep,
	}
}

// missingBinary is a start that cannot happen because an executable is not
// installed; Fix is the command that installs it.
type missingBinary struct {
	Path string
	Fix  string
}

func (m *missingBinary) Error() string {
	return fmt.Sprintf("missing binary %s; run `%s`", m.Path, m.Fix)
}

// startSpec builds the full spec to start a service: command, environment
// and, for the gateway, the installed copy of this binary.
func startSpec(cfg *config.Config, name string) (supervisor.Spec, error) {
	spec := baseSpec(cfg, name)
	svc := cfg.Services[name]
	l := layoutOf(cfg)
	for _, k := range sortedEnvKeys(svc.Env) {
		spec.Env = append(spec.Env, k+"="+svc.Env[k])
	}
	if name == config.ServiceGateway && svc.Engine == config.EngineLiteLLM {
		args, env, err := liteLLMCommand(cfg)
		if err != nil && !(svc.CommandSet && isMissing(err)) {
			return spec, err
		}
		spec.Args, spec.Env = args, append(spec.Env, env...)
	}
	switch {
	case svc.CommandSet:
		spec.Args = svc.Command.Args
	case name == config.ServiceGateway && svc.Engine == config.EngineLiteLLM:
	case name == config.ServiceGateway:
		self, err := installSelf(l)
		if err != nil {
			return spec, err
		}
		spec.Args = []string{self, "--config", cfg.File, "gateway", "serve"}
	case name == config.ServiceCLIProxy:
		spec.Args = []string{filepath.Join(l.BinDir(), "CLIProxyAPIPlus"), "-config", svc.ConfigFile}
	}
	if name == config.ServiceCLIProxy && !svc.CommandSet {
		// It answers / before its models are loaded; requests in that
		// moment fail and cool the gateway's deployments down.
		spec.ReadyLogLine = "full client load complete"
	}
	if name == config.ServiceCLIProxy {
		// services.cliproxyapi_plus host/port are the truth: carry them into
		// CLIProxyAPIPlus's own config before it starts. A custom command
		// without that file runs something else; leave it alone.
		if _, err := os.Stat(svc.ConfigFile); err == nil || !svc.CommandSet {
			if _, err := config.SyncCLIProxyConfig(cfg, false); err != nil {
				return spec, err
			}
		}
		pw, err := cliproxy.EnsureManagementPassword(cfg.Paths.SecretsDir)
		if err != nil {
			return spec, err
		}
		rt.RegisterSecrets(pw)
		spec.Env = append(spec.Env, "MANAGEMENT_PASSWORD="+pw)
	}
	if len(spec.Args) == 0 {
		return spec, fmt.Errorf("services.%s has no command; set services.%s.command.args", name, name)
	}
	exe := spec.Args[0]
	if strings.Contains(exe, "/") {
		if !filepath.IsAbs(exe) {
			exe = filepath.Join(spec.Cwd, exe)
		}
		if fi, err := os.Stat(exe); err != nil || fi.IsDir() || fi.Mode().Perm()&0o111 == 0 {
			return spec, &missingBinary{Path: exe, Fix: installCommand(cfg, name, exe)}
		}
	}
	return spec, nil
}

func isMissing(err error) bool {
	var mb *missingBinary
	return errors.As(err, &mb)
}

func installCommand(cfg *config.Config, name, exe string) string {
	base := filepath.Base(exe)
	switch {
	case strings.Contains(strings.ToLower(base), "litellm"):
		return flowgateCmd(cfg) + " bootstrap litellm"
	case strings.Contains(strings.ToLower(base), "cliproxy") || name == config.ServiceCLIProxy:
		return flowgateCmd(cfg) + " bootstrap download"
	}
	return "install " + exe + " or fix services." + name + ".command.args"
}

func sortedEnvKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// selfExecutable is this binary; FLOWGATE_SELF overrides it (tests run the
// CLI inside a test binary and point this at a built flowgate).
func selfExecutable() (string, error) {
	if p := os.Getenv("FLOWGATE_SELF"); p != "" {
		return p, nil
	}
	return os.Executable()
}

// installSelf copies this binary to .router/runtime/bin/flowgate when that
// copy is missing or differs, by rename (a running copy is never written in
// place), and returns its path.
func installSelf(l rt.Layout) (string, error) {
	src, err := selfExecutable()
	if err != nil {
		return "", fmt.Errorf("finding the flowgate binary: %w", err)
	}
	dst := filepath.Join(l.BinDir(), selfBinaryName)
	if same, _ := sameFile(src, dst); same {
		return dst, nil
	}
	data, err := os.ReadFile(src)
	if err != nil {
		return "", fmt.Errorf("reading %s: %w", src, err)
	}
	if err := os.MkdirAll(l.BinDir(), 0o755); err != nil {
		return "", err
	}
	if err := rt.WriteFileAtomic(dst, data, 0o755); err != nil {
		return "", fmt.Errorf("installing the gateway binary: %w", err)
	}
	return dst, nil
}

func sameFile(a, b string) (bool, error) {
	fa, err := os.Stat(a)
	if err != nil {
		return false, err
	}
	fb, err := os.Stat(b)
	if err != nil {
		return false, err
	}
	if os.SameFile(fa, fb) {
		return true, nil
	}
	if fa.Size() != fb.Size() {
		return false, nil
	}
	ra, err := os.Open(a)
	if err != nil {
		return false, err
	}
	defer ra.Close()
	rb, err := os.Open(b)
	if err != nil {
		return false, err
	}
	defer rb.Close()
	bufA, bufB := make([]byte, 1<<16), make([]byte, 1<<16)
	for {
		na, ea := io.ReadFull(ra, bufA)
		nb, eb := io.ReadFull(rb, bufB)
		if na != nb || !bytes.Equal(bufA[:na], bufB[:nb]) {
			return false, nil
		}
		if ea != nil || eb != nil {
			return ea == eb || (ea == io.ErrUnexpectedEOF && eb == io.ErrUnexpectedEOF), nil
		}
	}
}
