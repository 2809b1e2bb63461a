# REST Notifications: list (filters StartTime, EndTime, ErrorCode, Log,
# RequestUrl, MessageText; paging), get, and the per-call subresource, in
# XML and JSON. Rows are seeded in the database as the subsystems'
# notify.h calls write them (that API itself is unit-tested).
source ../rest_common/lib.sh

req GET "/Accounts.json/$SB_ADMIN_EMAIL" "${admin[@]}"
AC=$(jq_py 'd["sid"]')
req POST /Accounts.json "${admin[@]}" -d "EmailAddress=tenant@example.com" -d "Password=Tenant-Account-Pw1"
OTHER=$(jq_py 'd["sid"]')
T=(-u "tenant@example.com:Tenant-Account-Pw1")
CALL="ID$(printf '%032x' 7)-CA$(printf '%032x' 9)"

python3 - "$SB_DB" "$AC" "$OTHER" "$CALL" <<'PY'
import sqlite3, sys, calendar, time
db, ac, other, call = sys.argv[1:5]
c = sqlite3.connect(db, timeout=10)
def day(s):
    return calendar.timegm(time.strptime(s, "%Y-%m-%d %H:%M:%S"))
rows = [
    # sid, account, call, log, code, text, url, created
    ("NO" + "%032x" % 1, ac, call, 0, 11200, "HTTP retrieval failure", "http://127.0.0.1:9/a.xml", day("2024-01-01 10:00:00")),
    ("NO" + "%032x" % 2, ac, call, 0, 12100, "Document parse failure", "http://127.0.0.1:9/b.xml", day("2024-01-02 10:00:00")),
    ("NO" + "%032x" % 3, ac, call, 1, 13210, "Dial: invalid method", "http://127.0.0.1:9/b.xml", day("2024-01-03 10:00:00")),
    ("NO" + "%032x" % 4, ac, None, 0, 11200, "HTTP retrieval failure 50%_off", "http://127.0.0.1:9/c.xml", day("2024-01-04 10:00:00")),
    ("NO" + "%032x" % 5, ac, None, 1, 21402, "URL not found", "http://example.com/d.xml", day("2024-01-05 10:00:00")),
    ("NO" + "%032x" % 6, other, None, 0, 11200, "someone else's", "http://127.0.0.1:9/e.xml", day("2024-01-01 11:00:00")),
]
for sid, acc, cs, log, code, text, url, t in rows:
    c.execute("INSERT INTO notifications (sid, account_sid, call_sid, log, error_code, more_info, "
              "message_text, message_date, request_url, request_method, request_variables, "
              "response_body, date_created, date_updated) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
              (sid, acc, cs, log, code, "/restcomm/errors/%d.html" % code, text, t * 1000 + 250,
               url, "POST", "CallSid=x&From=alice", "<Response>", t, t))
c.commit()
PY
NO1="NO$(printf '%032x' 1)"
NO6="NO$(printf '%032x' 6)"
B="/Accounts/$AC/Notifications"

req GET "$B.json" "${admin[@]}"
expect 200 "list (JSON)"
assert_eq "$(jq_py 'd["total"]')" "5" "five notifications for the account"
assert_eq "$(jq_py '[n["error_code"] for n in d["notifications"]]')" \
  "[11200, 12100, 13210, 11200, 21402]" "oldest first (DateCreated)"
assert_eq "$(jq_py 'd["page_size"]')" "50" "paged (page_size)"
req GET "$B" "${admin[@]}"
expect 200 "list (XML)"
assert_eq "$(xml_py 'len(r.findall("Notifications/Notification"))')" "5" "XML list of five"
assert_eq "$(xml_py 'r.find("Notifications").get("total")')" "5" "XML total"

req GET "$B/$NO1.json" "${admin[@]}"
expect 200 "get (JSON)"
assert_eq "$(jq_py 'd["log"]')" "0" "log 0 (error)"
assert_eq "$(jq_py 'd["error_code"]')" "11200" "error_code"
assert_eq "$(jq_py 'd["more_info"]')" "/restcomm/errors/11200.html" "more_info"
assert_eq "$(jq_py 'd["message_date"]')" "2024-01-01T10:00:00.250Z" "message_date ISO 8601"
assert_eq "$(jq_py 'd["call_sid"]')" "$CALL" "call_sid in Restcomm's call form"
assert_eq "$(jq_py 'd["request_variables"]')" "CallSid=x&From=alice" "request_variables"
assert_eq "$(jq_py 'd["uri"]')" "/2012-04-24/Accounts/$AC/Notifications/$NO1.json" "uri"
assert_date "$(jq_py 'd["date_created"]')" "date_created"
req GET "$B/$NO1" "${admin[@]}"
expect 200 "get (XML)"
assert_eq "$(xml_py 'r.find("Notification/ErrorCode").text')" "11200" "XML ErrorCode"
assert_eq "$(xml_py 'r.find("Notification/ResponseBody").text')" "<Response>" "XML text escaped and read back"
req GET "$B/NO$(printf '%032x' 5).json" "${admin[@]}"
assert_eq "$(jq_py '"call_sid" in d')" "false" "no call_sid member without a call"

