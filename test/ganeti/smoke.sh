#!/usr/bin/env bash
# Smoke test of a running sandbox through the real RAPI (127.0.0.1:5080):
# reads, authentication failures, and a diskless instance created and deleted.
# Prints "N passed, N failed" and exits non-zero on any failure.
#
#   test/ganeti/up.sh >/dev/null && test/ganeti/smoke.sh
set -euo pipefail

ENV_FILE=${GANETI_ENV_FILE:-/run/ganetimgr-sandbox/env}
[[ -r $ENV_FILE ]] || { echo "no $ENV_FILE: run up.sh first" >&2; exit 1; }
set -a
# shellcheck disable=SC1090
. "$ENV_FILE"
set +a

pin=$GANETI_RAPI_CERT
passed=0
failed=0
CODE=
BODY=

# call USER:PASS METHOD PATH [JSON]
call() {
  local out
  local -a args=(-s --max-time 30 --cacert "$pin" -u "$1" -X "$2" -w '\n%{http_code}')
  # The certificate has CN=ganeti.example.com and no SAN: pin it, and connect
  # to 127.0.0.1 under that name so curl's hostname check passes.
  args+=(--connect-to "ganeti.example.com:$GANETI_RAPI_PORT:$GANETI_RAPI_HOST:$GANETI_RAPI_PORT")
  if [[ -n ${4:-} ]]; then
    args+=(-H 'Content-Type: application/json' --data "$4")
  fi
  out=$(curl "${args[@]}" "https://ganeti.example.com:$GANETI_RAPI_PORT$3") || out=$'\n000'
  CODE=${out##*$'\n'}
  BODY=${out%$'\n'*}
}

json() {
  python3 -c 'import json, sys; d = json.loads(sys.argv[1]); print(eval(sys.argv[2]))' "$BODY" "$1"
}

check() {
  # check NAME CONDITION-COMMAND...
  local name=$1
  shift
  if "$@"; then
    passed=$((passed + 1))
    echo "ok   $name"
  else
    failed=$((failed + 1))
    echo "FAIL $name (HTTP $CODE: ${BODY:0:300})"
  fi
}

is() { [[ $1 == "$2" ]]; }

wait_job() {
  # The job id is a JSON number (a string on old Ganeti) and a newline.
  local id=${1//[^0-9]/} status='' deadline=$((SECONDS + 60))
  while ((SECONDS < deadline)); do
    call "$W" GET "/2/jobs/$id"
    status=$(json 'd.get("status")' 2>/dev/null) || status=
    [[ $status == success || $status == error || $status == canceled ]] && break
    sleep 0.2
  done
  [[ $status == success ]]
}

W=$GANETI_RAPI_USER:$GANETI_RAPI_PASS
R=$GANETI_RAPI_RO_USER:$GANETI_RAPI_RO_PASS
inst=smoke-$$.example.org

call "$W" GET /2/info
check "GET /2/info" is "$CODE:$(json 'd["name"]')" "200:$GANETI_CLUSTER_NAME"
call "$W" GET /2/features
check "GET /2/features" is "$CODE:$(json '"instance-create-reqv1" in d')" 200:True
call "$W" GET /2/os
check "GET /2/os lists $GANETI_OS" is "$CODE:$(json "'$GANETI_OS' in d")" 200:True
call "$W" GET '/2/networks?bulk=1'
check "GET /2/networks?bulk=1 has $GANETI_NETWORK" is \
  "$CODE:$(json "[n['network'] for n in d if n['name'] == '$GANETI_NETWORK']")" "200:['$GANETI_NETWORK_CIDR']"
call "$R" GET /2/nodes
check "read-only user reads /2/nodes" is "$CODE" 200
call "$R" PUT '/2/instances/x/tags?tag=a'
check "read-only user write -> 403" is "$CODE" 403
call "$GANETI_RAPI_USER:wrong" GET /2/info
check "wrong password -> 401" is "$CODE" 401

call "$W" POST /2/instances "{\"__version__\": 1, \"mode\": \"create\", \"name\": \"$inst\",
  \"disk_template\": \"diskless\", \"disks\": [], \"nics\": [{}], \"os_type\": \"$GANETI_OS\",
  \"pnode\": \"$GANETI_NODE\", \"name_check\": false, \"ip_check\": false,
  \"beparams\": {\"memory\": 128, \"vcpus\": 1}}"
check "POST /2/instances (diskless create) -> job" is "$CODE" 200
check "create job succeeds" wait_job "$BODY"
call "$W" GET "/2/instances/$inst"
check "instance is running" is "$CODE:$(json 'd["status"]')" 200:running
call "$W" DELETE "/2/instances/$inst"
check "DELETE instance -> job" is "$CODE" 200
check "delete job succeeds" wait_job "$BODY"
call "$W" GET "/2/instances/$inst"
check "instance is gone" is "$CODE" 404

echo "$passed passed, $failed failed"
((failed == 0))
