#!/usr/bin/env bash
# Bring up (or repair) the single-node Ganeti 3.0.2 sandbox used by the
# integration tests, and print its connection settings.
#
#   test/ganeti/up.sh           idempotent bring-up / repair (seconds when healthy)
#   test/ganeti/up.sh --fresh   tear down first, then build from scratch
#
# stdout: only KEY=VALUE lines (the same as $STATE_DIR/env), so
#   set -a; eval "$(test/ganeti/up.sh)"; set +a
# works; all progress and timing goes to stderr. Exit status non-zero on failure.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SCRIPT_TAG=up
# shellcheck source=lib.sh
. "$HERE/lib.sh"

# shellcheck disable=SC2054  # the commas are inside flag values
readonly -a INIT_FLAGS=(
  --enabled-hypervisors=fake
  --enabled-disk-templates=diskless,file,sharedfile
  --file-storage-dir="$GNT_FILE_STORAGE"
  --shared-file-storage-dir="$GNT_SHARED_FILE_STORAGE"
  --no-etc-hosts
  --no-ssh-init
  --master-netdev="$MASTER_NETDEV"
  --nic-parameters="mode=bridged,link=$BRIDGE"
  --ipolicy-vcpu-ratio=32
)

ACTIONS=()
RAPI_CODE=
RAPI_BODY=

# --- small helpers -------------------------------------------------------------
# Write $2 (content) to $1 if it differs; rewrites in place (keeps the inode,
# which matters for files bind-mounted into running processes).
write_if_changed() {
  local file=$1 content=$2
  if [[ -f $file ]] && [[ $(<"$file") == "$content" ]]; then
    return 1
  fi
  printf '%s\n' "$content" >"$file"
  return 0
}

# Run a quiet command inside the node, logging its output; on failure show it.
node_run() {
  local logf=$LOG_DIR/$1.log
  shift
  if ! in_node "$@" </dev/null >"$logf" 2>&1 9>&-; then
    sed 's/^/    | /' "$logf" >&2
    return 1
  fi
}

# rapi METHOD PATH [JSON] -> sets RAPI_CODE and RAPI_BODY (write user).
rapi() {
  local out
  local -a args=(-sk --max-time 30 -u "$RAPI_USER:$RAPI_PASS" -X "$1" -w '\n%{http_code}')
  if [[ -n ${3:-} ]]; then
    args+=(-H 'Content-Type: application/json' --data "$3")
  fi
  out=$(curl "${args[@]}" "https://$RAPI_HOST:$RAPI_PORT$2" 2>/dev/null) || out=$'\n000'
  RAPI_CODE=${out##*$'\n'}
  RAPI_BODY=${out%$'\n'*}
}

# json EXPR: evaluate a Python expression over the JSON document "d" in $RAPI_BODY.
json() {
  python3 -c 'import json, sys; d = json.loads(sys.argv[1]); print(eval(sys.argv[2]))' \
    "$RAPI_BODY" "$1"
}

wait_job() {
  local id=${1//[^0-9]/} status deadline=$((SECONDS + 60))
  [[ -n $id ]] || { log "not a job id: $1"; return 1; }
  while ((SECONDS < deadline)); do
    rapi GET "/2/jobs/$id"
    status=$(json 'd.get("status")' 2>/dev/null || echo '?')
    case $status in
      success) return 0 ;;
      error | canceled)
        log "job $id ended $status: $(json 'd.get("opresult")' 2>/dev/null)"
        return 1
        ;;
    esac
    sleep 0.2
  done
  log "job $id did not finish within 60s (last status: $status)"
  return 1
}

# --- steps ---------------------------------------------------------------------
pkg_installed() {
  [[ $(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null) == installed ]]
}

