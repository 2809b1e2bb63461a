# log.format = "json": every line the server writes is one JSON object
# (ts, level, msg; call_sid on a call's lines, plugin on a plugin's); a
# plugin's Lua error, whose message is a multi-line traceback, is one line
# with the call SID and the plugin, and is counted per plugin in GET
# /metrics; reload() logs one line per plugin with its result.
source ../calls_common/lib.sh
REPO=$(cd "$IT_DIR/../.." && pwd)
mkdir -p "$SB_TMP/plugins"
cat >"$SB_TMP/plugins/boom.lua" <<'LUA'
-- <Boom/>: fails three calls deep, so its traceback has several lines.
local function deeper(n)
  if n == 0 then
    error("boom from the plugin")
  end
  return deeper(n - 1) + 1
end
plugin:verb("Boom", { nests = false }, function ()
  return deeper(3)
end)
LUA
stop_server
echo "plugins.paths = { \"$REPO/plugins\", \"$SB_TMP/plugins\" }" >>"$SB_CONF"
start_server || fail "restart with the boom plugin"

app_start
doc boom.xml '<Response><Boom/></Response>'
doc reject.xml '<Response><Reject/></Response>'
make_number 2000 /boom.xml >/dev/null
make_number 2001 /reject.xml >/dev/null
scen uac_expect.xml boom CODE=500
uac boom 2000 || true          # whatever the answer: the log is the test
scen uac_expect.xml rejected CODE=603
uac rejected 2001 || { show rejected; fail "the rejected call"; }
wait_eq 10 0 live_calls || fail "the calls are over"
BOOM_SID=$(param /boom.xml CallSid)
[[ "$BOOM_SID" =~ CA[0-9a-f]{32} ]] || fail "the boom call's SID ($BOOM_SID)"

out=$(timeout 30 "$SB_BIN" console -s "$SB_TMP/console.sock" -e 'reload()') ||
  fail "reload() from the console: $out"
assert_eq "$(curl -s "http://127.0.0.1:$SB_HTTP_PORT/metrics" |
  grep -F 'switchboard_lua_errors_total{plugin="boom"}' | awk '{print $NF}')" 1 \
  "the Lua error is counted for its plugin"

python3 - "$SB_LOG" "$BOOM_SID" <<'PY' || fail "the JSON log"
import json, re, sys
path, boom_sid = sys.argv[1], sys.argv[2]
lines = open(path, "rb").read().decode("utf-8").split("\n")
assert lines[-1] == "", "the log ends with a newline"
recs = []
for n, line in enumerate(lines[:-1], 1):
    try:
        r = json.loads(line)
    except ValueError as e:
        sys.exit("line %d is not JSON (%s): %r" % (n, e, line[:200]))
    if not isinstance(r, dict) or not {"ts", "level", "msg"} <= r.keys():
        sys.exit("line %d lacks ts, level or msg: %r" % (n, line[:200]))
    if not re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", r["ts"]):
        sys.exit("line %d: ts %r" % (n, r["ts"]))
    if r["level"] not in ("error", "warn", "info", "debug", "trace"):
        sys.exit("line %d: level %r" % (n, r["level"]))
    recs.append(r)
print("ok: all %d lines of the server log are JSON objects with ts, level, msg" % len(recs))

# A call's lines carry its SID: every line that names a call SID in its
# message (other than a parent naming its child leg) has call_sid.
sid_re = re.compile(r"\bCA[0-9a-f]{32}\b")
bad = [r for r in recs if sid_re.search(r["msg"]) and "call_sid" not in r
       and not r["msg"].startswith("http: ")]
if bad:
    sys.exit("lines about a call without call_sid: %s" % [b["msg"][:160] for b in bad[:5]])
calls = [r for r in recs if re.match(r"^(call|dial|rcml|notification)\b", r["msg"])]
if not calls:
    sys.exit("no call lines found")
missing = [r["msg"][:160] for r in calls if "call_sid" not in r]
if missing:
    sys.exit("call lines without call_sid: %s" % missing[:5])
print("ok: %d call lines, each with call_sid" % len(calls))

# The traceback: one line, with the call SID and the plugin.
tb = [r for r in recs if "boom from the plugin" in r["msg"] and r["level"] == "error"
      and "verb Boom failed" in r["msg"]]
if not tb:
    sys.exit("no error line for the failed verb")
r = tb[0]
if r.get("call_sid", "").split("-")[-1] != boom_sid.split("-")[-1]:
    sys.exit("the traceback line has call_sid %r, want %r" % (r.get("call_sid"), boom_sid))
if r.get("plugin") != "boom":
    sys.exit("the traceback line has plugin %r" % r.get("plugin"))
if "stack traceback:" not in r["msg"] or " | " not in r["msg"] or "\n" in r["msg"]:
    sys.exit("the traceback is not folded into one line: %r" % r["msg"])
if r["msg"].count("boom.lua") < 3:
    sys.exit("the folded traceback lost its frames: %r" % r["msg"])
print("ok: the Lua traceback is one line with call_sid and plugin: %s" % r["msg"][:150])

# reload(): one line per plugin with its result.
rl = [r for r in recs if re.match(r"^plugin \S+: reloaded$", r["msg"])]
names = {r.get("plugin") for r in rl}
if "boom" not in names or len(names) < 5 or any(r.get("plugin") is None for r in rl):
    sys.exit("reload lines: %s" % [r["msg"] for r in rl][:10])
print("ok: reload() logged %d plugins, each on its own line with plugin" % len(names))
PY
pass "the JSON log checks"

# The text format folds tracebacks too.
stop_server
sed -i 's/^log.format = "json"$/log.format = "text"/' "$SB_CONF"
start_server || fail "restart with log.format = text"
uac boom 2000 || true
wait_eq 10 0 live_calls || fail "the text-format boom call is over"
wait_for 5 grep -q 'INFO .* ready in\|verb Boom failed' "$SB_LOG"
line=$(grep -a 'ERROR .*plugin boom: verb Boom failed' "$SB_LOG" | tail -1)
assert_contains "$line" "stack traceback: | " "text format: the traceback on one line"
[ "$(grep -ac '^	\|^stack traceback' "$SB_LOG")" = 0 ] || fail "a traceback line escaped folding"
pass "no continuation lines in the text log"

# A wrong value is a configuration error with file, line and key.
printf 'log.format = "xml"\n' >"$SB_TMP/bad.conf.lua"
out=$("$SB_BIN" check-config "$SB_TMP/bad.conf.lua" 2>&1); rc=$?
[ $rc -ne 0 ] || fail "check-config accepts log.format = xml"
assert_contains "$out" "bad.conf.lua:1: log.format:" "log.format = xml is refused with file:line: key"
