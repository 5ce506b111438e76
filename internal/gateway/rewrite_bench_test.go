package gateway

import (
	"testing"
)

// BenchmarkRewriteFrameModel is the per-frame cost of naming the alias in a
// passthrough stream, so clients see the name they asked for: a chat chunk (model at the top level, rewritten)
// and an Anthropic delta (no model: one substring search, untouched).
func BenchmarkRewriteFrameModel(b *testing.B) {
	chat := []byte("data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"up-model\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"PONG PONG PONG\"},\"finish_reason\":null}]}\n\n")
	delta := []byte("event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"PONG PONG PONG\"}}\n\n")
	alias := []byte(`"coder"`)
	dst := make([]byte, 0, 4096)
	b.Run("chat-chunk", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(chat)))
		for b.Loop() {
			dst = rewriteFrameModel(dst[:0], chat, alias, "")
		}
	})
	b.Run("anthropic-delta", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(delta)))
		for b.Loop() {
			_ = rewriteFrameModel(dst[:0], delta, alias, "message")
		}
	})
}
