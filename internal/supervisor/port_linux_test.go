//go:build linux

package supervisor

import (
	"net"
	"testing"
)

func TestParseProcAddrDecodesIPv4AndIPv6(t *testing.T) {
	ip, port, ok := parseProcAddr("0100007F:0FA0")
	if !ok || !ip.Equal(net.ParseIP("127.0.0.1")) || port != 4000 {
		t.Errorf("v4 = %v %d %v", ip, port, ok)
	}
	ip, port, ok = parseProcAddr("00000000000000000000000001000000:206D")
	if !ok || !ip.Equal(net.ParseIP("::1")) || port != 8301 {
		t.Errorf("v6 = %v %d %v", ip, port, ok)
	}
}
