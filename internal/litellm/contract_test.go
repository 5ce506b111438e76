package litellm_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/flowgate/flowgate/internal/litellm"
	"github.com/flowgate/flowgate/internal/litellm/contract"
)

// litellmVenv finds an installed LiteLLM venv: $FLOWGATE_LITELLM_VENV, else
// the CI cache folder ci-setup.sh fills. Empty when there is none.
func litellmVenv() string {
	if v := os.Getenv("FLOWGATE_LITELLM_VENV"); v != "" {
		return v
	}
	cache := os.Getenv("FLOWGATE_CACHE")
	if cache == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return ""
		}
		cache = filepath.Join(home, ".cache", "flowgate")
	}
	v := filepath.Join(cache, "litellm-venv-"+litellm.DefaultVersion)
	if _, err := os.Stat(filepath.Join(v, "bin", "litellm")); err != nil {
		return ""
	}
	return v
}

// LiteLLM's known differences from the builtin contract. Empty: the generated
// config makes every case pass; add an entry (and a docs/engines.md row) when
// a LiteLLM upgrade breaks a case that cannot be configured away.
var litellmDifferences = map[string]string{}

func TestContractAgainstRealLiteLLM(t *testing.T) {
	venv := litellmVenv()
	if venv == "" {
		t.Skip("LiteLLM is not installed: run internal/litellm/ci-setup.sh and set FLOWGATE_LITELLM_VENV")
	}
	if testing.Short() {
		t.Skip("starts a real LiteLLM proxy (10-20 s)")
	}
	contract.Run(t, contract.Engine{Name: "litellm", Start: startLiteLLM(venv), Differences: litellmDifferences})
}

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startLiteLLM runs LiteLLM exactly as the supervisor will: runner, generated
// config 0600, env from Generate on top of a minimal base environment.
func startLiteLLM(venv string) func(t *testing.T, up *contract.Upstream, doc map[string]any) (string, string) {
	return func(t *testing.T, up *contract.Upstream, doc map[string]any) (string, string) {
		rt := t.TempDir()
		if err := litellm.WriteRunner(rt, venv); err != nil {
			t.Fatal(err)
		}
		st := litellm.Status(rt)
		if !st.Installed {
			t.Fatalf("Status: %s", st.Reason)
		}
		for _, c := range litellm.Check(context.Background(), rt) {
			if !c.OK {
				t.Fatalf("doctor check %s: %s", c.Name, c.Detail)
			}
			t.Logf("doctor check %s: ok (%s)", c.Name, c.Detail)
		}
		credFile := filepath.Join(rt, "upstream.key")
		if err := os.WriteFile(credFile, []byte(contract.UpstreamKey+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		data, env, report, err := litellm.Generate(doc,
			map[string]litellm.CredentialSource{contract.CredName: {File: credFile}},
			litellm.CredentialSource{Value: contract.GatewayKey})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range report {
			t.Logf("generate report: %s", r)
		}
		if strings.Contains(string(data), contract.UpstreamKey) || strings.Contains(string(data), contract.GatewayKey) {
			t.Fatalf("generated config holds a secret:\n%s", data)
		}
		cfg := filepath.Join(rt, "litellm.active.yaml")
		if err := litellm.WriteConfig(cfg, data); err != nil {
			t.Fatal(err)
		}
		port := freePort(t)
		argv := litellm.Command(rt, cfg, "127.0.0.1", port)
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + rt, "LANG=C.UTF-8"}, env...)
		logPath := filepath.Join(rt, "litellm.log")
		logf, err := os.Create(logPath)
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stdout, cmd.Stderr = logf, logf
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		start := time.Now()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan struct{})
		go func() { _ = cmd.Wait(); close(exited) }()
		t.Cleanup(func() {
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
			select {
			case <-exited:
			case <-time.After(10 * time.Second):
				_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
				<-exited
			}
			logf.Close()
			if t.Failed() {
				b, _ := os.ReadFile(logPath)
				t.Logf("litellm log (tail):\n%s", tail(string(b), 8000))
			}
		})
		base := fmt.Sprintf("http://127.0.0.1:%d", port)
		deadline := time.Now().Add(litellm.DefaultReadinessTimeout)
		client := &http.Client{Timeout: 2 * time.Second}
		for {
			resp, err := client.Get(base + litellm.ReadinessPath)
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == 200 {
					break
				}
			}
			select {
			case <-exited:
				b, _ := os.ReadFile(logPath)
				t.Fatalf("litellm exited before ready:\n%s", tail(string(b), 4000))
			default:
			}
			if time.Now().After(deadline) {
				t.Fatalf("litellm not ready on %s within %s", base, litellm.DefaultReadinessTimeout)
			}
			time.Sleep(200 * time.Millisecond)
		}
		t.Logf("litellm %s ready in %s", litellm.DefaultVersion, time.Since(start).Round(100*time.Millisecond))
		return base, contract.GatewayKey
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
