package clients

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"

	"github.com/pelletier/go-toml/v2"
	"github.com/pelletier/go-toml/v2/unstable"
)

// PrintCodex returns the config.toml snippet for `integration print codex`:
// exactly the eight lines below (plus the final newline), values from spec.
//
//	model_provider = "flowgate"
//	model = "router-default"
//
//	[model_providers.flowgate]
//	name = "FlowGate Local"
//	base_url = "http://127.0.0.1:4000/v1"
//	env_key = "OPENAI_API_KEY"
//	wire_api = "responses"
func PrintCodex(spec Spec) string {
	spec = bestEffort(spec)
	var sb strings.Builder
	fmt.Fprintf(&sb, "model_provider = %s\n", tomlString(CodexProviderID))
	fmt.Fprintf(&sb, "model = %s\n\n", tomlString(spec.DefaultModel))
	sb.WriteString("[model_providers." + CodexProviderID + "]\n")
	for _, kv := range codexProviderKeys(spec) {
		fmt.Fprintf(&sb, "%s = %s\n", kv[0], tomlString(kv[1]))
	}
	return sb.String()
}

func codexProviderKeys(spec Spec) [][2]string {
	return [][2]string{
		{"name", CodexProviderName},
		{"base_url", spec.GatewayURL + "/v1"},
		{"env_key", spec.EnvKey},
		{"wire_api", "responses"},
	}
}

// ApplyCodex points Codex at the gateway in the config.toml at path (see
// DefaultCodexPath): top-level model_provider = "flowgate" and model =
// spec.DefaultModel, and a [model_providers.flowgate] table with name,
// base_url (gateway + /v1), env_key and wire_api = "responses".
//
// Everything else is kept: other providers (never repointed), profiles (their
// own model_provider is not the top-level one), mcp_servers, unknown keys,
// extra keys inside [model_providers.flowgate]. The file is parsed with a
// real TOML parser and edited in place, so comments, order and formatting
// survive; the result is re-parsed and checked to differ from the input only
// in the keys above. When flowgate's table is written inline or with dotted
// keys (or model_providers is an inline table) the in-place edit is not
// possible: the file is then re-serialised from its parsed form, which keeps
// every value but drops comments and formatting, and Result.Warnings says so.
//
// Invalid TOML fails with the file, line and column and changes nothing. With
// dryRun nothing is written and Result holds the planned content and diff.
func ApplyCodex(path string, spec Spec, dryRun bool) (Result, error) {
	spec, err := Normalize(spec)
	if err != nil {
		return Result{}, err
	}
	real, old, mode, existed, err := readTarget(path)
	if err != nil {
		return Result{}, err
	}
	res := Result{Path: real}
	before := map[string]any{}
	if err := toml.Unmarshal(old, &before); err != nil {
		return res, tomlError(real, err)
	}
	if prev, ok := before["model_provider"].(string); ok && prev != CodexProviderID {
		res.Warnings = append(res.Warnings, fmt.Sprintf("model_provider was %q; it is now %q (the %q provider table is kept: set model_provider = %q to switch back)", prev, CodexProviderID, prev, prev))
	}

	content, editErr := editCodexInPlace(old, spec)
	if editErr == nil {
		editErr = verifyCodex(before, content, spec)
	}
	if editErr != nil {
		content, err = reserializeCodex(before, spec)
		if err != nil {
			return res, fmt.Errorf("updating %s: %w", real, err)
		}
		if err := verifyCodex(before, content, spec); err != nil {
			return res, fmt.Errorf("updating %s: %w", real, err)
		}
		if existed && len(strings.TrimSpace(string(old))) > 0 {
			res.Warnings = append(res.Warnings, fmt.Sprintf("%s was rewritten from its parsed form (%v): all settings are kept but comments and formatting are not; the backup has the original", real, editErr))
		}
	}
	res.Content = content
	if err := commit(&res, old, mode, existed, dryRun); err != nil {
		return res, err
	}
	return res, nil
}

func tomlError(path string, err error) error {
	var de *toml.DecodeError
	if errors.As(err, &de) {
		row, col := de.Position()
		return fmt.Errorf("%s is not valid TOML: line %d, column %d: %s; fix it (or move it away) and run apply again", path, row, col, de.Error())
	}
	return fmt.Errorf("%s is not valid TOML: %w; fix it (or move it away) and run apply again", path, err)
}

// tomlString renders s as a TOML basic string.
func tomlString(s string) string {
	var sb strings.Builder
	sb.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			sb.WriteString(`\"`)
		case r == '\\':
			sb.WriteString(`\\`)
		case r == '\n':
			sb.WriteString(`\n`)
		case r == '\t':
			sb.WriteString(`\t`)
		case r == '\r':
			sb.WriteString(`\r`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&sb, `\u%04X`, r)
		default:
			sb.WriteRune(r)
		}
	}
	sb.WriteByte('"')
	return sb.String()
}

