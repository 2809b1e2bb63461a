# REST Recordings over real HTTP: the list (paging, CallSid, DateCreated,
# DateCreated<, DateCreated>, StartTime/EndTime, SortBy), the per-call
# list, the instance in XML and JSON, the media (.wav as written, .mp3
# made once from it and decodable, Range and HEAD), DELETE (row and
# files), account isolation, anonymous media by default and
# recordings.media_auth = true, bad SIDs. Nothing records yet in this
# test: rows are seeded in the database as the call module writes them
# (recording_store.h, unit-tested) and the WAV files are written here.
source ../rest_common/lib.sh

AUDIO="$SB_TEST_DIR/audio.py"
REC="$SB_TMP/rec"               # config.lua: recordings.dir
mkdir -p "$REC"

req GET "/Accounts.json/$SB_ADMIN_EMAIL" "${admin[@]}"
AC=$(jq_py 'd["sid"]')
req POST /Accounts.json "${admin[@]}" -d "EmailAddress=tenant@example.com" -d "Password=Tenant-Account-Pw1"
OTHER=$(jq_py 'd["sid"]')
T=(-u "tenant@example.com:Tenant-Account-Pw1")
CALL1="ID$(printf '%032x' 7)-CA$(printf '%032x' 1)"
CALL2="ID$(printf '%032x' 7)-CA$(printf '%032x' 2)"
re() { printf 'RE%032x' "$1"; }
RE1=$(re 1); RE2=$(re 2); RE3=$(re 3); RE4=$(re 4); RE5=$(re 5); RE6=$(re 6)

# RE1: 3 s of 1 kHz (the call's first); RE2: 1.5 s of 500 Hz (same call);
# RE3: two channels of 1 kHz, from a Dial (another call); RE4: no file on
# disk; RE5: another account's; RE6: a row whose file name points outside
# the folder (never served).
python3 "$AUDIO" tone "$REC/$RE1.wav" 3 1000
python3 "$AUDIO" tone "$REC/$RE2.wav" 1.5 500
python3 "$AUDIO" tone "$REC/$RE3.wav" 2 1000 8000 2
python3 "$AUDIO" tone "$REC/$RE5.wav" 1 1000
echo "not audio" >"$SB_TMP/secret.wav"
python3 - "$SB_DB" "$AC" "$OTHER" "$CALL1" "$CALL2" <<'PY'
import sqlite3, sys, calendar, time
db, ac, other, call1, call2 = sys.argv[1:6]
c = sqlite3.connect(db, timeout=10)
def t(s):
    return calendar.timegm(time.strptime(s, "%Y-%m-%d %H:%M:%S"))
rows = [
    # sid, account, call, duration, channels, source, created, file_name
    (1, ac, call1, 3.0, 1, "RecordVerb", t("2024-01-01 10:00:00"), None),
    (2, ac, call1, 1.5, 1, "RecordVerb", t("2024-01-02 10:00:00"), None),
    (3, ac, call2, 2.0, 2, "DialVerb", t("2024-01-03 10:00:00"), None),
    (4, ac, None, 0.5, 1, "RecordVerb", t("2024-01-04 10:00:00"), None),
    (5, other, None, 1.0, 1, "RecordVerb", t("2024-01-01 11:00:00"), None),
    (6, ac, None, 1.0, 1, "RecordVerb", t("2024-01-05 10:00:00"), "../secret.wav"),
]
for n, acc, call, dur, ch, src, created, name in rows:
    c.execute("INSERT INTO recordings (sid, account_sid, call_sid, duration, channels, source, "
              "status, start_time, file_name, date_created, date_updated) "
              "VALUES (?,?,?,?,?,?,?,?,?,?,?)",
              ("RE%032x" % n, acc, call, dur, ch, src, "completed", created - int(dur),
               name, created, created))
c.commit()
PY
B="/Accounts/$AC/Recordings"
MEDIA="$SB_BASE$B"              # media URLs: no credentials unless given

