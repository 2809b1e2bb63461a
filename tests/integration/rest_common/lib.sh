# rest_common/lib.sh: helpers shared by the REST integration tests
# (tests/integration/rest_*/run.sh source it after the runner's lib.sh).
# This folder has no run.sh, so CTest does not run it as a test.
#
#   req METHOD PATH [curl args...]   sets RS (status), RB (body) and RH
#                                    (headers); PATH is relative to SB_BASE
#   admin=(-u email:password)        the administrator's credentials
#   jq_py 'EXPR'                     evaluates EXPR with d = the JSON body
#   xml_py 'EXPR'                    evaluates EXPR with r = the XML root
#   expect STATUS MESSAGE            asserts RS
#   header NAME                      prints a response header's value

admin=(-u "$SB_ADMIN_EMAIL:$SB_ADMIN_PASSWORD")

req() {
  local m=$1 p=$2; shift 2
  RS=$(curl -s -o "$SB_TMP/body" -D "$SB_TMP/hdrs" -w '%{http_code}' \
            --max-time 20 -X "$m" "$SB_BASE$p" "$@")
  RB=$(cat "$SB_TMP/body")
  RH=$(cat "$SB_TMP/hdrs")
}

expect() {
  if [ "$RS" != "$1" ]; then
    fail "$2: expected status $1, got $RS; body: $RB"
  fi
  pass "$2"
}

header() {
  tr -d '\r' <"$SB_TMP/hdrs" | awk -v n="$1" 'BEGIN{IGNORECASE=1}
    index(tolower($0), tolower(n) ":") == 1 { sub(/^[^:]*: */, ""); print; exit }'
}

jq_py() {
  python3 - "$SB_TMP/body" "$1" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
v = eval(sys.argv[2], {"d": d, "len": len})
if v is None: print("null")
elif v is True: print("true")
elif v is False: print("false")
else: print(v)
PY
}

xml_py() {
  python3 - "$SB_TMP/body" "$1" <<'PY'
import sys
import xml.etree.ElementTree as ET
r = ET.parse(sys.argv[1]).getroot()
v = eval(sys.argv[2], {"r": r, "len": len})
print("null" if v is None else v)
PY
}

# The body must be a well-formed JSON or XML document.
assert_json() { python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$SB_TMP/body" \
  || fail "$1: body is not JSON: $RB"; pass "$1"; }
assert_xml() { python3 -c 'import sys,xml.etree.ElementTree as E; E.parse(sys.argv[1])' \
  "$SB_TMP/body" || fail "$1: body is not XML: $RB"; pass "$1"; }

# An RFC 2822 date as Restcomm writes it: "Wed, 5 Mar 2017 10:10:57 +0000".
assert_date() {
  [[ "$1" =~ ^(Mon|Tue|Wed|Thu|Fri|Sat|Sun),\ [0-9]{1,2}\ [A-Z][a-z]{2}\ [0-9]{4}\ [0-9]{2}:[0-9]{2}:[0-9]{2}\ \+0000$ ]] \
    || fail "$2: '$1' is not a Restcomm date"
  pass "$2"
}

# sql QUERY: runs a query on the server's database (read-only checks).
sql() { python3 - "$SB_DB" "$1" <<'PY'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1], timeout=5)
for row in c.execute(sys.argv[2]):
    print("|".join("" if v is None else str(v) for v in row))
PY
}
