# The Calls resource (read side) and the Supervisor metrics: records of a
# rejected call and of a two-leg Dial call, listed with Restcomm's paging
# and filters (Status, To, From, ParentCallSid, StartTime), one call in
# JSON and XML, an unknown SID 404; Supervisor metrics while a Dial leg
# rings (LiveCalls 2: one incoming, one outgoing) and after (0, maximum 2).
source ../calls_common/lib.sh
app_start
doc busy.xml '<Response><Reject reason="busy"/></Response>'
doc dial.xml '<Response><Dial timeout="10"><Number>+131313</Number></Dial></Response>'
make_number 1000 /busy.xml >/dev/null
make_number 1111 /dial.xml >/dev/null
B="/Accounts/$ADMIN_SID"

scen uac_expect.xml busy CODE=486
uac busy 1000 || fail "busy call"
busy_sid=$(param /busy.xml CallSid)

# A Dial call; metrics while the callee rings.
scen uas_wait.xml callee RING=2500
uas_start callee "$SB_AUX_PORT"
# The caller is answered when the Dial starts: it hangs up after the
# callee has answered (2.5 s).
scen uac_bye.xml caller HOLD=3500
uac caller 1111 &
caller_pid=$!
wait_eq 5 1 reqs /dial.xml || fail "dial request"
sleep 0.7
req GET "$B/Supervisor.json/metrics" "${admin[@]}"
expect 200 "Supervisor metrics"
assert_eq "$(jq_py 'd["Metrics"]["LiveCalls"]')" 2 "LiveCalls=2 while the callee rings"
assert_eq "$(jq_py 'd["Metrics"]["LiveIncomingCalls"]')" 1 "LiveIncomingCalls=1"
assert_eq "$(jq_py 'd["Metrics"]["LiveOutgoingCalls"]')" 1 "LiveOutgoingCalls=1"
assert_eq "$(jq_py 'len(d["LiveCallDetails"])')" 2 "two LiveCallDetails"
assert_eq "$(jq_py 'd["InstanceId"].startswith("ID")')" true "InstanceId"
wait "$caller_pid" || { show caller; fail "dial call"; }
uas_wait callee || { show callee; fail "callee"; }
parent=$(param /dial.xml CallSid)
wait_eq 5 0 live_calls || fail "calls over"
child=$(cdr_where "parent_call_sid = '$parent'" sid)

req GET "$B/Supervisor.json/metrics" "${admin[@]}"
assert_eq "$(jq_py 'd["Metrics"]["LiveCalls"]')" 0 "LiveCalls=0 afterwards"
assert_eq "$(jq_py 'd["Metrics"]["MaximumConcurrentCalls"]')" 2 "MaximumConcurrentCalls=2"
assert_eq "$(jq_py 'd["Metrics"]["TotalCallsSinceUptime"]')" 3 "TotalCallsSinceUptime=3"
assert_eq "$(jq_py 'd["Metrics"]["RegisteredUsers"]')" 0 "RegisteredUsers=0"