# ---- the list ------------------------------------------------------------------
req GET "$B.json" "${admin[@]}"
expect 200 "list (JSON)"
assert_eq "$(jq_py 'd["total"]')" "5" "five recordings for the account (not the other's)"
assert_eq "$(jq_py '[r["sid"][-1] for r in d["recordings"]]')" "['1', '2', '3', '4', '6']" \
  "oldest first (DateCreated)"
assert_eq "$(jq_py 'd["page_size"]')" "50" "paged (page_size)"
assert_eq "$(jq_py 'd["uri"]')" "/2012-04-24$B.json" "list uri"
req GET "$B" "${admin[@]}"
expect 200 "list (XML)"
assert_xml "the XML list is well-formed"
assert_eq "$(xml_py 'len(r.findall("Recordings/Recording"))')" "5" "XML list of five"
assert_eq "$(xml_py 'r.find("Recordings").get("total")')" "5" "XML total"

req GET "$B.json?PageSize=2" "${admin[@]}"
assert_eq "$(jq_py 'd["num_pages"]')" "2" "num_pages with PageSize=2"
assert_eq "$(jq_py 'len(d["recordings"])')" "2" "two on the first page"
NEXT=$(jq_py 'd["next_page_uri"]')
req GET "${NEXT#/2012-04-24}" "${admin[@]}"
expect 200 "next page"
assert_eq "$(jq_py '[r["sid"][-1] for r in d["recordings"]]')" "['3', '4']" "the next page's two"
req GET "$B.json?PageSize=2&Page=2" "${admin[@]}"
assert_eq "$(jq_py '[r["sid"][-1] for r in d["recordings"]]')" "['6']" "the last page"
assert_eq "$(jq_py 'd["next_page_uri"]')" "null" "no next page after the last"
req GET "$B.json?PageSize=2&Page=3" "${admin[@]}"
expect 400 "a page past the end"

# Filters.
req GET "$B.json?CallSid=$CALL1" "${admin[@]}"
assert_eq "$(jq_py '[r["sid"][-1] for r in d["recordings"]]')" "['1', '2']" "CallSid filter"
req GET "$B.json?DateCreated=2024-01-02" "${admin[@]}"
assert_eq "$(jq_py '[r["sid"][-1] for r in d["recordings"]]')" "['2']" "DateCreated: that day"
req GET "$B.json?DateCreated%3C=2024-01-02" "${admin[@]}"
assert_eq "$(jq_py '[r["sid"][-1] for r in d["recordings"]]')" "['1', '2']" \
  "DateCreated<=: on or before that day"
req GET "$B.json?DateCreated%3E=2024-01-03" "${admin[@]}"
assert_eq "$(jq_py '[r["sid"][-1] for r in d["recordings"]]')" "['3', '4', '6']" \
  "DateCreated>=: on or after that day"
req GET "$B.json?StartTime=2024-01-02&EndTime=2024-01-03" "${admin[@]}"
assert_eq "$(jq_py '[r["sid"][-1] for r in d["recordings"]]')" "['2', '3']" \
  "StartTime / EndTime (whole days)"
req GET "$B.json?DateCreated=yesterday" "${admin[@]}"
expect 400 "DateCreated not a date"
req GET "$B.json?SortBy=Duration:desc" "${admin[@]}"
assert_eq "$(jq_py '[r["sid"][-1] for r in d["recordings"]]')" "['1', '3', '2', '6', '4']" \
  "SortBy=Duration:desc"
req GET "$B.json?SortBy=Status" "${admin[@]}"
expect 400 "SortBy on an unsupported field"

# Per call: Restcomm's plain list (a bare JSON array), paged on request.
req GET "/Accounts/$AC/Calls/$CALL1/Recordings.json" "${admin[@]}"
expect 200 "per-call recordings (JSON)"
assert_eq "$(jq_py '[r["sid"][-1] for r in d]')" "['1', '2']" "a bare array of the call's two"
req GET "/Accounts/$AC/Calls/$CALL1/Recordings" "${admin[@]}"
expect 200 "per-call recordings (XML)"
assert_eq "$(xml_py 'len(r.findall("Recordings/Recording"))')" "2" "XML per-call list"
req GET "/Accounts/$AC/Calls/$CALL1/Recordings.json?PageSize=1" "${admin[@]}"
assert_eq "$(jq_py '[d["total"], d["num_pages"], len(d["recordings"])]')" "[2, 2, 1]" \
  "per-call list paged when PageSize is given (num_pages = total / size, as Restcomm)"