step_packages() {
  local -a missing=()
  local pair
  for pair in ganeti:ganeti socat:socat curl:curl openssl:openssl ssh-keygen:openssh-client \
    ip:iproute2 nsenter:util-linux python3:python3; do
    if [[ ${pair%%:*} == ganeti ]]; then
      pkg_installed ganeti || missing+=(ganeti)
    elif ! command -v "${pair%%:*}" >/dev/null; then
      missing+=("${pair#*:}")
    fi
  done
  restore_policy_rc
  ((${#missing[@]})) || return 0

  log "installing ${missing[*]} (no recommends; service starts blocked by policy-rc.d)"
  if [[ -e $POLICY_RC ]]; then
    mv "$POLICY_RC" "$POLICY_RC_SAVED"
  fi
  trap restore_policy_rc EXIT
  printf '#!/bin/sh\n%s\nexit 101\n' "$POLICY_RC_MARK" >"$POLICY_RC"
  chmod 0755 "$POLICY_RC"

  export DEBIAN_FRONTEND=noninteractive
  local -a apt_install=(apt-get install -y -q --no-install-recommends -o DPkg::Lock::Timeout=300)
  local apt_log=$LOG_DIR/apt.log
  if ! compgen -G '/var/lib/apt/lists/*_Packages*' >/dev/null; then
    log "package lists are empty: apt-get update"
    apt-get update -q >"$apt_log" 2>&1 9>&- || { tail -n 20 "$apt_log" >&2; DIE_CODE=3 die "apt-get update failed"; }
  fi
  if ! "${apt_install[@]}" "${missing[@]}" </dev/null >>"$apt_log" 2>&1 9>&-; then
    log "install failed; apt-get update and retry"
    apt-get update -q >>"$apt_log" 2>&1 9>&- || true
    if ! "${apt_install[@]}" "${missing[@]}" </dev/null >>"$apt_log" 2>&1 9>&-; then
      tail -n 30 "$apt_log" >&2
      restore_policy_rc
      DIE_CODE=3 die "apt-get install ${missing[*]} failed (log: $apt_log)"
    fi
  fi
  restore_policy_rc
  trap - EXIT
  ACTIONS+=(install)
  log "packages installed"
}

cluster_initialised() {
  [[ -s $GNT_DATA/config.data && -s $GNT_DATA/server.pem ]] &&
    [[ $(cat "$GNT_DATA/ssconf_cluster_name" 2>/dev/null) == "$CLUSTER_NAME" ]] &&
    [[ $(cat "$GNT_DATA/ssconf_master_node" 2>/dev/null) == "$NODE_NAME" ]]
}

# A cluster that is not (fully) initialised but left files behind: clear it.
step_clear_broken_state() {
  cluster_initialised && return 0
  if [[ -n $(find "$GNT_DATA" "$GNT_RUN" -mindepth 1 -maxdepth 1 2>/dev/null | head -n 1) ]]; then
    log "found state of an uninitialised or foreign cluster: clearing it"
    stop_sandbox_processes
    wipe_cluster_state
    ACTIONS+=(wipe)
  fi
}

step_host_files() {
  mkdir -p "$STATE_DIR" "$LOG_DIR" "$GNT_FILE_STORAGE" "$GNT_SHARED_FILE_STORAGE" "$GNT_OS_DIR"

  if [[ ! -s /etc/ssh/ssh_host_rsa_key.pub ]]; then
    log "generating ssh host keys (gnt-cluster init records the RSA one)"
    ssh-keygen -A >/dev/null
    ACTIONS+=(ssh-keys)
  fi

  write_if_changed "$GNT_FILE_STORAGE_PATHS" \
    "$(printf '%s\n%s' "$GNT_FILE_STORAGE" "$GNT_SHARED_FILE_STORAGE")" && ACTIONS+=(file-storage-paths)

  # The no-op OS: API 20, every script succeeds (import drains its input).
  local changed=0 script
  write_if_changed "$GNT_OS_DIR/ganeti_api_version" 20 && changed=1
  write_if_changed "$GNT_OS_DIR/parameters.list" \
    "$(printf '%s\n%s' 'root_password Root password (ignored by the no-op OS)' \
      'image Image name (ignored by the no-op OS)')" && changed=1
  for script in create export rename verify; do
    write_if_changed "$GNT_OS_DIR/$script" $'#!/bin/sh\nexit 0' && changed=1
  done
  write_if_changed "$GNT_OS_DIR/import" $'#!/bin/sh\ncat >/dev/null\nexit 0' && changed=1
  chmod 0755 "$GNT_OS_DIR"/{create,import,export,rename,verify}
  ((changed)) && ACTIONS+=(os-noop)
  return 0
}

netns_ok() {
  ip -n "$NETNS" link show lo >/dev/null 2>&1
}

uts_ok() {
  [[ $(nsenter --uts="$UTS_FILE" hostname 2>/dev/null) == "$NODE_NAME" ]]
}

step_namespaces() {
  if ! netns_ok || ! uts_ok; then
    stop_sandbox_processes
  fi
  if ! netns_ok; then
    log "creating network namespace $NETNS"
    ip netns delete "$NETNS" 2>/dev/null || rm -f "/run/netns/$NETNS"
    ip netns add "$NETNS"
    ACTIONS+=(netns)
  fi
  if ! uts_ok; then
    log "creating UTS namespace $UTS_FILE (hostname $NODE_NAME)"
    umount "$UTS_FILE" 2>/dev/null || true
    rm -f "$UTS_FILE"
    touch "$UTS_FILE"
    unshare --uts="$UTS_FILE" hostname "$NODE_NAME"
    uts_ok || die "could not create a persistent UTS namespace at $UTS_FILE"
    ACTIONS+=(uts)
  fi

  # Links: lo, a veth pair whose both ends stay inside (no way out), a bridge.
  local ipn=(ip -n "$NETNS")
  if ! "${ipn[@]}" link show "$MASTER_NETDEV" >/dev/null 2>&1; then
    "${ipn[@]}" link add "$MASTER_NETDEV" type veth peer name "$MASTER_NETDEV_PEER"
    ACTIONS+=(veth)
  fi
  if ! "${ipn[@]}" link show "$BRIDGE" >/dev/null 2>&1; then
    "${ipn[@]}" link add "$BRIDGE" type bridge
    ACTIONS+=(bridge)
  fi
  local dev
  for dev in lo "$MASTER_NETDEV" "$MASTER_NETDEV_PEER" "$BRIDGE"; do
    if [[ $("${ipn[@]}" link show "$dev") != *[\<,]UP[,\>]* ]]; then
      "${ipn[@]}" link set "$dev" up
    fi
  done
  if [[ $("${ipn[@]}" -4 -o addr show dev "$MASTER_NETDEV") != *" $NODE_IP/32 "* ]]; then
    "${ipn[@]}" addr add "$NODE_IP/32" dev "$MASTER_NETDEV"
    ACTIONS+=(node-ip)
  fi

  # Name resolution inside (ip netns exec bind-mounts these over /etc). Lines
  # outside our block (added by add-host.sh or tests) are kept.
  mkdir -p "$NETNS_ETC"
  local begin='# BEGIN ganetimgr-sandbox (managed by test/ganeti/up.sh)'
  local end='# END ganetimgr-sandbox'
  local others=''
  if [[ -f $NETNS_HOSTS ]]; then
    others=$(awk -v b="$begin" -v e="$end" '$0==b{s=1;next} $0==e{s=0;next} !s' "$NETNS_HOSTS")
  fi
  local hosts
  hosts=$(printf '%s\n' "$begin" \
    "127.0.0.1 localhost" \
    "::1 localhost ip6-localhost ip6-loopback" \
    "$NODE_IP $NODE_NAME ${NODE_NAME%%.*}" \
    "$CLUSTER_IP $CLUSTER_NAME ${CLUSTER_NAME%%.*}" \
    "$end")
  [[ -n $others ]] && hosts+=$'\n'$others
  write_if_changed "$NETNS_HOSTS" "$hosts" && ACTIONS+=(hosts)
  # No resolver inside: unknown names fail at once instead of timing out.
  write_if_changed "$NETNS_ETC/resolv.conf" $'nameserver 127.0.0.1\noptions timeout:1 attempts:1' &&
    ACTIONS+=(resolv.conf)
  return 0
}

step_cluster_init() {
  cluster_initialised && return 0
  log "gnt-cluster init $CLUSTER_NAME"
  stop_sandbox_processes
  # init refuses to run while the cluster IP is up ("Cluster IP already active").
  if master_ip_up; then
    ip -n "$NETNS" addr del "$CLUSTER_IP/32" dev "$MASTER_NETDEV" || true
  fi
  /usr/lib/ganeti/ensure-dirs </dev/null >"$LOG_DIR/ensure-dirs.log" 2>&1 9>&- || true
  node_run cluster-init gnt-cluster init "${INIT_FLAGS[@]}" "$CLUSTER_NAME" ||
    die "gnt-cluster init failed (log: $LOG_DIR/cluster-init.log, /var/log/ganeti/)"
  ACTIONS+=(init)
  FRESH_INIT=1
}

# A daemon is healthy when its pid file names a live process of that name that
# sits in the sandbox's network and UTS namespaces.
daemon_healthy() {
  local pid
  pid=$(daemon_pid "$1") || return 1
  [[ $(ns_of_pid "$pid" net) == "$WANT_NET" && $(ns_of_pid "$pid" uts) == "$WANT_UTS" ]]
}

step_daemons() {
  local name pid rc
  for name in $(daemon_list); do
    # ganeti-kvmd exits at once when KVM is not enabled ("KVM not enabled,
    # exiting"): with the fake hypervisor it never stays up.
    [[ $name == ganeti-kvmd ]] && continue
    daemon_healthy "$name" && continue
    if pid=$(daemon_pid "$name"); then
      log "$name (pid $pid) is not in the sandbox's namespaces: stopping it"
      kill_pids 100 "$pid"
    fi
    # A stale pid file owned by a daemon user makes start-stop-daemon abort
    # ("matching only on non-root pidfile ... is insecure").
    rm -f "$GNT_RUN/$name.pid"
    log "starting $name"
    rc=0
    in_node "$DAEMON_UTIL" start "$name" </dev/null >>"$LOG_DIR/daemons.log" 2>&1 9>&- || rc=$?
    # daemon-util: 11 means "not master", which is fine.
    if [[ $rc -ne 0 && $rc -ne 11 ]]; then
      tail -n 20 "$LOG_DIR/daemons.log" >&2
      die "daemon-util start $name failed with $rc (see /var/log/ganeti/)"
    fi
    STARTED_DAEMONS=$((STARTED_DAEMONS + 1))
    [[ $name != ganeti-luxid ]] || LUXID_STARTED=1
  done
  ((STARTED_DAEMONS == 0)) || ACTIONS+=("daemons-started:$STARTED_DAEMONS")
  return 0
}

master_ip_up() {
  [[ $(ip -n "$NETNS" -4 -o addr show dev "$MASTER_NETDEV" 2>/dev/null) == *" $CLUSTER_IP/"* ]]
}

wait_for() {
  # wait_for DECISECONDS CMD...
  local n=$1 i
  shift
  for ((i = 0; i < n; i++)); do
    "$@" && return 0
    sleep 0.1
  done
  return 1
}

step_master_ip() {
  master_ip_up && return 0
  if ((LUXID_STARTED || FRESH_INIT)); then
    # luxid brings the master IP up asynchronously after it starts.
    wait_for 150 master_ip_up && return 0
  fi
  log "master IP $CLUSTER_IP is missing: gnt-cluster activate-master-ip"
  node_run activate-master-ip gnt-cluster activate-master-ip || true
  wait_for 100 master_ip_up || die "master IP $CLUSTER_IP did not come up on $MASTER_NETDEV"
  ACTIONS+=(master-ip)
}

step_rapi_users() {
  local dir=$GNT_DATA/rapi file=$GNT_DATA/rapi/users
  mkdir -p "$dir"
  chown gnt-rapi:gnt-masterd "$dir"
  chmod 0750 "$dir"
  if write_if_changed "$file" "$(printf '%s\n%s' \
    "$RAPI_USER $RAPI_PASS write" "$RAPI_RO_USER $RAPI_RO_PASS read")"; then
    ACTIONS+=(rapi-users)
  fi
  chown gnt-rapi:gnt-masterd "$file"
  chmod 0640 "$file"
}

relay_ok() {
  # relay_ok PIDFILE WANT_NETNS
  local pid
  pid=$(cat "$1" 2>/dev/null) || return 1
  pid_alive "$pid" && [[ $(proc_comm "$pid") == socat && $(ns_of_pid "$pid" net) == "$2" ]]
}

port_in_use() {
  [[ -n $(ss -Hltn "sport = :$RAPI_PORT" 2>/dev/null) ]]
}

step_relays() {
  local host_net
  host_net=$(ns_of_pid $$ net)
  if relay_ok "$RELAY_IN_PID" "$WANT_NET" && [[ -S $RAPI_SOCK ]] &&
    relay_ok "$RELAY_OUT_PID" "$host_net"; then
    return 0
  fi
  log "(re)starting the socat relays (127.0.0.1:$RAPI_PORT <-> $RAPI_SOCK <-> node's 127.0.0.1:$RAPI_PORT)"
  local -a pids
  mapfile -t pids < <(relay_pids | sort -u)
  ((${#pids[@]} == 0)) || kill_pids 30 "${pids[@]}"
  rm -f "$RAPI_SOCK" "$RELAY_IN_PID" "$RELAY_OUT_PID"

  if port_in_use; then
    log "port $RAPI_PORT is taken: $(ss -Hltnp "sport = :$RAPI_PORT" | tr -s ' ')"
    DIE_CODE=3 die "127.0.0.1:$RAPI_PORT is in use by a process that is not ours"
  fi

  # Inside: unix socket -> ganeti-rapi on the node's 127.0.0.1.
  setsid nsenter --uts="$UTS_FILE" -- ip netns exec "$NETNS" \
    socat "UNIX-LISTEN:$RAPI_SOCK,fork,unlink-early,mode=600,backlog=128" \
    "TCP:127.0.0.1:$RAPI_PORT" </dev/null >>"$LOG_DIR/relay-inner.log" 2>&1 9>&- &
  echo $! >"$RELAY_IN_PID"
  # Outside: host loopback -> unix socket.
  wait_for 50 test -S "$RAPI_SOCK" || die "inner relay did not create $RAPI_SOCK"
  setsid socat "TCP-LISTEN:$RAPI_PORT,bind=$RAPI_HOST,fork,reuseaddr,backlog=128" \
    "UNIX-CONNECT:$RAPI_SOCK" </dev/null >>"$LOG_DIR/relay-outer.log" 2>&1 9>&- &
  echo $! >"$RELAY_OUT_PID"
  wait_for 50 port_in_use || die "outer relay did not listen on $RAPI_HOST:$RAPI_PORT"
  relay_ok "$RELAY_IN_PID" "$WANT_NET" || die "inner relay is not running (log: $LOG_DIR/relay-inner.log)"
  relay_ok "$RELAY_OUT_PID" "$host_net" || die "outer relay is not running (log: $LOG_DIR/relay-outer.log)"
  ACTIONS+=(relays)
}

rapi_ready() {
  rapi GET /2/info
  [[ $RAPI_CODE == 200 ]]
}

step_wait_rapi() {
  rapi_ready && return 0
  # ganeti-rapi reloads the users file by itself; give it a moment, then
  # restart it once if authentication still fails.
  if ! wait_for 100 rapi_ready && [[ $RAPI_CODE == 401 ]]; then
    log "RAPI still answers 401: restarting ganeti-rapi to reload its users"
    local pid
    if pid=$(daemon_pid ganeti-rapi); then
      kill_pids 100 "$pid"
    fi
    step_daemons
  fi
  wait_for 600 rapi_ready ||
    die "RAPI did not answer 200 on https://$RAPI_HOST:$RAPI_PORT/2/info (last code $RAPI_CODE; see /var/log/ganeti/rapi-daemon.log)"
}

step_cluster_config() {
  # RAPI_BODY holds /2/info here.
  if [[ $(json '"no-capacity-checks" in (d.get("default_iallocator_params") or {})') != True ]]; then
    log "setting default_iallocator_params no-capacity-checks"
    rapi PUT /2/modify '{"default_iallocator_params": {"no-capacity-checks": null}}'
    [[ $RAPI_CODE == 200 ]] || die "PUT /2/modify answered $RAPI_CODE: $RAPI_BODY"
    wait_job "$RAPI_BODY" || die "setting default_iallocator_params failed"
    ACTIONS+=(iallocator-params)
  fi

  rapi GET "/2/networks/$NETWORK_NAME"
  if [[ $RAPI_CODE == 404 ]]; then
    log "adding network $NETWORK_NAME ($NETWORK_CIDR, gateway $NETWORK_GATEWAY)"
    node_run network-add gnt-network add --network="$NETWORK_CIDR" \
      --gateway="$NETWORK_GATEWAY" "$NETWORK_NAME" || die "gnt-network add failed"
    rapi GET "/2/networks/$NETWORK_NAME"
    ACTIONS+=(network)
  fi
  [[ $RAPI_CODE == 200 ]] || die "GET /2/networks/$NETWORK_NAME answered $RAPI_CODE"
  if [[ $(json "any(g[0] == '$NODE_GROUP' for g in (d.get('group_list') or []))") != True ]]; then
    log "connecting $NETWORK_NAME to group $NODE_GROUP (bridged on $BRIDGE)"
    node_run network-connect gnt-network connect --nic-parameters="mode=bridged,link=$BRIDGE" \
      "$NETWORK_NAME" "$NODE_GROUP" || die "gnt-network connect failed"
    ACTIONS+=(network-connect)
  fi

  rapi GET /2/os
  if [[ $(json "'$OS_NAME' in d") != True ]]; then
    in_node gnt-os diagnose >&2 9>&- || true
    die "OS $OS_NAME is not valid (GET /2/os: $RAPI_BODY)"
  fi
}

step_env() {
  local fp
  openssl x509 -in "$GNT_DATA/rapi.pem" -out "$CERT_COPY.tmp"
  mv "$CERT_COPY.tmp" "$CERT_COPY"
  fp=$(openssl x509 -in "$CERT_COPY" -noout -fingerprint -sha256)
  fp=${fp#*=}
  local env
  env=$(
    cat <<EOF
GANETI_RAPI_HOST=$RAPI_HOST
GANETI_RAPI_PORT=$RAPI_PORT
GANETI_RAPI_URL=https://$RAPI_HOST:$RAPI_PORT
GANETI_RAPI_USER=$RAPI_USER
GANETI_RAPI_PASS=$RAPI_PASS
GANETI_RAPI_RO_USER=$RAPI_RO_USER
GANETI_RAPI_RO_PASS=$RAPI_RO_PASS
GANETI_RAPI_FINGERPRINT=${fp^^}
GANETI_RAPI_CERT=$CERT_COPY
GANETI_CLUSTER_NAME=$CLUSTER_NAME
GANETI_NODE=$NODE_NAME
GANETI_NODE_GROUP=$NODE_GROUP
GANETI_OS=$OS_NAME
GANETI_NETWORK=$NETWORK_NAME
GANETI_NETWORK_CIDR=$NETWORK_CIDR
GANETI_NETWORK_GATEWAY=$NETWORK_GATEWAY
GANETI_NIC_LINK=$BRIDGE
GANETI_DISK_TEMPLATES=diskless,file,sharedfile
GANETI_FAKE_HV_DIR=$GNT_RUN/fake-hypervisor
GANETI_EXEC=$HERE/exec.sh
GANETI_ADD_HOST=$HERE/add-host.sh
EOF
  )
  if [[ ! -f $ENV_FILE ]] || [[ $(<"$ENV_FILE") != "$env" ]]; then
    printf '%s\n' "$env" >"$ENV_FILE.tmp"
    mv "$ENV_FILE.tmp" "$ENV_FILE"
  fi
}

# One complete pass. Runs in a child process so that a failure can be answered
# with a teardown and a second pass.
bring_up() {
  FRESH_INIT=0
  STARTED_DAEMONS=0
  LUXID_STARTED=0
  mkdir -p "$STATE_DIR" "$LOG_DIR"
  step_packages
  step_clear_broken_state
  step_host_files
  step_namespaces
  WANT_NET=$(ns_of_file net "/run/netns/$NETNS")
  WANT_UTS=$(ns_of_file uts "$UTS_FILE")
  step_cluster_init
  step_daemons
  step_master_ip
  step_rapi_users
  step_relays
  step_wait_rapi
  step_cluster_config
  step_env
  if ((${#ACTIONS[@]})); then
    log "pass done; repaired/created: ${ACTIONS[*]}"
  else
    log "pass done; everything was already healthy"
  fi
}

main() {
  require_root
  close_inherited_fds
  case ${1:-} in
    --phase)
      take_lock
      bring_up
      return
      ;;
    --fresh)
      take_lock
      "$HERE/down.sh" >&2
      ;;
    '') take_lock ;;
    -h | --help)
      sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'
      return 0
      ;;
    *) die "unknown argument: $1 (try --help)" ;;
  esac

  local rc=0
  "$HERE/up.sh" --phase >&2 || rc=$?
  if ((rc != 0)); then
    ((rc != 3)) || die "bring-up failed; a rebuild would not help"
    log "bring-up failed (exit $rc): tearing the sandbox down and rebuilding it"
    "$HERE/down.sh" >&2
    "$HERE/up.sh" --phase >&2 || die "bring-up failed again after a full rebuild"
  fi
  cat "$ENV_FILE"
  log "sandbox ready in $(elapsed)s (env: $ENV_FILE)"
}

main "$@"
