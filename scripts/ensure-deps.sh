#!/usr/bin/env bash
# Makes a fresh clone runnable: node modules from the lockfile, then the pinned Temporal binaries.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
bash scripts/bootstrap-tools.sh