req GET "/Accounts/$AC/Calls/CA$(printf '%032x' 9)/Recordings.json" "${admin[@]}"
assert_eq "$(jq_py 'len(d)')" "0" "another call has none"
req GET "/Accounts/$AC/Calls/not-a-call/Recordings.json" "${admin[@]}"
expect 400 "malformed call SID"

# ---- the instance ------------------------------------------------------------------
req GET "$B/$RE1.json" "${admin[@]}"
expect 200 "get (JSON)"
assert_eq "$(jq_py 'd["sid"]')" "$RE1" "sid"
assert_eq "$(jq_py 'd["account_sid"]')" "$AC" "account_sid"
assert_eq "$(jq_py 'd["call_sid"]')" "$CALL1" "call_sid in Restcomm's call form"
assert_eq "$(jq_py 'd["duration"]')" "3.0" "duration as Restcomm writes it (a string, Java's double)"
assert_eq "$(jq_py 'd["api_version"]')" "2012-04-24" "api_version"
assert_eq "$(jq_py 'd["uri"]')" "/2012-04-24$B/$RE1.json" "uri"
assert_eq "$(jq_py 'd["file_uri"]')" "$MEDIA/$RE1.wav" "file_uri: where the WAV is served"
assert_eq "$(jq_py '[d["channels"], d["source"], d["status"], d["price_unit"]]')" \
  "[1, 'RecordVerb', 'completed', 'USD']" "Twilio's channels, source, status, price_unit"
assert_eq "$(jq_py '[d["conference_sid"], d["error_code"], d["price"]]')" "[None, None, None]" \
  "unset Twilio fields are null"
assert_date "$(jq_py 'd["date_created"]')" "date_created"
assert_date "$(jq_py 'd["start_time"]')" "start_time (Twilio: RFC 2822)"
req GET "$B/$RE2.json" "${admin[@]}"
assert_eq "$(jq_py 'd["duration"]')" "1.5" "a fractional duration"
req GET "$B/$RE3" "${admin[@]}"
expect 200 "get (XML)"
assert_eq "$(xml_py 'r.find("Recording/Sid").text')" "$RE3" "XML Sid"
assert_eq "$(xml_py 'r.find("Recording/Duration").text')" "2.0" "XML Duration"
assert_eq "$(xml_py 'r.find("Recording/Channels").text')" "2" "XML Channels"
assert_eq "$(xml_py 'r.find("Recording/Source").text')" "DialVerb" "XML Source"
assert_eq "$(xml_py 'r.find("Recording/CallSid").text')" "$CALL2" "XML CallSid"
assert_eq "$(xml_py 'r.find("Recording/Uri").text')" "/2012-04-24$B/$RE3" "XML Uri"
assert_eq "$(xml_py 'r.find("Recording/FileUri").text')" "$MEDIA/$RE3.wav" "XML FileUri"
assert_eq "$(xml_py '[c.tag for c in r.find("Recording")][:9]')" \
  "['Sid', 'DateCreated', 'DateUpdated', 'AccountSid', 'CallSid', 'Duration', 'ApiVersion', 'Uri', 'FileUri']" \
  "Restcomm's fields first, in its order"

# ---- the WAV ---------------------------------------------------------------------------
SIZE1=$(stat -c %s "$REC/$RE1.wav")
media() { # media URL [curl args...]: anonymous unless the args say otherwise
  local u=$1; shift
  RS=$(curl -s -o "$SB_TMP/media" -D "$SB_TMP/hdrs" -w '%{http_code}' --max-time 60 "$u" "$@")
}
media "$MEDIA/$RE1.wav"
assert_eq "$RS" 200 "the .wav without credentials (Restcomm serves media open)"
cmp -s "$SB_TMP/media" "$REC/$RE1.wav" || fail "the .wav bytes differ from the file"
pass "the .wav is the file, byte for byte"
assert_eq "$(header Content-Type)" "audio/x-wav" "Content-Type audio/x-wav"
assert_eq "$(header Accept-Ranges)" "bytes" "Accept-Ranges: bytes"
assert_eq "$(header Content-Length)" "$SIZE1" "Content-Length is the file's size"
assert_eq "$(python3 "$AUDIO" probe "$SB_TMP/media" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["freq"], d["tone_seconds"])')" \
  "1000 3.0" "the .wav holds 3 s of 1 kHz"
