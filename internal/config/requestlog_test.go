package config

import (
	"testing"
	"time"
)

const minimalTail = `
litellm_base:
  model_list:
    - model_name: router-default
      litellm_params: {model: openai/gpt-4o, api_base: "http://127.0.0.1:9/v1"}
profiles:
  balanced: {}
`

func TestRequestLogAndCaptureDefaultsAndSettings(t *testing.T) {
	cfg, err := Load(writeConfig(t, "config_version: 2\nservices: {}\n"+minimalTail))
	if err != nil {
		t.Fatal(err)
	}
	gw := cfg.Services[ServiceGateway]
	if gw.RequestLog.Off || gw.Capture.Enabled {
		t.Fatalf("default: request log on, capture off; got %+v %+v", gw.RequestLog, gw.Capture)
	}
	cfg, err = Load(writeConfig(t, `config_version: 2
services:
  gateway:
    request_log: {max_age: 48h, max_size_mb: 10}
    capture: {max_body_kb: 8, max_age: 2h}
`+minimalTail))
	if err != nil {
		t.Fatal(err)
	}
	gw = cfg.Services[ServiceGateway]
	if gw.RequestLog.Off || gw.RequestLog.MaxAge != 48*time.Hour || gw.RequestLog.MaxSizeMB != 10 {
		t.Errorf("request_log = %+v", gw.RequestLog)
	}
	if !gw.Capture.Enabled || gw.Capture.MaxBodyKB != 8 || gw.Capture.MaxAge != 2*time.Hour {
		t.Errorf("capture = %+v", gw.Capture)
	}
	cfg, err = Load(writeConfig(t, "config_version: 2\nservices:\n  gateway: {request_log: false, capture: true}\n"+minimalTail))
	if err != nil {
		t.Fatal(err)
	}
	if gw = cfg.Services[ServiceGateway]; !gw.RequestLog.Off || !gw.Capture.Enabled {
		t.Errorf("request_log: false and capture: true: got %+v %+v", gw.RequestLog, gw.Capture)
	}
}

func TestRequestLogAndCaptureProblemsNameTheirField(t *testing.T) {
	problems := loadProblems(t, `config_version: 2
services:
  gateway:
    request_log: {max_age: soon, max_size_mb: 0, colour: red}
    capture: {max_body_kb: lots}
  cliproxyapi_plus:
    capture: true
`+minimalTail)
	got := map[string]bool{}
	for _, p := range problems {
		got[p.Path] = true
	}
	for _, want := range []string{
		"services.gateway.request_log.max_age", "services.gateway.request_log.max_size_mb",
		"services.gateway.request_log.colour", "services.gateway.capture.max_body_kb",
		"services.cliproxyapi_plus.capture",
	} {
		if !got[want] {
			t.Errorf("missing problem for %s; got %v", want, problems)
		}
	}
}
