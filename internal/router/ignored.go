package router

import (
	"sort"
	"strings"
)

// Ignored is a setting a document sets that the builtin engine does not
// implement. The parser accepts it (a config written for LiteLLM stays
// valid) and records it here so that doctor can say so, instead of the
// setting being dropped without a word.
type Ignored struct {
	// Path is the field path in the document: router_settings.retry_policy,
	// model_list[0].litellm_params.api_version.
	Path string `json:"path"`
	// LiteLLM is true when LiteLLM honours the setting, so it takes effect
	// with services.gateway.engine: litellm.
	LiteLLM bool `json:"litellm"`
}

// String is the line doctor prints for it.
func (i Ignored) String() string {
	if i.LiteLLM {
		return i.Path + ": LiteLLM honours it; the builtin engine does not implement it and ignores it"
	}
	return i.Path + ": neither the builtin engine nor LiteLLM (as FlowGate knows it) reads it; check the spelling"
}

// builtinKeys are, per place in the document, the keys the parser reads.
// Settings sections are read by the switch in (*parser).settings and are
// not listed here.
var builtinKeys = map[string][]string{
	"":                            {"model_list", "router_settings", "litellm_settings", "general_settings"},
	"model_list[]":                {"model_name", "litellm_params", "model_info", "weight", "rpm", "tpm"},
	"model_list[].litellm_params": {"model", "api_base", "api_key", "api_key_ref", "timeout", "stream_timeout", "rpm", "tpm", "weight", "order", "cooldown_time"},
	"model_list[].model_info":     {"id", "mode", "supported_endpoints", "cooldown_time", "max_input_tokens", "max_tokens", "max_output_tokens"},
	"general_settings":            {"master_key", "master_key_ref", "extra_keys", "extra_key_refs"},
}

// litellmKeys are settings LiteLLM's proxy reads that the builtin engine
// does not implement, per place in the document. A key in neither table is
// most likely misspelt. litellm_params and model_info are open-ended in
// LiteLLM (provider parameters, cost and health-check fields), so every key
// there counts as LiteLLM's.
var litellmKeys = map[string][]string{
	"": {"environment_variables", "callback_settings", "guardrails", "credential_list", "mcp_servers", "include",
		"files_settings", "search_tools", "vector_store_registry"},
	"router_settings": {"content_policy_fallbacks", "retry_policy", "model_group_retry_policy", "allowed_fails_policy",
		"enable_pre_call_checks", "optional_pre_call_checks", "routing_strategy_args", "stream_timeout",
		"cache_responses", "cache_kwargs",
		"enable_tag_filtering", "tag_filtering_match_any", "provider_budget_config", "default_litellm_params",
		"default_max_parallel_requests", "default_priority", "polling_interval", "set_verbose", "debug_level",
		"client_ttl", "disable_cooldowns_for_auth_errors", "model_group_affinity_config", "deployment_affinity_ttl_seconds"},
	"litellm_settings": {"content_policy_fallbacks", "callbacks", "success_callback", "failure_callback",
		"service_callback", "cache", "cache_params", "modify_params", "set_verbose", "json_logs",
		"turn_off_message_logging", "redact_user_api_key_info", "telemetry", "max_budget", "budget_duration",
		"default_team_settings", "upperbound_key_generate_params", "max_internal_user_budget",
		"enable_json_schema_validation", "disable_end_user_cost_tracking", "force_ipv4", "ssl_verify",
		"enable_preview_features", "return_response_headers", "expose_router_debug_in_errors", "network_mock",
		"context_window_fallback_dict", "allowed_fails_policy", "retry_policy", "enable_pre_call_checks",
		"guardrails", "max_parallel_requests", "global_max_parallel_requests", "callback_settings"},
	"general_settings": {"custom_auth", "database_url", "database_connection_pool_limit", "store_model_in_db",
		"forward_client_headers_to_llm_api", "forward_llm_provider_auth_headers", "background_health_checks",
		"health_check_interval", "health_check_details", "include_call_id_in_error_body", "alerting",
		"alerting_threshold", "alert_types", "disable_spend_logs", "disable_master_key_return",
		"enforce_user_param", "allowed_routes", "admin_only_routes", "public_routes", "max_parallel_requests",
		"global_max_parallel_requests", "proxy_batch_write_at", "disable_reset_budget", "infer_model_from_keys",
		"master_key_hash", "ui_access_mode", "litellm_jwtauth", "enable_jwt_auth", "pass_through_endpoints",
		"user_header_name", "maximum_spend_logs_retention_period", "proxy_budget_rescheduler_min_time",
		"proxy_budget_rescheduler_max_time", "disable_prisma_schema_update", "key_management_system"},
	"model_list[]": {"model_group_info"},
}

func inList(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

// ignore records a setting the builtin engine does not implement.
func (p *parser) ignore(kind, path string) {
	lit := inList(litellmKeys[kind], path[strings.LastIndex(path, ".")+1:]) ||
		kind == "model_list[].litellm_params" || kind == "model_list[].model_info"
	p.ignored = append(p.ignored, Ignored{Path: path, LiteLLM: lit})
}

// unknownKeys records the keys of m (at path, of kind kind) that the
// builtin engine does not read. Keys starting with _comment are notes for
// people and are skipped.
func (p *parser) unknownKeys(kind, path string, m map[string]any) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if strings.HasPrefix(k, "_comment") || inList(builtinKeys[kind], k) {
			continue
		}
		full := k
		if path != "" {
			full = path + "." + k
		}
		p.ignore(kind, full)
	}
}
