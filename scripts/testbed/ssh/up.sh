#!/usr/bin/env bash
# Starts Sprig's SSH test bed: N fake hosts (hostA, hostB, hostC by default), each an sshd of its
# own with its own config and freshly generated host key, reachable without any prompt as
#
#     . "${SPRIG_TESTBED_DIR:-/tmp/sprig-testbed}/env.sh"
#     ssh -F "$SPRIG_SSH_CONFIG" hostA python3 -c 'print(1)'
#
# Modes (SPRIG_TESTBED_MODE=auto|netns|loopback, auto = netns when `ip netns add` is permitted):
#   netns     each host is a network namespace sprig-hostX with its own address 10.200.9.1X on a
#             private bridge sprig-br0 (10.200.9.1 is this side), its own hostname (UTS namespace)
#             and its own sshd on port 2222. The bridge has no physical port, the namespaces no
#             default route, nothing is forwarded or NATed: traffic cannot leave the machine.
#   loopback  each host is an sshd on 127.0.9.1X:2222; hostname is the machine's own there, so
#             remote commands should use $SPRIG_TESTBED_HOST (set by every host's sshd).
#
# Usage:  up.sh [N]          N = 1..8 hosts (default 3)
# Env:    SPRIG_TESTBED_DIR (default /tmp/sprig-testbed), SPRIG_TESTBED_MODE,
#         SPRIG_TESTBED_SUBNET (default 10.200.9: a /24 not routed on this machine)
# Writes: env.sh (source it), hosts.tsv, ssh_config, ssh_config.mux, known_hosts, id_ed25519,
#         <host>/{sshd_config,host_ed25519,sshd.pid,sshd.log,bin/}
# Needs:  root; installs openssh-server, openssh-client and iproute2 with apt when missing.
# Idempotent: a second run stops the first test bed (down.sh) and starts a clean new one.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"

