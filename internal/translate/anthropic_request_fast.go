package translate

import (
	"encoding/json"
	"sync"
)

// anthropicToChatFast is AnthropicToChat in one validating pass over the
// body (DESIGN rule 12: what is only forwarded is not decoded): text,
// tool inputs and schemas are copied verbatim when their JSON literal is
// already what the encoder would write, and the output is assembled from
// pooled buffers without building wire structs. Only the small top-level
// fields (model, limits, metadata, ...) go through encoding/json.
//
// It reports false for anything it does not handle exactly like
// anthropicToChatSlow: invalid JSON, wrong value kinds, duplicate or
// case-folded keys, escaped keys, deep nesting. The caller then runs the
// slow path, which gives the same output or the same error.
func anthropicToChatFast(body []byte, opts Options) (*Result, bool) {
	p := a2cPool.Get().(*a2c)
	defer p.release()
	p.b, p.opts = body, opts
	return p.run()
}

var a2cPool = sync.Pool{New: func() any { return new(a2c) }}

// a2c holds the scratch state of one fast translation.
type a2c struct {
	b    []byte
	opts Options

	msgs  []byte // translated messages, each preceded by ','
	sys   []byte // the system message from "system", if any
	tools []byte // translated tools, each preceded by ','
	rest  []byte // small top-level members, for encoding/json

	ntools    int
	notes     []string // from messages, in order
	toolNotes []string // from tools, in order

	blocks []fblock // blocks of the current message
	inner  []fpart  // tool_result contents of the current message's blocks
}

func (p *a2c) release() {
	if cap(p.msgs) > 8<<20 {
		return // do not pin a huge buffer
	}
	clear(p.blocks[:cap(p.blocks)])
	clear(p.inner[:cap(p.inner)])
	clear(p.notes[:cap(p.notes)])
	clear(p.toolNotes[:cap(p.toolNotes)])
	*p = a2c{msgs: p.msgs[:0], sys: p.sys[:0], tools: p.tools[:0], rest: p.rest[:0],
		notes: p.notes[:0], toolNotes: p.toolNotes[:0], blocks: p.blocks[:0], inner: p.inner[:0]}
	a2cPool.Put(p)
}

// Block kinds.
const (
	bkOther = iota
	bkText
	bkThinking
	bkToolUse
	bkToolResult
	bkImage
	bkDocument
)

// fblock is one content block: spans into the body.
type fblock struct {
	kind      uint8
	isError   bool
	contentOK bool // content decodes as blocks (checked only for tool_result)
	text      sspan
	thinking  sspan
	id        sspan
	name      sspan
	toolUseID sspan
	input     []byte
	src       *anthSource
	in0, in1  int // the content's blocks in a2c.inner
}

// fpart is a text or image block inside a tool_result's content.
type fpart struct {
	kind uint8
	text sspan
	src  *anthSource
}

var (
	anthTopFields   = []string{"messages", "system", "tools"}
	anthSmallFields = []string{"model", "max_tokens", "temperature", "top_p", "top_k", "stop_sequences",
		"stream", "tool_choice", "metadata", "thinking", "output_config", "output_format"}
	anthMsgFields   = []string{"role", "content"}
	anthBlockFields = []string{"type", "text", "thinking", "signature", "data", "source", "id", "name",
		"input", "tool_use_id", "content", "is_error"}
	anthToolFields = []string{"type", "name", "description", "input_schema", "defer_loading"}
)

func (p *a2c) run() (*Result, bool) {
	b := p.b
	p.rest = append(p.rest, '{')
	i := scanMembers(b, skipWS(b, 0), func(key []byte, v int) (int, uint16) {
		switch string(key) {
		case "messages":
			return p.messages(v), 1
		case "system":
			return p.system(v), 2
		case "tools":
			return p.toolList(v), 4
		}
		if foldsToAny(key, anthTopFields) {
			return -1, 0
		}
		i := scanValue(b, v, 1)
		if i >= 0 && foldsToAny(key, anthSmallFields) {
			if len(p.rest) > 1 {
				p.rest = append(p.rest, ',')
			}
			p.rest = append(p.rest, '"')
			p.rest = append(p.rest, key...)
			p.rest = append(p.rest, '"', ':')
			p.rest = append(p.rest, b[v:i]...)
		}
		return i, 0
	})
	if i < 0 || skipWS(b, i) != len(b) {
		return nil, false
	}
	p.rest = append(p.rest, '}')
	var req anthRequest
	if len(p.rest) > 2 && json.Unmarshal(p.rest, &req) != nil {
		return nil, false
	}
	return p.finish(&req), true
}

