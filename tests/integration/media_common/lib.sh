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
#                        These K=V are the listener's, not scen's:
#                        SCRIPT=SPEC   what the phone sends (rtptool.py
#                                      listen --script: silence, tone,
#                                      noise, wav, inband, rfc4733 items);
#                                      the payload type follows CODECS'
#                                      first entry (0 or 8) unless
#                        SEND_PT=0|8   says otherwise
#                        GO=FILE       the script waits for FILE
#                                      (--script-start-file)
#                        SCEN=T.xml    the caller's template (default
#                                      uac_wait.xml; uac_bye.xml hangs up
#                                      after HOLD ms, uac_plain.xml offers
#                                      no telephone-event)
#   listen_prepare NAME SECONDS [K=V ...]; listen_start NAME NUMBER
#                        the same in the background; listen_wait NAME
#                        collects it
#   callee_prepare NAME SECONDS [SCRIPT=SPEC] [SEND_PT=0|8]
#                        a sipp callee's phone side: binds CALLEE_PORT and
#                        sets CALLEE_TALK; give both to the callee's
#                        template (uas_wait.xml, uas_bye.xml: LPORT=...
#                        "TALK=..."); callee_collect NAME SECONDS waits
#                        for its report ($SB_TMP/NAME.json, NAME.wav)
#   bargein NAME MAX     the received sound that was playing when the
#                        phone's first digit started stopped within MAX
#                        seconds of it (fails, saying what was heard and
#                        when, otherwise)
#   digit_at NAME [N]    when the script's Nth digit (0-based) started, s
#   req_at NAME PATH [N] when the Nth (default: last) request for PATH
#                        came, in NAME's stream time (s after the ACK)
#   want_req NAME DOC PATH [SECS]  waits (default 10 s) for a request for
#                        PATH from the call that fetched DOC; fails with the
#                        requests the app server got and the call's
#                        Notifications when none comes
#   no_req PATH MESSAGE  PATH was never requested
#   num_ok VALUE EXPR    True when VALUE is a number x for which the
#                        Python EXPR holds (num_ok "$gap" 'abs(x - 2) < 0.3'),
#                        else False
#   fetch_audio NAME URL [curl args]  downloads URL (no credentials) to
#                        $SB_TMP/NAME.raw; fails unless 200 and audio/*;
#                        decodes it (libsndfile, media_common/recfile.py)
#                        to $SB_TMP/NAME.wav (8 kHz mono) for hear; sets
#                        FETCH_TYPE and FETCH_INFO
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

# _listen_args K=V...: splits the listener's keys (SCRIPT, SEND_PT, GO,
# SCEN) from scen's; sets L_TOOL (rtptool arguments), L_SCEN, L_REST.
_listen_args() {
  local kv script="" send_pt="" go="" codecs=""
  L_SCEN=uac_wait.xml L_TOOL=() L_REST=()
  for kv in "$@"; do
    case "$kv" in
      SCRIPT=*) script=${kv#SCRIPT=} ;;
      SEND_PT=*) send_pt=${kv#SEND_PT=} ;;
      GO=*) go=${kv#GO=} ;;
      SCEN=*) L_SCEN=${kv#SCEN=} ;;
      CODECS=*) codecs=${kv#CODECS=}; L_REST+=("$kv") ;;
      *) L_REST+=("$kv") ;;
    esac
  done
  if [ -n "$script" ]; then
    L_TOOL+=(--script "$script")
    [ -z "$send_pt" ] && [ "${codecs%% *}" = 8 ] && send_pt=8
  fi
  [ -n "$send_pt" ] && L_TOOL+=(--send-pt "$send_pt")
  [ -n "$go" ] && L_TOOL+=(--script-start-file "$go")
  return 0
}

