// Package config loads, migrates and validates FlowGate's config file
// (config_version 2, JSON-compatible YAML, as the reference tool wrote it)
// and derives the merged gateway document for the active profile.
package config

import "time"

// Service names FlowGate knows. Other names in `services` are supervised too.
const (
	ServiceGateway  = "gateway"
	ServiceCLIProxy = "cliproxyapi_plus"

	EngineBuiltin = "builtin"
	EngineLiteLLM = "litellm"
)

// Config is a loaded, migrated and validated FlowGate config. Every path in
// it is absolute.
type Config struct {
	// File is the absolute path of the config file; Dir is its folder, the
	// base for every relative path in it.
	File string
	Dir  string

	// ConfigVersion defaults to 2, the only version written today (1 is
	// read and migrated).
	ConfigVersion int
	Paths         Paths
	// Services by name; ServiceOrder lists them in dependency order
	// (cliproxyapi_plus before the gateway that routes to it).
	Services     map[string]*Service
	ServiceOrder []string
	Credentials  Credentials
	// LiteLLMBase is LiteLLM's own config shape (model_list,
	// router_settings, litellm_settings, general_settings), kept as data.
	LiteLLMBase map[string]any
	// Profiles are overlays deep-merged onto LiteLLMBase (maps merge, lists
	// replace). At least one is required.
	Profiles map[string]map[string]any
	// DefaultProfile is the profile `up` activates when none is active.
	// Default: "balanced" when it exists, else the first profile by name.
	DefaultProfile string
	Auth           Auth
	// SecretFiles are extra files audited for 0600 permissions.
	SecretFiles []string
	Integration Integration
	// Warnings are non-fatal findings from loading (legacy keys migrated,
	// keys ignored because a newer one is present).
	Warnings []string

	// src is the file content as loaded, for locating problems found later.
	src []byte
	// integrationSet lists the integration keys the file sets explicitly.
	integrationSet map[string]bool
}

// Paths are the runtime locations. All default under <config dir>/../.router.
type Paths struct {
	// RuntimeDir holds state.json, events.log, pids/, process-logs/, bin/.
	// Default: ../.router/runtime
	RuntimeDir string
	// ActiveConfig is the generated gateway config for the active profile
	// (secret references only, never plaintext; 0600).
	// Default: <runtime_dir>/gateway.active.yaml
	ActiveConfig string
	// StateFile records the active profile. Default: <runtime_dir>/state.json
	StateFile string
	// LogFile is the events log. Default: <runtime_dir>/events.log
	LogFile string
	// AuthDir holds CLIProxyAPIPlus credential files (0700).
	// Default: <parent of runtime_dir>/auths
	AuthDir string
	// SecretsDir holds generated secrets (0700).
	// Default: <parent of runtime_dir>/secrets
	SecretsDir string
}

// Command is how a service is started.
type Command struct {
	// Args is argv, no shell. Relative executables resolve against Cwd.
	Args []string
	// Cwd defaults to the parent of the config folder (the project root).
	Cwd string
}

// Service is one supervised child.
type Service struct {
	Name string
	// Engine applies to the gateway service only: builtin (default) runs
	// `flowgate gateway serve`, litellm runs the LiteLLM proxy.
	Engine string
	// Host defaults to 127.0.0.1.
	Host string
	// Port: gateway default 4000, cliproxyapi_plus default 8317.
	Port int
	// ReadinessPath: gateway default /health/readiness, cliproxyapi_plus
	// default / (its only unauthenticated route).
	ReadinessPath string
	// Command defaults per service: the gateway runs this binary's
	// `gateway serve` (or the LiteLLM runner); cliproxyapi_plus runs
	// <runtime_dir>/bin/CLIProxyAPIPlus -config <config_file>.
	Command Command
	// CommandSet is true when the config gave command.args explicitly.
	CommandSet bool
	// ConfigFile is CLIProxyAPIPlus's own YAML. Default: <config dir>/cliproxyapi.yaml
	ConfigFile string
	// ReadyTimeout bounds the readiness wait after start. Default 15s
	// (120s for the litellm engine, which starts slowly).
	ReadyTimeout time.Duration
	// StopTimeout is the grace period between SIGTERM and SIGKILL. Default 10s.
	StopTimeout time.Duration
	// Env is extra environment for the child.
	Env map[string]string
	// Restart is how the supervisor brings the service back after it
	// exits or is killed.
	Restart Restart
	// LogMaxBytes is the size past which the service's process log
	// (process-logs/NAME.log) is rotated, at start and while it runs.
	// Default 10485760 (10 MiB); at least 65536.
	LogMaxBytes int64
	// LogKeep is how many rotated logs (NAME.log.1..N) are kept. Default 3.
	LogKeep int
	// Limits are the gateway's edge settings (services.gateway only):
	// timeouts, connection limits, body size and budget, browser rules.
	Limits GatewayLimits
	// RequestLog applies to the gateway service only (see RequestLog).
	RequestLog RequestLog
	// Capture applies to the gateway service only. Default: off.
	Capture Capture
	// UIPort is ui_port (services.gateway only): the port of the builtin
	// gateway's dashboard, on the gateway's host. 0 when the dashboard is
	// off (ui_port: off). Default: the gateway's port + 1.
	UIPort int
}

// Process log rotation defaults and bounds (services.NAME.log_max_bytes,
// services.NAME.log_keep).
const (
	DefaultLogMaxBytes = 10 << 20
	MinLogMaxBytes     = 64 << 10
	DefaultLogKeep     = 3
)

// Restart is services.NAME.restart: `never`, or a mapping. A service that
// exits is started again after Backoff, doubling up to MaxBackoff; MaxExits
// exits within Window are a crash loop, after which the supervisor gives up
// until the service is started again.
type Restart struct {
	// Never turns automatic restarts off (restart: never).
	Never bool
	// Backoff is the first delay. Default 1s.
	Backoff time.Duration
	// MaxBackoff caps the delay. Default 60s.
	MaxBackoff time.Duration
	// MaxExits within Window make a crash loop. Default 5.
	MaxExits int
	// Window is the crash-loop window. Default 2m.
	Window time.Duration
}

// Credentials are upstream API keys referenced by api_key_ref.
type Credentials struct {
	Upstream map[string]Credential
}

// Credential is read from exactly one of File or Env.
type Credential struct {
	// File holds the key; surrounding whitespace is trimmed.
	File string
	// Env names an environment variable holding the key.
	Env string
}

// Auth holds OAuth provider settings.
type Auth struct {
	Providers map[string]Provider
}

// Provider is one login provider served through CLIProxyAPIPlus.
type Provider struct {
	// Method is informational; default oauth.
	Method string
	// AuthURLEndpoint starts a login: an absolute URL or a path on the
	// CLIProxyAPIPlus service. Defaults: codex /v0/management/codex-auth-url,
	// copilot /v0/management/github-auth-url.
	AuthURLEndpoint string
	// StatusEndpoint polls a login. Default /v0/management/get-auth-status.
	StatusEndpoint string
}

// Integration sets the model names written into client settings.
type Integration struct {
	// DefaultModel defaults to router-default.
	DefaultModel string
	// FastModel defaults to DefaultModel.
	FastModel string
	// OpusModel and SonnetModel default to DefaultModel; HaikuModel to FastModel.
	OpusModel   string
	SonnetModel string
	HaikuModel  string
	// EnvKey is the variable Codex reads the gateway key from. Default OPENAI_API_KEY.
	EnvKey string
}
