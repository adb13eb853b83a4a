#!/usr/bin/env bash
# Installs what widthscope needs, once: npm packages (exact versions from package-lock.json) and
# a WebGPU adapter (see setup-webgpu.sh). Fast when everything is already in place.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "ensure-setup: installing npm packages (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
fi
bash scripts/setup-webgpu.sh
bash scripts/setup-chromium.sh || echo "ensure-setup: chromium could not be installed; the report render check will say it skipped" >&2