# The listener binds its port before the call (as a phone does) and
# learns the server's port from a file sipp writes at the ACK.
_listen_start() { # NAME SECONDS K=V...
  local name=$1 secs=$2; shift 2
  local p
  p=$(ports 1)
  _listen_args "$@"
  rm -f "$SB_TMP/$name.port" "$SB_TMP/$name.json"
  python3 "$IT_DIR/rtptool.py" listen --bind "$p" --to-file "$SB_TMP/$name.port" \
    --seconds "$secs" --out "$SB_TMP/$name.json" --wav "$SB_TMP/$name.wav" \
    --packets "$SB_TMP/$name.packets" "${L_TOOL[@]}" >"$SB_TMP/$name.rtptool" 2>&1 &
  scen "$L_SCEN" "$name" "LPORT=$p" TIMEOUT=30000 \
    "TALK=<nop><action><exec command=\"echo [\$port] > $SB_TMP/$name.port\"/></action></nop>" \
    "${L_REST[@]}"
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

callee_prepare() {
  local name=$1 secs=$2; shift 2
  _listen_args "$@"
  CALLEE_PORT=$(ports 1)
  rm -f "$SB_TMP/$name.port" "$SB_TMP/$name.json"
  python3 "$IT_DIR/rtptool.py" listen --bind "$CALLEE_PORT" --to-file "$SB_TMP/$name.port" \
    --seconds "$secs" --out "$SB_TMP/$name.json" --wav "$SB_TMP/$name.wav" \
    --packets "$SB_TMP/$name.packets" "${L_TOOL[@]}" >"$SB_TMP/$name.rtptool" 2>&1 &
  CALLEE_TALK="<nop><action><exec command=\"echo [\$port] > $SB_TMP/$name.port\"/></action></nop>"
  _listen_ready "$name"
}

callee_collect() { _listen_collect "$1" "$2"; }

bargein() {
  local out
  out=$(python3 - "$SB_TMP/$1.json" "$2" "$IT_DIR" <<'PY'
import json, sys
sys.path.insert(0, sys.argv[3])
import rtptool
d = json.load(open(sys.argv[1]))
limit = float(sys.argv[2])
try:
    lat, t, run = rtptool.bargein(d)
except ValueError as e:
    print(e)
    sys.exit(1)
msg = ("the sound playing when the first digit started (%.3f s; sound %.3f-%.3f s) "
       "stopped %.0f ms after it" % (t, run[0], run[1], lat * 1000))
print(msg if lat <= limit else "%s, more than %.0f ms" % (msg, limit * 1000))
sys.exit(0 if lat <= limit else 1)
PY
) || fail "$1: barge-in: $out"
  pass "$1: barge-in: $out"
}

digit_at() {
  report "$1" "[x['start_s'] for i in d.get('script') or [] for x in i.get('digits', [])][${2:-0}]"
}

req_at() {
  python3 - "$HTTP_LOG" "$SB_TMP/$1.json" "$2" "${3:--1}" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
rows = [r for r in rows if r["path"] == sys.argv[3]]
d = json.load(open(sys.argv[2]))
i = int(sys.argv[4])
if not rows or i >= len(rows) or d.get("start_epoch") is None:
    print("<no request>")
else:
    print(round(rows[i]["t"] - d["start_epoch"], 3))
PY
}

num_ok() {
  python3 -c 'import sys
try:
    x = float(sys.argv[1])
    print(bool(eval(sys.argv[2], {"x": x, "abs": abs, "None": None})))
except Exception:
    print(False)' "$1" "$2"
}

want_req() {
  local name=$1 doc=$2 path=$3 secs=${4:-10}
  wait_for "$secs" test "$(reqs "$path")" -ge 1 && { pass "$name: $path requested"; return 0; }
  local seen
  seen=$(python3 - "$HTTP_LOG" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
print(" ".join("%s %s%s" % (r["method"], r["path"], (" " + json.dumps(
    {k: v for k, v in r["params"].items() if k in ("Digits", "SpeechResult", "RecordingUrl",
                                                    "CallStatus", "DialCallStatus")}))
    if not r["path"].startswith("/media/") else "") for r in rows))
PY
)
  fail "$name: $path was not requested within $secs s; the app server got: $seen; the call's notifications: [$(notes_msgs "$(call_sid "$doc")")]"
}

no_req() {
  local n
  n=$(reqs "$1")
  [ "$n" = 0 ] || fail "$2: $1 was requested $n time(s) (Digits=$(param "$1" Digits))"
  pass "$2"
}

fetch_audio() {
  local name=$1 url=$2 st; shift 2
  st=$(curl -s --max-time 20 -o "$SB_TMP/$name.raw" -D "$SB_TMP/$name.hdrs" \
    -w '%{http_code}' "$url" "$@")
  FETCH_TYPE=$(tr -d '\r' <"$SB_TMP/$name.hdrs" | awk '
    tolower($0) ~ /^content-type:/ { sub(/^[^:]*: */, ""); print; exit }')
  [ "$st" = 200 ] || fail "$name: GET $url: status $st (want 200, without credentials): $(head -c 300 "$SB_TMP/$name.raw")"
  case "$FETCH_TYPE" in audio/*) ;; *) fail "$name: GET $url: Content-Type '$FETCH_TYPE', not audio/*" ;; esac
  FETCH_INFO=$(python3 "$MEDIA_COMMON/recfile.py" convert "$SB_TMP/$name.raw" "$SB_TMP/$name.wav") \
    || fail "$name: $url ($FETCH_TYPE, $(stat -c %s "$SB_TMP/$name.raw") bytes) does not decode: $FETCH_INFO"
  pass "$name: GET $url: 200 $FETCH_TYPE, $(stat -c %s "$SB_TMP/$name.raw") bytes: $FETCH_INFO"
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

# notes_msgs CALLSID: "code: message" of the call's Notifications, for
# failure messages.
notes_msgs() {
  req GET "/Accounts/$ADMIN_SID/Notifications.json?PageSize=1000" "${admin[@]}"
  python3 - "$SB_TMP/body" "$1" <<'PY'
import json, sys
try:
    d = json.load(open(sys.argv[1]))
except ValueError:
    sys.exit()
sid = sys.argv[2]
rows = [n for n in d.get("notifications", [])
        if n.get("call_sid") and (n["call_sid"] == sid or n["call_sid"].endswith("-" + sid)
                                  or sid.endswith(n["call_sid"]))]
print("; ".join("%s: %s" % (n.get("error_code"), n.get("message_text")) for n in rows))
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
