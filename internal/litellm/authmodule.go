package litellm

// AuthModuleFile is the Python module WriteConfig puts next to LiteLLM's
// config; general_settings.custom_auth names its function.
const AuthModuleFile = "flowgate_litellm_auth.py"

const customAuthRef = "flowgate_litellm_auth.user_api_key_auth"

// authModule makes LiteLLM answer 401 for a wrong or missing key, as the
// builtin engine does. Without it LiteLLM 1.108 (no database) answers a
// wrong key with 400 "No connected db." and a missing key with a plain-text
// 500 (its auth error handler imports prisma, which litellm[proxy] lacks).
// It accepts exactly the gateway key (FLOWGATE_MASTER_KEY, from the child
// environment), compared in constant time; raising ProxyException keeps
// LiteLLM's own error shape.
const authModule = `# Written by FlowGate with the generated LiteLLM config. Do not edit.
import hmac
import os

from fastapi import Request
from litellm.proxy._types import LitellmUserRoles, ProxyException, UserAPIKeyAuth


async def user_api_key_auth(request: Request, api_key: str) -> UserAPIKeyAuth:
    want = os.environ.get("FLOWGATE_MASTER_KEY", "")
    got = (api_key or "").strip()
    if got.lower().startswith("bearer "):
        got = got[7:].strip()
    if not got:
        got = (request.headers.get("x-api-key") or "").strip()
    if want and got and hmac.compare_digest(got.encode(), want.encode()):
        return UserAPIKeyAuth(api_key=got, user_role=LitellmUserRoles.PROXY_ADMIN)
    raise ProxyException(
        message="Authentication Error: invalid or missing gateway key; send Authorization: Bearer <key> or x-api-key: <key>",
        type="auth_error",
        param=None,
        code=401,
    )
`
