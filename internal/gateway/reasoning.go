package gateway

import (
	"strconv"

	"github.com/flowgate/flowgate/internal/jsonscan"
	"github.com/flowgate/flowgate/internal/router"
	"github.com/flowgate/flowgate/internal/upstream"
)

// hdrReasoning says what an attempt's body lost of the client's reasoning
// state because its deployment could not verify it (see reasoningFor):
// "dropped=2 from=<origin deployment> to=<deployment>", with
// "; thinking=disabled" appended when thinking was turned off. Absent when
// nothing was removed.
const hdrReasoning = "X-Flowgate-Reasoning"

// reasoningFor is the body and scan to pass through to at's deployment:
// the client's own, or a copy without the signed thinking or encrypted
// reasoning that deployment would reject (messagesReasoning,
// responsesReasoning). It records what was removed for the
// response header and the request log. A body without reasoning state
// costs a substring search.
func (x *exchange) reasoningFor(at *router.Attempt) ([]byte, jsonscan.BodyInfo) {
	foreign := !sameReasoningProvider(at.Origin, at.Deployment)
	var (
		body []byte
		ch   reasoningChange
	)
	switch x.proto {
	case upstream.Messages:
		body, ch = messagesReasoning(x.body, foreign)
	case upstream.Responses:
		body, ch = responsesReasoning(x.body, foreign)
	}
	if ch.Dropped == 0 {
		return x.body, x.info
	}
	info, err := jsonscan.ScanBody(body)
	if err != nil { // cannot happen: only whole values were removed
		return x.body, x.info
	}
	s := "dropped=" + strconv.Itoa(ch.Dropped) + " from=" + at.Origin.ID + " to=" + at.Deployment.ID
	if ch.ThinkingDisabled {
		s += "; thinking=disabled"
	}
	x.reasoning = s
	return body, info
}

// sameReasoningProvider reports whether reasoning state made by origin can
// be verified by d: same upstream kind and api_base, or both Anthropic
// (its signatures hold across Anthropic platforms). An unknown origin
// counts as the same.
func sameReasoningProvider(origin, d *router.Deployment) bool {
	if origin == nil || origin == d {
		return true
	}
	a, b := origin.Target, d.Target
	return a.Kind == b.Kind && (a.Kind == upstream.KindAnthropic || a.Base == b.Base)
}
