// Package ui is FlowGate's local dashboard: a read-only web page, served by
// the gateway under /ui/ on its own listener, that shows the services, the
// logins behind CLIProxyAPIPlus, every alias with its deployments' state,
// the recent requests (live), latency and token charts and usage by alias
// and day. It reads everything through a Source and changes nothing: the
// CLI acts.
//
// Every asset is embedded and the Content-Security-Policy allows nothing but
// the dashboard's own origin, so the page works offline and the browser
// talks to no other host. The page is behind the gateway key: a login form
// at /ui/login, or a one-time link that `flowgate ui` asks for at
// /ui/api/link with the key and opens in the browser. A login is a random
// session token in a SameSite=Strict, HttpOnly cookie, never the key.
package ui

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"html/template"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Paths other code needs.
const (
	// Prefix is where the dashboard lives; mount the handler there (or as
	// the whole handler of its listener: it redirects / to Prefix).
	Prefix = "/ui/"
	// LinkPath mints a one-time login link: POST with the gateway key as
	// Authorization: Bearer; the answer is a LinkResponse.
	LinkPath = "/ui/api/link"
	// SessionCookie names the session cookie.
	SessionCookie = "flowgate_ui"
)

// LinkResponse is the JSON answer of LinkPath.
type LinkResponse struct {
	// Path is the login path with the one-time token in its fragment
	// (/ui/login#once=TOKEN): browsers do not send a fragment to any
	// server, so the token is in no request line, access log or Referer;
	// the login page's script posts it once.
	Path string `json:"path"`
	// ExpiresIn is how long the link can be used, in seconds.
	ExpiresIn int `json:"expires_in_seconds"`
}

// Options configure the dashboard.
type Options struct {
	// Source is what the dashboard shows. Required.
	Source Source
	// CheckKey reports whether key is a gateway client key, comparing in
	// constant time. nil means the gateway has no key: then nobody can log
	// in, and the login page says to set general_settings.master_key.
	CheckKey func(key string) bool
	// Logger receives logins and failed logins; keys and tokens are never
	// logged. Default: discard.
	Logger *slog.Logger
	// SessionTTL is how long a login lasts. Default: DefaultSessionTTL (12h).
	SessionTTL time.Duration
	// Refresh is how often an open page refreshes its live sections.
	// Default: 2s.
	Refresh time.Duration
	// Location is the time zone times are shown in. Default: time.Local.
	Location *time.Location
	// Now is the clock; tests inject one. Default: time.Now.
	Now func() time.Time
}

// Handler is the dashboard. Create it with New.
type Handler struct {
	opts     Options
	log      *slog.Logger
	mux      *http.ServeMux
	tmpl     *template.Template
	sessions *tokens
	links    *tokens
	fails    failures
}

// New builds the dashboard handler. It panics when Source is nil, which is
// a programming error.
func New(opts Options) *Handler {
	if opts.Source == nil {
		panic("ui.New: Options.Source is nil")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if opts.SessionTTL <= 0 {
		opts.SessionTTL = DefaultSessionTTL
	}
	if opts.Refresh <= 0 {
		opts.Refresh = 2 * time.Second
	}
	if opts.Location == nil {
		opts.Location = time.Local
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	h := &Handler{opts: opts, log: opts.Logger, sessions: newTokens(), links: newTokens()}
	h.tmpl = template.Must(template.New("").Funcs(h.funcs()).ParseFS(templateFS, "templates/*.html"))
	static, _ := fs.Sub(staticFS, "static")
	files := http.StripPrefix("/ui/static/", http.FileServerFS(static))

	m := http.NewServeMux()
	m.Handle("GET /{$}", http.RedirectHandler(Prefix, http.StatusFound))
	m.Handle("GET /ui", http.RedirectHandler(Prefix, http.StatusFound))
	m.Handle("GET /ui/static/", noCache(files))
	m.HandleFunc("GET /ui/login", h.loginPage)
	m.HandleFunc("POST /ui/login", h.login)
	m.HandleFunc("POST /ui/logout", h.logout)
	m.HandleFunc("POST "+LinkPath, h.link)
	m.Handle("GET /ui/{$}", h.page(h.overview))
	m.Handle("GET /ui/requests/{id}", h.page(h.detail))
	m.Handle("GET /ui/live", h.api(h.live))
	m.Handle("GET /ui/api/requests", h.api(h.requestsJSON))
	m.Handle("GET /ui/api/requests/{id}", h.api(h.requestJSON))
	h.mux = m
	return h
}

// ServeHTTP sets the security headers every answer carries and routes.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
	hd.Set("X-Content-Type-Options", "nosniff")
	// same-origin, not no-referrer: with no-referrer browsers send
	// "Origin: null" on form posts, which sameOrigin must refuse.
	hd.Set("Referrer-Policy", "same-origin")
	hd.Set("X-Frame-Options", "DENY")
	h.mux.ServeHTTP(w, r)
}

func noCache(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-cache")
		next.ServeHTTP(w, r)
	})
}

// signedIn reports whether r carries a live session.
func (h *Handler) signedIn(r *http.Request) bool {
	c, err := r.Cookie(SessionCookie)
	return err == nil && h.sessions.valid(c.Value, h.opts.Now())
}

// page guards an HTML page: without a session it redirects to the login,
// remembering where to come back to.
func (h *Handler) page(next http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !h.signedIn(r) {
			http.Redirect(w, r, "/ui/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		next(w, r)
	})
}

// api guards a data endpoint: without a session it answers 401.
func (h *Handler) api(next http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		if !h.signedIn(r) {
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "not signed in: open /ui/login and enter the gateway key, or run `flowgate ui`"})
			return
		}
		next(w, r)
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// render executes a template into a buffer first, so a template error is a
// clean 500 and not half a page.
func (h *Handler) render(w http.ResponseWriter, status int, name string, data any) {
	var b strings.Builder
	if err := h.tmpl.ExecuteTemplate(&b, name, data); err != nil {
		h.log.Error("dashboard template failed", "template", name, "error", err.Error())
		http.Error(w, "the dashboard failed to render this page; the gateway log has the error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	io.WriteString(w, b.String())
}

// ctx bounds the Source calls of one page.
func (h *Handler) ctx(r *http.Request) (context.Context, context.CancelFunc) {
	return context.WithTimeout(r.Context(), 5*time.Second)
}

func (h *Handler) requestsJSON(w http.ResponseWriter, r *http.Request) {
	q := parseQuery(r.URL.Query())
	ctx, cancel := h.ctx(r)
	defer cancel()
	reqs, err := h.opts.Source.Requests(ctx, q.filter())
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "reading recent requests: " + err.Error()})
		return
	}
	if reqs == nil {
		reqs = []Request{}
	}
	writeJSON(w, http.StatusOK, reqs)
}

func (h *Handler) requestJSON(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := h.ctx(r)
	defer cancel()
	req, err := h.opts.Source.Request(ctx, r.PathValue("id"))
	switch {
	case errors.Is(err, ErrNotFound):
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "no request with this id: the log keeps recent requests only; `flowgate requests` lists them"})
	case err != nil:
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "reading the request: " + err.Error()})
	default:
		writeJSON(w, http.StatusOK, req)
	}
}
