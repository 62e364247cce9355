# shellcheck shell=bash
# Shared constants and helpers for the Ganeti sandbox scripts (up.sh, down.sh,
# exec.sh, add-host.sh). Sourced, never executed.
# shellcheck disable=SC2034  # constants are used by the scripts that source this

# --- fixed facts of the sandbox --------------------------------------------
readonly NETNS=ganeti0
readonly NODE_NAME=node1.ganeti.test
readonly NODE_IP=198.51.100.10
readonly CLUSTER_NAME=cluster.ganeti.test
readonly CLUSTER_IP=198.51.100.100
readonly MASTER_NETDEV=gnt0
readonly MASTER_NETDEV_PEER=gnt0p
readonly BRIDGE=gnt-br0
readonly NETWORK_NAME=test-net
readonly NETWORK_CIDR=192.0.2.0/24
readonly NETWORK_GATEWAY=192.0.2.1
readonly OS_NAME=noop
readonly NODE_GROUP=default

readonly RAPI_HOST=127.0.0.1
readonly RAPI_PORT=5080
readonly RAPI_USER=ganetimgr
readonly RAPI_PASS=ganetimgr-test-pass
readonly RAPI_RO_USER=readonly
readonly RAPI_RO_PASS=readonly-test-pass

# --- paths -------------------------------------------------------------------
readonly STATE_DIR=/run/ganetimgr-sandbox
readonly UTS_FILE=$STATE_DIR/uts
readonly RAPI_SOCK=$STATE_DIR/rapi.sock
readonly RELAY_IN_PID=$STATE_DIR/relay-inner.pid
readonly RELAY_OUT_PID=$STATE_DIR/relay-outer.pid
readonly LOG_DIR=$STATE_DIR/log
readonly ENV_FILE=$STATE_DIR/env
readonly CERT_COPY=$STATE_DIR/rapi-cert.pem
readonly LOCK_FILE=/run/lock/ganetimgr-sandbox.lock
readonly NETNS_ETC=/etc/netns/$NETNS
readonly NETNS_HOSTS=$NETNS_ETC/hosts

readonly GNT_DATA=/var/lib/ganeti
readonly GNT_RUN=/var/run/ganeti
readonly GNT_SRV=/srv/ganeti
readonly GNT_FILE_STORAGE=$GNT_SRV/file-storage
readonly GNT_SHARED_FILE_STORAGE=$GNT_SRV/shared-file-storage
readonly GNT_OS_DIR=$GNT_SRV/os/$OS_NAME
readonly GNT_FILE_STORAGE_PATHS=/etc/ganeti/file-storage-paths
readonly DAEMON_UTIL=/usr/lib/ganeti/daemon-util

readonly POLICY_RC=/usr/sbin/policy-rc.d
readonly POLICY_RC_SAVED=/var/backups/policy-rc.d.ganetimgr-saved
readonly POLICY_RC_MARK='# ganetimgr-sandbox: temporary, blocks service starts during apt-get install'

# Daemon start order, as daemon-util list-start-daemons prints it for 3.0.2.
# (daemon-util itself is used when it is installed; this is the fallback.)
readonly -a DEFAULT_DAEMONS=(ganeti-noded ganeti-confd ganeti-wconfd ganeti-rapi
  ganeti-luxid ganeti-kvmd ganeti-mond)
# Daemons that are only ever stopped (started on demand by Ganeti itself).
readonly -a ON_DEMAND_DAEMONS=(ganeti-metad)

# --- logging -----------------------------------------------------------------
# All progress goes to stderr: up.sh keeps stdout for the env lines only.
T0=${T0:-$(date +%s%N)}
export T0

elapsed() {
  local now
  now=$(date +%s%N)
  printf '%d.%02d' $(((now - T0) / 1000000000)) $((((now - T0) / 10000000) % 100))
}

log() { printf '[%s %6ss] %s\n' "${SCRIPT_TAG:-sandbox}" "$(elapsed)" "$*" >&2; }
die() {
  printf '[%s %6ss] ERROR: %s\n' "${SCRIPT_TAG:-sandbox}" "$(elapsed)" "$*" >&2
  exit "${DIE_CODE:-1}"
}

