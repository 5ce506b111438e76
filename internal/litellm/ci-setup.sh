#!/bin/sh
# ci-setup.sh — create (or reuse) the LiteLLM virtual environment used by the
# contract suite, in a cache folder OUTSIDE the clone, and print its path on
# stdout (last line). Progress goes to stderr; pip's own output goes to
# <venv>.pip.log.
#
#   FLOWGATE_CACHE      cache root (default $HOME/.cache/flowgate)
#   FLOWGATE_LITELLM_VERSION  pinned version (default: the one in bootstrap.go)
#   PYTHON              interpreter (default python3)
#
# Usage from .ci/run:
#   FLOWGATE_LITELLM_VENV=$(sh internal/litellm/ci-setup.sh) go test ./internal/litellm/...
set -eu

# Keep in sync with DefaultVersion in bootstrap.go (TestCISetupVersionInSync checks it).
DEFAULT_VERSION=1.108.6

version=${FLOWGATE_LITELLM_VERSION:-$DEFAULT_VERSION}
python=${PYTHON:-python3}
cache=${FLOWGATE_CACHE:-${HOME:?HOME not set}/.cache/flowgate}
venv=$cache/litellm-venv-$version
log=$venv.pip.log

installed_version() {
	"$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("litellm"))' 2>/dev/null || true
}

mkdir -p "$cache"
if [ -x "$venv/bin/litellm" ] && [ "$(installed_version)" = "$version" ]; then
	echo "litellm $version: reusing $venv" >&2
	echo "$venv"
	exit 0
fi

start=$(date +%s)
echo "litellm $version: creating venv $venv" >&2
rm -rf "$venv"
"$python" -m venv "$venv" >"$log" 2>&1
echo "litellm $version: installing litellm[proxy]==$version (pip log: $log)" >&2
"$venv/bin/python" -m pip install --disable-pip-version-check --no-input \
	"litellm[proxy]==$version" >>"$log" 2>&1 || {
	echo "litellm $version: pip install failed; last lines of $log:" >&2
	tail -n 20 "$log" >&2
	rm -rf "$venv"
	exit 1
}
got=$(installed_version)
if [ "$got" != "$version" ]; then
	echo "litellm $version: installed version is '$got'" >&2
	exit 1
fi
echo "litellm $version: ready in $(( $(date +%s) - start ))s" >&2
echo "$venv"
