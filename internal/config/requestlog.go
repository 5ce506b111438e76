package config

import (
	"strings"
	"time"
)

// RequestLog is services.gateway.request_log: `false` turns it off, or a
// mapping. The builtin gateway records every request in
// <runtime_dir>/requests.db (see `flowgate requests` and `flowgate usage`).
type RequestLog struct {
	// Off turns the request log off (request_log: false). Default: on.
	Off bool
	// MaxAge: rows older than this are deleted. Default: 720h (30 days).
	MaxAge time.Duration
	// MaxSizeMB bounds the data kept, oldest rows deleted first. Default: 256.
	MaxSizeMB int
}

// Capture is services.gateway.capture: `true`, or a mapping. It keeps the
// request and response bodies of recent requests, secrets redacted, for
// `flowgate requests show ID` and `flowgate requests replay ID`.
type Capture struct {
	// Enabled turns capture on. Default: false (off).
	Enabled bool
	// MaxBodyKB cuts each captured body. Default: 256.
	MaxBodyKB int
	// MaxAge: captures older than this are deleted. Default: 24h.
	MaxAge time.Duration
}

// buildRequestLog reads services.gateway.request_log.
func buildRequestLog(c *collector, base string, v any) RequestLog {
	var r RequestLog
	switch val := v.(type) {
	case bool:
		r.Off = !val
		return r
	case map[string]any:
		for _, k := range sortedKeys(val) {
			switch k {
			case "enabled":
				b, ok := val[k].(bool)
				if !ok {
					c.add(join(base, k), "must be true or false, got %v", val[k])
				}
				r.Off = ok && !b
			case "max_age":
				d, err := parseDuration(val[k])
				if err != nil {
					c.add(join(base, k), "%v", err)
				}
				r.MaxAge = d
			case "max_size_mb":
				n, ok := asInt(val[k])
				if !ok || n < 1 {
					c.add(join(base, k), "must be a whole number of megabytes, at least 1; got %v", val[k])
				}
				r.MaxSizeMB = int(n)
			default:
				if !strings.HasPrefix(k, "_comment") {
					c.add(join(base, k), "unknown key; known keys are enabled, max_age, max_size_mb")
				}
			}
		}
		return r
	}
	c.add(base, "must be true, false or a mapping with enabled, max_age, max_size_mb; got %s", typeName(v))
	return r
}

// buildCapture reads services.gateway.capture.
func buildCapture(c *collector, base string, v any) Capture {
	var r Capture
	switch val := v.(type) {
	case bool:
		r.Enabled = val
		return r
	case map[string]any:
		r.Enabled = true
		for _, k := range sortedKeys(val) {
			switch k {
			case "enabled":
				b, ok := val[k].(bool)
				if !ok {
					c.add(join(base, k), "must be true or false, got %v", val[k])
				}
				r.Enabled = b
			case "max_age":
				d, err := parseDuration(val[k])
				if err != nil {
					c.add(join(base, k), "%v", err)
				}
				r.MaxAge = d
			case "max_body_kb":
				n, ok := asInt(val[k])
				if !ok || n < 1 || n > 16<<10 {
					c.add(join(base, k), "must be a whole number of kilobytes from 1 to 16384; got %v", val[k])
				}
				r.MaxBodyKB = int(n)
			default:
				if !strings.HasPrefix(k, "_comment") {
					c.add(join(base, k), "unknown key; known keys are enabled, max_age, max_body_kb")
				}
			}
		}
		return r
	}
	c.add(base, "must be true, false or a mapping with enabled, max_age, max_body_kb; got %s", typeName(v))
	return r
}

func gatewayOnly(c *collector, name, base, key string) bool {
	if name != ServiceGateway {
		c.add(join(base, key), "only services.gateway has %s", key)
		return false
	}
	return true
}
