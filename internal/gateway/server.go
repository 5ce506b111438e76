// Package gateway is FlowGate's built-in LLM gateway: the HTTP server, its
// routes, client auth, the passthrough hot path, health, metrics and hot
// reload. Routing decisions are made by internal/router; calls by
// internal/upstream.
package gateway

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/flowgate/flowgate/internal/cliproxy"
	"github.com/flowgate/flowgate/internal/requestlog"
	"github.com/flowgate/flowgate/internal/router"
	"github.com/flowgate/flowgate/internal/upstream"
)

// DefaultMaxBodyBytes bounds request bodies unless Options.MaxBodyBytes is set.
const DefaultMaxBodyBytes = 32 << 20

// Options configure a Server.
type Options struct {
	// Addr is the listen address for ListenAndServe, and decides whether an
	// open (keyless) gateway is allowed. Default: 127.0.0.1:4000.
	Addr string
	// Doc is the merged LiteLLM-style document (model_list, router_settings,
	// litellm_settings, general_settings) with secret references kept.
	Doc map[string]any
	// Profile is the active profile name, reported by readiness.
	Profile string
	// ResolveRef resolves api_key_ref / master_key_ref names to secrets.
	ResolveRef func(name string) (string, error)
	// MaxBodyBytes bounds request bodies. Default: 32 MiB.
	MaxBodyBytes int64
	// Logger receives diagnostics; keys are never logged. Default: discard.
	Logger *slog.Logger
	// Clock drives cooldowns; tests inject a fake. Default: the wall clock.
	Clock router.Clock
	// CLIProxyBase is CLIProxyAPIPlus's base URL (http://host:port, see
	// cliproxy.ServiceBaseURL of services.cliproxyapi_plus). A deployment
	// whose api_base is on it gets its credentials from a login, so a
	// refused credential is fixed with `flowgate auth login <provider>`.
	// Default: http://127.0.0.1:8317 (CLIProxyAPIPlus's default address).
	CLIProxyBase string
	// Translator converts between protocols when a request's protocol is
	// not one its deployment serves natively. Default: DefaultTranslator
	// (internal/translate; pairs it lacks are answered 501).
	Translator Translator
	// RequestLog receives one record per request (see reqlog.go); the
	// caller owns it and closes it after Shutdown. Default: nil, no log.
	RequestLog *requestlog.Log
}

// Server is a running gateway. Create it with New.
type Server struct {
	opts    Options
	log     *slog.Logger
	client  *upstream.Client
	metrics *metrics
	rlm     *reqlogMetrics
	tr      Translator

	reloadMu sync.Mutex
	gen      atomic.Pointer[generation]

	srvMu sync.Mutex
	srv   *http.Server
}

// generation is one loaded config. A request keeps the generation it
// started with until it ends, so a reload never changes a request midway.
type generation struct {
	id       uint64
	profile  string
	loadedAt time.Time
	router   *router.Router
	keys     [][]byte
	models   modelLists
	prices   map[*router.Deployment]requestlog.Price
}

// New validates the document and builds a server (generation 1).
func New(opts Options) (*Server, error) {
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:4000"
	}
	if opts.CLIProxyBase == "" {
		opts.CLIProxyBase = cliproxy.ServiceBaseURL("127.0.0.1", 8317)
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s := &Server{opts: opts, log: opts.Logger, client: upstream.NewClient(), metrics: newMetrics()}
	s.initReqlog()
	s.tr = opts.Translator
	if s.tr == nil {
		s.tr = DefaultTranslator
	}
	g, err := s.load(opts.Doc, opts.Profile, nil)
	if err != nil {
		return nil, err
	}
	if len(g.keys) == 0 && !isLoopback(opts.Addr) {
		return nil, errOpenNonLoopback(opts.Addr)
	}
	g.id = 1
	s.gen.Store(g)
	s.metrics.generation.Set(1)
	return s, nil
}

