package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"runtime/debug"
	"strconv"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/flowgate/flowgate/internal/cliproxy"
	"github.com/flowgate/flowgate/internal/config"
	"github.com/flowgate/flowgate/internal/gateway"
	"github.com/flowgate/flowgate/internal/router"
	rt "github.com/flowgate/flowgate/internal/runtime"
	"github.com/flowgate/flowgate/internal/supervisor"
)

func (a *app) gatewayCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "gateway",
		Short: "Run the built-in gateway (the supervisor runs it as the gateway service)",
		Example: `  flowgate service start gateway     # normal use: supervised, logs in .router/runtime/process-logs
  flowgate gateway serve             # in the foreground, for debugging`,
	}
	var host string
	var port int
	var debug bool
	serve := &cobra.Command{
		Use:   "serve",
		Short: "Serve the gateway in the foreground on services.gateway host:port",
		Long: `serve loads the config, merges the active profile (state.json, else the
default profile) onto litellm_base and serves OpenAI /v1/models,
/v1/chat/completions, /v1/responses, Anthropic /v1/messages and
/v1/messages/count_tokens, health paths and /metrics. SIGHUP reloads the config
and active profile without dropping in-flight requests (profile set sends it);
an invalid config is rejected and the running one kept. SIGTERM drains and exits.`,
		Example: "  flowgate gateway serve\n  flowgate gateway serve --port 4100 --debug",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := a.load()
			if err != nil {
				return err
			}
			return serveGateway(cfg, a.configPath, host, port, debug, a.stderr)
		},
	}
	serve.Flags().StringVar(&host, "host", "", "listen host (default services.gateway.host)")
	serve.Flags().IntVar(&port, "port", 0, "listen port (default services.gateway.port)")
	serve.Flags().BoolVar(&debug, "debug", false, "log each request and translation notes")
	cmd.AddCommand(serve)
	return cmd
}

func activeProfile(cfg *config.Config) string {
	st, _ := rt.ReadState(cfg.Paths.StateFile)
	if st.CurrentProfile != "" && cfg.Profiles[st.CurrentProfile] != nil {
		return st.CurrentProfile
	}
	return cfg.DefaultProfile
}

// serveGateway runs the gateway until SIGTERM or SIGINT; SIGHUP reloads the
// config file and the active profile.
func serveGateway(cfg *config.Config, configPath, host string, port int, debug bool, logOut io.Writer) error {
	gw := cfg.Services[config.ServiceGateway]
	if host == "" {
		host = gw.Host
	}
	if port == 0 {
		port = gw.Port
	}
	level := slog.LevelInfo
	if debug {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(logOut, &slog.HandlerOptions{Level: level}))
	tuneGC()
	profile := activeProfile(cfg)
	doc, err := cfg.ProfileDocument(profile)
	if err != nil {
		return usage("%v", err)
	}
	addr := net.JoinHostPort(host, strconv.Itoa(port))
	cp := cfg.Services[config.ServiceCLIProxy]
	rlog := startRequestLog(cfg, logger)
	defer rlog.Close()
	srv, err := gateway.New(gateway.Options{Addr: addr, Doc: doc, Profile: profile, ResolveRef: cfg.ResolveCredential, Logger: logger,
		CLIProxyBase: cliproxy.ServiceBaseURL(cp.Host, cp.Port), Limits: gateway.Limits(gw.Limits), RequestLog: rlog})
	if err != nil {
		return usage("gateway config (profile %s): %v", profile, locateGatewayError(cfg, profile, err))
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		msg := fmt.Sprintf("listening on %s: %v", addr, err)
		if h := supervisor.FindPortHolder(host, port); h != nil {
			msg += fmt.Sprintf("; held by %s; `%s` shows it; change services.gateway.port or stop it", h, supervisor.LsofCommand(port))
		}
		return failed("%s", msg)
	}
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGHUP, syscall.SIGTERM, syscall.SIGINT)
	defer signal.Stop(sigs)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	for {
		select {
		case err := <-done:
			if err != nil {
				return failed("gateway stopped: %v", err)
			}
			return nil
		case sig := <-sigs:
			if sig == syscall.SIGHUP {
				reloadFromDisk(srv, configPath, logger)
				continue
			}
			logger.Info("gateway shutting down", "signal", sig.String())
			ctx, cancel := context.WithTimeout(context.Background(), gw.StopTimeout)
			err := srv.Shutdown(ctx)
			cancel()
			if err != nil && !errors.Is(err, context.DeadlineExceeded) {
				return failed("gateway shutdown: %v", err)
			}
			return nil
		}
	}
}

// reloadFromDisk re-reads the config and the active profile and hands them
// to the running gateway; anything invalid is logged and the running
// generation kept.
func reloadFromDisk(srv *gateway.Server, configPath string, logger *slog.Logger) {
	cfg, err := config.Load(configPath)
	if err != nil {
		logger.Error("gateway reload rejected: config does not load; keeping the running config", "error", err.Error())
		return
	}
	profile := activeProfile(cfg)
	doc, err := cfg.ProfileDocument(profile)
	if err != nil {
		logger.Error("gateway reload rejected; keeping the running config", "error", err.Error())
		return
	}
	if _, err := srv.Reload(doc, profile); err != nil {
		logger.Error("gateway reload rejected; keeping the running config", "profile", profile, "error", locateGatewayError(cfg, profile, err).Error())
	}
}

// tuneGC trades a little memory for fewer collections on the request path:
// the gateway's live heap is a few MB, so the default GOGC=100 collects very
// often under load. GOGC=400 with a 256 MiB soft limit measured about a third
// lower p99 at 64 concurrent requests (docs/performance.md). GOGC and
// GOMEMLIMIT in the environment win.
func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(256 << 20)
	}
}

// validateGatewayDoc loads doc exactly as the gateway would (secrets
// resolved in memory and dropped), so profile set rejects what the gateway
// would reject before anything is written.
func validateGatewayDoc(cfg *config.Config, profile string, doc map[string]any) error {
	_, err := router.Parse(doc, cfg.ResolveCredential)
	return locateGatewayError(cfg, profile, err)
}

// locateGatewayError places the gateway validator's problems in the config
// file (the field where the value is written, with line and column) when
// it can; other errors pass unchanged.
func locateGatewayError(cfg *config.Config, profile string, err error) error {
	var ce *router.ConfigError
	if errors.As(err, &ce) {
		if pe := cfg.ProfileError(profile, ce.Problems); pe != nil {
			return pe
		}
	}
	return err
}
