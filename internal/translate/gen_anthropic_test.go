package translate

import (
	"fmt"
	"math/rand"
	"strings"
)

// genAnthRequest writes a random Messages request as JSON text, with
// random key order, spacing, escapes and block mixes.
func genAnthRequest(rng *rand.Rand, turns int) []byte {
	g := &anthGen{rng: rng}
	var members []string
	members = append(members, `"model":`+g.str())
	if rng.Intn(4) > 0 {
		var sys string
		if rng.Intn(3) == 0 {
			sys = g.str()
		} else {
			var bs []string
			if rng.Intn(2) == 0 {
				bs = append(bs, g.obj(`"type":"text"`, `"text":"x-anthropic-billing-header: cc_version=1;"`))
			}
			for n := rng.Intn(3); n >= 0; n-- {
				bs = append(bs, g.obj(`"type":"text"`, `"text":`+g.str(), `"cache_control":{"type":"ephemeral"}`))
			}
			sys = g.arr(bs)
		}
		members = append(members, `"system":`+sys)
	}
	var msgs []string
	for i := 0; i < turns; i++ {
		msgs = append(msgs, g.message(i))
	}
	members = append(members, `"messages":`+g.arr(msgs))
	if rng.Intn(3) > 0 {
		var ts []string
		for n := rng.Intn(4); n >= 0; n-- {
			fs := []string{`"name":` + g.str(), `"input_schema":{"type":"object","properties":{"p":{"type":"string","description":` + g.str() + `}}}`}
			if rng.Intn(2) == 0 {
				fs = append(fs, `"description":`+g.str())
			}
			switch rng.Intn(8) {
			case 0:
				fs = append(fs, `"type":"web_search_20250305"`)
			case 1:
				fs = append(fs, `"defer_loading":true`)
			case 2:
				fs = append(fs, `"type":"custom"`)
			}
			ts = append(ts, g.obj(fs...))
		}
		members = append(members, `"tools":`+g.arr(ts))
		if rng.Intn(2) == 0 {
			members = append(members, `"tool_choice":{"type":"auto"}`)
		}
	}
	for _, m := range []string{`"max_tokens":32000`, `"stream":true`, `"temperature":1`, `"top_k":5`,
		`"metadata":{"user_id":"{\"device_id\":\"dev\",\"session_id\":\"s\"}"}`, `"thinking":{"type":"enabled","budget_tokens":31999}`,
		`"context_management":{"edits":[]}`, `"stop_sequences":["x"]`} {
		if rng.Intn(2) == 0 {
			members = append(members, m)
		}
	}
	return []byte(g.obj(members...))
}

type anthGen struct{ rng *rand.Rand }

var genFragments = []string{"plain text ", `\n`, `\"`, `\\`, `\t`, `\r`, `<b>&amp;</b>`, "é", "日本語", "😀",
	`\u0001`, `\u001f`, `\u00e9`, `\u2028`, `\/`, `\b`, `\f`, `\ud83d\ude00`, `\ud800`, "\u2028", "\xff", `\u000A`, `\u0000`}

func (g *anthGen) str() string {
	var sb strings.Builder
	sb.WriteByte('"')
	for n := g.rng.Intn(8); n > 0; n-- {
		if g.rng.Intn(4) == 0 {
			sb.WriteString(genFragments[g.rng.Intn(len(genFragments))])
		} else {
			sb.WriteString(genFragments[0])
		}
	}
	sb.WriteByte('"')
	return sb.String()
}

func (g *anthGen) ws() string { return [...]string{"", "", "", " ", "\n  ", "\t"}[g.rng.Intn(6)] }

// obj joins members in random order.
func (g *anthGen) obj(members ...string) string {
	g.rng.Shuffle(len(members), func(i, j int) { members[i], members[j] = members[j], members[i] })
	var sb strings.Builder
	sb.WriteString("{" + g.ws())
	for i, m := range members {
		if i > 0 {
			sb.WriteString(g.ws() + "," + g.ws())
		}
		sb.WriteString(m)
	}
	sb.WriteString(g.ws() + "}")
	return sb.String()
}

func (g *anthGen) arr(elems []string) string {
	return "[" + g.ws() + strings.Join(elems, ","+g.ws()) + g.ws() + "]"
}

func (g *anthGen) block(role string, i int) string {
	id := fmt.Sprintf(`"toolu_%d"`, i)
	cc := `"cache_control":{"type":"ephemeral"}`
	switch r := g.rng.Intn(10); {
	case r < 4:
		if g.rng.Intn(3) == 0 {
			return g.obj(`"type":"text"`, `"text":`+g.str(), cc)
		}
		return g.obj(`"type":"text"`, `"text":`+g.str())
	case r == 4 && role == "assistant":
		return g.obj(`"type":"thinking"`, `"thinking":`+g.str(), `"signature":"c2ln"`)
	case r < 7 && role == "assistant":
		input := `{"command":` + g.str() + `, "n": [1, 2.5, -3e2, true, null]}`
		if g.rng.Intn(6) == 0 {
			input = "null"
		}
		return g.obj(`"type":"tool_use"`, `"id":`+id, `"name":"Bash"`, `"input":`+input)
	case r < 8 && role == "user":
		var content string
		switch g.rng.Intn(3) {
		case 0:
			content = g.str()
		case 1:
			content = g.arr([]string{g.obj(`"type":"text"`, `"text":`+g.str()), g.obj(`"type":"text"`, `"text":`+g.str())})
		default:
			content = g.arr([]string{g.obj(`"type":"text"`, `"text":`+g.str()),
				g.obj(`"type":"image"`, `"source":{"type":"base64","media_type":"image/png","data":"iVBORw0KGgo="}`)})
		}
		fs := []string{`"type":"tool_result"`, `"tool_use_id":` + id, `"content":` + content}
		if g.rng.Intn(3) == 0 {
			fs = append(fs, `"is_error":true`)
		}
		return g.obj(fs...)
	case r == 8 && role == "user":
		return g.obj(`"type":"image"`, `"source":{"type":"url","url":"https://x/y.png"}`)
	case r == 9 && role == "user":
		return g.obj(`"type":"document"`, `"source":{"type":"text","data":"d"}`)
	}
	return g.obj(`"type":"text"`, `"text":`+g.str())
}

func (g *anthGen) message(i int) string {
	role := "user"
	switch {
	case i%2 == 1:
		role = "assistant"
	case g.rng.Intn(8) == 0:
		role = "system"
	}
	var content string
	if g.rng.Intn(4) == 0 {
		content = g.str()
	} else {
		var bs []string
		for n := g.rng.Intn(4); n >= 0; n-- {
			bs = append(bs, g.block(role, i))
		}
		content = g.arr(bs)
	}
	return g.obj(`"role":"`+role+`"`, `"content":`+content)
}
