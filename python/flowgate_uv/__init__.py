"""Launcher so that `uv run flowgate ...` (the runbook's commands) runs the Go binary.

It builds ./cmd/flowgate into .router/runtime/bin/flowgate-launcher with the Go
toolchain (go caches the build, so repeat runs are fast) and executes it with
the caller's arguments and working directory.
"""
import os
import shutil
import subprocess
import sys
from pathlib import Path


def _root() -> Path:
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "go.mod").is_file() and (parent / "cmd" / "flowgate").is_dir():
            return parent
    sys.exit("flowgate launcher: cannot find the FlowGate source tree (go.mod, cmd/flowgate) above " + str(here))


def main() -> None:
    root = _root()
    go = shutil.which("go")
    if go is None:
        sys.exit("flowgate launcher: the Go toolchain is not on PATH; install Go 1.26+ or run the flowgate binary directly")
    out = root / ".router" / "runtime" / "bin" / "flowgate-launcher"
    out.parent.mkdir(parents=True, exist_ok=True)
    build = subprocess.run([go, "build", "-o", str(out), "./cmd/flowgate"], cwd=root)
    if build.returncode != 0:
        sys.exit(build.returncode)
    os.execv(str(out), [str(out)] + sys.argv[1:])
