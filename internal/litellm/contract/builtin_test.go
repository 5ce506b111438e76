package contract_test

import (
	"context"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/flowgate/flowgate/internal/gateway"
	"github.com/flowgate/flowgate/internal/litellm/contract"
)

// TestContractAgainstBuiltinEngine runs the engine contract against
// FlowGate's own gateway, served on a real loopback listener from the same
// document LiteLLM gets.
func TestContractAgainstBuiltinEngine(t *testing.T) {
	contract.Run(t, contract.Engine{Name: "builtin", Start: startBuiltin})
}

func startBuiltin(t *testing.T, up *contract.Upstream, doc map[string]any) (string, string) {
	t.Helper()
	gs, _ := doc["general_settings"].(map[string]any)
	if gs == nil {
		gs = map[string]any{}
		doc["general_settings"] = gs
	}
	if _, ok := gs["master_key"]; !ok {
		if _, ok := gs["master_key_ref"]; !ok {
			gs["master_key"] = contract.GatewayKey
		}
	}
	resolve := func(name string) (string, error) {
		if name == contract.CredName {
			return contract.UpstreamKey, nil
		}
		if name == "gateway_key" || name == "master_key" {
			return contract.GatewayKey, nil
		}
		return "", fmt.Errorf("unknown credential %q", name)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := gateway.New(gateway.Options{Addr: ln.Addr().String(), Doc: doc, Profile: "contract", ResolveRef: resolve})
	if err != nil {
		ln.Close()
		t.Fatalf("builtin gateway rejects the contract document: %v", err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	return "http://" + ln.Addr().String(), contract.GatewayKey
}
