// Package litellm runs the real LiteLLM proxy as FlowGate's alternative
// gateway engine (`services.gateway.engine: litellm`): it installs LiteLLM in a
// Python virtual environment (Bootstrap, Status, Check), turns the merged
// litellm_base+profile document into LiteLLM's own config plus the child's
// environment (Generate, WriteConfig), and states the lifecycle facts the
// supervisor needs (Command, ReadinessPath, DefaultReadinessTimeout).
//
// Lifecycle, for the supervisor:
//
//   - start: Command(runtimeDir, configPath, host, port) with env =
//     base environment + Generate's env (which includes OfflineEnv()).
//   - ready: GET http://host:port/health/readiness returns 200 (no auth).
//     LiteLLM is slow to start: wait up to DefaultReadinessTimeout.
//   - alive: GET /health/liveliness (no auth; LiteLLM's spelling).
//   - LiteLLM cannot hot-reload its config file: `profile set` must Generate,
//     WriteConfig, restart the child and wait for readiness again.
//   - stop: SIGTERM to the process group (uvicorn exits within ~1 s), then SIGKILL.
package litellm

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/flowgate/flowgate/internal/runtime"
)

const (
	// ReadinessPath answers 200 once LiteLLM has loaded its config; no auth.
	ReadinessPath = "/health/readiness"
	// LivenessPath answers 200 "I'm alive!" while the server runs; no auth.
	LivenessPath = "/health/liveliness"
	// DefaultReadinessTimeout is how long to wait for ReadinessPath after
	// start. Measured here (2 shared cores) LiteLLM 1.108.6 became ready in
	// 10-16 s depending on load; 120 s leaves room for cold disks and busy
	// hosts. The supervisor should let the user override it.
	DefaultReadinessTimeout = 120 * time.Second
	// CanHotReload is false: a config change needs a restart.
	CanHotReload = false
)

// Command is the argv that starts LiteLLM: the runner from Bootstrap with
// --config, --host and --port. Pass it with the env from Generate.
func Command(runtimeDir, configPath, host string, port int) []string {
	return []string{RunnerPath(runtimeDir), "--config", configPath, "--host", host, "--port", strconv.Itoa(port)}
}

// OfflineEnv is the environment that keeps LiteLLM from reaching the
// internet on its own (model cost map, blog posts, feedback banner) and
// from printing its banner. Generate's env already includes it.
func OfflineEnv() []string {
	return []string{
		"LITELLM_OFFLINE_MODE=true",         // no catalog/tokenizer/check fetches
		"LITELLM_LOCAL_MODEL_COST_MAP=True", // use the bundled model cost map
		"LITELLM_LOCAL_BLOG_POSTS=True",     // no blog-post fetch for the UI
		"LITELLM_DONT_SHOW_FEEDBACK_BOX=true",
		"LITELLM_TELEMETRY=False", // --telemetry is a no-op in 1.108; kept for older versions
		"DISABLE_ADMIN_UI=True",   // the admin UI needs a database; FlowGate does not use it
		"NO_PROXY=127.0.0.1,localhost",
		"PYTHONUNBUFFERED=1", // log lines reach the process log at once
	}
}

// WriteConfig writes the generated LiteLLM config atomically with mode 0600,
// creating its folder 0700 when missing, and writes AuthModuleFile (the key
// check the config's general_settings.custom_auth names) next to it.
func WriteConfig(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("writing litellm config: %w", err)
	}
	if err := runtime.WriteFileAtomic(filepath.Join(filepath.Dir(path), AuthModuleFile), []byte(authModule), 0o600); err != nil {
		return fmt.Errorf("writing litellm auth module: %w", err)
	}
	return runtime.WriteFileAtomic(path, data, 0o600)
}
