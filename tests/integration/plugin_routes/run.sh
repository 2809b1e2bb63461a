# Plugin routes (plugin:route): served under
# /Accounts/{AccountSid}/Plugins, authenticated and scoped like every
# resource; {name} captures, query and form parameters, JSON and text
# answers, a handler that waits (sleep), 404 and 405, a handler that
# raises (500, the server goes on), routes going away on unload, and a
# request still in its handler at shutdown.
source ../rest_common/lib.sh

SOCK="$SB_TMP/console.sock"
con() { timeout 30 "$SB_BIN" console -s "$SOCK" "$@"; }
P="$SB_TMP/plugins"
mkdir -p "$P"
cat >"$P/queue.lua" <<'LUA'
local items = {}
plugin:route("GET", "/queue/{id}", function(req)
  local v = items[req.params.id]
  if v == nil then
    return 404, { message = "no item " .. req.params.id }
  end
  return { id = req.params.id, value = v, account = req.account_sid,
           format = req.format }
end)
plugin:route("POST", "/queue/{id}", function(req)
  items[req.params.id] = req.form.Value
  return 201, "stored " .. req.params.id, { Location = "/queue/" .. req.params.id }
end)
plugin:route("GET", "/queue/latest", function(req)
  return "literal route wins"
end)
plugin:route("GET", "/slow", function(req)
  sleep(tonumber(req.query.s or "0.05"))
  return 200, "slept", { ["Content-Type"] = "text/x-slow" }
end)
plugin:route("GET", "/boom", function(req)
  error("exploded on purpose")
end)
plugin:route("DELETE", "/empty", function(req) end)
LUA
out=$(con -e 'reload()'); rc=$?
assert_eq "$rc:$out" "0:reloaded 1 plugin" "the plugin with routes loads"

req GET "/Accounts.json/$SB_ADMIN_EMAIL" "${admin[@]}"
AC=$(jq_py 'd["sid"]')
req POST /Accounts.json "${admin[@]}" -d "EmailAddress=tenant@example.com" -d "Password=Tenant-Account-Pw1"
TENANT=$(jq_py 'd["sid"]')
T=(-u "tenant@example.com:Tenant-Account-Pw1")
U="/Accounts/$AC/Plugins"

req GET "$U/queue/7"
expect 401 "no credentials: 401"
req GET "$U/queue/7" -u "$SB_ADMIN_EMAIL:wrong-password"
expect 401 "a wrong password: 401"

req POST "$U/queue/7" "${admin[@]}" -d "Value=hello world"
expect 201 "POST with a {id} capture and a form parameter"
assert_eq "$RB" "stored 7" "the text body"
assert_eq "$(header Location)" "/queue/7" "the handler's header"
assert_contains "$(header Content-Type)" "text/plain" "text answers are text/plain"

req GET "$U/queue/7" "${admin[@]}"
expect 200 "GET answers a table"
assert_contains "$(header Content-Type)" "application/json" "a table is sent as JSON"
assert_eq "$(jq_py 'd["value"]')" "hello world" "the stored value"
assert_eq "$(jq_py 'd["account"]')" "$AC" "the handler sees the account of the URL"
assert_eq "$(jq_py 'd["format"]')" "xml" "no .json: format is xml"
req GET "$U/queue/7.json" "${admin[@]}"
assert_eq "$(jq_py 'd["format"]')" "json" ".json on the last segment asks for JSON"

req GET "$U/queue/8" "${admin[@]}"
expect 404 "the handler's own 404"
assert_eq "$(jq_py 'd["message"]')" "no item 8" "with its own body"

req GET "$U/queue/latest" "${admin[@]}"
expect 200 "a literal segment beats a placeholder"
assert_eq "$RB" "literal route wins" "the literal route answered"

req GET "$U/slow?s=0.2" "${admin[@]}"
expect 200 "a handler that waits (sleep) answers later"
assert_eq "$RB:$(header Content-Type)" "slept:text/x-slow" "its body and Content-Type"

req DELETE "$U/empty" "${admin[@]}"
expect 204 "a handler returning nothing: 204"

req GET "$U/nothing/here" "${admin[@]}"
expect 404 "no route: 404"
assert_contains "$RB" "<Message>" "in Restcomm's error format"
req PUT "$U/queue/7" "${admin[@]}"
expect 405 "a path served for other methods: 405"
assert_eq "$(header Allow)" "GET,POST" "Allow lists the route's methods"

req GET "$U/boom" "${admin[@]}"
expect 500 "a handler that raises: 500"
assert_log "plugin queue: route GET /boom failed: .*exploded on purpose" "the error is logged with the plugin"
req GET "$U/queue/7" "${admin[@]}"
expect 200 "the server goes on after a failing handler"

# Account scoping: the tenant (a sub-account) may not use the admin's URL;
# the admin may use the tenant's.
req GET "$U/queue/7" "${T[@]}"
expect 403 "another account's Plugins URL: 403"
req GET "/Accounts/$TENANT/Plugins/queue/7.json" "${admin[@]}"
expect 200 "the parent may use a sub-account's URL"
assert_eq "$(jq_py 'd["account"]')" "$TENANT" "the handler sees the sub-account"

# A request still waiting in its handler when the server stops gets the
# HTTP close grace like any request in flight, then its connection is
# closed and the session cancelled; the shutdown stays clean (the runner
# checks the exit status and the sanitizer report).
curl -s -o "$SB_TMP/pending.out" -w '%{http_code}' --max-time 60 \
  "$SB_BASE$U/slow?s=60" "${admin[@]}" >"$SB_TMP/pending.status" &

rm "$P/queue.lua"
con -e 'reload()' >/dev/null
req GET "$U/queue/7" "${admin[@]}"
expect 404 "an unloaded plugin's routes are gone"
req GET "$U/slow" "${admin[@]}"
expect 404 "all of them"
