package translate

import (
	"encoding/json"
	"strconv"
)

// decodeChunkFast decodes a chat stream chunk of the usual shape into c
// (which must be zero) exactly as json.Unmarshal would, in one validating
// pass without reflection. It reports false for anything else (an "error"
// member, duplicate or case-folded keys, escaped keys, odd kinds or
// numbers, invalid JSON); c must then be reset and decoded by
// encoding/json.
func decodeChunkFast(data []byte, c *chatResponse) bool {
	b := data
	i, empty := scanObjectStart(b, skipWS(b, 0))
	if i < 0 {
		return false
	}
	var seen uint8
	for !empty {
		key, v := scanKey(b, i)
		if v < 0 {
			return false
		}
		var bit uint8
		switch string(key) {
		case "id":
			bit = 1
			var s sspan
			i, s = scanStringOrNull(b, v)
			c.ID = s.str()
		case "model":
			bit = 2
			var s sspan
			i, s = scanStringOrNull(b, v)
			c.Model = s.str()
		case "created":
			bit = 4
			var n int64
			i, n = scanInt(b, v)
			c.Created = n
		case "choices":
			bit = 8
			i = scanSlice(b, v, &c.Choices, scanChoice)
		case "usage":
			bit = 16
			if i = scanValue(b, v, 1); i >= 0 && json.Unmarshal(b[v:i], &c.Usage) != nil {
				i = -1
			}
		default:
			if foldsToAny(key, chunkFields) {
				return false // also "error": decodeChunk reports it
			}
			i = scanValue(b, v, 1)
		}
		if i < 0 || seen&bit != 0 {
			return false
		}
		seen |= bit
		if i, empty = scanNext(b, i, '}'); i < 0 {
			return false
		}
		empty = !empty
	}
	return skipWS(b, i) == len(b)
}

var (
	chunkFields    = []string{"id", "model", "created", "choices", "usage", "error"}
	choiceFields   = []string{"index", "message", "delta", "finish_reason", "stop_reason", "matched_stop"}
	respMsgFields  = []string{"role", "content", "reasoning_content", "reasoning", "reasoning_signature", "signature", "reasoning_details", "refusal", "tool_calls", "function_call"}
	toolCallFields = []string{"index", "id", "type", "function"}
	functionFields = []string{"name", "arguments"}
)

// scanInt reads a JSON integer for an int field (null leaves it 0);
// fractions, exponents and very long numbers are refused.
func scanInt(b []byte, i int) (int, int64) {
	if i < len(b) && b[i] == 'n' {
		return scanLiteral(b, i, "null"), 0
	}
	e := scanNumber(b, i)
	if e < 0 || e-i > 18 {
		return -1, 0
	}
	n, err := strconv.ParseInt(bytesString(b[i:e]), 10, 64)
	if err != nil {
		return -1, 0
	}
	return e, n
}

// scanStringPtr reads a *string field: null is nil.
func scanStringPtr(b []byte, i int) (int, *string) {
	e, s := scanStringOrNull(b, i)
	if e < 0 || b[i] == 'n' {
		return e, nil
	}
	v := s.str()
	return e, &v
}

// The object loops below are written out rather than run through
// scanMembers: a chunk is decoded per stream event, and the callback's
// indirect call per member costs about 10% of decodeChunkFast.

func scanChoice(b []byte, i int, ch *chatChoice) int {
	i, empty := scanObjectStart(b, i)
	if i < 0 {
		return -1
	}
	var seen uint8
	for !empty {
		key, v := scanKey(b, i)
		if v < 0 {
			return -1
		}
		var bit uint8
		switch string(key) {
		case "index":
			bit = 1
			var n int64
			i, n = scanInt(b, v)
			ch.Index = int(n)
		case "delta":
			bit = 2
			i, ch.Delta = scanRespMsg(b, v)
		case "message":
			bit = 4
			i, ch.Message = scanRespMsg(b, v)
		case "finish_reason":
			bit = 8
			var s sspan
			i, s = scanStringOrNull(b, v)
			ch.FinishReason = s.str()
		case "stop_reason":
			bit = 16
			i, ch.StopReason = scanRaw(b, v, 3)
		case "matched_stop":
			bit = 32
			i, ch.MatchedStop = scanRaw(b, v, 3)
		default:
			if foldsToAny(key, choiceFields) {
				return -1
			}
			i = scanValue(b, v, 3)
		}
		if i < 0 || seen&bit != 0 {
			return -1
		}
		seen |= bit
		if i, empty = scanNext(b, i, '}'); i < 0 {
			return -1
		}
		empty = !empty
	}
	return i
}

