#!/usr/bin/env bash
# Run a command on the sandbox node: with its hostname (UTS namespace) and in
# its network namespace, where gnt-* commands work and /etc/hosts is the
# node's. Without arguments, open a shell there.
#
#   test/ganeti/exec.sh gnt-instance list
#   test/ganeti/exec.sh rm /var/run/ganeti/fake-hypervisor/t1.example.org
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SCRIPT_TAG="exec"
# shellcheck source=lib.sh
. "$HERE/lib.sh"

require_root
if ! nsenter --uts="$UTS_FILE" true 2>/dev/null || ! ip -n "$NETNS" link show lo >/dev/null 2>&1; then
  die "the sandbox is not up (run $HERE/up.sh)"
fi
(($#)) || set -- bash
exec nsenter --uts="$UTS_FILE" -- ip netns exec "$NETNS" "$@"
