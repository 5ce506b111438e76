package supervisor

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestResultPrintsOneLineAndStableJSON(t *testing.T) {
	for _, tc := range []struct {
		r    Result
		want string
	}{
		{Result{Service: "gateway", Action: ActionStart, Result: ResultStarted, Pid: 123, ReadyIn: 41 * time.Millisecond}, "gateway: started pid=123 ready in 41ms"},
		{Result{Service: "gateway", Action: ActionStart, Result: ResultAlreadyRunning, Pid: 123}, "gateway: already running pid=123"},
		{Result{Service: "gateway", Action: ActionStop, Result: ResultStopped, Pid: 123}, "gateway: stopped pid=123"},
		{Result{Service: "gateway", Action: ActionStop, Result: ResultNotRunning}, "gateway: not running"},
		{Result{Service: "litellm", Action: ActionStart, Result: ResultFailed, Error: "boom; do x"}, "litellm: start failed: boom; do x"},
	} {
		if got := tc.r.String(); got != tc.want {
			t.Errorf("String() = %q, want %q", got, tc.want)
		}
	}
	r := Result{Service: "gateway", Action: ActionStart, Result: ResultFailed, Pid: 7, ReadyIn: 1500 * time.Microsecond, Error: "e", LogTail: []string{"a"}}
	data, _ := json.Marshal(r)
	if want := `{"service":"gateway","action":"start","result":"failed","pid":7,"ready_in_ms":1.5,"error":"e","log_tail":["a"]}`; string(data) != want {
		t.Errorf("json = %s\nwant   %s", data, want)
	}
	var back Result
	if err := json.Unmarshal(data, &back); err != nil || back.ReadyIn != r.ReadyIn || back.Error != "e" {
		t.Errorf("round trip = %+v, %v", back, err)
	}
	if r.OK() || !(Result{Result: ResultStale}).OK() || AllOK([]Result{{Result: ResultStarted}, r}) {
		t.Error("OK misclassifies")
	}
}

func TestStartOfMissingBinaryOrCwdFailsWithNextStep(t *testing.T) {
	sup, rec := newSupervisor(t)
	missing := Spec{Name: "cliproxyapi_plus", Args: []string{filepath.Join(t.TempDir(), "bin", "CLIProxyAPIPlus")}}
	res := sup.Start(context.Background(), missing)
	if res.Result != ResultFailed || !strings.Contains(res.Error, "flowgate bootstrap download") {
		t.Errorf("missing binary = %+v", res)
	}
	noCwd := helperSpec(t, "gateway", "sleep", 0)
	noCwd.Cwd = filepath.Join(t.TempDir(), "nope")
	res = sup.Start(context.Background(), noCwd)
	if res.Result != ResultFailed || !strings.Contains(res.Error, "services.gateway.command.cwd") {
		t.Errorf("missing cwd = %+v", res)
	}
	bad := Spec{Name: "../x", Args: []string{"true"}}
	if res := sup.Start(context.Background(), bad); res.Result != ResultFailed {
		t.Errorf("bad name = %+v", res)
	}
	for _, name := range []string{"cliproxyapi_plus", "gateway"} {
		if _, err := os.Stat(sup.PidPath(name)); !os.IsNotExist(err) {
			t.Errorf("%s: pid file after failed spawn: %v", name, err)
		}
	}
	if evs := rec.list(); len(evs) != 3 || evs[0].Event != "service_start" || evs[0].Result != "failed" {
		t.Errorf("events = %+v", evs)
	}
}
