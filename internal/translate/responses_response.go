package translate

// ChatResponseToResponses converts a Chat Completions answer into a
// Responses "response" object reporting model alias: items reasoning,
// message, one function_call per tool call; finish_reason length makes it
// "incomplete". tools (the request's Result.Tools, or nil) restores
// namespaced names.
func ChatResponseToResponses(body []byte, alias string, tools *ToolNames) ([]byte, error) {
	r, ch, err := decodeChatResponse(body)
	if err != nil {
		return nil, err
	}
	id := convertID(r.ID, "resp_", "chatcmpl-")
	m := ch.Message
	var items []*rItem
	add := func(kind blockKind, prefix string) *rItem {
		it := &rItem{kind: kind, id: itemID(prefix, id, len(items)), index: len(items), done: true}
		items = append(items, it)
		return it
	}
	if text, sig := m.reasoning(); text != "" || sig != "" {
		it := add(blockThinking, "rs_")
		it.text.WriteString(text)
		it.sig = sig
	}
	if text := m.text(); text != "" {
		add(blockText, "msg_").text.WriteString(text)
	}
	calls := m.calls()
	for _, tc := range calls {
		it := add(blockTool, "fc_")
		it.callID, it.ref = idOr(tc.ID, "call_"), tools.Client(tc.Function.Name)
		it.text.WriteString(tc.Function.Arguments)
	}
	status, reason := respStatusOf(string(ch.FinishReason))
	return marshal(newRespObject(id, alias, unixOr(r.Created), status, reason, nil, items, r.Usage))
}
