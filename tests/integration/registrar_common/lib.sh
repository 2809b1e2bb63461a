# registrar_common/lib.sh: helpers shared by the registrar's integration
# tests (tests/integration/registrar_*/run.sh source it after the runner's
# lib.sh). This folder has no run.sh, so CTest does not run it as a test.
#
#   make_client LOGIN PASSWORD [curl -d args...]   creates a SIP client
#                                    through the REST API; prints its SID
#   reg_rows LOGIN                   prints "contact|source_ip|source_port|
#                                    transport|expires_in" per binding
#   reg_count LOGIN                  number of bindings stored for LOGIN
#   sipp_reg NAME SCENARIO CSV [sipp args...]  runs a scenario of this
#                                    folder with an injection file
#   wait_for SECONDS CMD...          retries CMD every 0.2 s until it
#                                    succeeds or SECONDS pass
REG_COMMON=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$REG_COMMON/../rest_common/lib.sh"
export PYTHONPATH="$REG_COMMON${PYTHONPATH:+:$PYTHONPATH}"

req GET "/Accounts.json/$SB_ADMIN_EMAIL" "${admin[@]}"
ADMIN_SID=$(jq_py 'd["sid"]')
[[ "$ADMIN_SID" =~ ^AC[0-9a-f]{32}$ ]] || fail "cannot read the administrator's account: $RB"

make_client() {
  local login=$1 password=$2; shift 2
  req POST "/Accounts/$ADMIN_SID/Clients.json" "${admin[@]}" -d "Login=$login" \
    -d "Password=$password" "$@"
  [ "$RS" = 200 ] || [ "$RS" = 201 ] || fail "create client $login: $RS $RB"
  jq_py 'd["sid"]'
}

reg_rows() {
  sqlite3 "$SB_DB" "SELECT contact, source_ip, source_port, transport, \
    expires_at - strftime('%s','now') FROM registrations WHERE login = '$1' \
    ORDER BY id"
}

reg_count() {
  sqlite3 "$SB_DB" "SELECT count(*) FROM registrations WHERE login = '$1'"
}

sipp_reg() {
  local name=$1 scen=$2 csv=$3; shift 3
  sipp_run "$name" -sf "$scen" -inf "$csv" "$@"
}

wait_for() {
  local secs=$1; shift
  local n=$((secs * 5))
  for _ in $(seq "$n"); do
    "$@" && return 0
    sleep 0.2
  done
  return 1
}
