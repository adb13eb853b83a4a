#!/usr/bin/env bash
# The one prepared GPU check, for a session lent a GPU machine through the device tool:
#   here:   npm ci && bash ../shared/gpu/pack-device-carry.sh && echo /.devcarry/ >> .git/info/exclude
#   device: run(command="bash .devcarry/enter.sh bash scripts/device-run.sh", carry=[".devcarry"], timeout_s=560)
# Probes the adapter, runs the whole bench (JSON under $OUT) and the GPU test suite, prints a table.
# Commit $OUT/bench.json as bench/results/<adapter>.json afterwards.
set -uo pipefail
out=${OUT:-/tmp/widthscope-out}
mkdir -p "$out"
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-/tmp} WIDTHSCOPE_AUTOTUNE=1
node scripts/probe-adapter.mjs 2>&1 | tee "$out/adapter.txt" || exit 1
timeout 300 node --import tsx bench/run.ts --out "$out/bench.json" > "$out/bench.log" 2>&1
echo "bench exit $?"
timeout 180 node node_modules/vitest/vitest.mjs run test/ops test/tensor test/autograd \
  --reporter=json --outputFile="$out/tests.json" > "$out/tests.log" 2>&1
echo "tests exit $?"
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed`);
' "$out/tests.json" 2>/dev/null
grep -E "^(ceiling|matmul|conv2d|attention) " "$out/bench.log" | sort -u | head -60