// finish builds the Result: the same steps as anthropicToChatSlow after
// messages, in the same order.
func (p *a2c) finish(req *anthRequest) *Result {
	opts := p.opts
	res := &Result{Stream: req.Stream, ClientModel: req.Model}
	out := chatRequest{Model: req.Model}
	if opts.Model != "" {
		out.Model = opts.Model
	}
	res.Notes = append(res.Notes, p.notes...)
	if req.MaxTokens != nil {
		if opts.MaxCompletionTokens {
			out.MaxCompletionTokens = req.MaxTokens
		} else {
			out.MaxTokens = req.MaxTokens
		}
	}
	out.Temperature, out.TopP = req.Temperature, req.TopP
	if req.TopK != nil {
		res.note("dropped top_k: not part of the chat API")
	}
	if len(req.StopSequences) > 0 {
		out.Stop = mustJSON(req.StopSequences)
	}
	if req.Stream {
		out.Stream = true
		out.StreamOptions = &chatStreamOpts{IncludeUsage: true}
	}
	res.Notes = append(res.Notes, p.toolNotes...)
	if tc := req.ToolChoice; tc != nil && p.ntools > 0 {
		switch tc.Type {
		case "auto":
			out.ToolChoice = json.RawMessage(`"auto"`)
		case "any":
			out.ToolChoice = json.RawMessage(`"required"`)
		case "none":
			out.ToolChoice = json.RawMessage(`"none"`)
		case "tool":
			out.ToolChoice = mustJSON(map[string]any{"type": "function", "function": map[string]string{"name": tc.Name}})
		}
		if tc.DisableParallelToolUse {
			f := false
			out.ParallelToolCalls = &f
		}
	}
	if req.Metadata != nil {
		out.User = userID(req.Metadata.UserID)
	}
	out.ReasoningEffort = anthropicEffort(req)
	format := req.OutputFormat
	if req.OutputConfig != nil && len(req.OutputConfig.Format) > 0 {
		format = req.OutputConfig.Format
	}
	if rf := anthFormatToChat(format); rf != nil {
		out.ResponseFormat = rf
	}
	tail := []byte("{}")
	if !out.isHeadOnly() {
		tail = chatTail(&out)
	}

	body := make([]byte, 0, 64+len(out.Model)+len(p.sys)+len(p.msgs)+len(p.tools)+len(tail))
	body = append(body, `{"model":`...)
	body = appendString(body, out.Model)
	body = append(body, `,"messages":[`...)
	switch {
	case len(p.sys) > 0:
		body = append(body, p.sys...)
		body = append(body, p.msgs...)
	case len(p.msgs) > 0:
		body = append(body, p.msgs[1:]...)
	}
	body = append(body, ']')
	if p.ntools > 0 {
		body = append(body, `,"tools":[`...)
		body = append(body, p.tools[1:]...)
		body = append(body, ']')
	}
	res.Body = appendChatTail(body, tail)
	return res
}

// isHeadOnly reports whether r has nothing beyond model, messages and
// tools (its chatTail would be "{}").
func (r *chatRequest) isHeadOnly() bool {
	return r.MaxTokens == nil && r.MaxCompletionTokens == nil && r.Temperature == nil && r.TopP == nil &&
		len(r.Stop) == 0 && !r.Stream && r.StreamOptions == nil && len(r.ToolChoice) == 0 &&
		r.ParallelToolCalls == nil && r.User == "" && r.ReasoningEffort == "" && len(r.ResponseFormat) == 0
}

// system translates the top-level "system" value into p.sys.
func (p *a2c) system(v int) int {
	b := p.b
	if v >= len(b) {
		return -1
	}
	var end int
	switch b[v] {
	case 'n':
		return scanLiteral(b, v, "null")
	case '"':
		var s sspan
		if end, s = scanString(b, v); end < 0 {
			return -1
		}
		p.blocks = append(p.blocks[:0], fblock{kind: bkText, text: s})
	case '[':
		if end = p.blockList(v); end < 0 {
			return -1
		}
	default:
		return -1
	}
	p.sys = p.appendSystem(p.sys, false)
	return end
}

