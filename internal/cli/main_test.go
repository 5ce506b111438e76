package cli

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"testing"
	"time"
)

// TestMain lets the test binary stand in for a service: with FG_TEST_SERVE
// set it serves 200 on every path at that address until killed (or, with
// FG_TEST_EXIT_AFTER, exits with status 3 after that long); with
// FLOWGATE_TEST_AS_CLI=1 it is the flowgate command.
func TestMain(m *testing.M) {
	if addr := os.Getenv("FG_TEST_SERVE"); addr != "" {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			fmt.Fprintln(os.Stderr, "listen:", err)
			os.Exit(0) // like CLIProxyAPIPlus: exit 0 even on a fatal error
		}
		fmt.Println("serving on", addr)
		if d, err := time.ParseDuration(os.Getenv("FG_TEST_EXIT_AFTER")); err == nil {
			time.AfterFunc(d, func() {
				fmt.Println("exiting with status 3 as told")
				os.Exit(3)
			})
		}
		_ = http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte("ok"))
		}))
		os.Exit(0)
	}
	// Copies of the test binary that the CLI starts (the supervisor, the
	// gateway) run as flowgate itself.
	if os.Getenv("FLOWGATE_TEST_AS_CLI") == "1" {
		os.Exit(Main(os.Args[1:]))
	}
	os.Setenv("FLOWGATE_TEST_AS_CLI", "1")
	os.Exit(m.Run())
}