# ---- the list ------------------------------------------------------------
req GET "$B/Calls.json" "${admin[@]}"
expect 200 "Calls list"
assert_eq "$(jq_py 'd["total"]')" 3 "three call records"
assert_eq "$(jq_py 'len(d["calls"])')" 3 "three calls listed"
assert_eq "$(jq_py 'd["page"]')" 0 "page 0"
assert_eq "$(jq_py 'd["page_size"]')" 50 "default page size 50"
req GET "$B/Calls.json?Status=busy" "${admin[@]}"
assert_eq "$(jq_py '[c["sid"] for c in d["calls"]]')" "['$busy_sid']" "Status filter"
req GET "$B/Calls.json?To=%2B131313" "${admin[@]}"
assert_eq "$(jq_py '[c["sid"] for c in d["calls"]]')" "['$child']" "To filter"
req GET "$B/Calls.json?ParentCallSid=$parent" "${admin[@]}"
assert_eq "$(jq_py '[c["sid"] for c in d["calls"]]')" "['$child']" "ParentCallSid filter"
req GET "$B/Calls.json?From=bob&Status=completed" "${admin[@]}"
assert_eq "$(jq_py 'len(d["calls"])')" 2 "From and Status filters combine"
today=$(date -u +%Y-%m-%d)
req GET "$B/Calls.json?StartTime=$today" "${admin[@]}"
assert_eq "$(jq_py 'd["total"]')" 3 "StartTime filter (today)"
req GET "$B/Calls.json?StartTime=2001-01-01&EndTime=2001-01-02" "${admin[@]}"
assert_eq "$(jq_py 'd["total"]')" 0 "StartTime/EndTime filter (long ago)"
req GET "$B/Calls.json?StartTime=$today%2000:00:00&EndTime=$today%2023:59:59" "${admin[@]}"
assert_eq "$(jq_py 'd["total"]')" 3 "StartTime/EndTime with a time of day"
req GET "$B/Calls.json?EndTime=2001-01-01%2012:00:00" "${admin[@]}"
assert_eq "$(jq_py 'd["total"]')" 0 "EndTime with a time of day (long ago)"
req GET "$B/Calls.json?StartTime=$today%2025:00" "${admin[@]}"
expect 400 "a time of day that is no time"
# Newest first (Restcomm's order); Reverse=true turns it around; SortBy.
req GET "$B/Calls.json" "${admin[@]}"
assert_eq "$(jq_py '[c["sid"] for c in d["calls"]][-1]')" "$busy_sid" "newest first: the first call last"
req GET "$B/Calls.json?Reverse=true" "${admin[@]}"
assert_eq "$(jq_py 'd["calls"][0]["sid"]')" "$busy_sid" "Reverse=true: oldest first"
req GET "$B/Calls.json?SortBy=Price:asc" "${admin[@]}"
expect 200 "SortBy=Price"
# From/To with Restcomm's % wildcards.
req GET "$B/Calls.json?To=%25131%25" "${admin[@]}"
assert_eq "$(jq_py '[c["sid"] for c in d["calls"]]')" "['$child']" "To=%131% matches +131313"
req GET "$B/Calls.json?From=b%25" "${admin[@]}"
assert_eq "$(jq_py 'd["total"]')" 3 "From=b% matches bob (every leg's From)"
req GET "$B/Calls.json?From=b_b" "${admin[@]}"
assert_eq "$(jq_py 'd["total"]')" 0 "_ is literal, not a wildcard"
req GET "$B/Calls.json?PageSize=2" "${admin[@]}"
assert_eq "$(jq_py 'len(d["calls"])')" 2 "PageSize=2"
assert_eq "$(jq_py 'd["num_pages"]')" 1 "num_pages (Restcomm: last page index)"

# ---- one call ---------------------------------------------------------------
req GET "$B/Calls/$child.json" "${admin[@]}"
expect 200 "one call (JSON)"
assert_eq "$(jq_py 'd["status"]')" completed "status"
assert_eq "$(jq_py 'd["direction"]')" outbound-dial "direction"
assert_eq "$(jq_py 'd["parent_call_sid"]')" "$parent" "parent_call_sid"
assert_eq "$(jq_py 'd["to"]')" +131313 "to"
assert_eq "$(jq_py 'd["from"]')" bob "from"
assert_eq "$(jq_py 'd["duration"] >= 0 and d["ring_duration"] >= 2')" true "duration and ring_duration"
assert_eq "$(jq_py 'd["start_time"].endswith("Z") and "T" in d["start_time"]')" true "start_time is ISO 8601"
assert_eq "$(jq_py 'd["uri"]')" "/2012-04-24/Accounts/$ADMIN_SID/Calls/$child.json" "uri"
assert_eq "$(jq_py 'd["subresource_uris"]["notifications"]')" \
  "/2012-04-24/Accounts/$ADMIN_SID/Calls/$child/Notifications.json" "subresource_uris"
req GET "$B/Calls/$parent.json" "${admin[@]}"
assert_eq "$(jq_py '"parent_call_sid" in d')" false "an inbound call has no parent_call_sid"
assert_eq "$(jq_py 'd["direction"]')" inbound "the caller's leg is inbound"
req GET "$B/Calls/$busy_sid" "${admin[@]}"
expect 200 "one call (XML)"
assert_eq "$(xml_py 'r.find("Call/Status").text')" busy "XML Status"
assert_eq "$(xml_py 'r.find("Call/Ring_duration") is not None')" True "XML Ring_duration"
req GET "$B/Calls/ID0123456789abcdef0123456789abcdef-CA0123456789abcdef0123456789abcdef.json" "${admin[@]}"
expect 404 "an unknown call SID"