type span struct{ start, end int }

type textEdit struct {
	at, end int
	text    string
	order   int
}

// editCodexInPlace edits only the top-level model_provider/model lines and
// the [model_providers.flowgate] table, locating them with go-toml's parser.
func editCodexInPlace(data []byte, spec Spec) ([]byte, error) {
	if len(strings.TrimSpace(string(data))) == 0 {
		return []byte(PrintCodex(spec)), nil
	}
	var p unstable.Parser
	p.Reset(data)
	var table []string
	var inArray bool
	rootKV := map[string]span{}
	lastRootEnd := -1
	flowHeader := false
	flowHeaderEnd := -1
	flowLastEnd := -1
	flowKV := map[string]span{}
	inFlow := false
	flowPath := []string{"model_providers", CodexProviderID}

	for p.NextExpression() {
		e := p.Expression()
		switch e.Kind {
		case unstable.Table, unstable.ArrayTable:
			key, first := keyParts(e.Key())
			table, inArray = key, e.Kind == unstable.ArrayTable
			inFlow = false
			if slices.Equal(key, flowPath) {
				if inArray || flowHeader {
					return nil, errors.New("model_providers.flowgate is an array of tables")
				}
				flowHeader, inFlow = true, true
				flowHeaderEnd = lineEnd(data, headerEnd(data, int(first.Raw.Offset)))
				flowLastEnd = flowHeaderEnd
			} else if slices.Equal(key, flowPath[:1]) && inArray {
				return nil, errors.New("model_providers is an array of tables")
			}
		case unstable.KeyValue:
			key, _ := keyParts(e.Key())
			full := append(slices.Clone(table), key...)
			sp := span{int(e.Raw.Offset), int(e.Raw.Offset + e.Raw.Length)}
			switch {
			case table == nil:
				if len(key) == 1 && (key[0] == "model_provider" || key[0] == "model") {
					rootKV[key[0]] = sp
				}
				lastRootEnd = lineEnd(data, sp.end)
			case inFlow:
				if len(key) == 1 {
					flowKV[key[0]] = sp
				}
				flowLastEnd = lineEnd(data, sp.end)
			}
			if !hasPrefix(table, flowPath) && (hasPrefix(full, flowPath) || slices.Equal(full, flowPath[:1])) {
				return nil, errors.New("model_providers.flowgate is written inline or with dotted keys")
			}
		}
	}
	if err := p.Error(); err != nil {
		return nil, err
	}

	var edits []textEdit
	// Top-level keys.
	var rootIns strings.Builder
	for _, kv := range [][2]string{{"model_provider", CodexProviderID}, {"model", spec.DefaultModel}} {
		line := kv[0] + " = " + tomlString(kv[1])
		if sp, ok := rootKV[kv[0]]; ok {
			edits = append(edits, textEdit{at: sp.start, end: sp.end, text: line})
		} else {
			rootIns.WriteString(line + "\n")
		}
	}
	if rootIns.Len() > 0 {
		at := max(lastRootEnd, 0)
		text := rootIns.String()
		if at > 0 && data[at-1] != '\n' {
			text = "\n" + text
		}
		if lastRootEnd < 0 && len(strings.TrimSpace(string(data))) > 0 {
			text += "\n"
		}
		edits = append(edits, textEdit{at: at, end: at, text: text})
	}
	// The flowgate table.
	if flowHeader {
		var ins strings.Builder
		for _, kv := range codexProviderKeys(spec) {
			line := kv[0] + " = " + tomlString(kv[1])
			if sp, ok := flowKV[kv[0]]; ok {
				edits = append(edits, textEdit{at: sp.start, end: sp.end, text: line})
			} else {
				ins.WriteString(line + "\n")
			}
		}
		if ins.Len() > 0 {
			text := ins.String()
			if flowLastEnd > 0 && data[flowLastEnd-1] != '\n' {
				text = "\n" + text
			}
			edits = append(edits, textEdit{at: flowLastEnd, end: flowLastEnd, text: text})
		}
	} else {
		var sb strings.Builder
		if n := len(data); n > 0 {
			if data[n-1] != '\n' {
				sb.WriteByte('\n')
			}
			sb.WriteByte('\n')
		}
		sb.WriteString("[model_providers." + CodexProviderID + "]\n")
		for _, kv := range codexProviderKeys(spec) {
			sb.WriteString(kv[0] + " = " + tomlString(kv[1]) + "\n")
		}
		edits = append(edits, textEdit{at: len(data), end: len(data), text: sb.String()})
	}
	// Apply from the end so earlier offsets stay valid; of two inserts at
	// the same offset the later one goes in first, so they end up in order.
	for i := range edits {
		edits[i].order = i
	}
	sort.Slice(edits, func(i, j int) bool {
		if edits[i].at != edits[j].at {
			return edits[i].at > edits[j].at
		}
		return edits[i].order > edits[j].order
	})
	out := slices.Clone(data)
	for _, ed := range edits {
		out = slices.Concat(out[:ed.at], []byte(ed.text), out[ed.end:])
	}
	return out, nil
}

