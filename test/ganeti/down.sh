#!/usr/bin/env bash
# Tear the Ganeti sandbox down completely: daemons, relays, namespaces, cluster
# state, /srv/ganeti, sockets and pid files. Idempotent; installed packages stay.
#
#   test/ganeti/down.sh
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SCRIPT_TAG=down
# shellcheck source=lib.sh
. "$HERE/lib.sh"

main() {
  require_root
  take_lock

  stop_sandbox_processes

  if netns_exists; then
    log "deleting network namespace $NETNS"
    ip netns delete "$NETNS" || rm -f "/run/netns/$NETNS"
  fi
  rm -rf "$NETNS_ETC"

  if [[ -e $UTS_FILE ]]; then
    umount "$UTS_FILE" 2>/dev/null || true
  fi

  wipe_cluster_state
  if [[ -f $GNT_FILE_STORAGE_PATHS ]] &&
    [[ $(<"$GNT_FILE_STORAGE_PATHS") == "$(printf '%s\n%s' "$GNT_FILE_STORAGE" "$GNT_SHARED_FILE_STORAGE")" ]]; then
    rm -f "$GNT_FILE_STORAGE_PATHS"
  fi
  rm -rf "$STATE_DIR"
  restore_policy_rc
  log "sandbox torn down in $(elapsed)s"
}

main "$@"
