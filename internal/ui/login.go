package ui

import (
	"net/http"
	"net/url"
	"strings"
)

// loginView is what the login template shows.
type loginView struct {
	Title string
	Next  string
	Error string
	// NoKey is set when the gateway has no key, so nobody can log in.
	NoKey bool
}

func (h *Handler) loginPage(w http.ResponseWriter, r *http.Request) {
	if h.signedIn(r) {
		http.Redirect(w, r, safeNext(r.URL.Query().Get("next")), http.StatusSeeOther)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	h.render(w, http.StatusOK, "login.html", loginView{Title: "Sign in", Next: safeNext(r.URL.Query().Get("next")), NoKey: h.opts.CheckKey == nil})
}

// login takes the gateway key (the form) or a one-time token (the link
// `flowgate ui` opened, posted by the login page's script) and starts a
// session.
func (h *Handler) login(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	if !sameOrigin(r) {
		http.Error(w, "refused: this login was posted from another site", http.StatusForbidden)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 8<<10)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "the login form is too large or malformed", http.StatusBadRequest)
		return
	}
	next := safeNext(r.PostForm.Get("next"))
	view := loginView{Title: "Sign in", Next: next, NoKey: h.opts.CheckKey == nil}
	now := h.opts.Now()
	if h.fails.blocked(now) {
		view.Error = "Too many wrong keys in the last minute. Wait a minute and try again."
		h.render(w, http.StatusTooManyRequests, "login.html", view)
		return
	}
	once, key := r.PostForm.Get("once"), r.PostForm.Get("key")
	var ok bool
	var how string
	switch {
	case once != "":
		ok, how = h.links.take(once, now), "one-time link"
		if !ok {
			view.Error = "This link was already used or has expired. Run `flowgate ui` again for a new one, or enter the gateway key."
		}
	case h.opts.CheckKey == nil:
		view.Error = "The gateway has no key, so the dashboard cannot be protected. Set general_settings.master_key (or master_key_ref) in the config and restart the gateway."
	default:
		ok, how = h.opts.CheckKey(key), "gateway key"
		if !ok {
			view.Error = "That is not the gateway key. It is general_settings.master_key in the config (or the secret its master_key_ref names); `flowgate ui` signs you in without typing it."
		}
	}
	if !ok {
		h.fails.add(now)
		h.log.Warn("dashboard login refused", "remote", r.RemoteAddr, "method", how)
		h.render(w, http.StatusUnauthorized, "login.html", view)
		return
	}
	tok := h.sessions.mint(now, h.opts.SessionTTL)
	http.SetCookie(w, &http.Cookie{
		Name:     SessionCookie,
		Value:    tok,
		Path:     Prefix,
		MaxAge:   int(h.opts.SessionTTL.Seconds()),
		HttpOnly: true,
		SameSite: http.SameSiteStrictMode,
		Secure:   r.TLS != nil,
	})
	h.log.Info("dashboard login", "remote", r.RemoteAddr, "method", how)
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (h *Handler) logout(w http.ResponseWriter, r *http.Request) {
	if !sameOrigin(r) {
		http.Error(w, "refused: this logout was posted from another site", http.StatusForbidden)
		return
	}
	if c, err := r.Cookie(SessionCookie); err == nil {
		h.sessions.drop(c.Value)
	}
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Path: Prefix, MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteStrictMode})
	http.Redirect(w, r, "/ui/login", http.StatusSeeOther)
}

// link mints a one-time login link for a caller holding the gateway key.
func (h *Handler) link(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	now := h.opts.Now()
	if h.opts.CheckKey == nil {
		writeJSON(w, http.StatusForbidden, map[string]string{"error": "the gateway has no key, so the dashboard cannot be protected: set general_settings.master_key (or master_key_ref) in the config and restart the gateway"})
		return
	}
	if h.fails.blocked(now) {
		writeJSON(w, http.StatusTooManyRequests, map[string]string{"error": "too many wrong keys in the last minute; wait a minute and try again"})
		return
	}
	key, found := bearer(r)
	if !found || !h.opts.CheckKey(key) {
		h.fails.add(now)
		h.log.Warn("dashboard link refused", "remote", r.RemoteAddr)
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "the gateway key was missing or wrong: send it as Authorization: Bearer KEY"})
		return
	}
	tok := h.links.mint(now, LinkTTL)
	writeJSON(w, http.StatusOK, LinkResponse{Path: "/ui/login#once=" + tok, ExpiresIn: int(LinkTTL.Seconds())})
}

func bearer(r *http.Request) (string, bool) {
	v := r.Header.Get("Authorization")
	if len(v) > 7 && strings.EqualFold(v[:7], "bearer ") {
		return strings.TrimSpace(v[7:]), true
	}
	return "", false
}

// sameOrigin refuses a form posted by another site: browsers send Origin on
// every cross-site POST. A request without Origin (curl, old browsers) has
// no cookie of ours to abuse and passes.
func sameOrigin(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" {
		return true
	}
	u, err := url.Parse(o)
	return err == nil && u.Host == r.Host
}

// safeNext keeps a post-login redirect on the dashboard.
func safeNext(next string) string {
	if !strings.HasPrefix(next, Prefix) || strings.HasPrefix(next, "//") || strings.Contains(next, `\`) {
		return Prefix
	}
	return next
}

// SignOutAll ends every session and unused link. Call it when the gateway's
// keys change (a reload), so a removed key's logins end with it.
func (h *Handler) SignOutAll() {
	h.sessions.clear()
	h.links.clear()
}
