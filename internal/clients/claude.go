package clients

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strings"
)

// Claude Code environment variables set by the integration.
const (
	EnvAnthropicBaseURL     = "ANTHROPIC_BASE_URL"
	EnvAnthropicAuthToken   = "ANTHROPIC_AUTH_TOKEN"
	EnvAnthropicModel       = "ANTHROPIC_MODEL"
	EnvAnthropicOpusModel   = "ANTHROPIC_DEFAULT_OPUS_MODEL"
	EnvAnthropicSonnetModel = "ANTHROPIC_DEFAULT_SONNET_MODEL"
	EnvAnthropicHaikuModel  = "ANTHROPIC_DEFAULT_HAIKU_MODEL"
)

// ClaudeEnv returns the Claude Code environment for spec, in print order:
// base URL (gateway root, no /v1), token (spec.Token or TokenPlaceholder),
// then the four model variables (empty values are left out).
func ClaudeEnv(spec Spec) [][2]string {
	spec = bestEffort(spec)
	env := [][2]string{
		{EnvAnthropicBaseURL, spec.GatewayURL},
		{EnvAnthropicAuthToken, spec.tokenOrPlaceholder()},
	}
	return append(env, claudeModels(spec)...)
}

func claudeModels(spec Spec) [][2]string {
	var out [][2]string
	for _, kv := range [][2]string{
		{EnvAnthropicModel, spec.DefaultModel},
		{EnvAnthropicOpusModel, spec.OpusModel},
		{EnvAnthropicSonnetModel, spec.SonnetModel},
		{EnvAnthropicHaikuModel, spec.HaikuModel},
	} {
		if kv[1] != "" {
			out = append(out, kv)
		}
	}
	return out
}

// PrintClaude returns the dotenv-style lines of `integration print
// claude-code`, one NAME=value per line in ClaudeEnv order:
//
//	ANTHROPIC_BASE_URL=http://127.0.0.1:4000
//	ANTHROPIC_AUTH_TOKEN=your-gateway-token
//	ANTHROPIC_MODEL=router-default
//	ANTHROPIC_DEFAULT_OPUS_MODEL=router-default
//	ANTHROPIC_DEFAULT_SONNET_MODEL=router-default
//	ANTHROPIC_DEFAULT_HAIKU_MODEL=router-default
func PrintClaude(spec Spec) string {
	var sb strings.Builder
	for _, kv := range ClaudeEnv(spec) {
		sb.WriteString(kv[0] + "=" + kv[1] + "\n")
	}
	return sb.String()
}

