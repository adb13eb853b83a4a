#!/usr/bin/env bash
# Installs what widthscope needs, once: npm packages (exact versions from package-lock.json), a
# WebGPU adapter (see setup-webgpu.sh), Chromium for the report check and Slurm with munge for the
# scale-out test (setup-slurm.sh). Fast when everything is already in place.
set -euo pipefail
cd "$(dirname "$0")/.."
# A node_modules that is a link (worktrees sharing one install) is never reinstalled from here:
# npm ci would empty the shared directory under every other checkout using it.
if [ -L node_modules ]; then
  [ -f node_modules/.package-lock.json ] || echo "ensure-setup: node_modules links to $(readlink node_modules), which holds no install; run npm ci there" >&2
elif [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "ensure-setup: installing npm packages (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
fi
bash scripts/setup-webgpu.sh
bash scripts/setup-chromium.sh || echo "ensure-setup: chromium could not be installed; the report render check will say it skipped" >&2
bash scripts/setup-slurm.sh || echo "ensure-setup: Slurm could not be installed; test/experiments/slurm.test.ts will fail with the reason" >&2
