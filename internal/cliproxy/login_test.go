package cliproxy

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

var codexFile = AuthFile{ID: "codex-dev@example.com-plus.json", Name: "codex-dev@example.com-plus.json", Provider: "codex", Type: "codex",
	Email: "dev@example.com", Status: "active", Source: "file", ModTime: json.RawMessage(`"2026-02-15T10:00:00Z"`)}

func fastLogin(provider string) LoginOptions {
	return LoginOptions{Provider: provider, PollInterval: time.Millisecond, Timeout: 10 * time.Second}
}

func TestLoginCodexSucceedsWhenNewCredentialIsListed(t *testing.T) {
	f := newFakeCPA(t)
	f.script = []string{"wait", "wait", "complete"}
	f.complete = codexFile
	f.files = []AuthFile{{Name: "github-octo.json", Provider: "github-copilot"}}
	var opened []string
	var out syncBuffer
	rec := &recorder{}
	opts := fastLogin("codex")
	opts.Out, opts.Events = &out, rec.emitter()
	opts.OpenBrowser = func(u string) error { opened = append(opened, u); return nil }

	res, err := f.client(testPassword).Login(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != "success" || res.File != codexFile.Name || res.Account != "dev@example.com" {
		t.Fatalf("result %+v", res)
	}
	if !strings.Contains(out.String(), "login_url=https://auth.openai.com/oauth/authorize?") {
		t.Errorf("output %q lacks login_url=", out.String())
	}
	if len(opened) != 1 || !strings.HasPrefix(opened[0], "https://auth.openai.com/") {
		t.Errorf("browser opened %v", opened)
	}
	if f.queries[1].Get("is_webui") != "true" {
		t.Errorf("a local browser login did not ask CLIProxyAPIPlus to catch the redirect: %v", f.queries[1])
	}
	if n := f.hitCount(PathAuthStatus); n != 3 {
		t.Errorf("status polled %d times, want 3", n)
	}
	for _, q := range f.queries {
		if len(q["state"]) > 0 && q.Get("state") != "state1" {
			t.Errorf("polled with state %q", q.Get("state"))
		}
	}
	evs := rec.all()
	if len(evs) != 1 || evs[0].Event != "oauth_login" || evs[0].Provider != "codex" || evs[0].Result != "success" ||
		!strings.Contains(evs[0].Detail, codexFile.Name) {
		t.Errorf("events %+v", evs)
	}
	if got := strings.Join(res.Lines(), "\n"); !strings.Contains(got, "oauth_status=success") || !strings.Contains(got, "saved_auth="+codexFile.Name) {
		t.Errorf("lines %s", got)
	}
}

func TestLoginStopsAtOnceOnErrorStatus(t *testing.T) {
	f := newFakeCPA(t)
	f.script = []string{"wait", "error:Failed to exchange authorization code for tokens"}
	rec := &recorder{}
	opts := fastLogin("codex")
	opts.NoBrowser, opts.Events = true, rec.emitter()
	opts.Timeout = time.Hour
	_, err := f.client(testPassword).Login(context.Background(), opts)
	if err == nil || !strings.Contains(err.Error(), "Failed to exchange authorization code for tokens") {
		t.Fatalf("got %v", err)
	}
	if n := f.hitCount(PathAuthStatus); n != 2 {
		t.Errorf("status polled %d times after the error, want 2", n)
	}
	if evs := rec.all(); len(evs) != 1 || evs[0].Result != "failed" || !strings.Contains(evs[0].Detail, "exchange") {
		t.Errorf("events %+v", evs)
	}
}

func TestLoginAmbiguousOkWithoutNewCredentialIsNotSuccess(t *testing.T) {
	f := newFakeCPA(t)
	f.script = []string{"ok"} // unknown/expired state answers ok too
	f.files = []AuthFile{codexFile}
	opts := fastLogin("codex")
	opts.NoBrowser = true
	opts.Timeout, opts.PollInterval = 100*time.Millisecond, 5*time.Millisecond
	start := time.Now()
	_, err := f.client(testPassword).Login(context.Background(), opts)
	if err == nil || !strings.Contains(err.Error(), "finished or unknown") {
		t.Fatalf("got %v", err)
	}
	if elapsed := time.Since(start); elapsed > opts.Timeout+opts.PollInterval+time.Second {
		t.Errorf("took %s for a %s timeout", elapsed, opts.Timeout)
	}
	if f.hitCount(PathAuthFiles) < 2 {
		t.Error("success was not looked for in auth-files")
	}
}

func TestLoginTimesOutWhileWaiting(t *testing.T) {
	f := newFakeCPA(t)
	f.script = []string{"wait"}
	opts := fastLogin("codex")
	opts.NoBrowser = true
	opts.Timeout, opts.PollInterval = 50*time.Millisecond, 5*time.Millisecond
	_, err := f.client(testPassword).Login(context.Background(), opts)
	if err == nil || !strings.Contains(err.Error(), "last status=wait") || !strings.Contains(err.Error(), "--timeout") {
		t.Fatalf("got %v", err)
	}
}

func TestNewCredentialNoticesRewrittenFileOfSameAccount(t *testing.T) {
	before := []AuthFile{codexFile}
	again := codexFile
	again.ModTime = json.RawMessage(`"2026-02-16T09:00:00Z"`)
	if got := newCredential(mustProvider(t, "codex"), before, []AuthFile{again}); got == nil {
		t.Fatal("a rewritten file of the same account was not noticed")
	}
	if got := newCredential(mustProvider(t, "codex"), before, before); got != nil {
		t.Fatal("an unchanged file was taken for a new login")
	}
	if got := newCredential(mustProvider(t, "copilot"), nil, before); got != nil {
		t.Fatal("a codex file was taken for a copilot login")
	}
}

func mustProvider(t *testing.T, name string) Provider {
	p, ok := LookupProvider(name)
	if !ok {
		t.Fatalf("no provider %s", name)
	}
	return p
}

func TestLoginCopilotPrintsUserCodeAndSkipsBrowserWhenAsked(t *testing.T) {
	f := newFakeCPA(t)
	f.script = []string{"wait", "complete"}
	f.complete = AuthFile{Name: "github-octo.json", Provider: "github-copilot", Type: "github-copilot", Label: "octo"}
	var out, prompt syncBuffer
	opts := fastLogin("copilot")
	opts.NoBrowser, opts.Out, opts.Prompt = true, &out, &prompt
	opts.OpenBrowser = func(string) error { t.Error("browser opened despite NoBrowser"); return nil }
	res, err := f.client(testPassword).Login(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "login_url=https://github.com/login/device\n") || !strings.Contains(out.String(), "user_code=ABCD-1234\n") {
		t.Errorf("stdout %q", out.String())
	}
	if !strings.Contains(prompt.String(), "enter the code ABCD-1234") {
		t.Errorf("prompt %q", prompt.String())
	}
	if res.File != "github-octo.json" || res.Provider != "copilot" || res.Account != "octo" {
		t.Errorf("result %+v", res)
	}
	if f.hitCount(PathGitHubAuthURL) != 1 {
		t.Error("copilot did not use /github-auth-url")
	}
}

func TestLoginCodexAcceptsPastedRedirectURL(t *testing.T) {
	f := newFakeCPA(t)
	f.script = []string{"callback"}
	f.complete = codexFile
	var prompt syncBuffer
	opts := fastLogin("codex")
	opts.NoBrowser, opts.Prompt = true, &prompt
	opts.In = strings.NewReader("not a url\nhttp://localhost:1455/auth/callback?code=abc&state=other\nhttp://localhost:1455/auth/callback?code=abc&state=state1\n")
	res, err := f.client(testPassword).Login(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if res.File != codexFile.Name {
		t.Errorf("result %+v", res)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.callbacks) != 1 || f.callbacks[0]["provider"] != "codex" || !strings.Contains(f.callbacks[0]["redirect_url"], "state=state1") {
		t.Errorf("callbacks %v", f.callbacks)
	}
	if f.queries[1].Get("is_webui") != "" {
		t.Error("a headless login asked CLIProxyAPIPlus for a local callback listener")
	}
	if !strings.Contains(prompt.String(), "another login") || !strings.Contains(prompt.String(), "paste the full address again") {
		t.Errorf("prompt %q", prompt.String())
	}
}

func TestLoginFallsBackToPasteWhenCallbackPortIsBusy(t *testing.T) {
	f := newFakeCPA(t)
	f.busy1455 = true
	f.script = []string{"complete"}
	f.complete = codexFile
	var prompt syncBuffer
	opts := fastLogin("codex")
	opts.Prompt = &prompt
	opts.OpenBrowser = func(string) error { return nil }
	if _, err := f.client(testPassword).Login(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	if f.hitCount(PathCodexAuthURL) != 2 || !strings.Contains(prompt.String(), "1455 is busy") {
		t.Errorf("auth-url calls %d, prompt %q", f.hitCount(PathCodexAuthURL), prompt.String())
	}
}

func TestLoginConfiguredAuthPathAnswering404NamesServedPathAndConfigKey(t *testing.T) {
	f := newFakeCPA(t)
	rec := &recorder{}
	opts := LoginOptions{Provider: "codex", NoBrowser: true, Events: rec.emitter(),
		AuthURLEndpoint: "/v0/management/oauth/codex/auth-url"} // the reference tool's path; default 120 s timeout
	_, err := f.client(testPassword).Login(context.Background(), opts)
	if err == nil {
		t.Fatal("want an error")
	}
	for _, want := range []string{"/v0/management/oauth/codex/auth-url", "(404)", PathCodexAuthURL, "auth.providers.codex.auth_url_endpoint"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if n := f.hitCount("/v0/management/oauth/codex/auth-url"); n != 1 {
		t.Errorf("the 404 path was called %d times, want once", n)
	}
	if f.hitCount(PathAuthStatus) != 0 {
		t.Error("polled after the 404")
	}
	if evs := rec.all(); len(evs) != 1 || evs[0].Result != "failed" {
		t.Errorf("events %+v", evs)
	}
}

func TestLoginConfiguredStatusPathAnswering404NamesConfigKey(t *testing.T) {
	f := newFakeCPA(t)
	f.script = []string{"wait"}
	opts := LoginOptions{Provider: "copilot", NoBrowser: true, StatusEndpoint: f.srv.URL + "/v0/management/oauth/github-copilot/status"}
	_, err := f.client(testPassword).Login(context.Background(), opts)
	if err == nil || !strings.Contains(err.Error(), "auth.providers.copilot.status_endpoint") || !strings.Contains(err.Error(), PathAuthStatus) {
		t.Fatalf("got %v", err)
	}
	if n := f.hitCount("/v0/management/oauth/github-copilot/status"); n != 1 {
		t.Errorf("the 404 path was called %d times, want once", n)
	}
}

func TestLoginWithManagementAPIOffSaysRestartWithPassword(t *testing.T) {
	f := newFakeCPA(t)
	f.routes = map[string]bool{} // no MANAGEMENT_PASSWORD: every management route is 404
	_, err := f.client(testPassword).Login(context.Background(), LoginOptions{Provider: "codex", NoBrowser: true})
	if err == nil || !strings.Contains(err.Error(), "MANAGEMENT_PASSWORD") || !strings.Contains(err.Error(), "flowgate service restart cliproxyapi_plus") {
		t.Fatalf("got %v", err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if total := len(f.queries); total != 1 {
		t.Errorf("%d calls, want the first call to fail the login", total)
	}
}

func TestLoginWithWrongPasswordExplainsMismatch(t *testing.T) {
	f := newFakeCPA(t)
	for _, pw := range []string{"", "stale"} {
		_, err := f.client(pw).Login(context.Background(), LoginOptions{Provider: "codex", NoBrowser: true})
		var ae *APIError
		if !errors.As(err, &ae) || ae.StatusCode != http.StatusUnauthorized {
			t.Fatalf("password %q: got %v", pw, err)
		}
		if !strings.Contains(err.Error(), "management password") || !strings.Contains(err.Error(), "flowgate service restart cliproxyapi_plus") {
			t.Errorf("password %q: %v", pw, err)
		}
	}
}

func TestLoginWhenServiceIsDownSaysHowToStartIt(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	_, err = NewClient("127.0.0.1", port, testPassword).Login(context.Background(), LoginOptions{Provider: "codex", NoBrowser: true})
	if !errors.Is(err, ErrNotRunning) {
		t.Fatalf("got %v", err)
	}
	for _, want := range []string{"flowgate service start cliproxyapi_plus", "flowgate bootstrap download"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

func TestLoginRejectsUnknownProvider(t *testing.T) {
	f := newFakeCPA(t)
	_, err := f.client(testPassword).Login(context.Background(), LoginOptions{Provider: "gemini"})
	if err == nil || !strings.Contains(err.Error(), "codex,copilot") {
		t.Fatalf("got %v", err)
	}
	if f.hitCount(PathAuthFiles) != 0 {
		t.Error("called the service for an unknown provider")
	}
}

func TestServiceBaseURLReachesWildcardOnLoopback(t *testing.T) {
	cases := map[string]string{
		"":          "http://127.0.0.1:8317",
		"0.0.0.0":   "http://127.0.0.1:8317",
		"127.0.0.1": "http://127.0.0.1:8317",
		"::1":       "http://[::1]:8317",
		"localhost": "http://localhost:8317",
	}
	for host, want := range cases {
		if got := ServiceBaseURL(host, 8317); got != want {
			t.Errorf("ServiceBaseURL(%q) = %s, want %s", host, got, want)
		}
	}
}

func TestProviderRegistryListsCodexAndCopilot(t *testing.T) {
	var lines []string
	for _, p := range Providers() {
		lines = append(lines, p.Line())
	}
	want := "provider=codex oauth_login=yes headless_import=yes device_flow=no\nprovider=copilot oauth_login=yes headless_import=no device_flow=yes"
	if got := strings.Join(lines, "\n"); got != want {
		t.Errorf("got\n%s", got)
	}
	if p, ok := LookupProvider("github-copilot"); !ok || p.Name != "copilot" {
		t.Error("CLIProxyAPIPlus's name for copilot is not accepted")
	}
}
