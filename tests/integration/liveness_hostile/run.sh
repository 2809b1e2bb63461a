# Hostile input must not stall the event loop (issue 23): each input is
# processed by the live server (through the console, which runs in the
# server's loop thread like an RCML session) while a REST request from
# another client is timed. The bound (5 s) is generous: before the fixes
# each input held the loop for half a minute or more. Inputs: an RCML
# document with 95,000 attributes on one element (quadratic in libxml2),
# uri.is_http and remove_dot_segments on long text (quadratic patterns),
# and a loop of big string.rep calls (C time the instruction limit did not
# see; lua.time_limit = 1 s here).

SOCK="$SB_TMP/console.sock"
con() { timeout 120 "$SB_BIN" console -s "$SOCK" "$@"; }

# probe NAME: times a REST request while the console chunk in $SB_TMP/NAME.lua
# runs; its output goes to $SB_TMP/NAME.out.
probe() {
  local name=$1
  con <"$SB_TMP/$name.lua" >"$SB_TMP/$name.out" 2>&1 &
  local pid=$!
  sleep 0.3
  local t
  t=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' --max-time 30 "$SB_BASE/Accounts")
  wait "$pid"
  local st=${t%% *} secs=${t##* }
  assert_eq "$st" 401 "$name: REST answered while it was processed"
  python3 -c "exit(0 if $secs < 5 else 1)" || fail "$name: REST waited $secs s"
  pass "$name: answered in $secs s"
}

cat >"$SB_TMP/attrs.lua" <<'LUA'
local t = { "<Response><Say" }
for i = 1, 95000 do t[#t + 1] = (' a%d="v"'):format(i) end
t[#t + 1] = ">hi</Say></Response>"
local tree, reason, msg = require("switchboard.core").rcml_parse(table.concat(t))
return tostring(tree) .. " " .. tostring(reason) .. ": " .. tostring(msg)
LUA
probe attrs
assert_contains "$(cat "$SB_TMP/attrs.out")" "nil limit: element 2 has more than 64 attributes" \
  "the document is refused before libxml2 parses it"

cat >"$SB_TMP/uri.lua" <<'LUA'
local uri = require "switchboard.uri"
local a = uri.is_http("http://" .. ("a"):rep(200000) .. "@")
local b = #uri.remove_dot_segments(("/a/."):rep(100000))
return tostring(a) .. " " .. b
LUA
probe uri
assert_eq "$(cat "$SB_TMP/uri.out")" "false 200001" "uri functions answer on long input"

cat >"$SB_TMP/rep.lua" <<'LUA'
local s = string.rep("x", 1024 * 1024)
while true do local t = s:rep(8) end
LUA
probe rep
assert_contains "$(cat "$SB_TMP/rep.out")" "time limit exceeded" \
  "a loop of big string.rep calls is stopped by lua.time_limit"