// appendSystem appends a system message holding the text blocks of
// p.blocks (billing header dropped) unless that text is empty (joinText).
func (p *a2c) appendSystem(dst []byte, comma bool) []byte {
	n, nonEmpty := 0, false
	for i := range p.blocks {
		bl := &p.blocks[i]
		if bl.kind == bkText && !spanHasPrefix(bl.text, billingHeaderPrefix) {
			n++
			nonEmpty = nonEmpty || len(bl.text.s) > 0
		} else {
			bl.kind = bkOther // skipped below
		}
	}
	if n == 0 || n == 1 && !nonEmpty {
		return dst
	}
	if comma {
		dst = append(dst, ',')
	}
	dst = append(dst, `{"role":"system","content":"`...)
	first := true
	for i := range p.blocks {
		if bl := &p.blocks[i]; bl.kind == bkText {
			if !first {
				dst = append(dst, `\n`...)
			}
			first = false
			dst = appendSpan(dst, bl.text)
		}
	}
	return append(dst, `"}`...)
}

// blockList reads the block array at b[v] into p.blocks (and the contents
// of their tool_results into p.inner).
func (p *a2c) blockList(v int) int {
	p.blocks, p.inner = p.blocks[:0], p.inner[:0]
	return scanElems(p.b, v, func(i int) int {
		bl, i := p.block(i, true)
		if i >= 0 {
			p.blocks = append(p.blocks, bl)
		}
		return i
	})
}

// block reads one content block (null is an empty block, as in
// encoding/json). outer blocks also read "content" as blocks.
func (p *a2c) block(i int, outer bool) (fblock, int) {
	b := p.b
	var bl fblock
	if i < len(b) && b[i] == 'n' {
		return bl, scanLiteral(b, i, "null")
	}
	bl.contentOK = true
	var typ sspan
	i = scanMembers(b, i, func(key []byte, v int) (i int, bit uint16) {
		switch string(key) {
		case "type":
			i, typ = scanStringOrNull(b, v)
			return i, 1
		case "text":
			i, bl.text = scanStringOrNull(b, v)
			return i, 2
		case "thinking":
			i, bl.thinking = scanStringOrNull(b, v)
			return i, 4
		case "signature":
			i, _ = scanStringOrNull(b, v)
			return i, 8
		case "data":
			i, _ = scanStringOrNull(b, v)
			return i, 16
		case "id":
			i, bl.id = scanStringOrNull(b, v)
			return i, 32
		case "name":
			i, bl.name = scanStringOrNull(b, v)
			return i, 64
		case "tool_use_id":
			i, bl.toolUseID = scanStringOrNull(b, v)
			return i, 128
		case "input":
			if i = scanValue(b, v, 2); i >= 0 {
				bl.input = b[v:i]
			}
			return i, 256
		case "content":
			if outer {
				return p.content(v, &bl), 512
			}
			return scanValue(b, v, 2), 512
		case "is_error":
			i, bl.isError = scanBoolOrNull(b, v)
			return i, 1024
		case "source":
			if i = scanValue(b, v, 2); i >= 0 {
				var src *anthSource // its own variable: only images allocate
				if json.Unmarshal(b[v:i], &src) != nil {
					i = -1
				}
				bl.src = src
			}
			return i, 2048
		}
		if foldsToAny(key, anthBlockFields) {
			return -1, 0
		}
		return scanValue(b, v, 2), 0
	})
	if i < 0 {
		return bl, -1
	}
	bl.kind = fblockKind(typ)
	return bl, i
}

func fblockKind(typ sspan) uint8 {
	if !typ.plain && len(typ.s) > 0 {
		typ = sspan{s: []byte(unquoteValid(typ.s)), plain: true}
	}
	switch string(typ.s) {
	case "text":
		return bkText
	case "thinking":
		return bkThinking
	case "tool_use":
		return bkToolUse
	case "tool_result":
		return bkToolResult
	case "image":
		return bkImage
	case "document":
		return bkDocument
	}
	return bkOther
}

// content reads an outer block's "content" as tool_result content (a
// string or blocks) into p.inner; anything else is only validated and
// marks the block's content as not decodable.
func (p *a2c) content(v int, bl *fblock) int {
	b := p.b
	bl.in0 = len(p.inner)
	bl.in1 = bl.in0
	if v >= len(b) {
		return -1
	}
	switch b[v] {
	case '"':
		e, s := scanString(b, v)
		if e >= 0 {
			p.inner = append(p.inner, fpart{kind: bkText, text: s})
			bl.in1 = len(p.inner)
		}
		return e
	case 'n':
		return scanLiteral(b, v, "null")
	case '[':
		i := scanElems(b, v, func(i int) int {
			ib, i := p.block(i, false)
			switch {
			case i < 0:
			case ib.kind == bkText:
				p.inner = append(p.inner, fpart{kind: bkText, text: ib.text})
			case ib.kind == bkImage:
				p.inner = append(p.inner, fpart{kind: bkImage, src: ib.src})
			}
			return i
		})
		if i >= 0 {
			bl.in1 = len(p.inner)
			return i
		}
		p.inner = p.inner[:bl.in0] // not blocks: validate only
	}
	bl.contentOK = false
	return scanValue(b, v, 2)
}

