#!/usr/bin/env bash
# Set-up command 2: install everything, then lint, type-check and run the whole test suite,
# the live suite included (against ../shared/cvat-server, or the CVAT that CVAT_LIVE_URL names).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/python -m ruff check .
.venv/bin/python -m ruff format --check .
.venv/bin/python -m mypy
. scripts/live-server.sh
live_server_up
.venv/bin/python -m pytest "$@"
