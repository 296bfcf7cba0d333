#!/usr/bin/env bash
# Stops Sprig's SSH test bed: the ssh connection-sharing masters, then on every host its sshd and
# every process of its sessions (by PID: SIGTERM, then SIGKILL after 2 s), the namespaces, veths
# and bridge, and finally the state folder. Safe to run when nothing is up, and after a crash
# (leftover namespaces, veths, bridge and sshd processes of this test bed are found by their
# names and by the config path on their command line).
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"

ours=0
[ -e "$TB/$MARKER" ] && ours=1

# stop_pids PID...: SIGTERM, wait up to 2 s, SIGKILL what is left, wait up to 2 s more.
living() { local pid; for pid in "$@"; do if alive "$pid"; then echo "$pid"; fi; done; }
stop_pids() {
  [ $# -gt 0 ] || return 0
  kill -TERM "$@" 2>/dev/null
  local left _
  for _ in $(seq 200); do
    left=$(living "$@")
    [ -z "$left" ] && return 0
    sleep 0.01
  done
  # shellcheck disable=SC2086
  kill -KILL $left 2>/dev/null
  for _ in $(seq 200); do
    # shellcheck disable=SC2086
    [ -z "$(living $left)" ] && return 0
    sleep 0.01
  done
  echo "ssh testbed: processes still alive after SIGKILL: $left" >&2
}

# --- 1. connection-sharing masters (client side, in this namespace) ---------------------------
if [ "$ours" = 1 ]; then
  for sock in "$TB"/cm-*; do
    [ -S "$sock" ] || continue
    pid=$(ssh -F /dev/null -o ControlPath="$sock" -O check sprig-testbed 2>&1 | sed -n 's/.*pid=\([0-9]*\).*/\1/p')
    ssh -F /dev/null -o ControlPath="$sock" -O exit sprig-testbed >/dev/null 2>&1
    if [ -n "$pid" ]; then stop_pids "$pid"; fi
    rm -f "$sock"
  done
fi

# --- 2. hosts listed in hosts.tsv -------------------------------------------------------------
if [ "$ours" = 1 ] && [ -f "$TB/hosts.tsv" ]; then
  while IFS=$'\t' read -r h addr port ns; do
    # shellcheck disable=SC2046
    stop_pids $("$HERE/node.sh" pids "$h")
    if [ "$(cat "$TB/$h/link-down" 2>/dev/null)" = iptables ]; then
      while iptables -D INPUT -d "$addr" -p tcp --dport "$port" -m comment --comment "sprig-testbed-$h" -j DROP 2>/dev/null; do :; done
      while iptables -D INPUT -s "$addr" -p tcp --sport "$port" -m comment --comment "sprig-testbed-$h" -j DROP 2>/dev/null; do :; done
    fi
  done < "$TB/hosts.tsv"
fi

# --- 3. namespaces, veths, bridge (also leftovers of a run whose state folder is gone) --------
for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep -E "^${NS_PREFIX}host[A-H]\$"); do
  # shellcheck disable=SC2046
  stop_pids $(ip netns pids "$ns" 2>/dev/null)
  h=${ns#"$NS_PREFIX"}
  ip link del "$VETH_PREFIX$h" 2>/dev/null   # removes both ends at once (netns deletion is lazy)
  ip netns del "$ns" 2>/dev/null
done
for veth in $(ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | cut -d@ -f1 | grep -E "^${VETH_PREFIX}host[A-H]\$"); do
  ip link del "$veth" 2>/dev/null
done
ip link del "$BRIDGE" 2>/dev/null

# --- 4. any sshd still running with a config of this test bed (crash leftovers) ---------------
strays=()
for cmdline in /proc/[0-9]*/cmdline; do
  pid=${cmdline#/proc/}; pid=${pid%/cmdline}
  args=$(tr '\0' ' ' < "$cmdline" 2>/dev/null) || continue
  case $args in "$SSHD "*"-f $TB/host"*"/sshd_config"*) alive "$pid" && strays+=("$pid") ;; esac
done
stop_pids ${strays[@]+"${strays[@]}"}

# --- 5. state folder ---------------------------------------------------------------------------
if [ "$ours" = 1 ]; then
  rm -rf "$TB"
  echo "ssh testbed down"
else
  echo "ssh testbed: nothing was up in $TB"
fi
