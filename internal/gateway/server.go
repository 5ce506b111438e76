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

	"golang.org/x/sync/semaphore"

	"github.com/flowgate/flowgate/internal/cliproxy"
	"github.com/flowgate/flowgate/internal/requestlog"
	"github.com/flowgate/flowgate/internal/router"
	"github.com/flowgate/flowgate/internal/upstream"
)

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
	// Limits bound connections, body sizes and memory, timeouts and the
	// browser rules (services.gateway). Zero fields take their defaults.
	Limits Limits
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
	// Secrets are further values to redact wherever the gateway writes
	// text (CLIProxyAPIPlus's client keys and management password); the
	// config's own keys are known without this. Default: none.
	Secrets []string
	// Translator converts between protocols when a request's protocol is
	// not one its deployment serves natively. Default: DefaultTranslator
	// (internal/translate; pairs it lacks are answered 501).
	Translator Translator
	// RequestLog receives one record per request (see reqlog.go); the
	// caller owns it and closes it after Shutdown. Default: nil, no log.
	RequestLog *requestlog.Log
	// KeysFile is the store of named client keys (internal/clientkeys),
	// accepted beside general_settings' keys and re-read when it changes.
	// Default: none.
	KeysFile string
}

// Server is a running gateway. Create it with New.
type Server struct {
	opts    Options
	log     *slog.Logger
	client  *upstream.Client
	metrics *metrics
	rlm     *reqlogMetrics
	tr      Translator
	limits  Limits
	budget  *semaphore.Weighted

	reloadMu sync.Mutex
	gen      atomic.Pointer[generation]

	srvMu sync.Mutex
	srv   *http.Server

	// notes are warnings other parts of the process report (see Warn).
	notes notes

	// keyStore is the loaded KeysFile (keystore.go).
	keyStore atomic.Pointer[keyStore]
	// shared is the state replicas share (sharedstate.go); nil without Redis.
	shared sharedState
	state  router.State
	stop   chan struct{}
	stopMu sync.Once
}

// generation is one loaded config. A request keeps the generation it
// started with until it ends, so a reload never changes a request midway.
type generation struct {
	id       uint64
	profile  string
	loadedAt time.Time
	router   *router.Router
	keys     []clientKey // general_settings keys
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
	opts.Limits = opts.Limits.withDefaults()
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s := &Server{opts: opts, log: opts.Logger, client: upstream.NewClient(), metrics: newMetrics(),
		limits: opts.Limits, budget: semaphore.NewWeighted(opts.Limits.BodyBudgetBytes), stop: make(chan struct{})}
	s.initReqlog()
	s.state = router.NewMemory()
	if err := s.loadKeyStore(); err != nil {
		return nil, err
	}
	s.tr = opts.Translator
	if s.tr == nil {
		s.tr = DefaultTranslator
	}
	g, err := s.load(opts.Doc, opts.Profile, nil)
	if err != nil {
		return nil, err
	}
	if err := checkBindKeys(opts.Addr, g.keys, s.storeKeys()); err != nil {
		return nil, err
	}
	if err := s.openShared(g); err != nil {
		return nil, err
	}
	g.id = 1
	s.gen.Store(g)
	s.metrics.generation.Set(1)
	return s, nil
}

// checkBindKeys refuses to serve beyond loopback without client keys, or
// with a key short enough to guess.
func checkBindKeys(addr string, keys, stored []clientKey) error {
	if isLoopback(addr) {
		return nil
	}
	if len(keys) == 0 && len(stored) == 0 {
		return fmt.Errorf("refusing to listen on %s without a client key: set general_settings.master_key (or master_key_ref), create one with `flowgate keys create NAME`, or set services.gateway.host to 127.0.0.1", addr)
	}
	for _, k := range keys {
		if len(k.plain) < minKeyLen {
			return fmt.Errorf("general_settings.master_key: a client key is %d characters; listening on %s (not loopback) needs keys of at least %d: set a longer master_key (or master_key_ref, extra_keys), e.g. the output of `openssl rand -hex 24`, or set services.gateway.host to 127.0.0.1",
				len(k.plain), addr, minKeyLen)
		}
	}
	return nil
}

func (s *Server) load(doc map[string]any, profile string, prev *generation) (*generation, error) {
	cfg, err := router.Parse(doc, s.opts.ResolveRef)
	if err != nil {
		return nil, err
	}
	s.registerSecrets(cfg)
	var prevRouter *router.Router
	if prev != nil {
		prevRouter = prev.router
	}
	g := &generation{profile: profile, loadedAt: time.Now(), router: router.New(cfg, s.opts.Clock, s.metrics, prevRouter)}
	g.router.SetState(s.state)
	for i, k := range cfg.General.Keys {
		g.keys = append(g.keys, clientKey{name: cfg.General.KeyNames[i], limits: cfg.General.KeyLimits[i], plain: []byte(k)})
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
	if err := s.loadKeyStore(); err != nil {
		s.log.Warn("client keys not reloaded; keeping the running ones", "file", s.opts.KeysFile, "error", err.Error())
	}
	if err := checkBindKeys(s.listenAddr(), g.keys, s.storeKeys()); err != nil {
		s.log.Warn("gateway reload rejected; keeping the running config", "generation", prev.id, "error", err.Error())
		return prev.id, err
	}
	s.sharedReloaded(prev, g)
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

// serving reports whether Serve runs (the listen port is then known).
func (s *Server) serving() bool {
	s.srvMu.Lock()
	defer s.srvMu.Unlock()
	return s.srv != nil
}

// Handler is the gateway's http.Handler (useful for tests and embedding),
// with the edge checks that need no connection (Host, Origin, keys, body
// limits); connection limits and timeouts come with Serve.
func (s *Server) Handler() http.Handler { return http.HandlerFunc(s.edgeHandler) }

// Serve answers requests on ln until Shutdown. It refuses a non-loopback
// listener without a strong client key. Connections are counted against
// Limits; there is no whole-request read or write timeout, so streams live
// as long as they flow (see readBody and deadlineWriter).
func (s *Server) Serve(ln net.Listener) error {
	addr := ln.Addr().String()
	if err := checkBindKeys(addr, s.gen.Load().keys, s.storeKeys()); err != nil {
		return err
	}
	go s.watchKeyStore(s.stop)
	ln = &limitListener{Listener: ln, lim: newConnLimiter(s.limits)}
	srv := &http.Server{
		Handler:           http.HandlerFunc(s.edgeHandler),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       s.limits.IdleTimeout,
		MaxHeaderBytes:    1 << 20,
		ConnContext:       connContext,
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
	s.stopMu.Do(func() {
		close(s.stop)
		if s.shared != nil {
			s.shared.Close()
		}
	})
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