media "$MEDIA/$RE1.WAV"
assert_eq "$RS" 200 "the extension in any case"

# Range requests.
media "$MEDIA/$RE1.wav" -H "Range: bytes=0-99"
assert_eq "$RS" 206 "bytes=0-99: 206"
assert_eq "$(header Content-Range)" "bytes 0-99/$SIZE1" "Content-Range of the first 100 bytes"
assert_eq "$(header Content-Length)" "100" "Content-Length 100"
cmp -s "$SB_TMP/media" <(head -c 100 "$REC/$RE1.wav") || fail "bytes=0-99 body"
pass "bytes=0-99 body is the file's first 100 bytes"
media "$MEDIA/$RE1.wav" -H "Range: bytes=1000-"
assert_eq "$RS" 206 "bytes=1000-: 206"
assert_eq "$(header Content-Range)" "bytes 1000-$((SIZE1 - 1))/$SIZE1" "Content-Range to the end"
cmp -s "$SB_TMP/media" <(tail -c +1001 "$REC/$RE1.wav") || fail "bytes=1000- body"
pass "bytes=1000- body"
media "$MEDIA/$RE1.wav" -H "Range: bytes=-44"
assert_eq "$RS" 206 "bytes=-44 (the last 44): 206"
assert_eq "$(header Content-Range)" "bytes $((SIZE1 - 44))-$((SIZE1 - 1))/$SIZE1" "suffix Content-Range"
cmp -s "$SB_TMP/media" <(tail -c 44 "$REC/$RE1.wav") || fail "bytes=-44 body"
pass "bytes=-44 body"
media "$MEDIA/$RE1.wav" -H "Range: bytes=100-$((SIZE1 + 5000))"
assert_eq "$RS" 206 "a range past the end is cut at the end"
assert_eq "$(header Content-Range)" "bytes 100-$((SIZE1 - 1))/$SIZE1" "cut Content-Range"
media "$MEDIA/$RE1.wav" -H "Range: bytes=$SIZE1-"
assert_eq "$RS" 416 "a range starting at the end: 416"
assert_eq "$(header Content-Range)" "bytes */$SIZE1" "416 Content-Range names the size"
media "$MEDIA/$RE1.wav" -H "Range: bytes=-0"
assert_eq "$RS" 416 "bytes=-0: 416"
media "$MEDIA/$RE1.wav" -H "Range: bytes=0-9,20-29"
assert_eq "$RS" 200 "several ranges: the whole file"
assert_eq "$(header Content-Length)" "$SIZE1" "several ranges: whole length"
media "$MEDIA/$RE1.wav" -H "Range: bytes=9-5"
assert_eq "$RS" 200 "a malformed range is ignored"
media "$MEDIA/$RE1.wav" -H "Range: items=0-5"
assert_eq "$RS" 200 "another unit is ignored"
media "$MEDIA/$RE1.wav" -H "Range: bytes=0-9" -H 'If-Range: "x"'
assert_eq "$RS" 200 "If-Range (no validators here): the whole file"

