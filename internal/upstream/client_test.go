package upstream

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// echoUpstream answers each POST with the body it received and records the
// Authorization header; /v1/moved/... redirects like a misconfigured base.
func echoUpstream(t *testing.T, auth *string) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/v1/moved/") {
			http.Redirect(w, r, "/v1/"+strings.TrimPrefix(r.URL.Path, "/v1/moved/"), http.StatusPermanentRedirect)
			return
		}
		*auth = r.Header.Get("Authorization")
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.Write(b)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func callBody(t *testing.T, c *Client, target *Target, head, mid, tail string) string {
	t.Helper()
	b := NewBody([]byte(head), []byte(mid), []byte(tail))
	defer b.Release()
	resp, err := c.Do(context.Background(), &Call{Target: target, Op: OpChat, Body: b, Header: http.Header{}, Protocol: Chat})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(got)
}

func TestDoSendsSmallAndLargeBodiesWhole(t *testing.T) {
	var auth string
	srv := echoUpstream(t, &auth)
	c := NewClient()
	defer c.CloseIdle()
	target := NewTarget(KindOpenAI, "m", srv.URL+"/v1", "sk-test", nil)
	for _, n := range []int{10, smallBody, smallBody + 1, 3 * smallBody} {
		head, mid, tail := `{"model":`, `"m"`, `,"x":"`+strings.Repeat("y", n)+`"}`
		if got := callBody(t, c, target, head, mid, tail); got != head+mid+tail {
			t.Fatalf("n=%d: upstream got %d bytes, want %d", n, len(got), len(head+mid+tail))
		}
		if auth != "Bearer sk-test" {
			t.Fatalf("Authorization = %q", auth)
		}
	}
}

func TestDoFollowsAnUpstreamRedirectWithTheBody(t *testing.T) {
	var auth string
	srv := echoUpstream(t, &auth)
	c := NewClient()
	defer c.CloseIdle()
	target := NewTarget(KindOpenAI, "m", srv.URL+"/v1/moved", "", nil)
	if got := callBody(t, c, target, `{"model":`, `"m"`, `}`); got != `{"model":"m"}` {
		t.Fatalf("after the redirect the upstream got %q", got)
	}
}
