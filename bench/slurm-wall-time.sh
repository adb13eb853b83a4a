#!/usr/bin/env bash
# Wall time of one sweep spec (fake trainer) run as 4 shards on the local one-node Slurm cluster
# (scripts/slurm-cluster.sh; submit to the report job's end) against one process (sweep and
# report). Usage: bench/slurm-wall-time.sh [sleep ms per step, default 120]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
export WIDTHSCOPE_FAKE_SLEEP_MS=${1:-120}
work=$(mktemp -d)
trap 'bash "$root/scripts/slurm-cluster.sh" stop "$work/cluster"; rm -rf "$work"' EXIT
cat > "$work/spec.json" <<'SPEC'
{ "name": "four", "task": { "name": "teacher-regression", "testSize": 16 }, "model": { "family": "mlp", "depth": 2 },
  "widths": [30, 31, 32, 33], "seeds": 2, "ensemble": 1, "parameterization": "mup", "lr": 0.1, "batchSize": 8, "steps": 20, "eval": 5 }
SPEC
ws() { node "$root/bin/widthscope.mjs" "$@"; }
t0=$(date +%s.%N)
ws sweep "$work/spec.json" --results "$work/single" --fake --no-progress --hang-timeout 0 >/dev/null 2>&1
t1=$(date +%s.%N)
eval "export $(bash "$root/scripts/slurm-cluster.sh" start "$work/cluster")"
t2=$(date +%s.%N)
ws slurm "$work/spec.json" --shards 4 --results "$work/cluster-results" --fake --submit >/dev/null
while [ -n "$(squeue -h)" ]; do sleep 0.2; done
t3=$(date +%s.%N)
[ -f "$work/cluster-results/report/index.html" ] || { echo "the cluster run wrote no report" >&2; exit 1; }
printf 'sleep %s ms/step, %s CPUs, load %s\n' "$WIDTHSCOPE_FAKE_SLEEP_MS" "$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)"
printf 'single process (sweep + report): %.1f s\n' "$(echo "$t1 - $t0" | bc)"
printf '4 shards on the local Slurm cluster (submit to report done): %.1f s\n' "$(echo "$t3 - $t2" | bc)"