# HEAD.
RS=$(curl -s -I -o "$SB_TMP/hdrs" -w '%{http_code}' --max-time 20 "$MEDIA/$RE1.wav")
assert_eq "$RS" 200 "HEAD .wav"
assert_eq "$(header Content-Length)" "$SIZE1" "HEAD: Content-Length of the file"
assert_eq "$(header Content-Type)" "audio/x-wav" "HEAD: Content-Type"
RS=$(curl -s -I -o "$SB_TMP/hdrs" -w '%{http_code}' --max-time 20 -H "Range: bytes=10-19" "$MEDIA/$RE1.wav")
assert_eq "$RS" 206 "HEAD with a range"
assert_eq "$(header Content-Length)" "10" "HEAD with a range: its length"
# Exactly the status and headers, no body: a raw HEAD on one connection,
# then a GET on the same connection must still parse.
raw=$(python3 - "$SB_HTTP_PORT" "/restcomm/2012-04-24$B/$RE1.wav" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
req = "HEAD %s HTTP/1.1\r\nHost: x\r\n\r\nGET %s HTTP/1.1\r\nHost: x\r\nRange: bytes=0-3\r\nConnection: close\r\n\r\n" % (sys.argv[2], sys.argv[2])
s.sendall(req.encode())
data = b""
while True:
    b = s.recv(65536)
    if not b:
        break
    data += b
parts = data.split(b"\r\n\r\n")
print(parts[0].split(b"\r\n")[0].decode(), "|", parts[1].split(b"\r\n")[0].decode(), "|", parts[2])
PY
)
assert_eq "$raw" "HTTP/1.1 200 OK | HTTP/1.1 206 Partial Content | b'RIFF'" "HEAD sends no body (the next answer follows at once)"

# ---- the MP3 ---------------------------------------------------------------------------
[ ! -e "$REC/$RE1.mp3" ] || fail "no MP3 before the first request"
media "$MEDIA/$RE1.mp3"
assert_eq "$RS" 200 "the .mp3 without credentials"
assert_eq "$(header Content-Type)" "audio/mpeg" "Content-Type audio/mpeg"
[ -f "$REC/$RE1.mp3" ] || fail "the MP3 is kept next to the WAV"
pass "the MP3 is kept next to the WAV"
cmp -s "$SB_TMP/media" "$REC/$RE1.mp3" || fail "the .mp3 bytes differ from the kept file"
pass "the .mp3 served is the kept file"
cp "$SB_TMP/media" "$SB_TMP/first.mp3"
probe=$(python3 "$AUDIO" probe "$SB_TMP/first.mp3")
assert_eq "$(python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(d["mpeg"], d["rate"], d["channels"])' "$probe")" \
  "True 8000 1" "the .mp3 is MPEG audio, 8 kHz mono (decoded by libsndfile/mpg123)"
assert_eq "$(python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(abs(d["freq"] - 1000) <= 20, abs(d["tone_seconds"] - 3.0) <= 0.1)' "$probe")" \
  "True True" "the .mp3 plays 3 s of 1 kHz ($probe)"
mtime=$(stat -c %y "$REC/$RE1.mp3")
media "$MEDIA/$RE1.mp3"
cmp -s "$SB_TMP/media" "$SB_TMP/first.mp3" || fail "the second .mp3 differs from the first"
assert_eq "$(stat -c %y "$REC/$RE1.mp3")" "$mtime" "the MP3 is made once: the second request reuses it"
assert_eq "$(grep -c "recording $RE1 converted to MP3" "$SB_LOG")" 1 "one conversion logged"
MSIZE=$(stat -c %s "$REC/$RE1.mp3")
media "$MEDIA/$RE1.mp3" -H "Range: bytes=0-9"
assert_eq "$RS" 206 "Range on the .mp3"
assert_eq "$(header Content-Range)" "bytes 0-9/$MSIZE" "the .mp3's Content-Range"
RS=$(curl -s -I -o "$SB_TMP/hdrs" -w '%{http_code}' --max-time 20 "$MEDIA/$RE1.mp3")
assert_eq "$RS $(header Content-Length)" "200 $MSIZE" "HEAD .mp3"

# Concurrent first requests of one MP3 share one conversion.
pids=()
for i in 1 2 3 4 5 6; do
  curl -s -o "$SB_TMP/par$i.mp3" -w '%{http_code}' --max-time 60 "$MEDIA/$RE3.mp3" >"$SB_TMP/par$i.st" &
  pids+=($!)
done
wait "${pids[@]}"
for i in 1 2 3 4 5 6; do
  [ "$(cat "$SB_TMP/par$i.st")" = 200 ] || fail "concurrent .mp3 request $i: $(cat "$SB_TMP/par$i.st")"
  cmp -s "$SB_TMP/par$i.mp3" "$SB_TMP/par1.mp3" || fail "concurrent .mp3 request $i: other bytes"