N=${1:-3}
MODE=${SPRIG_TESTBED_MODE:-auto}
NET=${SPRIG_TESTBED_SUBNET:-10.200.9}
PORT=2222
[[ $N =~ ^[1-8]$ ]] || { echo "up.sh: N must be 1..8" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || { echo "up.sh: must run as root (sshd, namespaces)" >&2; exit 1; }
now() { date +%s.%N; }
t0=$(now)

# --- 1. packages ----------------------------------------------------------------------------
# sshd and ssh-keygen (openssh-server/-client), ip (iproute2). unshare and setsid come with
# util-linux, which every Debian has.
missing=()
[ -x "$SSHD" ] || missing+=(openssh-server)
command -v ssh >/dev/null && command -v ssh-keygen >/dev/null || missing+=(openssh-client)
command -v ip >/dev/null || missing+=(iproute2)
if [ ${#missing[@]} -gt 0 ]; then
  echo "up.sh: installing ${missing[*]}"
  # A policy-rc.d exiting 101 stops the package scripts from starting the *system* sshd on port
  # 22 (this machine has no init system to manage it, and it would listen on every address).
  made_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\n# temporary, written by sprig scripts/testbed/ssh/up.sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod 0755 /usr/sbin/policy-rc.d
    made_policy=1
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  apt_install() { DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null; }
  # apt-get update only when an install is needed, and only when the package lists are absent
  # or too old to install from (then the first attempt fails at once).
  if ! ls /var/lib/apt/lists/*_Packages* >/dev/null 2>&1 || ! apt_install 2>/dev/null; then
    apt-get update -q >/dev/null
    apt_install
  fi
  if [ "$made_policy" = 1 ]; then rm -f /usr/sbin/policy-rc.d; trap - EXIT; fi
fi
t_pkg=$(now)

# --- 2. clean slate -------------------------------------------------------------------------
"$HERE/down.sh" >/dev/null   # safe when nothing is up; leaves a folder that is not ours alone
# What down.sh leaves is gone; the Slurm test beds' cluster folders (their logs, kept for
# inspection by their down.sh) may share the folder.
foreign=""
if [ -d "$TB" ]; then
  for entry in "$TB"/* "$TB"/.[!.]*; do
    [ -e "$entry" ] || continue
    [ -d "$entry" ] && [ -f "$entry/.sprig-slurm-testbed" ] && continue
    foreign="$foreign $entry"
  done
fi
if [ -n "$foreign" ] || { [ -e "$TB" ] && [ ! -d "$TB" ]; }; then
  echo "up.sh: $TB exists and is not a test bed folder; not touching it (set SPRIG_TESTBED_DIR)" >&2
  exit 1
fi
mkdir -p "$TB"
chmod 0700 "$TB"
: > "$TB/$MARKER"
# sshd's privilege-separation folder; only the package's service start would create it.
mkdir -p /run/sshd && chmod 0755 /run/sshd

# --- 3. mode --------------------------------------------------------------------------------
if [ "$MODE" = auto ]; then
  if ip netns add "${NS_PREFIX}probe$$" 2>/dev/null; then
    ip netns del "${NS_PREFIX}probe$$"
    MODE=netns
  else
    MODE=loopback
  fi
fi
case $MODE in netns|loopback) ;; *) echo "up.sh: unknown mode $MODE" >&2; exit 2 ;; esac
if [ "$MODE" = netns ] && ip -4 addr show | grep -q " inet $NET\."; then
  echo "up.sh: $NET.0/24 is already in use on this machine; set SPRIG_TESTBED_SUBNET" >&2
  exit 1
fi

# Root's password field must not be locked ('!...') for key logins without PAM; when it is,
# use PAM (which accepts the key and never asks for the password).
use_pam=no
if [ "$(getent shadow root | cut -d: -f2 | cut -c1)" = '!' ]; then use_pam=yes; fi

# --- 4. keys and configs --------------------------------------------------------------------
ssh-keygen -q -t ed25519 -N '' -C sprig-testbed-client -f "$TB/id_ed25519"
cp "$TB/id_ed25519.pub" "$TB/authorized_keys"

if [ "$MODE" = netns ]; then
  SUBMIT=$NET.1
  ip link add "$BRIDGE" type bridge
  ip addr add "$SUBMIT/24" dev "$BRIDGE"
  ip link set "$BRIDGE" up
else
  SUBMIT=127.0.0.1
fi

# The PATH of every remote command: the host's own bin folder first (empty unless a test puts
# something there), then the system PATH Debian's sshd gives root.
SYSTEM_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

: > "$TB/known_hosts"
: > "$TB/hosts.tsv"
echo "# Sprig SSH test bed ($MODE mode), written by scripts/testbed/ssh/up.sh" > "$TB/ssh_config"
names=()
for i in $(seq 0 $((N - 1))); do
  h=${HOST_NAMES[$i]}
  names+=("$h")
  d=$TB/$h
  mkdir -p "$d/bin"
  if [ "$MODE" = netns ]; then addr=$NET.$((11 + i)); ns=$NS_PREFIX$h; else addr=127.0.9.$((11 + i)); ns=-; fi
  ssh-keygen -q -t ed25519 -N '' -C "$h" -f "$d/host_ed25519"

  # Key-only root login on this host's own address.
  #  UsePAM no      keeps Debian's PAM session stack (pam_loginuid breaks in many containers)
  #                 out of every login.
  #  StrictModes no the keys live under /tmp, whose mode 1777 StrictModes refuses.
  #  SetEnv         PYENV_VERSION=system: a worker_init that sources ~/.profile (and so root's
  #                 ~/.bashrc, which puts pyenv's shims first on PATH) still finds Debian's python3,
  #                 as a host without pyenv would.
  #  SetEnv         SHLVL=1: bash, run by sshd for `ssh host cmd`, then skips root's ~/.bashrc
  #                 (pyenv init: +100-250 ms on every remote command, and `python3` would be the
  #                 pyenv shim). PATH: this host's bin folder first (see env.sh). SetEnv is
  #                 applied after sshd's default PATH, so it wins.
  #  PidFile        written once the socket is bound: node.sh waits for it.
  cat > "$d/sshd_config" <<EOF
Port $PORT
ListenAddress $addr
HostKey $d/host_ed25519
PidFile $d/sshd.pid
AuthorizedKeysFile $TB/authorized_keys
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM $use_pam
StrictModes no
UseDNS no
PrintMotd no
PrintLastLog no
PermitUserEnvironment no
SetEnv SHLVL=1 SPRIG_TESTBED_HOST=$h PATH=$d/bin:$SYSTEM_PATH PYENV_VERSION=system
MaxStartups 100:30:200
MaxSessions 100
ClientAliveInterval 5
ClientAliveCountMax 3
Subsystem sftp internal-sftp
EOF

  if [ "$MODE" = netns ]; then
    ip netns add "$ns"
    # a veth pair: $VETH_PREFIX$h stays here on the bridge, its peer is eth0 inside the host
    ip link add "$VETH_PREFIX$h" type veth peer name eth0 netns "$ns"
    ip link set "$VETH_PREFIX$h" master "$BRIDGE" up
    ip -n "$ns" link set lo up
    ip -n "$ns" addr add "$addr/24" dev eth0
    ip -n "$ns" link set eth0 up
  fi
  printf '%s\t%s\t%s\t%s\n' "$h" "$addr" "$PORT" "$ns" >> "$TB/hosts.tsv"
  # the real host key under both names, so StrictHostKeyChecking yes never prompts
  echo "[$addr]:$PORT,[$h]:$PORT $(cut -d' ' -f1,2 "$d/host_ed25519.pub")" >> "$TB/known_hosts"
  printf 'Host %s\n  HostName %s\n' "$h" "$addr" >> "$TB/ssh_config"
done

# KexAlgorithms: curve25519 first saves ~70 ms of CPU per new connection against the default
# post-quantum sntrup761 exchange; it is not a security shortcut (host keys are still checked).
cat >> "$TB/ssh_config" <<EOF
Host *
  Port $PORT
  User root
  IdentityFile $TB/id_ed25519
  IdentitiesOnly yes
  IdentityAgent none
  BatchMode yes
  StrictHostKeyChecking yes
  UserKnownHostsFile $TB/known_hosts
  GlobalKnownHostsFile /dev/null
  CheckHostIP no
  UpdateHostKeys no
  KexAlgorithms curve25519-sha256,curve25519-sha256@libssh.org,sntrup761x25519-sha512@openssh.com
  LogLevel ERROR
  ConnectTimeout 5
  ServerAliveInterval 5
  ServerAliveCountMax 3
EOF
# The same hosts through one shared connection per host: the first ssh starts a master that
# stays for ControlPersist seconds; later ones open a channel on it (~10 ms instead of ~200).
cat > "$TB/ssh_config.mux" <<EOF
# Sprig SSH test bed, connection sharing (down.sh stops the masters)
Host *
  ControlMaster auto
  ControlPath $TB/cm-%C
  ControlPersist 600
Include $TB/ssh_config
EOF

# A Python of another minor version than Debian's 3.11, for version-mismatch tests (pyenv's,
# when this machine image has it). Empty when there is none.
other_python=""
other_version=""
for candidate in /root/.pyenv/versions/3.12*/bin/python3 /root/.pyenv/versions/3.13*/bin/python3 \
                 /root/.pyenv/versions/3.10*/bin/python3 /root/.pyenv/versions/3.*/bin/python3 \
                 /usr/bin/python3.1[02-9] /usr/local/bin/python3.1[02-9]; do
  [ -x "$candidate" ] || continue
  version=$("$candidate" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null) || continue
  if [ "$version" != 3.11 ]; then other_python=$candidate; other_version=$version; break; fi
done

hosts_list=${names[*]}
{
  echo "# Sprig SSH test bed ($MODE mode), written by scripts/testbed/ssh/up.sh; source it."
  echo "export SPRIG_TESTBED_DIR=$TB"
  echo "export SPRIG_SSH_MODE=$MODE"
  echo "export SPRIG_SSH_HOSTS=\"$hosts_list\""
  echo "# ssh -F \$SPRIG_SSH_CONFIG hostA CMD; the _MUX config shares one connection per host"
  echo "export SPRIG_SSH_CONFIG=$TB/ssh_config"
  echo "export SPRIG_SSH_CONFIG_MUX=$TB/ssh_config.mux"
  echo "# the client key (OpenSSH ed25519) for user root, and the hosts' real keys (StrictHostKeyChecking yes)"
  echo "export SPRIG_SSH_KEY=$TB/id_ed25519"
  echo "export SPRIG_SSH_KNOWN_HOSTS=$TB/known_hosts"
  echo "export SPRIG_SSH_USER=root"
  echo "export SPRIG_SSH_PORT=$PORT"
  echo "# one line per host: name, address, port, namespace (- in loopback mode), tab-separated"
  echo "export SPRIG_SSH_HOSTS_TSV=$TB/hosts.tsv"
  echo "# this side's address as the hosts reach it (a server for them must listen there)"
  echo "export SPRIG_SSH_SUBMIT_ADDR=$SUBMIT"
  echo "# failure injection: \$SPRIG_SSH_NODE start|stop|kill|down|up|pids HOST"
  echo "export SPRIG_SSH_NODE=$HERE/node.sh"
  echo "#"
  echo "# Remote commands run as root with /bin/bash -c, without ~/.bashrc (sshd SetEnv SHLVL=1),"
  echo "# in \$HOME=/root, with PATH = <that host's bin folder>:$SYSTEM_PATH,"
  echo "# so \`python3\` on a host is Debian's /usr/bin/python3 (3.11) unless the host's bin folder"
  echo "# holds a python3. No PYTHONPATH is set there: \`import sprig\` fails on every host unless the"
  echo "# command sets PYTHONPATH itself. The hosts share this machine's file system and processes;"
  echo "# only the network, the hostname (netns mode) and PATH differ."
  echo "#"
  echo "# SPRIG_SSH_HOST_BIN_<HOST>: the folder that comes first on that host's PATH (sshd SetEnv"
  echo "# PATH=...), empty after up.sh. Put a python3 there to give that host, and only that host,"
  echo "# another interpreter, e.g."
  echo "#   ln -s \"\$SPRIG_SSH_OTHER_PYTHON\" \"\$SPRIG_SSH_HOST_BIN_hostC/python3\""
  echo "# and remove it to go back. It applies from the next remote command on; no restart is needed."
  for h in "${names[@]}"; do echo "export SPRIG_SSH_HOST_BIN_$h=$TB/$h/bin"; done
  echo "#"
  echo "# A python3 of another minor version than 3.11 found on this machine (pyenv's), for"
  echo "# version-mismatch tests; empty when there is none:"
  echo "export SPRIG_SSH_OTHER_PYTHON=$other_python"
  echo "export SPRIG_SSH_OTHER_PYTHON_VERSION=$other_version"
} > "$TB/env.sh"

# --- 5. start every sshd (node.sh start returns once it listens) ----------------------------
for h in "${names[@]}"; do "$HERE/node.sh" start "$h"; done
t1=$(now)
awk -v m="$MODE" -v h="$hosts_list" -v s="$SUBMIT" -v a="$t0" -v b="$t_pkg" -v c="$t1" -v tb="$TB" 'BEGIN {
  printf "ssh testbed up: %s mode, hosts %s, this side %s (packages %.1f s, start %.2f s)\n", m, h, s, b - a, c - b
  printf "use: . %s/env.sh; ssh -F \"$SPRIG_SSH_CONFIG\" hostA python3 -V\n", tb }'
