package cli

import (
	"bytes"
	"crypto/rand"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/template"

	"github.com/spf13/cobra"

	"github.com/flowgate/flowgate/internal/cliproxy"
	"github.com/flowgate/flowgate/internal/config"
	rt "github.com/flowgate/flowgate/internal/runtime"
)

//go:embed templates/*.yaml
var templates embed.FS

// Secret file names under .router/secrets.
const (
	secretGatewayKey  = "gateway_key"
	secretUpstreamKey = "upstream_cliproxyapi_api_key"
)

type initResult struct {
	Config         string   `json:"config"`
	CLIProxyConfig string   `json:"cliproxy_config"`
	Written        []string `json:"written"`
	Kept           []string `json:"kept"`
	Secrets        []string `json:"secrets_created"`
	Gitignore      string   `json:"gitignore,omitempty"`
}

func (a *app) initCommand() *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Write config/flowgate.yaml and config/cliproxyapi.yaml from the embedded defaults",
		Long: `init writes the default FlowGate config (builtin gateway on 127.0.0.1:4000,
CLIProxyAPIPlus on 127.0.0.1:8317, profiles reliability, balanced and cost,
providers codex and copilot) and CLIProxyAPIPlus's config next to it, creates
the .router tree and generates the gateway key and the CLIProxyAPIPlus client
key into .router/secrets (0600). Existing files are kept unless --force;
existing secrets are always kept.`,
		Example: "  flowgate init\n  flowgate --config config/flowgate.yaml init --force",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			res, err := initProject(a.configPath, force)
			if err != nil {
				return err
			}
			if a.jsonOut {
				return a.printJSON(res)
			}
			for _, p := range res.Written {
				fmt.Fprintf(a.stdout, "written=%s\n", p)
			}
			for _, p := range res.Kept {
				fmt.Fprintf(a.stdout, "kept=%s (exists; --force overwrites)\n", p)
			}
			for _, p := range res.Secrets {
				fmt.Fprintf(a.stdout, "secret_created=%s\n", p)
			}
			if res.Gitignore != "" {
				fmt.Fprintf(a.stdout, "gitignore=%s\n", res.Gitignore)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&force, "force", false, "overwrite existing config files (secrets are kept)")
	return cmd
}

// initProject writes the default configs next to configPath and prepares
// the runtime tree and secrets.
func initProject(configPath string, force bool) (*initResult, error) {
	abs, err := filepath.Abs(configPath)
	if err != nil {
		return nil, err
	}
	dir := filepath.Dir(abs)
	res := &initResult{Config: abs, CLIProxyConfig: filepath.Join(dir, "cliproxyapi.yaml")}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("creating %s: %w", dir, err)
	}
	flowgateYAML, _ := templates.ReadFile("templates/flowgate.yaml")
	if exists(abs) && !force {
		res.Kept = append(res.Kept, abs)
	} else {
		if err := rt.WriteFileAtomic(abs, flowgateYAML, 0o600); err != nil {
			return nil, err
		}
		res.Written = append(res.Written, abs)
	}
	cfg, err := config.Load(abs)
	if err != nil {
		return nil, fmt.Errorf("the config at %s does not load (%w); fix it or rerun with --force", abs, err)
	}
	layout := layoutOf(cfg)
	if err := layout.Ensure(); err != nil {
		return nil, err
	}
	secret := func(name, prefix string) (string, error) {
		p := filepath.Join(cfg.Paths.SecretsDir, name)
		if data, err := os.ReadFile(p); err == nil && strings.TrimSpace(string(data)) != "" {
			return strings.TrimSpace(string(data)), nil
		}
		v := prefix + randomHex(24)
		if err := rt.WriteFileAtomic(p, []byte(v+"\n"), 0o600); err != nil {
			return "", err
		}
		res.Secrets = append(res.Secrets, p)
		return v, nil
	}
	if _, err := secret(secretGatewayKey, "sk-fg-"); err != nil {
		return nil, err
	}
	upstreamKey, err := secret(secretUpstreamKey, "sk-cpa-")
	if err != nil {
		return nil, err
	}
	mgmt := filepath.Join(cfg.Paths.SecretsDir, cliproxy.ManagementPasswordFile)
	hadMgmt := exists(mgmt)
	if _, err := cliproxy.EnsureManagementPassword(cfg.Paths.SecretsDir); err != nil {
		return nil, err
	}
	if !hadMgmt {
		res.Secrets = append(res.Secrets, mgmt)
	}
	cpPath := cfg.Services[config.ServiceCLIProxy].ConfigFile
	res.CLIProxyConfig = cpPath
	if exists(cpPath) && !force {
		res.Kept = append(res.Kept, cpPath)
	} else {
		raw, _ := templates.ReadFile("templates/cliproxyapi.yaml")
		tmpl := template.Must(template.New("cliproxy").Parse(string(raw)))
		var buf bytes.Buffer
		cp := cfg.Services[config.ServiceCLIProxy]
		if err := tmpl.Execute(&buf, map[string]any{"Host": cp.Host, "Port": cp.Port, "AuthDir": cfg.Paths.AuthDir, "UpstreamKey": upstreamKey}); err != nil {
			return nil, err
		}
		if err := rt.WriteFileAtomic(cpPath, buf.Bytes(), 0o600); err != nil {
			return nil, err
		}
		res.Written = append(res.Written, cpPath)
	}
	gi, err := ensureGitignore(filepath.Dir(dir), dir)
	if err != nil {
		return nil, err
	}
	res.Gitignore = gi
	return res, nil
}

// ensureGitignore adds the runtime tree and the local configs to the
// project's .gitignore when it is a git checkout or already has one.
func ensureGitignore(root, configDir string) (string, error) {
	path := filepath.Join(root, ".gitignore")
	if !exists(path) && !exists(filepath.Join(root, ".git")) {
		return "", nil
	}
	rel, err := filepath.Rel(root, configDir)
	if err != nil || strings.HasPrefix(rel, "..") {
		rel = "config"
	}
	want := []string{".router/", filepath.ToSlash(filepath.Join(rel, "flowgate.yaml")), filepath.ToSlash(filepath.Join(rel, "cliproxyapi.yaml"))}
	data, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	have := map[string]bool{}
	for _, line := range strings.Split(string(data), "\n") {
		have[strings.TrimSpace(line)] = true
	}
	var add []string
	for _, w := range want {
		if !have[w] && !have["/"+w] {
			add = append(add, w)
		}
	}
	if len(add) == 0 {
		return "", nil
	}
	out := string(data)
	if out != "" && !strings.HasSuffix(out, "\n") {
		out += "\n"
	}
	out += "# FlowGate runtime state and local configs\n" + strings.Join(add, "\n") + "\n"
	mode := os.FileMode(0o644)
	if fi, err := os.Stat(path); err == nil {
		mode = fi.Mode().Perm()
	}
	return path, rt.WriteFileAtomic(path, []byte(out), mode)
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}
