# Shared by up.sh, down.sh, node.sh and check.sh (sourced, not run).
#
# Everything the SSH test bed creates is named here, so the scripts agree and down.sh can find
# it again: the state folder, the namespaces, the veths, the bridge.

TB=${SPRIG_TESTBED_DIR:-/tmp/sprig-testbed}
MARKER=.sprig-ssh-testbed        # up.sh writes it; nothing is deleted from a folder without it
HOST_NAMES=(hostA hostB hostC hostD hostE hostF hostG hostH)
NS_PREFIX=sprig-                 # namespace of hostA: sprig-hostA
VETH_PREFIX=spv-                 # root-side veth of hostA: spv-hostA (interface names: 15 chars max)
BRIDGE=sprig-br0
SSHD=/usr/sbin/sshd              # by absolute path: sshd re-executes itself

case $TB in
  /?*) ;;
  *) echo "ssh testbed: SPRIG_TESTBED_DIR must be an absolute path other than / (got '$TB')" >&2; exit 2 ;;
esac
TB=${TB%/}

# alive PID: the process exists and is not a zombie (PID 1 here reaps orphans late, and
# `kill -0` succeeds on a zombie).
alive() {
  local state
  state=$(ps -o stat= -p "$1" 2>/dev/null) && [ "${state:0:1}" != Z ]
}

# descendants PID: PID and every process below it, parents first (by parent PID, no pgrep).
descendants() {
  echo "$1"
  local child
  for child in $(ps -o pid= --ppid "$1" 2>/dev/null); do descendants "$child"; done
}

# host_field HOST COLUMN: a column of hosts.tsv (2 address, 3 port, 4 namespace or -).
host_field() {
  awk -F'\t' -v h="$1" -v c="$2" '$1 == h { print $c; found = 1 } END { exit !found }' "$TB/hosts.tsv"
}

sshd_pid() {   # the host's sshd listener, if running
  local file=$TB/$1/sshd.pid pid
  [ -s "$file" ] || return 1
  pid=$(cat "$file")
  alive "$pid" && echo "$pid"
}
