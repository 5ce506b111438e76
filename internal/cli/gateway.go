package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"strconv"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/flowgate/flowgate/internal/clientkeys"
	"github.com/flowgate/flowgate/internal/cliproxy"
	"github.com/flowgate/flowgate/internal/config"
	"github.com/flowgate/flowgate/internal/gateway"
	rt "github.com/flowgate/flowgate/internal/runtime"
	"github.com/flowgate/flowgate/internal/supervisor"
	"github.com/flowgate/flowgate/internal/ui"
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
/v1/messages/count_tokens, health paths and /metrics, and the read-only
dashboard (/ui/) on services.gateway.ui_port (default: the port + 1; see
flowgate ui). SIGHUP reloads the config
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
		CLIProxyBase: cliproxy.ServiceBaseURL(cp.Host, cp.Port), Limits: gateway.Limits(gw.Limits), RequestLog: rlog,
		KeysFile: clientkeys.Path(cfg.Paths.SecretsDir)})
	if err != nil {
		return usage("gateway config (profile %s): %v", profile, cfg.LocateGatewayError(profile, err))
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
	dash := startDashboard(cfg, host, dashboardPort(gw, port), srv, logger)
	defer dash.close()
	for {
		select {
		case err := <-done:
			if err != nil {
				return failed("gateway stopped: %v", err)
			}
			return nil
		case sig := <-sigs:
			if sig == syscall.SIGHUP {
				keys := srv.KeyDigest()
				if cfg := reloadFromDisk(srv, configPath, logger); cfg != nil {
					dash.reloaded(cfg, srv.KeyDigest() != keys)
				}
				continue
			}
			logger.Info("gateway shutting down", "signal", sig.String())
			ctx, cancel := context.WithTimeout(context.Background(), gw.StopTimeout)
			dash.shutdown(ctx)
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
// generation kept. It returns the config now running, nil when rejected.
func reloadFromDisk(srv *gateway.Server, configPath string, logger *slog.Logger) *config.Config {
	cfg, err := config.Load(configPath)
	if err != nil {
		logger.Error("gateway reload rejected: config does not load; keeping the running config", "error", err.Error())
		return nil
	}
	profile := activeProfile(cfg)
	doc, err := cfg.ProfileDocument(profile)
	if err != nil {
		logger.Error("gateway reload rejected; keeping the running config", "error", err.Error())
		return nil
	}
	if _, err := srv.Reload(doc, profile); err != nil {
		logger.Error("gateway reload rejected; keeping the running config", "profile", profile, "error", cfg.LocateGatewayError(profile, err).Error())
		return nil
	}
	return cfg
}

// dashboardPort is the port of the dashboard of a gateway on port: ui_port,
// or port + 1 when ui_port was left at its default and --port moved the
// gateway; 0 when the dashboard is off.
func dashboardPort(gw *config.Service, port int) int {
	if gw.UIPort == gw.Port+1 && port != gw.Port && port < 65535 {
		return port + 1
	}
	return gw.UIPort
}

// dashboard is the gateway's dashboard on its own listener; a nil one (off,
// or its port taken) does nothing.
type dashboard struct {
	srv    *http.Server
	ui     *ui.Handler
	source *uiSource
	log    *slog.Logger
}

// startDashboard serves the dashboard (internal/ui) on host:port, next to
// the gateway, with the gateway's Host check (DNS rebinding) and bounded
// timeouts. It never stops the gateway: a port that is taken is logged
// once and reported by /health as a warning, and the API is served without
// it.
func startDashboard(cfg *config.Config, host string, port int, srv *gateway.Server, logger *slog.Logger) *dashboard {
	if port == 0 {
		logger.Info("dashboard off (services.gateway.ui_port: off)")
		return nil
	}
	addr := net.JoinHostPort(host, strconv.Itoa(port))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		msg := fmt.Sprintf("dashboard: cannot listen on %s (%v); the gateway serves its API without it", addr, err)
		if h := supervisor.FindPortHolder(host, port); h != nil {
			msg += fmt.Sprintf("; the port is held by %s (`%s` shows it)", h, supervisor.LsofCommand(port))
		}
		msg += "; free the port or set services.gateway.ui_port (off turns the dashboard off), then run `flowgate service restart gateway`"
		logger.Warn(msg)
		srv.Warn(msg)
		return nil
	}
	src := newUISource(cfg, srv)
	opts := ui.Options{Source: src, Logger: logger}
	if srv.HasKeys() {
		opts.CheckKey = srv.CheckKey
	} else {
		logger.Warn("dashboard locked: the gateway has no key; set general_settings.master_key (or master_key_ref) and run `flowgate service restart gateway`")
	}
	h := ui.New(opts)
	uiPort := strconv.Itoa(port)
	guard := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !srv.AllowsHost(r.Host, uiPort) {
			w.Header().Set("Connection", "close")
			http.Error(w, "Host "+strconv.Quote(r.Host[:min(len(r.Host), 200)])+" is not this dashboard's address; open http://127.0.0.1:"+uiPort+"/ui/, or add the name to services.gateway.allowed_hosts", http.StatusForbidden)
			return
		}
		h.ServeHTTP(w, r)
	})
	d := &dashboard{ui: h, source: src, log: logger, srv: &http.Server{
		Handler:           guard,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelDebug),
	}}
	go func() {
		if err := d.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			msg := fmt.Sprintf("dashboard on %s stopped: %v; the gateway serves its API without it; `flowgate service restart gateway` starts it again", addr, err)
			logger.Warn(msg)
			srv.Warn(msg)
		}
	}()
	logger.Info("dashboard listening", "addr", addr, "url", supervisor.URLFor(host, port, ui.Prefix))
	return d
}

// reloaded follows a reloaded config; when the gateway keys changed, every
// dashboard session signed in with an old key ends.
func (d *dashboard) reloaded(cfg *config.Config, keysChanged bool) {
	if d == nil {
		return
	}
	d.source.setConfig(cfg)
	if keysChanged {
		d.ui.SignOutAll()
		d.log.Info("dashboard: the gateway keys changed; everyone signed in was signed out")
	}
}

// shutdown stops the dashboard with the gateway (its live refreshes are
// short requests; none is waited on for long).
func (d *dashboard) shutdown(ctx context.Context) {
	if d == nil {
		return
	}
	d.srv.Shutdown(ctx)
}

func (d *dashboard) close() {
	if d == nil {
		return
	}
	d.srv.Close()
	d.source.close()
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
