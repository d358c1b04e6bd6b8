#!/usr/bin/env bash
# Set-up command 1: install everything, build the client, run the quickstart against a
# local CVAT-compatible test server (or a real one: scripts/quickstart.sh --host URL ...).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/python examples/quickstart.py "$@"
