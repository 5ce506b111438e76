package release

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"strings"
)

// checksumsAsset is the file goreleaser publishes next to the archives.
const checksumsAsset = "checksums.txt"

// parseChecksums reads goreleaser's "<sha256 hex>  <file name>" lines (also
// the "*<file name>" binary-mode form of sha256sum) into name -> lower-case
// hex digest. Lines that do not have that shape are skipped.
func parseChecksums(data []byte) map[string]string {
	sums := make(map[string]string)
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) != 2 {
			continue
		}
		sum := strings.ToLower(fields[0])
		if len(sum) != 64 {
			continue
		}
		if _, err := hex.DecodeString(sum); err != nil {
			continue
		}
		sums[strings.TrimPrefix(fields[1], "*")] = sum
	}
	return sums
}
