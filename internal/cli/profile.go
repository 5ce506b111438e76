package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/flowgate/flowgate/internal/config"
	rt "github.com/flowgate/flowgate/internal/runtime"
)

func (a *app) profileCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "profile",
		Short: "List, show and switch routing profiles (reliability, balanced, cost)",
		Example: `  flowgate profile list
  flowgate profile show cost
  flowgate profile set reliability`,
	}
	cmd.AddCommand(a.profileListCommand(), a.profileShowCommand(), a.profileSetCommand())
	return cmd
}

func (a *app) profileListCommand() *cobra.Command {
	return &cobra.Command{
		Use:     "list",
		Short:   "List profiles; the active one is marked",
		Example: "  flowgate profile list\n  flowgate profile list --json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := a.load()
			if err != nil {
				return err
			}
			st, _ := rt.ReadState(cfg.Paths.StateFile)
			if a.jsonOut {
				return a.printJSON(map[string]any{"profiles": cfg.ProfileNames(), "active": st.CurrentProfile, "default": cfg.DefaultProfile})
			}
			for _, p := range cfg.ProfileNames() {
				mark := ""
				if p == st.CurrentProfile {
					mark = " (active)"
				}
				fmt.Fprintf(a.stdout, "%s%s\n", p, mark)
			}
			return nil
		},
	}
}

func (a *app) profileShowCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "show [NAME]",
		Short: "Show a profile merged onto litellm_base, secrets redacted",
		Long: `show prints the merged gateway document for NAME (default: the active profile,
else the default profile): litellm_base with the profile overlaid (maps merge,
lists replace). Secret references stay references; literal keys are redacted.`,
		Example: "  flowgate profile show\n  flowgate profile show cost",
		Args:    cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := a.load()
			if err != nil {
				return err
			}
			name := ""
			if len(args) == 1 {
				name = args[0]
			} else {
				st, _ := rt.ReadState(cfg.Paths.StateFile)
				name = st.CurrentProfile
				if name == "" {
					name = cfg.DefaultProfile
				}
			}
			doc, err := cfg.ProfileDocument(name)
			if err != nil {
				return usage("%v", err)
			}
			redactDoc(doc)
			if a.jsonOut {
				return a.printJSON(map[string]any{"profile": name, "document": doc})
			}
			fmt.Fprintf(a.stdout, "# profile %s\n", name)
			enc := json.NewEncoder(a.stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(doc)
		},
	}
}

var secretKeyName = regexp.MustCompile(`(?i)(api_key|master_key|secret|password|token)$`)

// redactDoc replaces literal secret values; references (os.environ/NAME and
// *_ref names) are kept because they are not secrets.
func redactDoc(v any) {
	switch t := v.(type) {
	case map[string]any:
		for k, x := range t {
			if s, ok := x.(string); ok && secretKeyName.MatchString(k) && !strings.HasPrefix(s, "os.environ/") && s != "" {
				t[k] = "[redacted]"
				continue
			}
			redactDoc(x)
		}
	case []any:
		for _, x := range t {
			redactDoc(x)
		}
	}
}

type profileSetResult struct {
	Profile      string `json:"profile"`
	ActiveConfig string `json:"active_config"`
	StateFile    string `json:"state_file"`
	Gateway      string `json:"gateway"`
	Generation   uint64 `json:"generation,omitempty"`
}

func (a *app) profileSetCommand() *cobra.Command {
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "set NAME",
		Short: "Activate a profile: write the active config and state, reload the running gateway",
		Long: `set merges NAME onto litellm_base, validates it, writes the active config
(references kept, never plaintext secrets; 0600) and state.json, and logs a
profile_switch event. A running builtin gateway reloads without dropping
in-flight requests; set reports success only once the gateway confirms the new
generation. A running LiteLLM engine is restarted with a readiness wait. An
invalid profile leaves the running config untouched.`,
		Example: "  flowgate profile set balanced\n  flowgate profile set cost --json",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := a.load()
			if err != nil {
				return err
			}
			res, err := a.setProfile(cmd.Context(), cfg, args[0], timeout)
			if err != nil {
				return err
			}
			if a.jsonOut {
				return a.printJSON(res)
			}
			fmt.Fprintf(a.stdout, "profile=%s\nactive_config=%s\nstate_file=%s\ngateway=%s\n", res.Profile, res.ActiveConfig, res.StateFile, res.Gateway)
			return nil
		},
	}
	cmd.Flags().DurationVar(&timeout, "timeout", 30*time.Second, "how long to wait for the running gateway to confirm the new profile")
	return cmd
}

// setProfile is `profile set`: validate, write, record, reload.
func (a *app) setProfile(ctx context.Context, cfg *config.Config, name string, timeout time.Duration) (*profileSetResult, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	layout := layoutOf(cfg)
	doc, err := cfg.ProfileDocument(name)
	if err != nil {
		_ = layout.Emit(rt.Event{Event: "profile_switch", Profile: name, Result: "failed", Detail: "unknown-profile"})
		return nil, usage("%v", err)
	}
	if err := cfg.ValidateGatewayDoc(name, doc); err != nil {
		_ = layout.Emit(rt.Event{Event: "profile_switch", Profile: name, Result: "failed", Detail: "invalid-profile"})
		return nil, usage("profile %s is not valid, the running config is untouched: %v", name, err)
	}
	if err := layout.Ensure(); err != nil {
		return nil, err
	}
	lctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	lock, err := rt.AcquireLock(lctx, layout.LockFile())
	if err != nil {
		return nil, failed("%v", err)
	}
	defer lock.Unlock()

	if cfg.Services[config.ServiceGateway].Engine == config.EngineLiteLLM {
		if _, err := writeLiteLLMConfig(cfg, doc); err != nil {
			return nil, err
		}
	} else if err := writeActiveConfig(cfg, doc); err != nil {
		return nil, err
	}
	prev, _ := rt.ReadState(cfg.Paths.StateFile)
	if err := rt.WriteState(cfg.Paths.StateFile, rt.State{CurrentProfile: name, UpdatedAt: time.Now().UTC()}); err != nil {
		return nil, err
	}
	res := &profileSetResult{Profile: name, ActiveConfig: cfg.Paths.ActiveConfig, StateFile: cfg.Paths.StateFile, Gateway: "not-running"}
	outcome, gen, rerr := a.reloadGateway(ctx, cfg, name, timeout)
	res.Gateway, res.Generation = outcome, gen
	if rerr != nil {
		_ = layout.Emit(rt.Event{Event: "profile_switch", Profile: name, Result: "failed", Detail: "gateway-reload: " + rerr.Error()})
		// Keep state consistent with what actually runs.
		_ = rt.WriteState(cfg.Paths.StateFile, prev)
		return nil, failed("profile %s was written but the running gateway did not take it: %v; see `flowgate logs gateway`", name, rerr)
	}
	_ = layout.Emit(rt.Event{Event: "profile_switch", Profile: name, Result: "success", Detail: "gateway=" + outcome})
	return res, nil
}

// writeActiveConfig records the merged document for the active profile with
// references kept (it never holds a resolved secret), 0600.
func writeActiveConfig(cfg *config.Config, doc map[string]any) error {
	data, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return err
	}
	header := []byte("# generated by flowgate profile set; edit config/flowgate.yaml instead\n")
	return rt.WriteFileAtomic(cfg.Paths.ActiveConfig, append(append(header, data...), '\n'), 0o600)
}
