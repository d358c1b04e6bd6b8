#!/usr/bin/env bash
# Install everything the project needs into .venv (and node_modules for Prism).
# `pip install -e` runs the generator: cvat_sdk/api_client is built from $CVAT_SDK_SCHEMA,
# by default ../shared/cvat-schemas/cvat-2.24.0.yml.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e ".[test]"
if command -v npm >/dev/null; then
    npm ci --no-audit --no-fund --loglevel=error
else
    echo "npm not found: the Prism contract tests will be skipped" >&2
fi
