#!/usr/bin/env bash
# A one-node Slurm cluster on localhost, for tests and for trying `widthscope slurm` without a
# cluster: munged, slurmctld and slurmd run as plain processes (no systemd) with every file in
# one directory.
#
#   scripts/slurm-cluster.sh start <dir>   writes <dir>/slurm.conf and a munge key, starts the
#                                          three daemons, waits until the node is idle, prints
#                                          SLURM_CONF=<dir>/slurm.conf (export it for sbatch etc.)
#   scripts/slurm-cluster.sh stop <dir>    cancels its jobs and stops the daemons started in <dir>
#                                          (by their pid files)
#
# Needs slurmctld, slurmd, the Slurm client commands and munged (scripts/setup-slurm.sh) and
# root (slurmd launches jobs as the submitting user). Ports are picked free per start, so
# clusters in different directories do not collide. Start fails with the reason and the tail of
# the failing daemon's log.
set -euo pipefail

usage() { echo "usage: $0 start|stop <dir>" >&2; exit 2; }
[ $# -eq 2 ] || usage
cmd=$1
dir=$(mkdir -p "$2" && cd "$2" && pwd)

fail() {
  echo "slurm-cluster: $*" >&2
  for log in munged.log slurmctld.log slurmd.log; do
    [ -s "$dir/log/$log" ] && { echo "--- tail of $dir/log/$log" >&2; tail -n 15 "$dir/log/$log" >&2; }
  done
  exit 1
}

stop_pidfile() {
  local f=$1 pid
  [ -f "$f" ] || return 0
  pid=$(cat "$f" 2>/dev/null || true)
  rm -f "$f"
  [ -n "$pid" ] || return 0
  kill "$pid" 2>/dev/null || return 0
  for _ in $(seq 20); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()' 2>/dev/null ||
    node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

case $cmd in
stop)
  # Jobs still running are cancelled first (their slurmstepd outlives slurmd), then the daemons go.
  if [ -f "$dir/slurm.conf" ] && [ -f "$dir/run/slurmctld.pid" ] && kill -0 "$(cat "$dir/run/slurmctld.pid")" 2>/dev/null; then
    export SLURM_CONF=$dir/slurm.conf PATH=$PATH:/usr/sbin:/sbin
    scancel --user="$(id -un)" 2>/dev/null || true
    for _ in $(seq 50); do [ -z "$(squeue -h 2>/dev/null)" ] && break; sleep 0.2; done
  fi
  stop_pidfile "$dir/run/slurmctld.pid"
  stop_pidfile "$dir/run/slurmd.pid"
  stop_pidfile "$dir/run/munged.pid"
  exit 0
  ;;
start) ;;
*) usage ;;
esac

[ "$(id -u)" = 0 ] || fail "needs root (slurmd runs jobs as the submitting user); uid is $(id -u)"
for b in munged mungekey slurmctld slurmd sbatch sinfo; do
  command -v "$b" >/dev/null || PATH=$PATH:/usr/sbin:/sbin command -v "$b" >/dev/null ||
    fail "$b not found: run scripts/setup-slurm.sh (Debian: apt-get install slurmctld slurmd slurm-client munge)"
done
export PATH=$PATH:/usr/sbin:/sbin

mkdir -p "$dir/run" "$dir/log" "$dir/state" "$dir/spool" "$dir/munge"
chmod 700 "$dir/munge"
rm -f "$dir/munge/munge.key"
mungekey --create --keyfile="$dir/munge/munge.key" >/dev/null 2>&1 ||
  { dd if=/dev/urandom of="$dir/munge/munge.key" bs=1024 count=1 status=none; }
chmod 400 "$dir/munge/munge.key"

# --force: the key, socket and logs live in a private temporary directory owned by root.
munged --force --key-file="$dir/munge/munge.key" --socket="$dir/munge/munge.socket" \
  --pid-file="$dir/run/munged.pid" --log-file="$dir/log/munged.log" --seed-file="$dir/munge/munge.seed" ||
  fail "munged did not start"
for _ in $(seq 50); do [ -S "$dir/munge/munge.socket" ] && break; sleep 0.1; done
[ -S "$dir/munge/munge.socket" ] || fail "munged started but its socket $dir/munge/munge.socket did not appear"

cpus=$(nproc)
mem=$(awk '/MemTotal/ { print int($2 / 1024 / 2) }' /proc/meminfo)
ctld_port=$(free_port)
slurmd_port=$(free_port)
[ "$ctld_port" != "$slurmd_port" ] || slurmd_port=$(free_port)
cat > "$dir/slurm.conf" <<EOF
# One-node test cluster written by scripts/slurm-cluster.sh.
ClusterName=widthscope-local
SlurmctldHost=localhost
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$dir/munge/munge.socket
CredType=cred/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/run/slurmctld.pid
SlurmdPidFile=$dir/run/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/builtin
MpiDefault=none
SwitchType=switch/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
ReturnToService=2
KillWait=5
MinJobAge=300
SchedulerParameters=sched_interval=1
SlurmctldTimeout=30
SlurmdTimeout=30
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=local Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF=$dir/slurm.conf

slurmctld -c -f "$SLURM_CONF" >>"$dir/log/slurmctld.out" 2>&1 || fail "slurmctld did not start"
slurmd -f "$SLURM_CONF" -N localhost >>"$dir/log/slurmd.out" 2>&1 || fail "slurmd did not start"

state=
for _ in $(seq 100); do
  state=$(sinfo -h -N -o %T 2>/dev/null | head -n 1 || true)
  [ "$state" = idle ] && break
  sleep 0.2
done
[ "$state" = idle ] || fail "the node did not become idle within 20 s (state: '${state:-no answer from slurmctld}')"
echo "SLURM_CONF=$SLURM_CONF"