// scanRaw reads a json.RawMessage field (a copy, as encoding/json makes).
func scanRaw(b []byte, v, depth int) (int, json.RawMessage) {
	i := scanValue(b, v, depth)
	if i < 0 {
		return -1, nil
	}
	return i, append(json.RawMessage(nil), b[v:i]...)
}

func scanRespMsg(b []byte, i int) (int, *chatRespMsg) {
	if i < len(b) && b[i] == 'n' {
		return scanLiteral(b, i, "null"), nil
	}
	i, empty := scanObjectStart(b, i)
	if i < 0 {
		return -1, nil
	}
	m := new(chatRespMsg)
	var seen uint16
	for !empty {
		key, v := scanKey(b, i)
		if v < 0 {
			return -1, nil
		}
		var bit uint16
		switch string(key) {
		case "role":
			bit = 1
			var s sspan
			i, s = scanStringOrNull(b, v)
			m.Role = s.str()
		case "content":
			bit = 2
			i, m.Content = scanStringPtr(b, v)
		case "reasoning_content":
			bit = 4
			i, m.ReasoningContent = scanStringPtr(b, v)
		case "reasoning":
			bit = 8
			i, m.Reasoning = scanStringPtr(b, v)
		case "reasoning_signature":
			bit = 16
			i, m.ReasoningSignature = scanStringPtr(b, v)
		case "signature":
			bit = 32
			i, m.Signature = scanStringPtr(b, v)
		case "refusal":
			bit = 64
			i, m.Refusal = scanStringPtr(b, v)
		case "tool_calls":
			bit = 128
			i = scanSlice(b, v, &m.ToolCalls, scanToolCall)
		case "reasoning_details":
			bit = 256
			if i = scanValue(b, v, 4); i >= 0 && json.Unmarshal(b[v:i], &m.ReasoningDetails) != nil {
				i = -1
			}
		case "function_call":
			bit = 512
			if i = scanValue(b, v, 4); i >= 0 && json.Unmarshal(b[v:i], &m.FunctionCall) != nil {
				i = -1
			}
		default:
			if foldsToAny(key, respMsgFields) {
				return -1, nil
			}
			i = scanValue(b, v, 4)
		}
		if i < 0 || seen&bit != 0 {
			return -1, nil
		}
		seen |= bit
		if i, empty = scanNext(b, i, '}'); i < 0 {
			return -1, nil
		}
		empty = !empty
	}
	return i, m
}

func scanToolCall(b []byte, i int, tc *chatToolCall) int {
	i, empty := scanObjectStart(b, i)
	if i < 0 {
		return -1
	}
	var seen uint8
	for !empty {
		key, v := scanKey(b, i)
		if v < 0 {
			return -1
		}
		var bit uint8
		switch string(key) {
		case "index":
			bit = 1
			var n int64
			if i, n = scanInt(b, v); i >= 0 && b[v] != 'n' {
				k := int(n)
				tc.Index = &k
			}
		case "id":
			bit = 2
			var s sspan
			i, s = scanStringOrNull(b, v)
			tc.ID = s.str()
		case "type":
			bit = 4
			var s sspan
			i, s = scanStringOrNull(b, v)
			tc.Type = s.str()
		case "function":
			bit = 8
			i = scanFunction(b, v, &tc.Function)
		default:
			if foldsToAny(key, toolCallFields) {
				return -1
			}
			i = scanValue(b, v, 6)
		}
		if i < 0 || seen&bit != 0 {
			return -1
		}
		seen |= bit
		if i, empty = scanNext(b, i, '}'); i < 0 {
			return -1
		}
		empty = !empty
	}
	return i
}

func scanFunction(b []byte, i int, f *chatFunction) int {
	if i < len(b) && b[i] == 'n' {
		return scanLiteral(b, i, "null")
	}
	i, empty := scanObjectStart(b, i)
	if i < 0 {
		return -1
	}
	var seen uint8
	for !empty {
		key, v := scanKey(b, i)
		if v < 0 {
			return -1
		}
		var bit uint8
		var s sspan
		switch string(key) {
		case "name":
			bit = 1
			i, s = scanStringOrNull(b, v)
			f.Name = s.str()
		case "arguments":
			bit = 2
			i, s = scanStringOrNull(b, v)
			f.Arguments = s.str()
		default:
			if foldsToAny(key, functionFields) {
				return -1
			}
			i = scanValue(b, v, 7)
		}
		if i < 0 || seen&bit != 0 {
			return -1
		}
		seen |= bit
		if i, empty = scanNext(b, i, '}'); i < 0 {
			return -1
		}
		empty = !empty
	}
	return i
}
