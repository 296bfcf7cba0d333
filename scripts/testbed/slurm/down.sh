#!/usr/bin/env bash
# Stops Slurm test clusters started by up.sh (both when no argument is given): cancels every job
# (so no slurmstepd or job process is left), stops every slurmd, slurmctld and munged by PID, and
# removes the namespaces and bridge. Logs stay in the folder for inspection (up.sh wipes it).
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
down() {
  local TB; TB=$(cluster_dir "$1")
  [ -f "$TB/nodes.tsv" ] || return 0
  export SLURM_CONF=$TB/slurm.conf
  # 1. cancel all jobs; wait until slurmctld has none left (KillWait=2 bounds this)
  if [ -s "$TB/slurmctld.launch.pid" ] && alive "$(cat "$TB/slurmctld.launch.pid")"; then
    scancel --quiet --user=root 2>/dev/null
    for _ in $(seq 100); do [ -z "$(squeue -h -o %i 2>/dev/null)" ] && break; sleep 0.1; done
  fi
  # 2. slurmd of every node (netns: every process left in its namespace)
  local node ip ns pids
  while read -r node ip ns; do
    pids=""
    [ -s "$TB/slurmd-$node.launch.pid" ] && pids=$(cat "$TB/slurmd-$node.launch.pid")
    [ "$ns" != - ] && pids="$pids $(ip netns pids "$ns" 2>/dev/null | tr '\n' ' ')"
    stop_pids $pids
    if [ "$ns" != - ]; then ip link del "${VETH_PREFIX}$node" 2>/dev/null; ip netns del "$ns" 2>/dev/null; fi
  done < "$TB/nodes.tsv"
  [ "$1" = netns ] && ip link del "$BRIDGE" 2>/dev/null
  # 3. slurmctld (saves its state, ~1-2 s), then munged
  local f
  for f in "$TB/slurmctld.launch.pid" "$(munge_dir "$TB")/munged.pid"; do [ -s "$f" ] && stop_pids "$(cat "$f")"; done
  mv "$TB/nodes.tsv" "$TB/nodes.tsv.down"
  echo "slurm testbed $1 down"
}
if [ $# -gt 0 ]; then down "$1"; else down local; down netns; fi
exit 0
