# media_common/lib.sh: helpers shared by the media tests
# (tests/integration/media_*/run.sh source it after the runner's lib.sh).
# This folder has no run.sh, so CTest does not run it as a test. The
# appserver (calls_common's app_start) serves the RCML and, under /media/,
# generated audio (see appserver.py).
#
#   listen_call NAME NUMBER SECONDS [K=V ...]
#                        calls NUMBER as a phone that listens: sipp
#                        (uac_wait.xml: the server hangs up) starts
#                        rtptool.py listen on the port of its SDP, which
#                        records SECONDS of what the server sends to
#                        $SB_TMP/NAME.json and NAME.wav; K=V go to scen
#                        (CODECS, RTPMAP, TIMEOUT). Fails the test when the
#                        call or the recording fails.
#   listen_prepare NAME SECONDS [K=V ...]; listen_start NAME NUMBER
#                        the same in the background; listen_wait NAME
#                        collects it
#   hear CHECK NAME [args]   hear.py CHECK $SB_TMP/NAME.wav args; fails the
#                        test with hear.py's reason when it does not hold
#   report NAME EXPR     evaluates EXPR on rtptool's JSON report (d)
#   media_set PATH JSON  sets DOCS/_media.json's entry for PATH (atomic)
#   media_count PATH STATUS   answers the appserver gave for PATH with STATUS
#   call_sid PATH        CallSid of the last RCML request for PATH
#   notes CALLSID        "code:log" of the call's Notifications, oldest first
MEDIA_COMMON=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$MEDIA_COMMON/../calls_common/lib.sh"
HEAR="$MEDIA_COMMON/hear.py"

# The listener binds its port before the call (as a phone does) and
# learns the server's port from a file sipp writes at the ACK.
_listen_start() { # NAME SECONDS K=V...
  local name=$1 secs=$2; shift 2
  local p
  p=$(ports 1)
  rm -f "$SB_TMP/$name.port" "$SB_TMP/$name.json"
  python3 "$IT_DIR/rtptool.py" listen --bind "$p" --to-file "$SB_TMP/$name.port" \
    --seconds "$secs" --out "$SB_TMP/$name.json" --wav "$SB_TMP/$name.wav" \
    --packets "$SB_TMP/$name.packets" >"$SB_TMP/$name.rtptool" 2>&1 &
  scen uac_wait.xml "$name" "LPORT=$p" TIMEOUT=30000 \
    "TALK=<nop><action><exec command=\"echo [\$port] > $SB_TMP/$name.port\"/></action></nop>" "$@"
}

_listen_ready() { # NAME
  wait_for 10 grep -q "^listening on" "$SB_TMP/$1.rtptool" \
    || { cat "$SB_TMP/$1.rtptool"; fail "$1: rtptool did not bind its port"; }
}

_listen_collect() { # NAME SECONDS
  wait_for $(( ${2%.*} + 10 )) test -s "$SB_TMP/$1.json" \
    || { cat "$SB_TMP/$1.rtptool"; fail "$1: rtptool wrote no report"; }
}

listen_call() {
  local name=$1 number=$2 secs=$3; shift 3
  _listen_start "$name" "$secs" "$@"
  _listen_ready "$name"
  uac "$name" "$number" || { show "$name"; fail "$name: the call"; }
  _listen_collect "$name" "$secs"
  echo "$name: $(report "$name" '{k: v for k, v in d.items() if k != "analysis"}')"
}

# listen_prepare NAME SECONDS [K=V ...]: starts the listener of a call;
# listen_start NAME NUMBER then places it in the background once the
# listener is bound (prepare many first: Python starts slowly).
declare -A LISTEN_PIDS
listen_prepare() {
  local name=$1 secs=$2; shift 2
  _listen_start "$name" "$secs" "$@"
  LISTEN_PIDS[$name]="0 $secs"
}

listen_start() {
  local name=$1 number=$2 pid secs
  read -r pid secs <<<"${LISTEN_PIDS[$name]}"
  _listen_ready "$name"
  uac "$name" "$number" &
  LISTEN_PIDS[$name]="$! $secs"
}

listen_wait() {
  local pid secs
  read -r pid secs <<<"${LISTEN_PIDS[$1]}"
  wait "$pid" || { show "$1"; fail "$1: the call"; }
  _listen_collect "$1" "$secs"
}

hear() {
  local check=$1 name=$2; shift 2
  local out
  out=$(python3 "$HEAR" "$check" "$SB_TMP/$name.wav" "$@" 2>&1) \
    || fail "$name ($check $*): $out"
  pass "$out"
}

report() {
  python3 - "$SB_TMP/$1.json" "$2" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
print(eval(sys.argv[2], {"d": d, "len": len, "abs": abs}))
PY
}

media_set() {
  python3 - "$DOCS/_media.json" "$1" "$2" <<'PY'
import json, os, sys
path, key, val = sys.argv[1:4]
d = json.load(open(path)) if os.path.exists(path) else {}
d[key] = json.loads(val)
tmp = path + ".tmp"
with open(tmp, "w") as f:
    json.dump(d, f)
os.replace(tmp, path)
PY
}

media_count() {
  curl -s --max-time 5 "$APP/__media/stats" | python3 -c '
import json, sys
print(json.load(sys.stdin).get(sys.argv[1], {}).get(sys.argv[2], 0))' "$1" "$2"
}

call_sid() { param "$1" CallSid; }

notes() {
  req GET "/Accounts/$ADMIN_SID/Notifications.json?PageSize=1000" "${admin[@]}"
  [ "$RS" = 200 ] || fail "list notifications: $RS $RB"
  python3 - "$SB_TMP/body" "$1" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
sid = sys.argv[2]
rows = [n for n in d["notifications"]
        if n.get("call_sid") and (n["call_sid"] == sid or n["call_sid"].endswith("-" + sid)
                                  or sid.endswith(n["call_sid"]))]
print(" ".join("%s:%s" % (n["error_code"], n["log"]) for n in rows))
PY
}

# notes_text CALLSID: the call's notifications, one per line, for messages.
notes_text() {
  req GET "/Accounts/$ADMIN_SID/Notifications.json?PageSize=1000" "${admin[@]}"
  python3 - "$SB_TMP/body" "$1" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
for n in d.get("notifications", []):
    print(n.get("call_sid"), n.get("error_code"), n.get("log"), n.get("message_text"))
PY
}
