package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// GatewayLimits are services.gateway's edge settings for the builtin
// engine: what a client can make the gateway hold. Zero means the
// gateway's default. The fields match gateway.Limits one for one, so the
// gateway command converts them directly.
type GatewayLimits struct {
	// MaxBodyBytes is max_body_size: the largest request body. Default 32 MiB.
	MaxBodyBytes int64
	// BodyBudgetBytes is body_budget: request bodies held in memory at
	// once across all requests; past it requests wait briefly, then get
	// 503. Default 128 MiB.
	BodyBudgetBytes int64
	// BodyReadTimeout is body_read_timeout: the longest one body may take
	// to arrive. Default 120s.
	BodyReadTimeout time.Duration
	// MinBodyRate is min_body_rate: the slowest a body may arrive, in
	// bytes per second, after a 5 s grace. Default 1024.
	MinBodyRate int64
	// IdleTimeout is idle_timeout: how long an idle keep-alive connection
	// stays open. Default 120s.
	IdleTimeout time.Duration
	// WriteTimeout is write_timeout: the longest one write to a client may
	// block (per write, so streams live). Default 60s.
	WriteTimeout time.Duration
	// MaxConnections is max_connections: open client connections in
	// total. Default 512.
	MaxConnections int
	// MaxConnectionsPerClient is max_connections_per_client: open
	// connections from one client address. Default 256.
	MaxConnectionsPerClient int
	// AllowedOrigins is allowed_origins: browser origins
	// (scheme://host[:port]) accepted besides loopback ones; "*" accepts
	// any. Default none.
	AllowedOrigins []string
	// AllowedHosts is allowed_hosts: Host names accepted besides the
	// gateway's own address (DNS-rebinding protection); "*" accepts any.
	// Default none.
	AllowedHosts []string
}

// gatewayLimitKeys are the services.gateway keys read by buildGatewayLimits.
var gatewayLimitKeys = []string{"allowed_hosts", "allowed_origins", "body_budget", "body_read_timeout", "idle_timeout",
	"max_body_size", "max_connections", "max_connections_per_client", "min_body_rate", "write_timeout"}

func isGatewayLimitKey(k string) bool {
	for _, g := range gatewayLimitKeys {
		if g == k {
			return true
		}
	}
	return false
}

// buildGatewayLimits reads the edge keys of services.NAME; only the
// gateway has them.
func buildGatewayLimits(c *collector, name, base string, m map[string]any) GatewayLimits {
	var l GatewayLimits
	for _, k := range gatewayLimitKeys {
		v, ok := m[k]
		if !ok {
			continue
		}
		path := join(base, k)
		if name != ServiceGateway {
			c.add(path, "only services.gateway has %s", k)
			continue
		}
		switch k {
		case "max_body_size", "body_budget":
			n, err := parseSize(v)
			if err != nil {
				c.add(path, "%v", err)
			} else if k == "max_body_size" {
				l.MaxBodyBytes = n
			} else {
				l.BodyBudgetBytes = n
			}
		case "body_read_timeout", "idle_timeout", "write_timeout":
			d, err := parseDuration(v)
			if err != nil {
				c.add(path, "%v", err)
				continue
			}
			switch k {
			case "body_read_timeout":
				l.BodyReadTimeout = d
			case "idle_timeout":
				l.IdleTimeout = d
			default:
				l.WriteTimeout = d
			}
		case "min_body_rate":
			n, err := parseSize(v)
			if err != nil {
				c.add(path, "must be bytes per second, at least 1, such as 1024 or 4KiB; got %v", v)
			} else {
				l.MinBodyRate = n
			}
		case "max_connections", "max_connections_per_client":
			n, ok := asInt(v)
			if !ok || n < 1 || n > 1<<20 {
				c.add(path, "must be a whole number of at least 1, got %v", v)
			} else if k == "max_connections" {
				l.MaxConnections = int(n)
			} else {
				l.MaxConnectionsPerClient = int(n)
			}
		case "allowed_origins", "allowed_hosts":
			list, isList := v.([]any)
			if !isList {
				c.add(path, "must be a list of strings, got %s", typeName(v))
				continue
			}
			var out []string
			for i, e := range list {
				str, isStr := e.(string)
				switch {
				case !isStr || str == "":
					c.add(index(path, i), "must be a non-empty string, got %s", typeName(e))
				case k == "allowed_origins" && str != "*" && !strings.Contains(str, "://"):
					c.add(index(path, i), "must be an origin such as https://app.example.com (scheme://host[:port]) or *, got %q", str)
				default:
					out = append(out, str)
				}
			}
			if k == "allowed_origins" {
				l.AllowedOrigins = out
			} else {
				l.AllowedHosts = out
			}
		}
	}
	if l.MaxBodyBytes > 0 && l.BodyBudgetBytes > 0 && l.BodyBudgetBytes < l.MaxBodyBytes {
		c.add(join(base, "body_budget"), "is smaller than max_body_size, so the largest allowed body could never be admitted; raise body_budget or lower max_body_size")
	}
	return l
}

// parseSize reads a byte count: a whole number, or a string with a unit
// (B, KiB, MiB, GiB, or KB, MB, GB in powers of 1000).
func parseSize(v any) (int64, error) {
	if n, ok := asInt(v); ok {
		if n < 1 {
			return 0, fmt.Errorf("must be a size of at least 1 byte, got %v", v)
		}
		return n, nil
	}
	s, ok := v.(string)
	if !ok {
		return 0, fmt.Errorf("must be a size such as 32MiB or a number of bytes, got %s", typeName(v))
	}
	t := strings.TrimSpace(s)
	i := strings.IndexFunc(t, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	num, unit := t, ""
	if i >= 0 {
		num, unit = t[:i], strings.TrimSpace(t[i:])
	}
	mult := map[string]float64{"": 1, "b": 1, "kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "kb": 1e3, "mb": 1e6, "gb": 1e9}[strings.ToLower(unit)]
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || mult == 0 || f*mult < 1 {
		return 0, fmt.Errorf("must be a size such as 32MiB, 256MiB or 1GiB (units B, KiB, MiB, GiB, KB, MB, GB), got %q", s)
	}
	return int64(f * mult), nil
}
