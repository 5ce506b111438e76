package gateway

import (
	"net/http"
	"strings"

	"github.com/tidwall/gjson"

	"github.com/flowgate/flowgate/internal/jsonscan"
)

// A request's agent session, read once per request: the request log
// records it and session affinity keeps the session on one deployment.
//
// Where the clients put it:
//   - Claude Code: the X-Claude-Code-Session-Id header, and in the body
//     metadata.user_id, a JSON string {"device_id", "account_uuid",
//     "session_id"} (older versions: user_<hash>_account_<uuid>_session_<uuid>);
//   - Codex: the session-id (Responses) or session_id (Chat) header, and
//     prompt_cache_key in the body;
//   - others: X-Session-Id, conversation_id, or an API user's own
//     prompt_cache_key or metadata.user_id.

// sessionHeaders carry a client's session: Claude Code's, Codex's
// session_id / session-id and conversation_id, and a generic one.
var sessionHeaders = []string{"X-Claude-Code-Session-Id", "Session_id", "Session-Id", "X-Session-Id", "Conversation_id"}

// requestSession is the session id of a request ("" for none), capped to
// maxSessionID bytes. info is the body's scan (jsonscan.ScanBody).
func requestSession(r *http.Request, info *jsonscan.BodyInfo) string {
	for _, h := range sessionHeaders {
		if v := r.Header[h]; len(v) > 0 && v[0] != "" {
			return capString(v[0], maxSessionID)
		}
	}
	if len(info.CacheKey) > 0 {
		if k := gjson.ParseBytes(info.CacheKey).String(); k != "" {
			return capString(k, maxSessionID)
		}
	}
	if len(info.Metadata) > 0 {
		if uid := gjson.GetBytes(info.Metadata, "user_id").String(); uid != "" {
			return capString(userSession(uid), maxSessionID)
		}
	}
	return ""
}

// userSession is the session part of an Anthropic metadata.user_id, or
// the whole value when it has none (an API user's own user id).
func userSession(uid string) string {
	if strings.HasPrefix(uid, "{") {
		if sid := gjson.Get(uid, "session_id").String(); sid != "" {
			return sid
		}
		return uid
	}
	if _, sid, ok := strings.Cut(uid, "_session_"); ok && sid != "" {
		return sid
	}
	return uid
}
