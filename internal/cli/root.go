// Package cli is the flowgate command line: a thin cobra layer that parses
// flags, calls one package function and prints. Data goes to stdout,
// diagnostics to stderr, and every listing command has --json.
package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"

	"github.com/flowgate/flowgate/internal/config"
	rt "github.com/flowgate/flowgate/internal/runtime"
)

// Version is set at build time with -ldflags "-X .../internal/cli.Version=v1.2.3".
var Version = "dev"

// app is the state shared by every command of one invocation.
type app struct {
	configPath string
	jsonOut    bool
	stdout     io.Writer
	stderr     io.Writer
	stdin      io.Reader
	cfg        *config.Config
}

// Main runs the CLI with args (without the program name) and returns the
// process exit code.
func Main(args []string) int {
	return run(args, os.Stdin, os.Stdout, os.Stderr)
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	a := &app{stdout: stdout, stderr: stderr, stdin: stdin}
	root := a.rootCommand()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.Execute()
	if err == nil {
		return ExitOK
	}
	code := codeFor(err)
	var ee *exitError
	if errors.As(err, &ee) && ee.quiet {
		return code
	}
	if code == ExitFailed || code == ExitUsage {
		if a.jsonOut {
			enc := json.NewEncoder(stdout)
			_ = enc.Encode(map[string]any{"ok": false, "error": err.Error(), "exit_code": code})
		}
		fmt.Fprintf(stderr, "flowgate: %s\n", err)
	}
	if isUsageErr(err) {
		fmt.Fprintln(stderr, "Run 'flowgate --help' for usage.")
		return ExitUsage
	}
	return code
}

// isUsageErr recognises cobra's own argument errors, which are not wrapped.
func isUsageErr(err error) bool {
	var ee *exitError
	var ce *config.Error
	if errors.As(err, &ee) || errors.As(err, &ce) || errors.Is(err, config.ErrNotFound) {
		return false
	}
	msg := err.Error()
	for _, p := range []string{"unknown command", "unknown flag", "unknown shorthand", "accepts ", "requires at least", "invalid argument", "flag needs an argument", "required flag"} {
		if strings.Contains(msg, p) {
			return true
		}
	}
	return false
}

func (a *app) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "flowgate",
		Short: "FlowGate: one local endpoint for Claude Code and Codex, and the tools to run it",
		Long: `FlowGate gives Claude Code, Codex CLI and any OpenAI client one local endpoint
(http://127.0.0.1:4000) and manages everything behind it: the built-in gateway
(or LiteLLM), CLIProxyAPIPlus for OAuth-backed providers, profiles, logins and
client settings.

Exit codes: 0 ok, 1 operation failed (including unhealthy), 2 config or usage error.`,
		Example: `  flowgate up                       # init if needed, start everything, print next steps
  flowgate status                   # what runs, which profile, secret permission issues
  flowgate health                   # liveness and readiness of every service
  flowgate --config other.yaml doctor`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	def := os.Getenv("FLOWGATE_CONFIG")
	if def == "" {
		def = filepath.Join("config", "flowgate.yaml")
	}
	root.PersistentFlags().StringVar(&a.configPath, "config", def, "config file (env FLOWGATE_CONFIG)")
	root.PersistentFlags().BoolVar(&a.jsonOut, "json", false, "print machine-readable JSON on stdout")
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return &exitError{code: ExitUsage, err: fmt.Errorf("%w\n%s", err, c.UsageString())}
	})
	root.AddCommand(
		a.statusCommand(), a.healthCommand(), a.doctorCommand(), a.serviceCommand(),
		a.authCommand(), a.bootstrapCommand(), a.profileCommand(), a.integrationCommand(),
		a.gatewayCommand(), a.initCommand(), a.upCommand(), a.downCommand(),
		a.logsCommand(), a.eventsCommand(), a.versionCommand(),
	)
	return root
}

// load reads and validates the config once per invocation.
func (a *app) load() (*config.Config, error) {
	if a.cfg != nil {
		return a.cfg, nil
	}
	cfg, err := config.Load(a.configPath)
	if err != nil {
		return nil, err
	}
	for _, w := range cfg.Warnings {
		fmt.Fprintf(a.stderr, "warning: %s\n", w)
	}
	a.cfg = cfg
	return cfg, nil
}

func layoutOf(cfg *config.Config) rt.Layout {
	return rt.Layout{
		RuntimeDir: cfg.Paths.RuntimeDir,
		StateFile:  cfg.Paths.StateFile,
		EventsLog:  cfg.Paths.LogFile,
		AuthDir:    cfg.Paths.AuthDir,
		SecretsDir: cfg.Paths.SecretsDir,
	}
}

// printJSON writes v as indented JSON on stdout.
func (a *app) printJSON(v any) error {
	enc := json.NewEncoder(a.stdout)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

func (a *app) versionCommand() *cobra.Command {
	return &cobra.Command{
		Use:     "version",
		Short:   "Print FlowGate's version",
		Example: "  flowgate version\n  flowgate version --json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			v := Version
			goVersion := ""
			if bi, ok := debug.ReadBuildInfo(); ok {
				goVersion = bi.GoVersion
				if v == "dev" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
					v = bi.Main.Version
				}
			}
			if a.jsonOut {
				return a.printJSON(map[string]string{"version": v, "go": goVersion})
			}
			fmt.Fprintf(a.stdout, "flowgate %s (%s)\n", v, goVersion)
			return nil
		},
	}
}
