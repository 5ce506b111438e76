package config

import (
	"strings"
	"testing"
)

func TestUIPortDefaultsToTheGatewayPortPlusOneAndCanBeSetOrTurnedOff(t *testing.T) {
	for _, tc := range []struct {
		gateway string
		want    int
	}{
		{"{}", 4001},
		{"{port: 4100}", 4101},
		{"{port: 4100, ui_port: 9000}", 9000},
		{"{ui_port: off}", 0},
		{"{ui_port: false}", 0},
	} {
		cfg, err := Load(writeConfig(t, "config_version: 2\nservices:\n  gateway: "+tc.gateway+"\n"+minimalTail))
		if err != nil {
			t.Fatalf("%s: %v", tc.gateway, err)
		}
		if got := cfg.Services[ServiceGateway].UIPort; got != tc.want {
			t.Errorf("services.gateway %s: UIPort = %d, want %d", tc.gateway, got, tc.want)
		}
	}
}

func TestUIPortProblemsNameTheField(t *testing.T) {
	for _, tc := range []struct {
		services, path, says string
	}{
		{"gateway: {ui_port: 70000}", "services.gateway.ui_port", "or off"},
		{"gateway: {ui_port: soon}", "services.gateway.ui_port", "from 1 to 65535"},
		{"gateway: {port: 4000, ui_port: 4000}", "services.gateway.ui_port", "the gateway's own port"},
		{"gateway: {port: 8316}", "services.gateway.ui_port", "services.cliproxyapi_plus.port"},
		{"gateway: {port: 65535}", "services.gateway.ui_port", "past 65535"},
		{"cliproxyapi_plus: {ui_port: 5000}", "services.cliproxyapi_plus.ui_port", "only services.gateway"},
	} {
		problems := loadProblems(t, "config_version: 2\nservices:\n  "+tc.services+"\n"+minimalTail)
		found := false
		for _, p := range problems {
			if p.Path == tc.path && strings.Contains(p.Message, tc.says) {
				found = true
			}
		}
		if !found {
			t.Errorf("services %s: want a problem at %s saying %q; got %v", tc.services, tc.path, tc.says, problems)
		}
	}
}