// ApplyClaude merges the FlowGate environment into the "env" object of the
// Claude Code settings.json at path (see DefaultClaudePath).
//
// Only the "env" object is re-encoded (with the file's own indent) and put
// back where it was, or appended as the last top-level key: every other byte
// of the file (permissions, hooks, unknown keys, formatting) stays as it was.
// Existing env keys keep their place and value bytes; new ones are appended. ANTHROPIC_BASE_URL
// and the model variables are set; ANTHROPIC_AUTH_TOKEN is set only from a
// real spec.Token. Without one an existing token is never touched, and the
// placeholder is added only when the file has no other credential
// (ANTHROPIC_AUTH_TOKEN, ANTHROPIC_API_KEY or apiKeyHelper), with a warning.
//
// A file others can read is narrowed to 0600 once it holds a token, and
// Result.TightenedFrom says so.
//
// Invalid JSON, a non-object root or a non-object "env" fail with a message
// naming the file (and line and column) and change nothing. With dryRun
// nothing is written and Result holds the planned content and diff.
func ApplyClaude(path string, spec Spec, dryRun bool) (Result, error) {
	spec, err := Normalize(spec)
	if err != nil {
		return Result{}, err
	}
	real, old, mode, existed, err := readTarget(path)
	if err != nil {
		return Result{}, err
	}
	res := Result{Path: real}

	root := &jnode{kind: '{'}
	if len(bytes.TrimSpace(old)) > 0 {
		var probe any
		if err := json.Unmarshal(old, &probe); err != nil {
			return res, jsonError(real, old, err)
		}
		if _, ok := probe.(map[string]any); !ok {
			return res, fmt.Errorf("%s must hold a JSON object ({...}); fix it (or move it away) and run apply again", real)
		}
		if root, err = parseOrdered(old); err != nil {
			return res, fmt.Errorf("%s: %w", real, err)
		}
	}
	env, _ := root.get("env")
	envExisted := env != nil
	if env == nil {
		env = &jnode{kind: '{'}
	} else if env.kind != '{' {
		return res, fmt.Errorf(`%s: "env" is not an object; fix it by hand and run apply again`, real)
	}

	env.set(EnvAnthropicBaseURL, jstr(spec.GatewayURL))
	cur, _ := env.get(EnvAnthropicAuthToken)
	curTok, curIsString := cur.stringValue()
	switch {
	case spec.hasRealToken():
		env.set(EnvAnthropicAuthToken, jstr(spec.Token))
	case cur != nil:
		if curIsString && curTok == TokenPlaceholder {
			res.Warnings = append(res.Warnings, fmt.Sprintf("env.%s in %s is still the placeholder %q: set it to the gateway key", EnvAnthropicAuthToken, real, TokenPlaceholder))
		}
	default:
		apiKey, _ := env.get("ANTHROPIC_API_KEY")
		helper, _ := root.get("apiKeyHelper")
		if apiKey == nil && helper == nil {
			env.set(EnvAnthropicAuthToken, jstr(TokenPlaceholder))
			res.Warnings = append(res.Warnings, fmt.Sprintf("env.%s in %s is the placeholder %q: set it to the gateway key (or leave it if the gateway has no keys)", EnvAnthropicAuthToken, real, TokenPlaceholder))
		}
	}
	for _, kv := range claudeModels(spec) {
		env.set(kv[0], jstr(kv[1]))
	}

	res.Content = spliceEnv(old, root, env, envExisted)
	// Belt and braces: the result must be valid JSON.
	if !json.Valid(res.Content) {
		return res, fmt.Errorf("updating %s: internal error: result is not valid JSON; nothing was written", real)
	}
	// A file holding a key is owner-only, whatever mode it had before.
	tok, _ := env.get(EnvAnthropicAuthToken)
	if v, _ := tok.stringValue(); existed && mode&0o077 != 0 && v != "" && v != TokenPlaceholder {
		res.TightenedFrom, mode = mode, 0o600
	}
	if err := commit(&res, old, mode, existed, dryRun); err != nil {
		return res, err
	}
	if res.TightenedFrom != 0 && !res.Changed && !dryRun {
		if err := os.Chmod(real, mode); err != nil {
			return res, fmt.Errorf("%s holds the gateway key but is readable by others (mode %04o) and could not be narrowed: %w; run `chmod 600 %s`", real, res.TightenedFrom, err, real)
		}
	}
	return res, nil
}

// spliceEnv re-encodes only the env object and puts it where it was (or
// appends it as the last top-level key), so every other byte of the file,
// formatting included, stays as it was.
func spliceEnv(old []byte, root, env *jnode, envExisted bool) []byte {
	unit := detectIndent(old)
	var buf bytes.Buffer
	switch {
	case envExisted:
		ls := bytes.LastIndexByte(old[:env.start], '\n') + 1
		prefix := old[ls:env.start]
		prefix = prefix[:len(prefix)-len(bytes.TrimLeft(prefix, " \t"))]
		buf.Write(old[:env.start])
		env.encode(&buf, unit, string(prefix))
		buf.Write(old[env.end:])
	case len(root.keys) == 0:
		root.set("env", env)
		buf.Write(old[:root.start])
		root.encode(&buf, unit, "")
		buf.Write(old[root.end:])
		if !bytes.HasSuffix(buf.Bytes(), []byte("\n")) {
			buf.WriteByte('\n')
		}
	default:
		last := root.vals[len(root.vals)-1]
		buf.Write(old[:last.end])
		buf.WriteString(",\n" + unit + `"env": `)
		env.encode(&buf, unit, unit)
		buf.Write(old[last.end:])
	}
	return buf.Bytes()
}
