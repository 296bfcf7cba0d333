# Shared by up.sh, down.sh and node.sh (sourced, not run).
#
# Two clusters may run at once, each in a folder of its own under $SPRIG_TESTBED_DIR, with its
# own munged, slurmctld, ports and SLURM_CONF:
#   slurm-local  one node: this machine itself (127.0.0.1), ports 6917/6918
#   slurm-netns  nodes node1..N, each a network namespace sprig-nodeN with its own address
#                10.200.8.1N on a private bridge sprig-sbr0 (10.200.8.1 is the submit side),
#                ports 6927/6928
# Everything they create is named here, so the scripts agree and down.sh can find it again.

ROOT=${SPRIG_TESTBED_DIR:-/tmp/sprig-testbed}
case $ROOT in
  /?*) ;;
  *) echo "slurm testbed: SPRIG_TESTBED_DIR must be an absolute path other than / (got '$ROOT')" >&2; exit 2 ;;
esac
ROOT=${ROOT%/}
NET=${SPRIG_SLURM_SUBNET:-10.200.8}
BRIDGE=sprig-sbr0
NS_PREFIX=sprig-           # namespace of node1: sprig-node1
VETH_PREFIX=sps-           # root-side veth of node1: sps-node1
MARKER=.sprig-slurm-testbed

# cluster_dir local|netns
cluster_dir() { echo "$ROOT/slurm-$1"; }

# alive PID: the process exists and is not a zombie (PID 1 reaps orphans late).
alive() { local s; s=$(ps -o stat= -p "$1" 2>/dev/null) && [ "${s:0:1}" != Z ]; }

# stop PID...: SIGTERM, wait up to 10 s, then SIGKILL.
stop_pids() {
  local p left; [ $# -gt 0 ] || return 0
  kill -TERM "$@" 2>/dev/null
  for _ in $(seq 100); do
    left=""; for p in "$@"; do alive "$p" && left="$left $p"; done
    [ -z "$left" ] && return 0; sleep 0.1
  done
  kill -KILL $left 2>/dev/null || true
}

# munge_dir FOLDER: where the cluster in FOLDER keeps munged's socket and key.
munge_dir() { echo "/tmp/sprig-munge-$(echo "$1" | md5sum | cut -c1-12)"; }
