#!/usr/bin/env bash
# Installs Slurm (slurmctld, slurmd, client commands) and munge (Debian, as root) so the
# scale-out test can start a one-node cluster (scripts/slurm-cluster.sh). Fast when present.
# Elsewhere it only says what to install; that test then fails with this reason.
set -euo pipefail
export PATH=$PATH:/usr/sbin:/sbin
have() { for b in "$@"; do command -v "$b" >/dev/null || return 1; done; }
if have slurmctld slurmd sbatch squeue scancel sinfo munged mungekey; then
  exit 0
fi
if [ -f /etc/debian_version ] && [ "$(id -u)" = 0 ]; then
  echo "setup-slurm: installing slurmctld, slurmd, slurm-client and munge (the Slurm scale-out test)"
  pkgs=(slurmctld slurmd slurm-client munge)
  # policy-rc.d keeps the packages from starting system-wide daemons; the test starts its own.
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null 2>&1 ||
    { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null; }
else
  echo "setup-slurm: Slurm not found; install slurmctld, slurmd, slurm-client and munge (as root) to run test/experiments/slurm.test.ts" >&2
fi