done
pass "six concurrent .mp3 requests: 200, the same bytes"
assert_eq "$(grep -c "recording $RE3 converted to MP3" "$SB_LOG")" 1 "one conversion for all six"
assert_eq "$(python3 "$AUDIO" probe "$SB_TMP/par1.mp3" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["channels"], abs(d["freq"] - 1000) <= 20)')" \
  "2 True" "a two-channel recording makes a two-channel MP3 of 1 kHz"
ls "$REC" | grep -q '\.tmp$' && fail "a temporary file was left: $(ls "$REC")"
pass "no temporary file left"

# ---- missing files, bad SIDs, methods -------------------------------------------------
media "$MEDIA/$RE4.wav"
assert_eq "$RS" 404 "a row without its WAV: .wav 404"
media "$MEDIA/$RE4.mp3"
assert_eq "$RS" 404 "a row without its WAV: .mp3 404"
media "$MEDIA/$RE6.wav" "${admin[@]}"
assert_eq "$RS" 404 "a stored file name outside the folder is never served"
grep -q "not audio" "$SB_TMP/media" && fail "the file outside the folder was served"
media "$MEDIA/RE123.wav"
assert_eq "$RS" 404 "a malformed SID: .wav 404"
media "$MEDIA/$(re 99).wav"
assert_eq "$RS" 404 "an unknown SID: .wav 404"
media "$MEDIA/$(re 99).mp3"
assert_eq "$RS" 404 "an unknown SID: .mp3 404"
media "$MEDIA/%2e%2e%2f$RE1.wav"
assert_eq "$RS" 404 "a path in the SID: 404"
media "$MEDIA/$RE1.ogg"
[ "$RS" = 401 ] || fail "another extension is no media (needs credentials): got $RS"
pass "another extension is not media (401 without credentials)"
req GET "$B/$(re 99).json" "${admin[@]}"
expect 404 "unknown recording SID"
req GET "$B/RE1.json" "${admin[@]}"
expect 400 "malformed recording SID"
req POST "$B" "${admin[@]}" -d "CallSid=$CALL1"
expect 405 "recordings cannot be created over REST"
req POST "$B/$RE1" "${admin[@]}" -d "Duration=9"
expect 405 "recordings cannot be changed over REST"
req DELETE "$B/$RE1.wav" "${admin[@]}"
expect 405 "DELETE on the media"
req GET "$B.json"
expect 401 "the list needs credentials"
req GET "$B/$RE1.json"
expect 401 "the instance needs credentials"

# ---- isolation ---------------------------------------------------------------------------
req GET "$B/$RE5.json" "${admin[@]}"
expect 404 "another account's recording under this account's path"
media "$MEDIA/$RE5.wav"
assert_eq "$RS" 404 "another account's .wav under this account's path (anonymous)"
media "$MEDIA/$RE5.wav" "${admin[@]}"
assert_eq "$RS" 404 "another account's .wav under this account's path (with credentials)"
media "$MEDIA/$RE5.mp3"
assert_eq "$RS" 404 "another account's .mp3 under this account's path"
[ ! -e "$REC/$RE5.mp3" ] || fail "a refused .mp3 request converted the file"
req DELETE "$B/$RE5" "${admin[@]}"
expect 404 "another account's recording cannot be deleted from this path"
[ -f "$REC/$RE5.wav" ] || fail "the other account's file was removed"
media "$SB_BASE/Accounts/$OTHER/Recordings/$RE1.wav"
assert_eq "$RS" 404 "this account's .wav under another account's path"
media "$SB_BASE/Accounts/$OTHER/Recordings/$RE5.wav"
assert_eq "$RS" 200 "the other account's .wav under its own path"
media "$SB_BASE/Accounts/AC$(printf '%032x' 5)/Recordings/$RE1.wav"
assert_eq "$RS" 404 "an unknown account in the media path"
req GET "/Accounts/$OTHER/Recordings.json" "${T[@]}"
assert_eq "$(jq_py '[r["sid"] for r in d["recordings"]]')" "['$RE5']" "the sub-account lists its own only"
req GET "/Accounts/$OTHER/Recordings/$RE1.json" "${T[@]}"
expect 404 "the sub-account: the parent's recording under its own path"
req GET "$B.json" "${T[@]}"
expect 403 "a sub-account cannot list its parent's recordings"
req GET "/Accounts/$OTHER/Calls/$CALL1/Recordings.json" "${T[@]}"
assert_eq "$(jq_py 'len(d)')" "0" "the sub-account does not see the parent's call recordings"