func errOpenNonLoopback(addr string) error {
	return fmt.Errorf("refusing to listen on %s without a client key: set general_settings.master_key (or master_key_ref) or listen on 127.0.0.1", addr)
}

func (s *Server) load(doc map[string]any, profile string, prev *generation) (*generation, error) {
	cfg, err := router.Parse(doc, s.opts.ResolveRef)
	if err != nil {
		return nil, err
	}
	var prevRouter *router.Router
	if prev != nil {
		prevRouter = prev.router
	}
	g := &generation{profile: profile, loadedAt: time.Now(), router: router.New(cfg, s.opts.Clock, s.metrics, prevRouter)}
	for _, k := range cfg.General.Keys {
		g.keys = append(g.keys, []byte(k))
	}
	g.models = buildModelLists(g.router)
	if g.prices, err = loadPrices(doc, g.router); err != nil {
		return nil, err
	}
	return g, nil
}

// Reload swaps in a new document. An invalid document leaves the running
// config untouched and returns the error. Requests already running finish
// on the generation they started with; requests arriving after Reload
// returns use the new one. It returns the new generation number, which
// /health/readiness reports, so a caller can confirm the switch.
func (s *Server) Reload(doc map[string]any, profile string) (uint64, error) {
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	prev := s.gen.Load()
	g, err := s.load(doc, profile, prev)
	if err != nil {
		s.log.Warn("gateway reload rejected; keeping the running config", "generation", prev.id, "error", err.Error())
		return prev.id, err
	}
	if len(g.keys) == 0 && !isLoopback(s.listenAddr()) {
		err := errOpenNonLoopback(s.listenAddr())
		s.log.Warn("gateway reload rejected; keeping the running config", "generation", prev.id, "error", err.Error())
		return prev.id, err
	}
	g.id = prev.id + 1
	s.gen.Store(g)
	s.metrics.generation.Set(float64(g.id))
	s.log.Info("gateway config reloaded", "generation", g.id, "profile", profile, "models", len(g.router.Config().Aliases))
	return g.id, nil
}

// Generation is the current config generation (1 after New).
func (s *Server) Generation() uint64 { return s.gen.Load().id }

func (s *Server) listenAddr() string {
	s.srvMu.Lock()
	defer s.srvMu.Unlock()
	if s.srv != nil && s.srv.Addr != "" {
		return s.srv.Addr
	}
	return s.opts.Addr
}

// Handler is the gateway's http.Handler (useful for tests and embedding).
func (s *Server) Handler() http.Handler { return s }

// Serve answers requests on ln until Shutdown. It refuses a non-loopback
// listener when no client key is configured.
func (s *Server) Serve(ln net.Listener) error {
	addr := ln.Addr().String()
	if len(s.gen.Load().keys) == 0 && !isLoopback(addr) {
		return errOpenNonLoopback(addr)
	}
	srv := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    1 << 20,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
	s.srvMu.Lock()
	if s.srv != nil {
		s.srvMu.Unlock()
		return errors.New("gateway: Serve called twice")
	}
	s.srv = srv
	srv.Addr = addr
	s.srvMu.Unlock()
	s.log.Info("gateway listening", "addr", addr, "generation", s.Generation(), "profile", s.gen.Load().profile)
	err := srv.Serve(ln)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// ListenAndServe listens on Options.Addr and serves.
func (s *Server) ListenAndServe() error {
	ln, err := net.Listen("tcp", s.opts.Addr)
	if err != nil {
		return fmt.Errorf("gateway: listening on %s: %w (is another gateway already running? see `flowgate status`)", s.opts.Addr, err)
	}
	return s.Serve(ln)
}

// Shutdown stops accepting connections and waits for in-flight requests
// (streams included) until ctx ends.
func (s *Server) Shutdown(ctx context.Context) error {
	s.srvMu.Lock()
	srv := s.srv
	s.srvMu.Unlock()
	var err error
	if srv != nil {
		err = srv.Shutdown(ctx)
	}
	s.client.CloseIdle()
	return err
}

func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
