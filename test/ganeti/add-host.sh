#!/usr/bin/env bash
# Make a name resolvable on the sandbox node (for instance creation with
# name_check=true), or remove it again. Edits /etc/netns/ganeti0/hosts in
# place: running daemons see that file through a bind mount of its inode, so it
# must never be replaced (no sed -i, no mv).
#
#   test/ganeti/add-host.sh NAME [IP]      (IP defaults to 198.51.100.200)
#   test/ganeti/add-host.sh --remove NAME
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SCRIPT_TAG=add-host
# shellcheck source=lib.sh
. "$HERE/lib.sh"

usage() {
  sed -n '7,8p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

require_root
[[ -f $NETNS_HOSTS ]] || die "$NETNS_HOSTS is missing: run $HERE/up.sh first"
(($# >= 1)) || usage

exec 8<>"$NETNS_HOSTS"
flock 8

if [[ $1 == --remove ]]; then
  (($# == 2)) || usage
  kept=$(awk -v n="$2" '{ for (i = 2; i <= NF; i++) if ($i == n) next } { print }' "$NETNS_HOSTS")
  printf '%s\n' "$kept" >"$NETNS_HOSTS"
  exit 0
fi

(($# <= 2)) || usage
name=$1
ip=${2:-198.51.100.200}
if awk -v n="$name" '{ for (i = 2; i <= NF; i++) if ($i == n) f = 1 } END { exit !f }' "$NETNS_HOSTS"; then
  exit 0
fi
printf '%s %s\n' "$ip" "$name" >>"$NETNS_HOSTS"
