#!/usr/bin/env bash
# Set up aekit in ./.venv on a fresh machine.
#   bash scripts/setup.sh          # the package (enough for `aekit demo`)
#   bash scripts/setup.sh --dev    # plus test and benchmark tools (pytest, hypothesis, pyod)
# torch is pinned to 2.13.0 only when absent: that is the CPU build on this machine's disk,
# while an unpinned torch would pull a multi-GB CUDA build. The package itself asks for
# torch>=2.4, so an existing (e.g. GPU) build is kept.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
PIP=(.venv/bin/python -m pip --disable-pip-version-check -q)
if ! .venv/bin/python -c "import torch" >/dev/null 2>&1; then
  "${PIP[@]}" install "torch==2.13.0"
fi
extras=""
if [ "${1:-}" = "--dev" ]; then extras="[test,bench]"; fi
"${PIP[@]}" install -e ".${extras}"