// messages translates the "messages" array into p.msgs.
func (p *a2c) messages(v int) int {
	return scanElemsOrNull(p.b, v, p.message)
}

func (p *a2c) message(i int) int {
	b := p.b
	if i < len(b) && b[i] == 'n' {
		return scanLiteral(b, i, "null") // an empty user turn: nothing
	}
	p.blocks, p.inner = p.blocks[:0], p.inner[:0]
	var role sspan
	i = scanMembers(b, i, func(key []byte, v int) (i int, bit uint16) {
		switch string(key) {
		case "role":
			i, role = scanStringOrNull(b, v)
			return i, 1
		case "content":
			return p.messageContent(v), 2
		}
		if foldsToAny(key, anthMsgFields) {
			return -1, 0
		}
		return scanValue(b, v, 2), 0
	})
	if i < 0 {
		return -1
	}
	switch {
	case role.is("system"):
		p.msgs = p.appendSystem(p.msgs, true)
	case role.is("assistant"):
		p.appendAssistant()
	default:
		if !p.appendUser() {
			return -1
		}
	}
	return i
}

func (p *a2c) messageContent(v int) int {
	b := p.b
	if v >= len(b) {
		return -1
	}
	switch b[v] {
	case 'n':
		return scanLiteral(b, v, "null")
	case '"':
		e, s := scanString(b, v)
		p.blocks = append(p.blocks[:0], fblock{kind: bkText, text: s})
		return e
	case '[':
		return p.blockList(v)
	}
	return -1
}

// appendAssistant is appendAnthAssistant over p.blocks.
func (p *a2c) appendAssistant() {
	hasText, hasThinking, calls := false, false, 0
	for i := range p.blocks {
		switch bl := &p.blocks[i]; bl.kind {
		case bkText:
			hasText = hasText || len(bl.text.s) > 0
		case bkThinking:
			hasThinking = hasThinking || len(bl.thinking.s) > 0
		case bkToolUse:
			calls++
		}
	}
	d := append(p.msgs, `,{"role":"assistant","content":`...)
	switch {
	case hasText:
		d = append(d, '"')
		for i := range p.blocks {
			if bl := &p.blocks[i]; bl.kind == bkText {
				d = appendSpan(d, bl.text)
			}
		}
		d = append(d, '"')
	case calls > 0:
		d = append(d, "null"...)
	default:
		d = append(d, `""`...)
	}
	if p.opts.ReasoningInHistory && hasThinking {
		d = append(d, `,"reasoning_content":"`...)
		for i := range p.blocks {
			if bl := &p.blocks[i]; bl.kind == bkThinking {
				d = appendSpan(d, bl.thinking)
			}
		}
		d = append(d, '"')
	}
	if calls > 0 {
		d = append(d, `,"tool_calls":[`...)
		first := true
		for i := range p.blocks {
			bl := &p.blocks[i]
			if bl.kind != bkToolUse {
				continue
			}
			if !first {
				d = append(d, ',')
			}
			first = false
			d = append(d, `{"id":`...)
			d = appendQSpan(d, bl.id)
			d = append(d, `,"type":"function","function":{"name":`...)
			d = appendQSpan(d, bl.name)
			d = append(d, `,"arguments":`...)
			if args := bl.input; len(args) == 0 || isNull(args) {
				d = append(d, `"{}"`...)
			} else {
				d = appendStringBytes(d, args)
			}
			d = append(d, "}}"...)
		}
		d = append(d, ']')
	}
	p.msgs = append(d, '}')
}

