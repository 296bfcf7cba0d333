#!/usr/bin/env bash
# Starts a Slurm test cluster on this machine: munged, slurmctld and slurmd started by hand (no
# systemd), as root, with no accounting database and no cgroup enforcement. State, logs and the
# munge socket live in the cluster's folder; /etc is not touched: clients find the cluster
# through SLURM_CONF (source <folder>/env.sh). Debian 12 packages: Slurm 22.05, munge 0.5.15.
#
# Usage:  up.sh local      one node: this machine itself (NodeName = hostname -s, 127.0.0.1)
#         up.sh netns [N]  N nodes node1..N (default 3), each a network namespace with its own
#                          address on a private bridge; every node advertises all CPUs
# Both may run at once (see lib.sh for folders, ports and addresses).
# Env:    SPRIG_TESTBED_DIR (default /tmp/sprig-testbed), SPRIG_SLURM_SUBNET (default 10.200.8),
#         SPRIG_SLURMD_TIMEOUT (default 10 s: a dead node is DOWN and its jobs NODE_FAIL after about this)
# Writes: <folder>/env.sh: SLURM_CONF, SPRIG_SLURM_NODES, SPRIG_SLURM_SUBMIT_ADDR, SPRIG_SLURM_NODE_SH
# Idempotent: a second run stops that cluster first and starts a clean one.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
KIND=${1:-local}
N=${2:-3}
case $KIND in
  local) N=0; CTLPORT=6917 ;;
  netns) [[ $N =~ ^[1-9]$ ]] || { echo "up.sh: N must be 1..9" >&2; exit 2; }; CTLPORT=6927 ;;
  *) echo "usage: up.sh local | up.sh netns [N]" >&2; exit 2 ;;
esac
[ "$(id -u)" -eq 0 ] || { echo "up.sh: must run as root (slurmd, namespaces)" >&2; exit 1; }
TB=$(cluster_dir "$KIND")
t0=$(date +%s.%N)

# --- 1. packages (a policy-rc.d that exits 101 stops apt from starting the system services) --
if [ ! -x /usr/sbin/slurmctld ] || [ ! -x /usr/sbin/slurmd ] || [ ! -x /usr/sbin/munged ] || ! command -v sbatch >/dev/null; then
  made_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; made_policy=1
  fi
  install() { DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
      slurmctld slurmd slurm-client munge iproute2 >/dev/null; }
  if ! install 2>/dev/null; then apt-get update -q >/dev/null; install; fi
  if [ "$made_policy" = 1 ]; then rm -f /usr/sbin/policy-rc.d; fi
fi
t_pkg=$(date +%s.%N)

# --- 2. clean slate (only a folder this script made is wiped) ---------------------------------
if [ -e "$TB" ]; then
  [ -f "$TB/$MARKER" ] || { echo "up.sh: $TB exists and is not a Slurm test bed; not touching it" >&2; exit 1; }
  "$HERE/down.sh" "$KIND" >/dev/null || true
  rm -rf "$TB"
fi
mkdir -p "$TB/state" "$TB/spool" "$TB/log"
touch "$TB/$MARKER"
# munged wants "execute permissions for all" on every folder above its socket, which a private
# SPRIG_TESTBED_DIR (0700) does not give: its folder lives in /tmp, named after this cluster's.
MUNGE=$(munge_dir "$TB")
rm -rf "$MUNGE"; mkdir -p "$MUNGE"; chmod 0755 "$MUNGE"
ln -s "$MUNGE" "$TB/munge"

# --- 3. munge: a fresh key and a private socket (reachable from every network namespace) ------
mungekey --create --keyfile="$MUNGE/munge.key"
munged --socket="$MUNGE/munge.socket" --key-file="$MUNGE/munge.key" \
       --log-file="$MUNGE/munged.log" --pid-file="$MUNGE/munged.pid" \
       --seed-file="$MUNGE/munged.seed"

# --- 4. nodes --------------------------------------------------------------------------------
CPUS=$(nproc)
MEM=$(awk '/MemTotal/ { printf "%d", $2 / 1024 * 0.9 }' /proc/meminfo)
: > "$TB/nodes.tsv"
if [ "$N" = 0 ]; then
  NODE=$(hostname -s)
  CTLD=127.0.0.1
  NODELINE="NodeName=$NODE NodeAddr=127.0.0.1 CPUs=$CPUS RealMemory=$MEM State=UNKNOWN"
  printf '%s\t127.0.0.1\t-\n' "$NODE" >> "$TB/nodes.tsv"
