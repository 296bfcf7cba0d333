#!/usr/bin/env bash
# node.sh ACTION HOST: start a test host's sshd, or inject a failure of that host.
#
#   start  start its sshd (if not running) and return once it listens
#   stop   graceful: SIGTERM its sshd listener only. New connections are refused at once;
#          sessions already open live on (each is its own sshd child in its own session).
#   kill   crash the host: SIGSTOP, then SIGKILL, its sshd and every process of its sessions
#          (remote commands, managers, workers). Peers see their connections reset at once.
#   down   cut its link. netns mode: the host's veth goes down; packets vanish without a reset,
#          so ssh notices only through ConnectTimeout (5 s) or ServerAliveInterval x
#          ServerAliveCountMax (15-20 s), and the host's processes keep running, like a real
#          partitioned node. loopback mode: with iptables installed, DROP rules for the host's
#          address and port (same effect); without iptables, the sshd listener is stopped
#          instead (new connections are refused at once, open sessions keep working) and a
#          warning says so.
#   up     undo down; returns once the host answers TCP again (up to 6 s)
#   pids   print the PIDs of everything running "on" the host, one a line: its sshd and every
#          session process below it. netns mode: every process in its namespace. loopback mode:
#          the sshd's process tree plus every process whose environment has
#          SPRIG_TESTBED_HOST=HOST (so session processes whose parent died are still found).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"

usage="usage: node.sh start|stop|kill|down|up|pids HOST"
ACTION=${1:?$usage}
H=${2:?$usage}
[ -f "$TB/hosts.tsv" ] || { echo "node.sh: no test bed in $TB (run up.sh)" >&2; exit 1; }
ADDR=$(host_field "$H" 2) || { echo "node.sh: unknown host $H" >&2; exit 1; }
PORT=$(host_field "$H" 3)
NS=$(host_field "$H" 4)
D=$TB/$H
VETH=$VETH_PREFIX$H

host_pids() {
  local pid
  {
    if [ "$NS" != - ]; then
      ip netns pids "$NS" 2>/dev/null || true
    else
      if pid=$(sshd_pid "$H"); then descendants "$pid"; fi
      # session processes reparented away from sshd still carry the variable sshd set
      grep -lzx "SPRIG_TESTBED_HOST=$H" /proc/[0-9]*/environ 2>/dev/null | cut -d/ -f3 || true
    fi
  } | sort -un | while read -r pid; do
    if [ "$pid" != $$ ] && alive "$pid"; then echo "$pid"; fi
  done
}

reachable() {   # a TCP connect gets an answer (accepted or refused) within 0.3 s
  local rc=0
  timeout 0.3 bash --norc -c ": </dev/tcp/$ADDR/$PORT" </dev/null >/dev/null 2>&1 || rc=$?
  [ "$rc" != 124 ]
}

case $ACTION in
start)
  if sshd_pid "$H" >/dev/null; then exit 0; fi
  rm -f "$D/sshd.pid"
  # setsid: its own session, so a Ctrl-C or hang-up aimed at the caller does not reach it.
  # Every step of the chain execs the next (sh execs sshd after `hostname`), so no wrapper
  # process is left; the PidFile names sshd itself.
  if [ "$NS" != - ]; then
    setsid ip netns exec "$NS" unshare --uts sh -c 'hostname "$1" && exec "$2" -D -f "$3" -E "$4"' \
        sh "$H" "$SSHD" "$D/sshd_config" "$D/sshd.log" </dev/null >>"$D/sshd.log" 2>&1 &
  else
    setsid "$SSHD" -D -f "$D/sshd_config" -E "$D/sshd.log" </dev/null >>"$D/sshd.log" 2>&1 &
  fi
  launcher=$!
  # sshd writes its PidFile only once its socket is bound: the file means "listening"
  for _ in $(seq 500); do
    if [ -s "$D/sshd.pid" ] && alive "$(cat "$D/sshd.pid")"; then exit 0; fi
    alive "$launcher" || [ -s "$D/sshd.pid" ] || break
    sleep 0.01
  done
  echo "node.sh: sshd of $H did not start; end of $D/sshd.log:" >&2
  tail -5 "$D/sshd.log" >&2
  exit 1 ;;

stop)
  if pid=$(sshd_pid "$H"); then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 200); do alive "$pid" || break; sleep 0.01; done
  fi
  rm -f "$D/sshd.pid" ;;

kill)
  # Freeze first, then kill: a stopped process can neither fork nor be reaped (which would
  # reparent its children out of the sshd tree in loopback mode). Re-list until nothing new
  # shows up: a child forked between the listing and the SIGSTOP of its parent is caught then.
  killed=" "
  for _ in 1 2 3 4 5 6 7 8; do
    new=""
    for pid in $(host_pids); do
      case $killed in *" $pid "*) ;; *) new="$new $pid" ;; esac
    done
    [ -z "$new" ] && break
    kill -STOP $new 2>/dev/null || true
    killed="$killed${new# } "
  done
  if [ "$killed" != " " ]; then kill -KILL $killed 2>/dev/null || true; fi
  for _ in $(seq 200); do [ -z "$(host_pids)" ] && break; sleep 0.01; done
  rm -f "$D/sshd.pid" ;;

down)
  if [ "$NS" != - ]; then
    ip link set "$VETH" down
  elif command -v iptables >/dev/null 2>&1; then
    iptables -I INPUT -d "$ADDR" -p tcp --dport "$PORT" -m comment --comment "sprig-testbed-$H" -j DROP
    iptables -I INPUT -s "$ADDR" -p tcp --sport "$PORT" -m comment --comment "sprig-testbed-$H" -j DROP
    echo iptables > "$D/link-down"
  else
    echo "node.sh: loopback mode without iptables: 'down' stops $H's sshd instead (new connections are refused, open sessions continue)" >&2
    "$0" stop "$H"
    echo stopped > "$D/link-down"
  fi ;;

up)
  if [ "$NS" != - ]; then
    ip link set "$VETH" up
  elif [ -f "$D/link-down" ]; then
    case $(cat "$D/link-down") in
      iptables)
        while iptables -D INPUT -d "$ADDR" -p tcp --dport "$PORT" -m comment --comment "sprig-testbed-$H" -j DROP 2>/dev/null; do :; done
        while iptables -D INPUT -s "$ADDR" -p tcp --sport "$PORT" -m comment --comment "sprig-testbed-$H" -j DROP 2>/dev/null; do :; done ;;
      stopped) "$0" start "$H" ;;
    esac
    rm -f "$D/link-down"
  fi
  # the bridge port takes a moment to forward again
  for _ in $(seq 20); do reachable && exit 0; done
  echo "node.sh: $H still unreachable after link up" >&2
  exit 1 ;;

pids) host_pids ;;

*) echo "node.sh: unknown action $ACTION; $usage" >&2; exit 2 ;;
esac