func keyParts(it unstable.Iterator) ([]string, *unstable.Node) {
	var parts []string
	var first *unstable.Node
	for it.Next() {
		n := it.Node()
		if first == nil {
			first = n
		}
		parts = append(parts, string(n.Data))
	}
	return parts, first
}

func hasPrefix(s, prefix []string) bool {
	return len(s) >= len(prefix) && slices.Equal(s[:len(prefix)], prefix)
}

// headerEnd returns the offset just past the closing "]" of the table header
// whose first key starts at keyStart (keys may contain "]" only when quoted,
// and a quoted key's raw range covers its quotes, so scanning from the key is
// safe enough: the parser already accepted the line).
func headerEnd(data []byte, keyStart int) int {
	i := keyStart
	quote := byte(0)
	for ; i < len(data); i++ {
		c := data[i]
		switch {
		case quote != 0:
			if c == '\\' && quote == '"' {
				i++
			} else if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == ']':
			return i + 1
		}
	}
	return i
}

// lineEnd returns the offset just past the newline ending the line that
// contains offset (or len(data)).
func lineEnd(data []byte, offset int) int {
	for i := offset; i < len(data); i++ {
		if data[i] == '\n' {
			return i + 1
		}
	}
	return len(data)
}

// codexOwned removes the keys ApplyCodex manages from a parsed document (a
// deep copy is made first) so that the rest can be compared.
func codexOwned(doc map[string]any) map[string]any {
	c := deepCopy(doc).(map[string]any)
	delete(c, "model_provider")
	delete(c, "model")
	if mp, ok := c["model_providers"].(map[string]any); ok {
		if fg, ok := mp[CodexProviderID].(map[string]any); ok {
			for _, k := range []string{"name", "base_url", "env_key", "wire_api"} {
				delete(fg, k)
			}
			if len(fg) == 0 {
				delete(mp, CodexProviderID)
			}
		}
		if len(mp) == 0 {
			delete(c, "model_providers")
		}
	}
	return c
}

func deepCopy(v any) any {
	switch t := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(t))
		for k, x := range t {
			m[k] = deepCopy(x)
		}
		return m
	case []any:
		s := make([]any, len(t))
		for i, x := range t {
			s[i] = deepCopy(x)
		}
		return s
	}
	return v
}

// verifyCodex re-parses the new content and checks that it sets exactly what
// spec asks and keeps everything else of before.
func verifyCodex(before map[string]any, content []byte, spec Spec) error {
	after := map[string]any{}
	if err := toml.Unmarshal(content, &after); err != nil {
		return fmt.Errorf("edited file does not parse: %w", err)
	}
	if after["model_provider"] != CodexProviderID || after["model"] != spec.DefaultModel {
		return errors.New("top-level model_provider/model not set as planned")
	}
	mp, _ := after["model_providers"].(map[string]any)
	fg, _ := mp[CodexProviderID].(map[string]any)
	for _, kv := range codexProviderKeys(spec) {
		if fg[kv[0]] != kv[1] {
			return fmt.Errorf("model_providers.flowgate.%s not set as planned", kv[0])
		}
	}
	if !reflect.DeepEqual(codexOwned(before), codexOwned(after)) {
		return errors.New("edit would change other settings")
	}
	return nil
}

// reserializeCodex is the fallback: set the keys on the parsed document and
// marshal it again (comments and formatting are lost).
func reserializeCodex(before map[string]any, spec Spec) ([]byte, error) {
	doc := deepCopy(before).(map[string]any)
	doc["model_provider"] = CodexProviderID
	doc["model"] = spec.DefaultModel
	mp, ok := doc["model_providers"].(map[string]any)
	if !ok {
		if _, exists := doc["model_providers"]; exists {
			return nil, errors.New("model_providers is not a table; fix it by hand")
		}
		mp = map[string]any{}
		doc["model_providers"] = mp
	}
	fg, ok := mp[CodexProviderID].(map[string]any)
	if !ok {
		fg = map[string]any{}
		mp[CodexProviderID] = fg
	}
	for _, kv := range codexProviderKeys(spec) {
		fg[kv[0]] = kv[1]
	}
	return toml.Marshal(doc)
}
