package requestlog

import (
	"fmt"
	"strings"
)

// Price is USD per million tokens. Costs computed from it are estimates:
// providers round, discount and bill long prompts differently.
type Price struct {
	Input      float64 `json:"input"`
	Output     float64 `json:"output"`
	CacheRead  float64 `json:"cache_read"`
	CacheWrite float64 `json:"cache_write"`
}

// Known reports whether any price is set.
func (p Price) Known() bool { return p != Price{} }

// Cost is the estimated cost of t at p, in USD. Reasoning tokens are part
// of Output and are not counted twice.
func (p Price) Cost(t Tokens) float64 {
	return (float64(t.Input)*p.Input + float64(t.Output)*p.Output +
		float64(t.CacheRead)*p.CacheRead + float64(t.CacheWrite)*p.CacheWrite) / 1e6
}

// DefaultPrices are list prices (USD per million tokens) of well-known
// models, used when a deployment's model_info sets none. They are matched
// by the longest prefix of the upstream model name without its provider
// (openai/gpt-4o-2024-08-06 matches gpt-4o). They are estimates and go
// stale; set model_info prices for anything that matters.
var DefaultPrices = map[string]Price{
	"claude-opus-4-5":   {5, 25, 0.5, 6.25},
	"claude-opus-4-6":   {5, 25, 0.5, 6.25},
	"claude-opus-4":     {15, 75, 1.5, 18.75},
	"claude-sonnet-4":   {3, 15, 0.3, 3.75},
	"claude-3-7-sonnet": {3, 15, 0.3, 3.75},
	"claude-3-5-sonnet": {3, 15, 0.3, 3.75},
	"claude-haiku-4-5":  {1, 5, 0.1, 1.25},
	"claude-3-5-haiku":  {0.8, 4, 0.08, 1},
	"gpt-5":             {1.25, 10, 0.125, 0},
	"gpt-5-mini":        {0.25, 2, 0.025, 0},
	"gpt-5-nano":        {0.05, 0.4, 0.005, 0},
	"gpt-4.1":           {2, 8, 0.5, 0},
	"gpt-4.1-mini":      {0.4, 1.6, 0.1, 0},
	"gpt-4.1-nano":      {0.1, 0.4, 0.025, 0},
	"gpt-4o":            {2.5, 10, 1.25, 0},
	"gpt-4o-mini":       {0.15, 0.6, 0.075, 0},
	"o3":                {2, 8, 0.5, 0},
	"o4-mini":           {1.1, 4.4, 0.275, 0},
	"gemini-2.5-pro":    {1.25, 10, 0.31, 0},
	"gemini-2.5-flash":  {0.3, 2.5, 0.075, 0},
}

// DefaultPrice looks model up in DefaultPrices (see there).
func DefaultPrice(model string) (Price, bool) {
	if i := strings.LastIndexByte(model, '/'); i >= 0 {
		model = model[i+1:]
	}
	model = strings.ToLower(model)
	best, bestLen := Price{}, 0
	for k, p := range DefaultPrices {
		if len(k) > bestLen && strings.HasPrefix(model, k) {
			best, bestLen = p, len(k)
		}
	}
	return best, bestLen > 0
}

// PriceFromModelInfo reads a deployment's model_info prices. FlowGate's
// keys are per million tokens (input_cost_per_million,
// output_cost_per_million, cache_read_cost_per_million,
// cache_write_cost_per_million); LiteLLM's per-token keys
// (input_cost_per_token, output_cost_per_token,
// cache_read_input_token_cost, cache_creation_input_token_cost) are read
// too. Unset prices fall back to DefaultPrice(model) as a whole. path names
// the model_info for errors (model_list[2].model_info).
func PriceFromModelInfo(mi map[string]any, model, path string) (Price, error) {
	var p Price
	set := false
	for _, f := range []struct {
		key   string
		scale float64
		dst   *float64
	}{
		{"input_cost_per_million", 1, &p.Input}, {"output_cost_per_million", 1, &p.Output},
		{"cache_read_cost_per_million", 1, &p.CacheRead}, {"cache_write_cost_per_million", 1, &p.CacheWrite},
		{"input_cost_per_token", 1e6, &p.Input}, {"output_cost_per_token", 1e6, &p.Output},
		{"cache_read_input_token_cost", 1e6, &p.CacheRead}, {"cache_creation_input_token_cost", 1e6, &p.CacheWrite},
	} {
		v, ok := mi[f.key]
		if !ok || v == nil {
			continue
		}
		var n float64
		switch x := v.(type) {
		case float64:
			n = x
		case int:
			n = float64(x)
		case int64:
			n = float64(x)
		case uint64:
			n = float64(x)
		default:
			return Price{}, fmt.Errorf("%s.%s: must be a number (USD), got %v", path, f.key, v)
		}
		if n < 0 {
			return Price{}, fmt.Errorf("%s.%s: must not be negative, got %v", path, f.key, v)
		}
		*f.dst, set = n*f.scale, true
	}
	if !set {
		p, _ = DefaultPrice(model)
	}
	return p, nil
}
