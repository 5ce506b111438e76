package requestlog

import (
	"path/filepath"
	"strconv"
	"testing"
)

// BenchmarkWriteBatch is the writer's cost per row, in batches of 512.
func BenchmarkWriteBatch(b *testing.B) {
	db, err := openDB(filepath.Join(b.TempDir(), FileName), true)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	batch := make([]item, 512)
	b.ReportAllocs()
	for i := 0; i < b.N; i += len(batch) {
		for j := range batch {
			batch[j].rec = rec(strconv.Itoa(i+j), "coder", 200, Tokens{Input: 10, Output: 5}, 0.1)
		}
		if err := writeBatch(db, batch); err != nil {
			b.Fatal(err)
		}
	}
}
