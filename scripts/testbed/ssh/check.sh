#!/usr/bin/env bash
# Self-check of the SSH test bed: brings 3 hosts up, runs python3 on each, times one remote
# command with and without connection sharing, injects failures (stop, kill, down/up) and brings
# everything down again, checking that no sshd, session or ssh master of the test bed remains.
# Every wait is bounded. Exit status 0 when every check passed.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"

trap '"$HERE/down.sh" >/dev/null 2>&1' EXIT   # also when a check fails
fail() { echo "check.sh: FAILED: $*" >&2; exit 1; }
ms_since() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }

"$HERE/up.sh" 3
# shellcheck disable=SC1091
. "$TB/env.sh"
S() { ssh -F "$SPRIG_SSH_CONFIG" "$@" </dev/null; }
M() { ssh -F "$SPRIG_SSH_CONFIG_MUX" "$@" </dev/null; }

# --- every host runs python3 (Debian's 3.11), under its own name, without sprig --------------
for h in $SPRIG_SSH_HOSTS; do
  out=$(S "$h" python3 -c "'import sys; print(sys.version)'") || fail "python3 on $h"
  name=$(S "$h" 'echo $SPRIG_TESTBED_HOST $(hostname) $(command -v python3)')
  echo "$h: $out   [$name]"
  case $out in 3.11.*) ;; *) fail "$h runs $out, expected Debian's 3.11" ;; esac
  if S "$h" python3 -c "'import sprig'" 2>/dev/null; then fail "sprig is importable on $h"; fi
done
echo "sprig is not importable on any host (no PYTHONPATH there)"

# --- one host with another python3 in front of its PATH --------------------------------------
if [ -n "$SPRIG_SSH_OTHER_PYTHON" ]; then
  ln -s "$SPRIG_SSH_OTHER_PYTHON" "$SPRIG_SSH_HOST_BIN_hostC/python3"
  c=$(S hostC python3 -c "'import sys; print(\"%d.%d\" % sys.version_info[:2])'")
  b=$(S hostB python3 -c "'import sys; print(\"%d.%d\" % sys.version_info[:2])'")
  rm "$SPRIG_SSH_HOST_BIN_hostC/python3"
  echo "SPRIG_SSH_HOST_BIN_hostC/python3 -> $SPRIG_SSH_OTHER_PYTHON: hostC python3 is $c, hostB still $b"
  [ "$c" = "$SPRIG_SSH_OTHER_PYTHON_VERSION" ] && [ "$b" = 3.11 ] || fail "per-host PATH override"
else
  echo "no python3 of another minor version on this machine: per-host override not exercised"
fi

# --- time of one remote command -------------------------------------------------------------
# mean of 5 after one warm-up; the mux master is opened by the warm-up
timed() {   # timed LABEL CMD... : prints the mean wall time of 5 runs in ms
  local label=$1 t _; shift
  "$@" >/dev/null
  t=$(date +%s%N)
  for _ in 1 2 3 4 5; do "$@" >/dev/null || fail "$label"; done
  printf '  %-48s %6d ms\n' "$label" $(( ($(date +%s%N) - t) / 5000000 ))
}
echo "one remote command on hostA (mean of 5):"
timed "new connection:  ssh hostA true" S hostA true
timed "new connection:  ssh hostA python3 -c pass" S hostA python3 -c pass
timed "multiplexed:     ssh hostA true" M hostA true
timed "multiplexed:     ssh hostA python3 -c pass" M hostA python3 -c pass

# --- failures --------------------------------------------------------------------------------
wait_exit() {   # wait_exit PID SECONDS: waits for a child of this shell; its status -> $rc
  local pid=$1 end=$(( $(date +%s%N) + $2 * 1000000000 ))
  while kill -0 "$pid" 2>/dev/null && alive "$pid"; do
    [ "$(date +%s%N)" -lt "$end" ] || { kill "$pid"; fail "pid $pid still running after $2 s"; }
    sleep 0.01
  done
  rc=0; wait "$pid" || rc=$?
}
wait_for() {    # wait_for SECONDS COMMAND...: until the command succeeds
  local end=$(( $(date +%s%N) + $1 * 1000000000 )); shift
  until "$@"; do [ "$(date +%s%N)" -lt "$end" ] || return 1; sleep 0.02; done
}
remote_running() { "$HERE/node.sh" pids "$1" | xargs -r ps -o args= -p | grep -q "$2"; }

