#!/usr/bin/env bash
# Installs the real Claude Code and Codex CLI clients used by the e2e tests
# into a cache folder outside the repo, pinned, and prints their paths:
#   claude=<path>
#   codex=<path>
# Idempotent: an install whose binary already reports the pinned version is
# kept. Needs node/npm and the npm registry.
#
#   FLOWGATE_CACHE          cache root (default $HOME/.cache/flowgate)
#   FLOWGATE_CLAUDE_VERSION default 2.1.197: the newest release whose package
#                           "engines" accepts Node 18/20 (2.1.198+ declare
#                           node >= 22); its native binary ignores Node anyway.
#   FLOWGATE_CODEX_VERSION  default 0.169.0 (engines node >= 16; Responses wire
#                           API, the only one it supports).
set -euo pipefail

cache="${FLOWGATE_CACHE:-$HOME/.cache/flowgate}/clients"
claude_version="${FLOWGATE_CLAUDE_VERSION:-2.1.197}"
codex_version="${FLOWGATE_CODEX_VERSION:-0.169.0}"

command -v npm >/dev/null || { echo "install-clients: npm not found; install Node.js (>= 18) first" >&2; exit 1; }
mkdir -p "$cache"

# install NAME PACKAGE VERSION BIN -> prints the binary path
install_one() {
	local dir="$cache/$1-$3" pkg="$2@$3" bin="$cache/$1-$3/node_modules/.bin/$4"
	if [ -x "$bin" ] && timeout 60 "$bin" --version 2>/dev/null | grep -qF "$3"; then
		echo "$bin"
		return
	fi
	echo "install-clients: installing $pkg into $dir" >&2
	mkdir -p "$dir"
	npm install --prefix "$dir" --no-audit --no-fund --no-save --loglevel=error "$pkg" >&2
	if ! timeout 60 "$bin" --version 2>/dev/null | grep -qF "$3"; then
		# npm versions that hold back install scripts leave Claude Code's
		# placeholder binary; its postinstall copies the native one in place.
		local post="$dir/node_modules/$2/install.cjs"
		if [ -f "$post" ]; then
			(cd "$dir/node_modules/$2" && node install.cjs) >&2
		fi
	fi
	if ! timeout 60 "$bin" --version 2>/dev/null | grep -qF "$3"; then
		echo "install-clients: $bin does not run or is not $3" >&2
		exit 1
	fi
	echo "$bin"
}

claude_bin=$(install_one claude-code @anthropic-ai/claude-code "$claude_version" claude)
codex_bin=$(install_one codex @openai/codex "$codex_version" codex)
echo "claude=$claude_bin"
echo "codex=$codex_bin"
