package supervisor

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The test binary doubles as the supervised child: TestMain runs a helper
// mode instead of the tests when FG_SUPERVISOR_HELPER is set.
const helperEnv = "FG_SUPERVISOR_HELPER"

func TestMain(m *testing.M) {
	if mode := os.Getenv(helperEnv); mode != "" {
		runHelper(mode)
		os.Exit(3) // helpers exit on their own
	}
	os.Exit(m.Run())
}

func runHelper(mode string) {
	if dir := os.Getenv("FG_HELPER_MARKS"); dir != "" && mode == "serve" {
		os.WriteFile(filepath.Join(dir, strconv.Itoa(os.Getpid())), nil, 0o600)
	}
	if os.Getenv("FG_HELPER_IGNORE_TERM") == "1" {
		signal.Ignore(syscall.SIGTERM)
	}
	switch mode {
	case "serve":
		port := os.Getenv("FG_HELPER_PORT")
		ln, err := net.Listen("tcp", "127.0.0.1:"+port)
		if err != nil {
			fmt.Fprintf(os.Stderr, "proxy service exited with error: %v\n", err)
			os.Exit(0) // like CLIProxyAPIPlus: fatal, yet status 0
		}
		fmt.Printf("API server started successfully on: 127.0.0.1:%s\n", port)
		if line := os.Getenv("FG_HELPER_LATE_LINE"); line != "" {
			go func() {
				time.Sleep(300 * time.Millisecond)
				fmt.Println(line)
			}()
		}
		mux := http.NewServeMux()
		mux.HandleFunc("/ready", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
		mux.HandleFunc("/never-ready", func(w http.ResponseWriter, _ *http.Request) {
			http.Error(w, "warming up", http.StatusServiceUnavailable)
		})
		http.Serve(ln, mux)
		os.Exit(0)
	case "exit0":
		fmt.Fprintln(os.Stderr, "failed to load config: open config.yaml: no such file or directory")
		os.Exit(0)
	case "wrapper":
		// Like bash -> uv -> litellm: spawn the real server in our own
		// process group and wait for it.
		exe, _ := os.Executable()
		child := exec.Command(exe)
		child.Env = append(os.Environ(), helperEnv+"=serve", "FG_HELPER_IGNORE_TERM="+os.Getenv("FG_HELPER_GRANDCHILD_IGNORE_TERM"))
		child.Stdout, child.Stderr = os.Stdout, os.Stderr
		if err := child.Start(); err != nil {
			fmt.Fprintln(os.Stderr, "wrapper:", err)
			os.Exit(1)
		}
		fmt.Printf("wrapper: grandchild pid %d\n", child.Process.Pid)
		child.Wait()
		os.Exit(0)
	case "spew":
		// Writes numbered lines to stdout (the log) with one write each,
		// FG_HELPER_LINES of them with a 1 ms pause after every
		// FG_HELPER_BURST lines, then sleeps.
		n, _ := strconv.Atoi(os.Getenv("FG_HELPER_LINES"))
		burst, _ := strconv.Atoi(os.Getenv("FG_HELPER_BURST"))
		burst = max(burst, 1)
		pad := strings.Repeat("x", 48)
		for i := 1; i <= n; i++ {
			fmt.Fprintf(os.Stdout, "line %06d %s\n", i, pad)
			if i%burst == 0 {
				time.Sleep(time.Millisecond)
			}
		}
		for {
			time.Sleep(time.Hour)
		}
	case "sleep":
		for {
			time.Sleep(time.Hour)
		}
	case "startall":
		sup := Supervisor{PidDir: os.Getenv("FG_HELPER_PIDDIR"), LogDir: os.Getenv("FG_HELPER_LOGDIR")}
		var specs []Spec
		json.Unmarshal([]byte(os.Getenv("FG_HELPER_SPECS")), &specs)
		res := sup.StartAll(context.Background(), specs)
		json.NewEncoder(os.Stdout).Encode(res)
		os.Exit(0)
	}
	fmt.Fprintln(os.Stderr, "unknown helper mode", mode)
	os.Exit(2)
}