// appendUser is appendAnthUser over p.blocks: tool results first, as
// role:"tool" messages in order, then one user message with the text
// (and images). It reports false where appendAnthUser fails.
func (p *a2c) appendUser() bool {
	d := p.msgs
	parts, hasImage := 0, false
	for i := range p.blocks {
		bl := &p.blocks[i]
		switch bl.kind {
		case bkText:
			parts++
		case bkImage:
			if imageOK(bl.src) {
				parts++
				hasImage = true
			}
		case bkDocument:
			p.notes = append(p.notes, "dropped document block: not supported by a chat upstream")
		case bkToolResult:
			if !bl.contentOK {
				return false
			}
			d = append(d, `,{"role":"tool","content":"`...)
			if bl.isError {
				d = append(d, "Error: "...)
			}
			first := true
			for _, ip := range p.inner[bl.in0:bl.in1] {
				switch ip.kind {
				case bkText:
					if !first {
						d = append(d, `\n`...)
					}
					first = false
					d = appendSpan(d, ip.text)
				case bkImage:
					if imageOK(ip.src) {
						parts++
						hasImage = true
					}
				}
			}
			d = append(d, '"')
			if len(bl.toolUseID.s) > 0 {
				d = append(d, `,"tool_call_id":`...)
				d = appendQSpan(d, bl.toolUseID)
			}
			d = append(d, '}')
		}
	}
	if parts > 0 {
		d = append(d, `,{"role":"user","content":`...)
		if hasImage {
			d = append(d, mustJSON(p.userParts())...)
		} else {
			d = append(d, '"')
			first := true
			for i := range p.blocks {
				if bl := &p.blocks[i]; bl.kind == bkText {
					if !first {
						d = append(d, `\n`...)
					}
					first = false
					d = appendSpan(d, bl.text)
				}
			}
			d = append(d, '"')
		}
		d = append(d, '}')
	}
	p.msgs = d
	return true
}

// userParts builds the content parts of a user turn with images, in
// appendAnthUser's order.
func (p *a2c) userParts() []chatPart {
	var parts []chatPart
	for i := range p.blocks {
		bl := &p.blocks[i]
		switch bl.kind {
		case bkText:
			parts = append(parts, chatPart{Type: "text", Text: bl.text.str()})
		case bkImage:
			if ip, ok := imagePart(bl.src); ok {
				parts = append(parts, ip)
			}
		case bkToolResult:
			for _, in := range p.inner[bl.in0:bl.in1] {
				if in.kind != bkImage {
					continue
				}
				if ip, ok := imagePart(in.src); ok {
					parts = append(parts, ip)
				}
			}
		}
	}
	return parts
}

func imageOK(src *anthSource) bool {
	return src != nil && (src.Type == "base64" || src.Type == "url")
}

// appendStringBytes is appendString for bytes.
func appendStringBytes(dst, s []byte) []byte {
	dst = append(dst, '"')
	dst = appendStringInner(dst, bytesString(s))
	return append(dst, '"')
}

// toolList translates "tools" into p.tools (and p.toolNotes).
func (p *a2c) toolList(v int) int {
	return scanElemsOrNull(p.b, v, p.tool)
}

func (p *a2c) tool(i int) int {
	b := p.b
	var typ, name, desc sspan
	var schema []byte
	var deferLoading bool
	i = scanMembers(b, i, func(key []byte, v int) (i int, bit uint16) { // null tools take the slow path
		switch string(key) {
		case "type":
			i, typ = scanStringOrNull(b, v)
			return i, 1
		case "name":
			i, name = scanStringOrNull(b, v)
			return i, 2
		case "description":
			i, desc = scanStringOrNull(b, v)
			return i, 4
		case "input_schema":
			if i = scanValue(b, v, 3); i >= 0 {
				schema = b[v:i]
			}
			return i, 8
		case "defer_loading":
			i, deferLoading = scanBoolOrNull(b, v)
			return i, 16
		}
		if foldsToAny(key, anthToolFields) {
			return -1, 0
		}
		return scanValue(b, v, 3), 0
	})
	if i < 0 {
		return -1
	}
	switch {
	case len(typ.s) > 0 && !typ.is("custom"):
		p.toolNotes = append(p.toolNotes, "dropped tool "+name.str()+" (type "+typ.str()+"): server tools are not supported by a chat upstream")
		return i
	case deferLoading:
		p.toolNotes = append(p.toolNotes, "dropped tool "+name.str()+": defer_loading tools are not offered to a chat upstream")
		return i
	}
	d := append(p.tools, `,{"type":"function","function":{"name":`...)
	d = appendQSpan(d, name)
	if len(desc.s) > 0 {
		d = append(d, `,"description":`...)
		d = appendQSpan(d, desc)
	}
	d = append(d, `,"parameters":`...)
	if len(schema) == 0 || isNull(schema) {
		d = append(d, `{"type":"object","properties":{}}`...)
	} else {
		d = append(d, schema...)
	}
	p.tools = append(d, "}}"...)
	p.ntools++
	return i
}
