#!/usr/bin/env bash
# Real-client end-to-end test (issue 5 item 4), for .ci/run or by hand:
# installs the pinned clients (install-clients.sh), then runs the e2e Go
# tests with FLOWGATE_E2E=1. Extra arguments go to `go test` (e.g. -v, -run).
#   FLOWGATE_E2E_MODES   direct,gateway (default both); "direct" needs no gateway
#   FLOWGATE_E2E_TIMEOUT per client run (default 150s)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
paths="$(bash "$here/install-clients.sh")"
export FLOWGATE_CLAUDE_BIN="$(sed -n 's/^claude=//p' <<<"$paths")"
export FLOWGATE_CODEX_BIN="$(sed -n 's/^codex=//p' <<<"$paths")"
export FLOWGATE_E2E=1
cd "$here/.."
exec go test -count=1 -timeout 20m "$@" ./e2e/
