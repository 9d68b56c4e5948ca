#!/usr/bin/env bash
# make bench: builds the release bootstraps (arm64 and x86_64) and measures
# them; see scripts/bench.py for how each figure is taken.
set -euo pipefail
cd "$(dirname "$0")/.."
exec "${VENV:-.venv}/bin/python" scripts/bench.py "$@"