require_root() {
  [[ $(id -u) -eq 0 ]] || die "must run as root"
}

# Serialise up.sh/down.sh runs. The lock fd (9) must never leak into the
# long-running processes we start, or the lock would outlive the script: every
# spawn below closes it explicitly.
take_lock() {
  if [[ ${GANETI_SANDBOX_LOCKED:-} == 1 ]]; then
    return 0
  fi
  mkdir -p "$(dirname "$LOCK_FILE")"
  exec 9>"$LOCK_FILE"
  if ! flock -w 600 9; then
    die "could not get $LOCK_FILE within 600s (another up.sh/down.sh running?)"
  fi
  export GANETI_SANDBOX_LOCKED=1
}

# Close every inherited descriptor above stderr. The daemons and relays we start
# outlive this script; they must not keep a caller's pipe open (a CI runner or
# "$(up.sh)" waiting for EOF would hang).
close_inherited_fds() {
  local f fd
  for f in "/proc/$$/fd"/*; do
    fd=${f##*/}
    if [[ $fd =~ ^[0-9]+$ && -e $f ]] && ((fd > 2 && fd < 255)); then
      exec {fd}>&-
    fi
  done
}

# --- running things inside the node ------------------------------------------
# Run a command with the node's hostname (UTS namespace) and network namespace.
in_node() {
  nsenter --uts="$UTS_FILE" -- ip netns exec "$NETNS" "$@"
}

# Note: never "cmd | grep -q" under pipefail: grep -q exits at the first match,
# cmd may then die of SIGPIPE and the pipeline counts as failed. Capture first.
netns_exists() {
  local list name _
  list=$(ip netns list 2>/dev/null) || return 1
  while read -r name _; do
    [[ $name == "$NETNS" ]] && return 0
  done <<<"$list"
  return 1
}