# stop: new connections refused, the running session continues
S hostA 'sleep 2; echo session-survived' > "$TB/stop.out" 2>&1 &
p=$!
wait_for 10 remote_running hostA '^sleep 2' || fail "remote sleep on hostA not found by node.sh pids"
"$HERE/node.sh" stop hostA
rc=0; S -o ConnectTimeout=2 hostA true 2>/dev/null || rc=$?
[ "$rc" = 255 ] || fail "new ssh to stopped hostA: rc $rc"
wait_exit "$p" 10
[ "$rc" = 0 ] && grep -q session-survived "$TB/stop.out" || fail "session on stopped hostA: rc $rc"
"$HERE/node.sh" start hostA
S hostA true || fail "ssh after node.sh start hostA"
echo "node.sh stop hostA: new ssh refused (rc 255), the open session finished normally; start: ok"

# pids + kill: everything of hostB dies, the open session ends with 255, new ones are refused
S hostB 'sleep 60' 2>/dev/null &
p=$!
wait_for 10 remote_running hostB '^sleep 60' || fail "remote sleep on hostB not found by node.sh pids"
n=$("$HERE/node.sh" pids hostB | wc -l)
echo "node.sh pids hostB during 'ssh hostB sleep 60': $n processes ($("$HERE/node.sh" pids hostB | xargs ps -o comm= -p | sort | uniq -c | awk '{printf "%s %s, ", $1, $2}' | sed 's/, $//'))"
t=$(date +%s%N)
"$HERE/node.sh" kill hostB
wait_exit "$p" 10
echo "node.sh kill hostB: the open session ended with rc $rc after $(ms_since "$t") ms; $("$HERE/node.sh" pids hostB | wc -l) processes left on hostB"
[ "$rc" = 255 ] && [ -z "$("$HERE/node.sh" pids hostB)" ] || fail "kill hostB"
t=$(date +%s%N); rc=0; S hostB true 2>/dev/null || rc=$?
echo "  new ssh to the killed hostB: rc $rc after $(ms_since "$t") ms"
[ "$rc" = 255 ] || fail "ssh to killed hostB"
t=$(date +%s%N); "$HERE/node.sh" start hostB; S hostB true || fail "ssh after restart of hostB"
echo "  node.sh start hostB + ssh hostB true: $(ms_since "$t") ms"

# down/up: the link is cut (netns) and restored
t=$(date +%s%N)
"$HERE/node.sh" down hostC 2>&1 | sed 's/^/  /'
rc=0; S -o ConnectTimeout=2 hostC true 2>/dev/null || rc=$?
echo "node.sh down hostC: new ssh (ConnectTimeout 2) rc $rc after $(ms_since "$t") ms"
[ "$rc" = 255 ] || fail "ssh to hostC while down"
t=$(date +%s%N); "$HERE/node.sh" up hostC; S hostC true || fail "ssh after node.sh up hostC"
echo "node.sh up hostC: ssh ok again after $(ms_since "$t") ms"

# --- down: nothing of the test bed remains -----------------------------------------------------
trap - EXIT
t=$(date +%s%N)
"$HERE/down.sh"
echo "down.sh: $(ms_since "$t") ms"
left=""
for cmdline in /proc/[0-9]*/cmdline; do
  args=$(tr '\0' ' ' < "$cmdline" 2>/dev/null) || continue
  case $args in *"$TB/"*) pid=${cmdline#/proc/}; pid=${pid%/cmdline}; alive "$pid" && left="$left $pid:$args" ;; esac
done
[ -z "$left" ] || fail "test bed processes still running:$left"
[ -z "$(ip netns list 2>/dev/null | grep "^$NS_PREFIX")" ] || fail "namespaces left: $(ip netns list)"
! ip link show "$BRIDGE" >/dev/null 2>&1 || fail "bridge $BRIDGE left"
[ ! -e "$TB" ] || fail "$TB left"
echo "after down.sh: no sshd, session or ssh master of the test bed, no namespace, veth or bridge, no $TB"
"$HERE/down.sh"   # a second run is harmless
echo "check.sh: all checks passed"
