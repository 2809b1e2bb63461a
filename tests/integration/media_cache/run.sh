# The audio cache, as phones hear it and as the origin sees it: a file
# with max-age is downloaded once and served from the cache while fresh
# (a changed origin file is not heard); after max-age it is revalidated
# with If-None-Match and the changed file is downloaded and heard; an
# unchanged one is answered 304 and the cached audio is heard without a
# second download; 20 simultaneous calls playing one new URL (the origin
# slow to answer) cause exactly one download and each hears the tone.
# Two media workers (config.lua: media.threads = 2) share the calls.
source ../media_common/lib.sh
app_start
M="$APP/media"
doc chg.xml "<Response><Play>$M/chg.wav</Play><Hangup/></Response>"
doc same.xml "<Response><Play>$M/same.wav</Play><Hangup/></Response>"
doc many.xml "<Response><Play>$M/many.wav</Play><Hangup/></Response>"
make_number 5201 /chg.xml >/dev/null
make_number 5202 /same.xml >/dev/null
make_number 5203 /many.xml >/dev/null
media_set /media/chg.wav '{"freq": 1000, "secs": 1.0, "max_age": 8}'
media_set /media/same.wav '{"freq": 700, "secs": 1.0, "max_age": 1}'
media_set /media/many.wav '{"freq": 900, "secs": 1.5, "max_age": 60, "delay_ms": 1500}'

# ---- a changed file: cached while fresh, fetched again after max-age ----------------
listen_call chg1 5201 2
hear tone chg1 --freq 1000 --dur 1.0 --count 1
assert_eq "$(media_count /media/chg.wav 200)" 1 "chg: one download"
media_set /media/chg.wav '{"freq": 1500, "secs": 1.0, "max_age": 8}'
listen_call chg2 5201 2
hear tone chg2 --freq 1000 --dur 1.0 --count 1
assert_eq "$(media_count /media/chg.wav 200)" 1 "chg: fresh for max-age=8: still one download, the old tone"
# Past max-age: 8.5 s after the first download.
left=$(python3 - "$HTTP_LOG" <<'PY'
import json, sys, time
t = min(json.loads(l)["t"] for l in open(sys.argv[1]) if '"/media/chg.wav"' in l)
print(max(0.0, t + 8.5 - time.time()))
PY
)
sleep "$left"
listen_call chg3 5201 2
hear tone chg3 --freq 1500 --dur 1.0 --count 1
assert_eq "$(media_count /media/chg.wav 200)" 2 "chg: stale after max-age: the changed file downloaded again"
inm=$(python3 - "$HTTP_LOG" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
rows = [r for r in rows if r["path"] == "/media/chg.wav"]
print(rows[-1].get("if_none_match"))
PY
)
case "$inm" in '"'*'"') pass "chg: the revalidation sent If-None-Match $inm" ;;
  *) fail "chg: the revalidation sent no If-None-Match (got '$inm')" ;; esac

# ---- 304 honoured --------------------------------------------------------------------
listen_call same1 5202 2
hear tone same1 --freq 700 --dur 1.0 --count 1
sleep 0.5
listen_call same2 5202 2
hear tone same2 --freq 700 --dur 1.0 --count 1
assert_eq "$(media_count /media/same.wav 200)" 1 "304: one download only"
assert_eq "$(media_count /media/same.wav 304)" 1 "304: one revalidation answered 304, and the cached tone heard"

# ---- 20 simultaneous calls, one new URL, one download ------------------------------------
for i in $(seq 1 20); do listen_prepare "many$i" 4; done
for i in $(seq 1 20); do listen_start "many$i" 5203; done
for i in $(seq 1 20); do listen_wait "many$i"; done
for i in $(seq 1 20); do
  out=$(python3 "$HEAR" tone "$SB_TMP/many$i.wav" --freq 900 --dur 1.5 --count 1 2>&1) \
    || fail "many: call $i: $out"
done
pass "many: each of the 20 callers heard the 900 Hz tone for 1.5 s"
assert_eq "$(reqs /media/many.wav)" 1 "many: 20 simultaneous calls made one request"
assert_eq "$(media_count /media/many.wav 200)" 1 "many: one download"
