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
	var showVersion bool
	root.Flags().BoolVar(&showVersion, "version", false, "print the version, VCS commit and commit time (same as `flowgate version`)")
	root.AddCommand(
		a.statusCommand(), a.healthCommand(), a.doctorCommand(), a.serviceCommand(),
		a.authCommand(), a.bootstrapCommand(), a.profileCommand(), a.integrationCommand(),
		a.gatewayCommand(), a.initCommand(), a.upCommand(), a.downCommand(),
		a.logsCommand(), a.eventsCommand(), a.versionCommand(), a.uiCommand(),
		a.requestsCommand(), a.usageCommand(), a.keysCommand(),
	)
	// The completion command takes its output writer when it is created.
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	root.SetHelpCommand(helpCommand())
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	a.addCompletions(root)
	guardArgs(root)
	// guardArgs made the root print its help; --version comes first.
	help := root.RunE
	root.RunE = func(cmd *cobra.Command, args []string) error {
		if showVersion {
			return a.printVersion()
		}
		return help(cmd, args)
	}
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
	registerKnownSecrets(cfg)
	a.cfg = cfg
	return cfg, nil
}

// loadOps is load for status, service stop and down, which must work while
// the routing part of the config is broken: the problems are printed as a
// warning and returned beside a config that still names the services.
func (a *app) loadOps() (*config.Config, error) {
	if a.cfg != nil {
		return a.cfg, nil
	}
	cfg, err := config.LoadForOps(a.configPath)
	if cfg == nil {
		return nil, err
	}
	for _, w := range cfg.Warnings {
		fmt.Fprintf(a.stderr, "warning: %s\n", w)
	}
	if err != nil {
		fmt.Fprintf(a.stderr, "warning: %v\n(services are still shown and can be stopped; fix the config before starting them)\n", err)
	}
	registerKnownSecrets(cfg)
	return cfg, err
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
		Use:   "version",
		Short: "Print FlowGate's version, VCS commit and commit time",
		Long: `version prints the module version, the VCS commit the binary was built from,
the commit time and whether the tree had uncommitted changes (from the build
information Go records; ` + "`go run`" + ` and ` + "`go test`" + ` builds carry no commit).
--json prints {"version","commit","commit_time","modified","go"}.`,
		Example: "  flowgate version\n  flowgate --version\n  flowgate version --json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.printVersion()
		},
	}
}

// versionInfo is what `version` and `--version` report. The JSON field names
// are stable.
type versionInfo struct {
	// Version is the -ldflags Version when set, else the module version Go
	// recorded (a tag or pseudo-version), else "dev".
	Version string `json:"version"`
	// Commit is vcs.revision; "" when the build has no VCS information.
	Commit string `json:"commit"`
	// CommitTime is vcs.time (RFC 3339); "" when unknown.
	CommitTime string `json:"commit_time"`
	// Modified is vcs.modified: the tree had uncommitted changes.
	Modified bool `json:"modified"`
	// Go is the toolchain that built the binary.
	Go string `json:"go"`
}

// buildVersion reads bi (nil when the binary has no build information).
func buildVersion(bi *debug.BuildInfo) versionInfo {
	v := versionInfo{Version: Version}
	if bi == nil {
		return v
	}
	v.Go = bi.GoVersion
	if v.Version == "dev" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		v.Version = bi.Main.Version
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			v.Commit = s.Value
		case "vcs.time":
			v.CommitTime = s.Value
		case "vcs.modified":
			v.Modified = s.Value == "true"
		}
	}
	return v
}

// String is the one line `flowgate version` prints.
func (v versionInfo) String() string {
	if v.Commit == "" {
		return fmt.Sprintf("flowgate %s (commit unknown: built without VCS information, e.g. by go run; %s)", v.Version, v.Go)
	}
	mod := ""
	if v.Modified {
		mod = ", modified"
	}
	return fmt.Sprintf("flowgate %s (commit %s, %s%s; %s)", v.Version, v.Commit, v.CommitTime, mod, v.Go)
}

func (a *app) printVersion() error {
	bi, _ := debug.ReadBuildInfo()
	v := buildVersion(bi)
	if a.jsonOut {
		return a.printJSON(v)
	}
	fmt.Fprintln(a.stdout, v.String())
	return nil
}

// guardArgs makes every command of the tree refuse what it does not
// understand with exit 2 and a hint. A group (a command with subcommands and
// no action of its own) prints its help when called bare and answers an
// unknown subcommand with suggestions and the list of its subcommands; a
// leaf's argument error gains the leaf's usage line, and a leaf that declares
// no Args takes no arguments. It runs on the finished tree, so commands added
// later are covered without code of their own.
func guardArgs(c *cobra.Command) {
	if c.HasSubCommands() {
		if !c.Runnable() {
			c.Args = unknownSubcommand
			if c.RunE == nil && c.Run == nil {
				c.RunE = func(cmd *cobra.Command, _ []string) error { return cmd.Help() }
			}
		}
		for _, sub := range c.Commands() {
			guardArgs(sub)
		}
		return
	}
	validate := c.Args
	if validate == nil {
		validate = cobra.NoArgs
	}
	c.Args = func(cmd *cobra.Command, args []string) error {
		if err := validate(cmd, args); err != nil {
			var ee *exitError
			if errors.As(err, &ee) {
				return err
			}
			if !strings.Contains(err.Error(), cmd.CommandPath()) {
				err = fmt.Errorf("%s: %w", cmd.CommandPath(), err)
			}
			return &exitError{code: ExitUsage, err: fmt.Errorf("%w\nUsage: %s\nRun '%s --help' for details.", err, cmd.UseLine(), cmd.CommandPath())}
		}
		return nil
	}
}

// unknownSubcommand is a group's Args: no argument means "show the help";
// anything else names a subcommand that does not exist.
func unknownSubcommand(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	if cmd.SuggestionsMinimumDistance <= 0 {
		cmd.SuggestionsMinimumDistance = 2
	}
	msg := fmt.Sprintf("unknown command %q for %q", args[0], cmd.CommandPath())
	if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
		msg += fmt.Sprintf("; did you mean %s?", strings.Join(quoteAll(s), " or "))
	}
	var names []string
	for _, sub := range cmd.Commands() {
		if sub.IsAvailableCommand() {
			names = append(names, sub.Name())
		}
	}
	msg += fmt.Sprintf("\nAvailable commands: %s\nRun '%s --help' for usage.", strings.Join(names, ", "), cmd.CommandPath())
	return &exitError{code: ExitUsage, err: errors.New(msg)}
}

func quoteAll(s []string) []string {
	out := make([]string, len(s))
	for i, v := range s {
		out[i] = "'" + v + "'"
	}
	return out
}

// helpCommand replaces cobra's help command, which prints the root's usage and
// exits 0 for a topic that does not exist.
func helpCommand() *cobra.Command {
	return &cobra.Command{
		Use:     "help [command]",
		Short:   "Help about any command",
		Example: "  flowgate help\n  flowgate help service start",
		Args: func(c *cobra.Command, args []string) error {
			target, rest, err := c.Root().Find(args)
			if err != nil {
				return err
			}
			if len(rest) > 0 {
				if target.HasSubCommands() {
					return unknownSubcommand(target, rest)
				}
				return fmt.Errorf("unknown help topic %q: %s has no subcommands", strings.Join(args, " "), target.CommandPath())
			}
			return nil
		},
		RunE: func(c *cobra.Command, args []string) error {
			target, _, err := c.Root().Find(args)
			if err != nil {
				return err
			}
			target.InitDefaultHelpFlag()
			return target.Help()
		},
	}
}
