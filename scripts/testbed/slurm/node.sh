#!/usr/bin/env bash
# node.sh CLUSTER ACTION NODE - start a test cluster node's slurmd, or simulate a failure of that node.
#   CLUSTER: local | netns (see up.sh)
#   start [--no-wait]  (re)start its slurmd; wait until slurmctld reports the node usable
#   kill   crash the node: SIGKILL every process in its namespace (slurmd, slurmstepd, jobs)  [netns]
#          slurmctld marks it DOWN after ~SlurmdTimeout; its jobs end as NODE_FAIL
#   down   take its link down (processes keep running, slurmctld loses it)                    [netns]
#   up     bring its link back                                                                [netns]
#   pids   print the PIDs running on the node                                                 [netns]
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
KIND=${1:?usage: node.sh local|netns start|kill|down|up|pids NODE}
ACTION=${2:?action}; NODE=${3:?node name}
TB=$(cluster_dir "$KIND")
export SLURM_CONF=$TB/slurm.conf
read -r _ IP NS < <(awk -v n="$NODE" '$1==n' "$TB/nodes.tsv") || { echo "node.sh: unknown node $NODE" >&2; exit 1; }
need_ns() { [ "$NS" != - ] || { echo "node.sh: $ACTION needs the namespaced nodes of 'up.sh netns'" >&2; exit 2; }; }

case $ACTION in
start)
  pidf=$TB/slurmd-$NODE.launch.pid
  if [ -s "$pidf" ] && alive "$(cat "$pidf")"; then echo "node.sh: $NODE already running"; exit 0; fi
  mkdir -p "$TB/spool/$NODE"   # slurmd does not create SlurmdSpoolDir=.../%n itself
  if [ "$NS" = - ]; then
    slurmd -D -f "$SLURM_CONF" </dev/null >"$TB/log/slurmd-$NODE.out" 2>&1 &
  else
    # nsenter --net, not `ip netns exec`: the latter remounts /sys, which hides /sys/fs/cgroup,
    # and slurmd 22.05 refuses to start without it. unshare --uts: `hostname` in jobs prints the node.
    nsenter --net="/run/netns/$NS" unshare --uts sh -c \
      "hostname $NODE && exec slurmd -D -N $NODE -f $SLURM_CONF" </dev/null >"$TB/log/slurmd-$NODE.out" 2>&1 &
  fi
  echo $! > "$pidf"
  [ "${4:-}" = --no-wait ] && exit 0
  for _ in $(seq 200); do   # usable = idle/mixed/allocated without '*' (not responding)
    case $(sinfo -h -n "$NODE" -o %T 2>/dev/null) in idle|mixed|allocated) exit 0 ;; esac
    alive "$(cat "$pidf")" || break; sleep 0.05
  done
  echo "node.sh: $NODE did not come back:" >&2; tail -n 5 "$TB/log/slurmd-$NODE.log" >&2; exit 1 ;;
kill) need_ns; p=$(ip netns pids "$NS" | tr '\n' ' '); [ -n "$p" ] && kill -KILL $p 2>/dev/null || true ;;
down) need_ns; ip link set "${VETH_PREFIX}$NODE" down ;;
up)   need_ns; ip link set "${VETH_PREFIX}$NODE" up ;;
pids) need_ns; ip netns pids "$NS" ;;
*) echo "node.sh: unknown action $ACTION" >&2; exit 2 ;;
esac