# ---- usage ------------------------------------------------------------------------------
req GET "/Accounts/$AC/Usage/Records.json?Category=recordings" "${admin[@]}"
assert_eq "$(jq_py '[d[0]["count"], d[0]["usage"]]')" "['5', '1']" \
  "usage: five recordings, 8 s rounded up to 1 minute"

# ---- delete -------------------------------------------------------------------------------
req DELETE "$B/$RE1" "${admin[@]}"
expect 204 "DELETE a recording"
assert_eq "$(sql "SELECT count(*) FROM recordings WHERE sid = '$RE1'")" "0" "the row is gone"
[ ! -e "$REC/$RE1.wav" ] || fail "the .wav file is still there"
[ ! -e "$REC/$RE1.mp3" ] || fail "the .mp3 file is still there"
pass "the .wav and .mp3 files are removed"
req GET "$B/$RE1.json" "${admin[@]}"
expect 404 "a deleted recording"
media "$MEDIA/$RE1.wav"
assert_eq "$RS" 404 "a deleted recording's .wav"
media "$MEDIA/$RE1.mp3"
assert_eq "$RS" 404 "a deleted recording's .mp3"
req DELETE "$B/$RE1" "${admin[@]}"
expect 404 "DELETE again"
req DELETE "$B/$RE4" "${admin[@]}"
expect 204 "DELETE a recording whose file is missing"
req DELETE "/Accounts/$OTHER/Recordings/$RE5" "${T[@]}"
expect 204 "the sub-account deletes its own"
[ ! -e "$REC/$RE5.wav" ] || fail "the sub-account's file is still there"
req GET "$B.json" "${admin[@]}"
assert_eq "$(jq_py 'd["total"]')" "3" "three left"

# ---- recordings.media_auth = true ---------------------------------------------------------
stop_server
echo 'recordings.media_auth = true' >>"$SB_CONF"
start_server || fail "server did not start with recordings.media_auth"
media "$MEDIA/$RE2.wav"
assert_eq "$RS" 401 "media_auth: the .wav needs credentials"
assert_contains "$(header WWW-Authenticate)" "Basic" "media_auth: 401 asks for Basic"
media "$MEDIA/$RE2.mp3"
assert_eq "$RS" 401 "media_auth: the .mp3 needs credentials"
[ ! -e "$REC/$RE2.mp3" ] || fail "an unauthenticated request converted the file"
media "$MEDIA/$RE2.wav" -u "$SB_ADMIN_EMAIL:wrong-password"
assert_eq "$RS" 401 "media_auth: wrong credentials"
media "$MEDIA/$RE2.wav" "${admin[@]}"
assert_eq "$RS" 200 "media_auth: the owner's credentials"
cmp -s "$SB_TMP/media" "$REC/$RE2.wav" || fail "media_auth: the .wav bytes"
media "$MEDIA/$RE2.mp3" "${admin[@]}"
assert_eq "$RS" 200 "media_auth: the .mp3 with credentials"
assert_eq "$(python3 "$AUDIO" probe "$SB_TMP/media" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(abs(d["freq"] - 500) <= 15, abs(d["tone_seconds"] - 1.5) <= 0.1)')" \
  "True True" "the .mp3 of RE2 plays 1.5 s of 500 Hz"
media "$MEDIA/$RE2.wav" "${T[@]}"
assert_eq "$RS" 403 "media_auth: another account's credentials on this path"
media "$SB_BASE/Accounts/$OTHER/Recordings/$RE2.wav" "${T[@]}"
assert_eq "$RS" 404 "media_auth: another account's recording under its own path"