# Filters.
req GET "$B.json?ErrorCode=11200" "${admin[@]}"
assert_eq "$(jq_py 'd["total"]')" "2" "ErrorCode filter"
req GET "$B.json?Log=1" "${admin[@]}"
assert_eq "$(jq_py 'd["total"]')" "2" "Log filter (warnings)"
req GET "$B.json?StartTime=2024-01-02&EndTime=2024-01-04" "${admin[@]}"
assert_eq "$(jq_py '[n["error_code"] for n in d["notifications"]]')" "[12100, 13210, 11200]" \
  "StartTime / EndTime (whole days)"
req GET "$B.json?RequestUrl=b.xml" "${admin[@]}"
assert_eq "$(jq_py 'd["total"]')" "2" "RequestUrl filter"
req GET "$B.json?MessageText=retrieval" "${admin[@]}"
assert_eq "$(jq_py 'd["total"]')" "2" "MessageText filter"
req GET "$B.json?MessageText=50%25_" "${admin[@]}"
assert_eq "$(jq_py 'd["total"]')" "1" "MessageText with SQL wildcards matches literally"
req GET "$B.json?MessageText=0%25" "${admin[@]}"
assert_eq "$(jq_py 'd["total"]')" "1" "a % matches only a %"
req GET "$B.json?ErrorCode=abc" "${admin[@]}"
expect 400 "ErrorCode not a number"
req GET "$B.json?StartTime=yesterday" "${admin[@]}"
expect 400 "StartTime not a date"
req GET "$B.json?SortBy=ErrorCode:desc" "${admin[@]}"
assert_eq "$(jq_py 'd["notifications"][0]["error_code"]')" "21402" "SortBy=ErrorCode:desc"

# Paging.
req GET "$B.json?PageSize=2" "${admin[@]}"
assert_eq "$(jq_py 'd["num_pages"]')" "2" "num_pages"
NEXT=$(jq_py 'd["next_page_uri"]')
req GET "${NEXT#/2012-04-24}" "${admin[@]}"
assert_eq "$(jq_py '[n["error_code"] for n in d["notifications"]]')" "[13210, 11200]" "next page"
req GET "$B.json?PageSize=2&Page=3" "${admin[@]}"
expect 400 "a page past the end"

# Per call.
req GET "/Accounts/$AC/Calls/$CALL/Notifications.json" "${admin[@]}"
expect 200 "per-call notifications (JSON)"
assert_eq "$(jq_py 'd["total"]')" "3" "the call's three notifications"
req GET "/Accounts/$AC/Calls/$CALL/Notifications" "${admin[@]}"
expect 200 "per-call notifications (XML)"
assert_eq "$(xml_py 'len(r.findall("Notifications/Notification"))')" "3" "XML per-call list"
req GET "/Accounts/$AC/Calls/CA$(printf '%032x' 1)/Notifications.json" "${admin[@]}"
assert_eq "$(jq_py 'd["total"]')" "0" "another call has none"
req GET "/Accounts/$AC/Calls/not-a-call/Notifications.json" "${admin[@]}"
expect 400 "malformed call SID"

# Isolation, bad input, methods.
req GET "$B/$NO6.json" "${admin[@]}"
expect 404 "another account's notification under this account's path"
req GET "/Accounts/$OTHER/Notifications.json" "${T[@]}"
assert_eq "$(jq_py 'd["total"]')" "1" "the sub-account sees its own"
req GET "$B.json" "${T[@]}"
expect 403 "a sub-account cannot read its parent's notifications"
req GET "$B/NO$(printf '%032x' 99)" "${admin[@]}"
expect 404 "unknown notification SID"
req GET "$B/NO1" "${admin[@]}"
expect 400 "malformed notification SID"
req POST "$B" "${admin[@]}" -d "ErrorCode=1"
expect 405 "notifications cannot be created over REST"
req DELETE "$B/$NO1" "${admin[@]}"
expect 405 "notifications cannot be deleted"