# --- process helpers -----------------------------------------------------------
# A live process (zombies don't count: a killed daemon's zombie keeps its
# /proc entry and name until its parent reaps it).
# (Builtins only: forks are slow on a loaded machine.)
pid_alive() {
  local stat
  [[ -n ${1:-} ]] || return 1
  { read -r stat <"/proc/$1/stat"; } 2>/dev/null || return 1
  stat=${stat##*) }
  [[ -n $stat && ${stat%% *} != [ZX] ]]
}

proc_comm() {
  local comm=''
  { read -r comm <"/proc/$1/comm"; } 2>/dev/null || true
  printf '%s\n' "$comm"
}

# Namespace identity as "net:[4026532...]" strings.
ns_of_pid() {
  readlink "/proc/$1/ns/$2" 2>/dev/null || true
}

ns_of_file() {
  local ino
  ino=$(stat -L -c %i "$2" 2>/dev/null) || return 0
  printf '%s:[%s]\n' "$1" "$ino"
}

# Send TERM to the given PIDs, wait up to $2 deciseconds, then KILL survivors.
kill_pids() {
  local wait_ds=$1
  shift
  local pid left i
  (($# > 0)) || return 0
  for pid in "$@"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for ((i = 0; i < wait_ds; i++)); do
    left=0
    for pid in "$@"; do
      if pid_alive "$pid"; then
        left=1
      fi
    done
    ((left)) || return 0
    sleep 0.1
  done
  for pid in "$@"; do
    kill -KILL "$pid" 2>/dev/null || true
  done
}

daemon_list() {
  if [[ -x $DAEMON_UTIL ]]; then
    "$DAEMON_UTIL" list-start-daemons
  else
    printf '%s\n' "${DEFAULT_DAEMONS[@]}"
  fi
}

# PID of a Ganeti daemon according to its pid file, if that process is alive
# and really is that daemon (comm is the first 15 characters of the name).
daemon_pid() {
  local name=$1 pid
  pid=$(cat "$GNT_RUN/$name.pid" 2>/dev/null) || return 1
  pid=${pid//[^0-9]/}
  pid_alive "$pid" || return 1
  [[ $(proc_comm "$pid") == "${name:0:15}" ]] || return 1
  printf '%s\n' "$pid"
}

# PIDs of socat relays that serve our socket (found by PID file, plus any
# orphan whose command line names our socket: a cut-off run may have lost its
# PID file).
relay_pids() {
  local f pid comm cmd
  for f in "$RELAY_IN_PID" "$RELAY_OUT_PID"; do
    { read -r pid <"$f"; } 2>/dev/null || continue
    if pid_alive "$pid" && [[ $(proc_comm "$pid") == socat ]]; then
      printf '%s\n' "$pid"
    fi
  done
  for f in /proc/[0-9]*/comm; do
    comm=''
    { read -r comm <"$f"; } 2>/dev/null || continue
    [[ $comm == socat ]] || continue
    pid=${f#/proc/}
    pid=${pid%/comm}
    cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || continue
    if [[ $cmd == *"$RAPI_SOCK"* ]]; then
      printf '%s\n' "$pid"
    fi
  done
}

# Every process living in the sandbox's network or UTS namespace.
namespace_pids() {
  local uts_id
  if netns_exists; then
    ip netns pids "$NETNS" 2>/dev/null || true
  fi
  uts_id=$(ns_of_file uts "$UTS_FILE")
  if [[ -n $uts_id ]]; then
    # The links read "uts:[4026532246]"; escape the brackets for -lname.
    uts_id=${uts_id//[/\\[}
    uts_id=${uts_id//]/\\]}
    find /proc -mindepth 3 -maxdepth 3 -path '/proc/[0-9]*/ns/uts' -lname "$uts_id" 2>/dev/null |
      cut -d/ -f3
  fi
  return 0
}

# Stop everything the sandbox runs: daemons (by their pid files), relays (by
# their PIDs), then whatever is left in the namespaces.
stop_sandbox_processes() {
  local name pid
  local -a pids=()
  for name in $(daemon_list) "${ON_DEMAND_DAEMONS[@]}"; do
    if pid=$(daemon_pid "$name"); then
      pids+=("$pid")
    fi
  done
  if ((${#pids[@]})); then
    log "stopping ganeti daemons: ${pids[*]}"
    kill_pids 100 "${pids[@]}"
  fi

  mapfile -t pids < <(relay_pids | sort -u)
  if ((${#pids[@]})); then
    log "stopping socat relays: ${pids[*]}"
    kill_pids 30 "${pids[@]}"
  fi

  mapfile -t pids < <(namespace_pids | sort -u | grep -vx "$$" || true)
  if ((${#pids[@]})); then
    log "stopping leftover processes in the namespaces: ${pids[*]}"
    kill_pids 30 "${pids[@]}"
  fi
  rm -f "$RELAY_IN_PID" "$RELAY_OUT_PID"
  for name in $(daemon_list) "${ON_DEMAND_DAEMONS[@]}"; do
    rm -f "$GNT_RUN/$name.pid"
  done
}

# Forget the cluster: config, ssconf, queue, certificates, runtime files,
# file storage and OS definitions. Ganeti's package files stay.
wipe_cluster_state() {
  log "wiping cluster state ($GNT_DATA, $GNT_RUN, $GNT_SRV)"
  if [[ -d $GNT_DATA ]]; then
    find "$GNT_DATA" -mindepth 1 -delete
  fi
  if [[ -d $GNT_RUN ]]; then
    find "$GNT_RUN" -mindepth 1 -delete
  fi
  rm -rf "$GNT_SRV"
}

# Put back a policy-rc.d that an install cut off halfway may have left behind.
restore_policy_rc() {
  if [[ -f $POLICY_RC ]] && grep -qF "$POLICY_RC_MARK" "$POLICY_RC"; then
    rm -f "$POLICY_RC"
  fi
  if [[ -f $POLICY_RC_SAVED && ! -e $POLICY_RC ]]; then
    mv "$POLICY_RC_SAVED" "$POLICY_RC"
  fi
  return 0
}
