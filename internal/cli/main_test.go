package cli

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"testing"
)

// TestMain lets the test binary stand in for a service: with FG_TEST_SERVE
// set it serves 200 on every path at that address until killed.
func TestMain(m *testing.M) {
	if addr := os.Getenv("FG_TEST_SERVE"); addr != "" {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			fmt.Fprintln(os.Stderr, "listen:", err)
			os.Exit(0) // like CLIProxyAPIPlus: exit 0 even on a fatal error
		}
		fmt.Println("serving on", addr)
		_ = http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte("ok"))
		}))
		os.Exit(0)
	}
	os.Exit(m.Run())
}
