// Package gatewaytest runs a real gateway on a loopback port for tests.
package gatewaytest

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/flowgate/flowgate/internal/gateway"
)

// Serve builds a gateway from opts and serves it on 127.0.0.1 at an
// ephemeral port until the test ends (then shuts it down, waiting up to 5
// seconds). It returns the server and its base URL.
func Serve(t testing.TB, opts gateway.Options) (*gateway.Server, string) {
	t.Helper()
	s, err := gateway.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve(ln)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.Shutdown(ctx)
	})
	return s, "http://" + ln.Addr().String()
}