else
  if ip route show | grep -q "^$NET\.0/24"; then
    echo "up.sh: $NET.0/24 is already routed on this machine; set SPRIG_SLURM_SUBNET" >&2; exit 1
  fi
  CTLD=$NET.1
  ip link add "$BRIDGE" type bridge; ip addr add "$CTLD/24" dev "$BRIDGE"; ip link set "$BRIDGE" up
  for i in $(seq 1 "$N"); do
    ns=${NS_PREFIX}node$i
    ip netns add "$ns"
    ip link add "${VETH_PREFIX}node$i" type veth peer name eth0 netns "$ns"
    ip link set "${VETH_PREFIX}node$i" master "$BRIDGE" up
    ip -n "$ns" link set lo up
    ip -n "$ns" addr add "$NET.$((10+i))/24" dev eth0
    ip -n "$ns" link set eth0 up
    printf 'node%s\t%s\t%s\n' "$i" "$NET.$((10+i))" "$ns" >> "$TB/nodes.tsv"
  done
  NODELINE="NodeName=node[1-$N] NodeAddr=$NET.[11-$((10+N))] CPUs=$CPUS RealMemory=$((MEM / N)) State=UNKNOWN"
fi

# --- 5. slurm.conf -----------------------------------------------------------------------------
cat > "$TB/slurm.conf" <<CONF
ClusterName=sprig$KIND
SlurmctldHost=$(hostname -s)($CTLD)
SlurmctldPort=$CTLPORT
SlurmdPort=$((CTLPORT + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$MUNGE/munge.socket
CredType=cred/munge
StateSaveLocation=$TB/state
SlurmdSpoolDir=$TB/spool/%n
SlurmctldPidFile=$TB/slurmctld.pid
SlurmdPidFile=$TB/slurmd-%n.pid
SlurmctldLogFile=$TB/log/slurmctld.log
SlurmdLogFile=$TB/log/slurmd-%n.log
# no cgroups, no accounting (slurmd still needs /sys/fs/cgroup mounted to start, see node.sh)
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SwitchType=switch/none
MpiDefault=none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
# test-friendly timings: batch jobs start within ~1 s of sbatch (the default batch_sched_delay=3
# waits up to 3 s); a dead node is DOWN after ~SlurmdTimeout and comes back by itself when its
# slurmd registers again; scancel escalates SIGTERM to SIGKILL after 2 s
SchedulerParameters=batch_sched_delay=0
SlurmdTimeout=${SPRIG_SLURMD_TIMEOUT:-10}
ReturnToService=2
KillWait=2
MinJobAge=300
MailProg=/bin/true
$NODELINE
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF

cat > "$TB/env.sh" <<ENV
export SLURM_CONF=$TB/slurm.conf
export SPRIG_SLURM_DIR=$TB
export SPRIG_SLURM_NODES="$(cut -f1 "$TB/nodes.tsv" | tr '\n' ' ' | sed 's/ $//')"
export SPRIG_SLURM_SUBMIT_ADDR=$CTLD   # the address where jobs reach the submit side
export SPRIG_SLURM_NODE_SH=$HERE/node.sh
ENV
export SLURM_CONF=$TB/slurm.conf

# --- 6. daemons (-D: foreground, so $! is the daemon's PID) ----------------------------------
slurmctld -D -i -f "$TB/slurm.conf" </dev/null >"$TB/log/slurmctld.out" 2>&1 &
echo $! > "$TB/slurmctld.launch.pid"
for n in $(cut -f1 "$TB/nodes.tsv"); do "$HERE/node.sh" "$KIND" start "$n" --no-wait; done

# --- 7. wait until every node is idle --------------------------------------------------------
st=""
for _ in $(seq 300); do
  st=$(sinfo -h -o %T 2>/dev/null | sort -u | tr '\n' ' ' || true)
  [ "$st" = "idle " ] && break
  sleep 0.1
done
if [ "$st" != "idle " ]; then
  echo "slurm testbed ($KIND): nodes are '$st', not idle, after 30 s" >&2
  tail -n 5 "$TB"/log/*.log >&2; exit 1
fi
t1=$(date +%s.%N)
awk -v k="$KIND" -v n="$(cut -f1 "$TB/nodes.tsv" | tr '\n' ' ')" -v a="$t0" -v b="$t_pkg" -v e="$t1" 'BEGIN {
  printf "slurm testbed %s up: nodes %sidle (packages %.1fs, start %.2fs)\n", k, n, b-a, e-b }'
