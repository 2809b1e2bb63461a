# REST Conferences and Participants over real HTTP: the conference list
# (paging; Status, FriendlyName, DateCreated, DateUpdated with Twilio's <
# and > forms; SortBy), the instance in XML and JSON, POST Status=completed
# (410 on a completed conference, 404 on one with no live room, 400 on bad
# values), the participants list (current members by default, Status,
# Muted, Hold, paging with a call that is in two conferences), the
# participant instance, POST Muted/Mute/Hold and DELETE (404 when the room
# is not live, 410 when it or the member is finished, 400 on bad values),
# account isolation, bad SIDs, and the start-up recovery of rooms a
# previous run left open. Until the last section no room is live: rows
# are seeded in the database as the rooms write them (conference_store.h,
# unit-tested). The last section puts two phones in a live room and
# mutes, holds, kicks and ends over REST.
source ../rest_common/lib.sh

req GET "/Accounts.json/$SB_ADMIN_EMAIL" "${admin[@]}"
AC=$(jq_py 'd["sid"]')
req POST /Accounts.json "${admin[@]}" -d "EmailAddress=tenant@example.com" -d "Password=Tenant-Account-Pw1"
OTHER=$(jq_py 'd["sid"]')
T=(-u "tenant@example.com:Tenant-Account-Pw1")
cf() { printf 'CF%032x' "$1"; }
call() { printf 'ID%032x-CA%032x' 7 "$1"; }
CF1=$(cf 1); CF2=$(cf 2); CF3=$(cf 3); CF4=$(cf 4); CF5=$(cf 5)
CALL1=$(call 1); CALL2=$(call 2); CALL3=$(call 3); CALL4=$(call 4); CALL5=$(call 5)
CALL6=$(call 6)

# CF1 "Sales" in progress (members 1, 2 muted, 4 held; 3 left); CF2
# "Support" completed (3 again, and 6, both left); CF3 "Sales" completed
# by the API; CF4 "Standup" waiting (init); CF5 another account's room.
# CF1's row for call 3 is written first and dated after CF2's rows, so a
# list that looked rows up by call SID alone would pick the wrong one.
python3 - "$SB_DB" "$AC" "$OTHER" <<'PY'
import sqlite3, sys, calendar, time
db, ac, other = sys.argv[1:4]
c = sqlite3.connect(db, timeout=10)
def t(s):
    return calendar.timegm(time.strptime(s, "%Y-%m-%d %H:%M:%S"))
cf = lambda n: "CF%032x" % n
call = lambda n: "ID%032x-CA%032x" % (7, n)
confs = [
    # n, account, name, status, reason, ending call, created, updated
    (1, ac, "Sales", "in-progress", None, None, "2024-01-01 10:00:00", "2024-01-01 10:05:00"),
    (2, ac, "Support", "completed", "last-participant-left", call(6), "2024-01-02 10:00:00", "2024-01-03 09:00:00"),
    (3, ac, "Sales", "completed", "conference-ended-via-api", None, "2024-01-03 10:00:00", "2024-01-03 11:00:00"),
    (4, ac, "Standup", "init", None, None, "2024-01-04 10:00:00", "2024-01-04 10:00:00"),
    (5, other, "Sales", "in-progress", None, None, "2024-01-01 11:00:00", "2024-01-01 11:00:00"),
]
for n, acc, name, st, why, ending, cr, up in confs:
    c.execute("INSERT INTO conferences (sid, account_sid, friendly_name, status, "
              "reason_conference_ended, call_sid_ending_conference, date_created, "
              "date_updated) VALUES (?,?,?,?,?,?,?,?)",
              (cf(n), acc, name, st, why, ending, t(cr), t(up)))
parts = [
    # conference, call, account, muted, hold, start, end, status, created
    (1, 3, ac, 0, 0, 1, 0, "completed", "2024-01-02 12:00:00"),
    (2, 3, ac, 0, 0, 1, 0, "completed", "2024-01-02 10:00:00"),
    (2, 6, ac, 0, 0, 1, 1, "completed", "2024-01-02 10:10:00"),
    (1, 1, ac, 0, 0, 1, 1, "connected", "2024-01-01 10:00:00"),
    (1, 2, ac, 1, 0, 0, 0, "connected", "2024-01-01 10:01:00"),
    (1, 4, ac, 0, 1, 1, 0, "connected", "2024-01-01 10:02:00"),
    (5, 5, other, 0, 0, 1, 0, "connected", "2024-01-01 11:00:00"),
]
for conf, n, acc, m, h, s, e, st, cr in parts:
    c.execute("INSERT INTO participants (conference_sid, call_sid, account_sid, muted, hold, "
              "start_conference_on_enter, end_conference_on_exit, status, date_created, "
              "date_updated) VALUES (?,?,?,?,?,?,?,?,?,?)",
              (cf(conf), call(n), acc, m, h, s, e, st, t(cr), t(cr) + 60))
c.commit()
PY
B="/Accounts/$AC/Conferences"
last() { jq_py "[x['sid'][-1] for x in d['$1']]"; }   # last SID digits of a JSON list

# ---- the conference list ---------------------------------------------------------
req GET "$B.json" "${admin[@]}"
expect 200 "list (JSON)"
assert_eq "$(jq_py 'd["total"]')" "4" "four conferences for the account (not the other's)"
assert_eq "$(last conferences)" "['1', '2', '3', '4']" "oldest first (DateCreated)"
assert_eq "$(jq_py '[d["page"], d["page_size"], d["num_pages"], d["start"], d["end"]]')" \
  "[0, 50, 0, 0, 4]" "Restcomm's paging members"
assert_eq "$(jq_py 'd["uri"]')" "/2012-04-24$B.json" "list uri"
req GET "$B" "${admin[@]}"
expect 200 "list (XML)"
assert_xml "the XML list is well-formed"
assert_eq "$(xml_py 'len(r.findall("Conferences/Conference"))')" "4" "XML list of four"
assert_eq "$(xml_py '[r.find("Conferences").get(a) for a in ("page", "pagesize", "total")]')" \
  "['0', '50', '4']" "XML paging attributes"
req GET "/Accounts.json/$AC" "${admin[@]}"
assert_eq "$(jq_py 'd["subresource_uris"]["conferences"]')" "/2012-04-24/Accounts/$AC/Conferences.json" \
  "the account names its Conferences"

req GET "$B.json?PageSize=3" "${admin[@]}"
assert_eq "$(last conferences)" "['1', '2', '3']" "the first page of three"
assert_eq "$(jq_py 'd["num_pages"]')" "1" "num_pages = total / PageSize"
NEXT=$(jq_py 'd["next_page_uri"]')
req GET "${NEXT#/2012-04-24}" "${admin[@]}"
expect 200 "next page"
assert_eq "$(last conferences)" "['4']" "the next page holds the fourth"
assert_eq "$(jq_py 'd["next_page_uri"]')" "null" "no next page after the last"
req GET "$B.json?PageSize=3&Page=2" "${admin[@]}"
expect 400 "a page past the end"

# Filters.
req GET "$B.json?Status=completed" "${admin[@]}"
assert_eq "$(last conferences)" "['2', '3']" "Status=completed"
req GET "$B.json?Status=IN-PROGRESS" "${admin[@]}"
assert_eq "$(last conferences)" "['1']" "Status in any case"
req GET "$B.json?Status=init" "${admin[@]}"
assert_eq "$(last conferences)" "['4']" "Status=init"
req GET "$B.json?Status=RUNNING_MODERATOR_PRESENT" "${admin[@]}"
expect 400 "an unknown Status"
assert_eq "$(jq_py 'd["message"]')" "Status must be one of: init, in-progress, completed" \
  "the 400 names the values"
req GET "$B.json?FriendlyName=Sales" "${admin[@]}"
assert_eq "$(last conferences)" "['1', '3']" "FriendlyName (exact)"
req GET "$B.json?FriendlyName=Sal" "${admin[@]}"
assert_eq "$(jq_py 'd["total"]')" "0" "FriendlyName is not a prefix match"
req GET "$B.json?FriendlyName=Sales&Status=completed" "${admin[@]}"
assert_eq "$(last conferences)" "['3']" "FriendlyName and Status together"
req GET "$B.json?DateCreated=2024-01-02" "${admin[@]}"
assert_eq "$(last conferences)" "['2']" "DateCreated: that day"
req GET "$B.json?DateCreated%3C=2024-01-02" "${admin[@]}"
assert_eq "$(last conferences)" "['1', '2']" "DateCreated<=: on or before"
req GET "$B.json?DateCreated%3E=2024-01-03" "${admin[@]}"
assert_eq "$(last conferences)" "['3', '4']" "DateCreated>=: on or after"
req GET "$B.json?DateUpdated=2024-01-03" "${admin[@]}"
assert_eq "$(last conferences)" "['2', '3']" "DateUpdated: that day"
req GET "$B.json?DateUpdated%3C=2024-01-01" "${admin[@]}"
assert_eq "$(last conferences)" "['1']" "DateUpdated<="
req GET "$B.json?DateUpdated%3E=2024-01-04" "${admin[@]}"
assert_eq "$(last conferences)" "['4']" "DateUpdated>="
req GET "$B.json?DateCreated=yesterday" "${admin[@]}"
expect 400 "DateCreated not a date"
req GET "$B.json?DateUpdated%3C=2024-13-45" "${admin[@]}"
expect 400 "DateUpdated< not a date"
req GET "$B.json?SortBy=DateUpdated:desc" "${admin[@]}"
assert_eq "$(last conferences)" "['4', '3', '2', '1']" "SortBy=DateUpdated:desc"
req GET "$B.json?SortBy=FriendlyName" "${admin[@]}"
expect 400 "SortBy on an unsupported field"

# ---- the conference instance -------------------------------------------------------
req GET "$B/$CF1.json" "${admin[@]}"
expect 200 "get (JSON)"
assert_eq "$(jq_py '[d["sid"], d["account_sid"], d["friendly_name"], d["status"], d["api_version"]]')" \
  "['$CF1', '$AC', 'Sales', 'in-progress', '2012-04-24']" "sid, account, name, status, version"
assert_eq "$(jq_py 'd["uri"]')" "/2012-04-24$B/$CF1.json" "uri"
assert_eq "$(jq_py 'd["subresource_uris"]')" "{'participants': '/2012-04-24$B/$CF1/Participants.json'}" \
  "subresource_uris: participants"
assert_eq "$(jq_py '[d["region"], d["reason_conference_ended"], d["call_sid_ending_conference"]]')" \
  "[None, None, None]" "Twilio's fields, unset: null"
assert_date "$(jq_py 'd["date_created"]')" "date_created"
assert_eq "$(jq_py 'd["date_updated"]')" "Mon, 1 Jan 2024 10:05:00 +0000" "date_updated as Restcomm writes it"
req GET "$B/$CF2" "${admin[@]}"
expect 200 "get (XML)"
assert_eq "$(xml_py '[c.tag for c in r.find("Conference")]')" \
  "['Sid', 'DateCreated', 'DateUpdated', 'AccountSid', 'Status', 'ApiVersion', 'FriendlyName', 'Uri', 'SubresourceUris', 'Region', 'ReasonConferenceEnded', 'CallSidEndingConference']" \
  "Restcomm's fields in its order, then Twilio's"
assert_eq "$(xml_py 'r.find("Conference/Status").text')" "completed" "XML Status"
assert_eq "$(xml_py 'r.find("Conference/Uri").text')" "/2012-04-24$B/$CF2" "XML Uri"
assert_eq "$(xml_py 'r.find("Conference/SubresourceUris/Participants").text')" \
  "/2012-04-24$B/$CF2/Participants" "XML SubresourceUris/Participants"
assert_eq "$(xml_py 'r.find("Conference/ReasonConferenceEnded").text')" "last-participant-left" \
  "XML ReasonConferenceEnded"
assert_eq "$(xml_py 'r.find("Conference/CallSidEndingConference").text')" "$CALL6" \
  "XML CallSidEndingConference"
assert_eq "$(xml_py 'r.find("Conference/Region").text')" "null" "XML Region: an empty element"

# Bad SIDs, methods, credentials.
req GET "$B/$(cf 99).json" "${admin[@]}"
expect 404 "an unknown conference"
assert_eq "$(jq_py 'd["message"]')" "The requested resource was not found" "404 in Restcomm's format (JSON)"
req GET "$B/$(cf 99)" "${admin[@]}"
assert_eq "$(xml_py 'r.find("Message").text')" "The requested resource was not found" \
  "404 in Restcomm's format (XML)"
req GET "$B/CF123.json" "${admin[@]}"
expect 400 "a malformed conference SID"
req GET "$B/RE$(printf '%032x' 1).json" "${admin[@]}"
expect 400 "another resource's SID"
req POST "$B" "${admin[@]}" -d "FriendlyName=x"
expect 405 "conferences are not created over REST"
req DELETE "$B/$CF1" "${admin[@]}"
expect 405 "conferences are not deleted"
req GET "$B.json"
expect 401 "the list needs credentials"

# ---- ending a conference ------------------------------------------------------------
req POST "$B/$CF2.json" "${admin[@]}" -d "Status=completed"
expect 410 "POST Status=completed on a completed conference"
assert_eq "$(jq_py 'd["message"]')" "Conference is already completed." "the 410 says why"
req POST "$B/$CF3" "${admin[@]}" -d "Status=completed"
expect 410 "the same in XML"
assert_eq "$(xml_py 'r.find("Message").text')" "Conference is already completed." "the 410 (XML)"
req POST "$B/$CF1.json" "${admin[@]}" -d "Status=completed"
expect 404 "a conference with no live room on this server"
assert_contains "$(jq_py 'd["message"]')" "not live" "the 404 says the room is not live"
assert_eq "$(sql "SELECT status FROM conferences WHERE sid = '$CF1'")" "in-progress" \
  "a refused end leaves the row alone"
req PUT "$B/$CF4.json" "${admin[@]}" -d "Status=Completed"
expect 404 "PUT is POST; Status in any case (init room, not live)"
req POST "$B/$CF1.json" "${admin[@]}"
expect 400 "POST without Status"
assert_eq "$(jq_py 'd["message"]')" "Status can not be null." "Restcomm's missing-parameter message"
req POST "$B/$CF1.json" "${admin[@]}" -d "Status=in-progress"
expect 400 "Status other than completed"
req POST "$B/$CF2.json" "${admin[@]}" -d "Status=paused"
expect 400 "a bad Status on a completed conference is still a bad request"
req POST "$B/$(cf 99).json" "${admin[@]}" -d "Status=completed"
expect 404 "POST on an unknown conference"
req POST "$B/CF1.json" "${admin[@]}" -d "Status=completed"
expect 400 "POST on a malformed SID"

# ---- the participants list ------------------------------------------------------------
P="$B/$CF1/Participants"
req GET "$P.json" "${admin[@]}"
expect 200 "participants (JSON)"
assert_eq "$(jq_py '[x["call_sid"][-1] for x in d["calls"]]')" "['1', '2', '4']" \
  "the current members only (Restcomm's member: calls)"
assert_eq "$(jq_py '[d["total"], d["page_size"], d["uri"]]')" "[3, 50, '/2012-04-24$P.json']" \
  "paged, with the list uri"
req GET "$P" "${admin[@]}"
expect 200 "participants (XML)"
assert_eq "$(xml_py 'len(r.findall("Calls/Call"))')" "3" "XML: <Calls> of <Call>, as Restcomm"
assert_eq "$(xml_py 'r.find("Calls").get("total")')" "3" "XML total"
req GET "$P.json?Status=completed" "${admin[@]}"
assert_eq "$(jq_py '[x["call_sid"][-1] for x in d["calls"]]')" "['3']" "Status=completed: who left"
req GET "$P.json?Status=complete" "${admin[@]}"
assert_eq "$(jq_py '[x["call_sid"][-1] for x in d["calls"]]')" "['3']" "Twilio's spelling, complete"
req GET "$P.json?Status=gone" "${admin[@]}"
expect 400 "an unknown participant Status"
req GET "$P.json?Muted=true" "${admin[@]}"
assert_eq "$(jq_py '[x["call_sid"][-1] for x in d["calls"]]')" "['2']" "Muted=true"
req GET "$P.json?Hold=true" "${admin[@]}"
assert_eq "$(jq_py '[x["call_sid"][-1] for x in d["calls"]]')" "['4']" "Hold=true"
req GET "$P.json?Muted=false&Hold=false" "${admin[@]}"
assert_eq "$(jq_py '[x["call_sid"][-1] for x in d["calls"]]')" "['1']" "Muted=false&Hold=false"
req GET "$P.json?Muted=maybe" "${admin[@]}"
expect 400 "Muted filter not a boolean"
req GET "$P.json?PageSize=2" "${admin[@]}"
assert_eq "$(jq_py '[x["call_sid"][-1] for x in d["calls"]]')" "['1', '2']" "participants: first page"
NEXT=$(jq_py 'd["next_page_uri"]')
req GET "${NEXT#/2012-04-24}" "${admin[@]}"
assert_eq "$(jq_py '[x["call_sid"][-1] for x in d["calls"]]')" "['4']" "participants: next page"
# Call 3 is in CF1 and CF2: paging CF2 must not confuse its rows.
req GET "$B/$CF2/Participants.json?Status=completed&PageSize=1" "${admin[@]}"
assert_eq "$(jq_py '[x["call_sid"][-1] for x in d["calls"]]')" "['3']" "CF2, page 0"
NEXT=$(jq_py 'd["next_page_uri"]')
assert_contains "$NEXT" "AfterSid=$CALL3" "next_page_uri carries AfterSid (Restcomm's form)"
req GET "${NEXT#/2012-04-24}" "${admin[@]}"
expect 200 "CF2, page 1"
assert_eq "$(jq_py '[[x["call_sid"][-1], x["conference_sid"]] for x in d["calls"]]')" \
  "[['6', '$CF2']]" "the next page is CF2's other member, not call 3's row in CF1"
req GET "$B/$CF4/Participants.json" "${admin[@]}"
assert_eq "$(jq_py '[d["total"], d["calls"]]')" "[0, []]" "a room nobody joined yet"
req GET "$B/$(cf 99)/Participants.json" "${admin[@]}"
expect 404 "participants of an unknown conference"
req GET "$B/CF9/Participants.json" "${admin[@]}"
expect 400 "participants of a malformed conference SID"
req POST "$P" "${admin[@]}" -d "Muted=true"
expect 405 "participants are not created over REST"

# ---- the participant instance ------------------------------------------------------------
req GET "$P/$CALL1.json" "${admin[@]}"
expect 200 "participant (JSON)"
assert_eq "$(jq_py '[d["sid"], d["call_sid"], d["conference_sid"], d["account_sid"], d["status"]]')" \
  "['$CALL1', '$CALL1', '$CF1', '$AC', 'connected']" "sid (the call's), call_sid, conference, account, status"
assert_eq "$(jq_py '[d["muted"], d["hold"], d["start_conference_on_enter"], d["end_conference_on_enter"], d["end_conference_on_exit"]]')" \
  "[False, False, True, True, True]" "the flags, as JSON booleans (Restcomm's end_conference_on_enter too)"
assert_eq "$(jq_py 'd["uri"]')" "/2012-04-24$P/$CALL1.json" "uri"
assert_date "$(jq_py 'd["date_created"]')" "date_created"
req GET "$P/$CALL2" "${admin[@]}"
expect 200 "participant (XML)"
assert_eq "$(xml_py '[c.tag for c in r.find("Call")]')" \
  "['Sid', 'ConferenceSid', 'DateCreated', 'DateUpdated', 'AccountSid', 'Muted', 'Hold', 'StartConferenceOnEnter', 'EndConferenceOnEnter', 'Uri', 'CallSid', 'EndConferenceOnExit', 'Status']" \
  "a <Call> with Restcomm's fields in its order, then Twilio's"
assert_eq "$(xml_py '[r.find("Call/" + f).text for f in ("Muted", "Hold", "StartConferenceOnEnter")]')" \
  "['true', 'false', 'false']" "XML booleans"
req GET "$P/$CALL3.json" "${admin[@]}"
expect 200 "a member who left is still there, for the history"
assert_eq "$(jq_py '[d["status"], d["conference_sid"]]')" "['completed', '$CF1']" "its row in CF1"
req GET "$B/$CF2/Participants/$CALL3.json" "${admin[@]}"
assert_eq "$(jq_py '[d["conference_sid"], d["date_created"]]')" "['$CF2', 'Tue, 2 Jan 2024 10:00:00 +0000']" \
  "the same call's row in CF2 is CF2's"
req GET "$P/$(call 99).json" "${admin[@]}"
expect 404 "an unknown participant"
req GET "$B/$CF2/Participants/$CALL1.json" "${admin[@]}"
expect 404 "a member of another conference"
req GET "$P/CA123.json" "${admin[@]}"
expect 400 "a malformed call SID"
req GET "$B/$(cf 99)/Participants/$CALL1.json" "${admin[@]}"
expect 404 "a participant of an unknown conference"

# ---- changing and removing participants ------------------------------------------------------
req POST "$P/$CALL1.json" "${admin[@]}" -d "Muted=true"
expect 404 "Muted on a conference with no live room"
assert_contains "$(jq_py 'd["message"]')" "not in a live conference" "the 404 says why"
assert_eq "$(sql "SELECT muted FROM participants WHERE call_sid = '$CALL1'")" "0" \
  "a refused mute leaves the row alone"
req POST "$P/$CALL1" "${admin[@]}" -d "Mute=true"
expect 404 "Restcomm's Mute is understood (then: not live)"
req PUT "$P/$CALL4.json" "${admin[@]}" -d "Hold=false"
expect 404 "Hold=false, not live"
req POST "$P/$CALL2.json" "${admin[@]}" -d "Hold=true" -d "HoldUrl=http://127.0.0.1:9/hold.xml"
expect 404 "Hold=true with a HoldUrl, not live"
req POST "$P/$CALL1.json" "${admin[@]}" -d "Muted=maybe"
expect 400 "Muted not a boolean"
assert_eq "$(jq_py 'd["message"]')" "Muted must be true or false" "the 400 names Muted"
req POST "$P/$CALL1.json" "${admin[@]}" -d "Mute=yes"
expect 400 "Mute not a boolean"
assert_eq "$(jq_py 'd["message"]')" "Mute must be true or false" "the 400 names Mute"
req POST "$P/$CALL1.json" "${admin[@]}" -d "Hold=perhaps"
expect 400 "Hold not a boolean"
req POST "$P/$CALL1.json" "${admin[@]}" -d "Hold=true" -d "HoldUrl=ftp://example.com/x"
expect 400 "HoldUrl not an http(s) URL or path"
req POST "$P/$CALL1.json" "${admin[@]}"
expect 400 "nothing to change"
req POST "$P/$CALL3.json" "${admin[@]}" -d "Muted=true"
expect 410 "a member who left"
assert_eq "$(jq_py 'd["message"]')" "Participant has already left the conference." "the 410 says why"
req POST "$B/$CF2/Participants/$CALL6.json" "${admin[@]}" -d "Muted=true"
expect 410 "a member of a completed conference"
assert_eq "$(jq_py 'd["message"]')" "Conference is already completed." "the 410 names the conference"
req POST "$P/$(call 99).json" "${admin[@]}" -d "Muted=true"
expect 404 "Muted on an unknown participant"
req DELETE "$P/$CALL1.json" "${admin[@]}"
expect 404 "DELETE (kick) with no live room"
assert_eq "$(sql "SELECT status FROM participants WHERE call_sid = '$CALL1'")" "connected" \
  "a refused kick leaves the row alone"
req DELETE "$P/$CALL3.json" "${admin[@]}"
expect 410 "DELETE a member who left"
req DELETE "$B/$CF2/Participants/$CALL3.json" "${admin[@]}"
expect 410 "DELETE in a completed conference"
req DELETE "$P/$(call 99).json" "${admin[@]}"
expect 404 "DELETE an unknown participant"

# ---- isolation ------------------------------------------------------------------------------
req GET "$B/$CF5.json" "${admin[@]}"
expect 404 "another account's conference under this account's path"
req POST "$B/$CF5.json" "${admin[@]}" -d "Status=completed"
expect 404 "ending another account's conference from this path"
req GET "$B/$CF5/Participants.json" "${admin[@]}"
expect 404 "another account's participants under this account's path"
req GET "$B/$CF5/Participants/$CALL5.json" "${admin[@]}"
expect 404 "another account's participant under this account's path"
req POST "$B/$CF5/Participants/$CALL5.json" "${admin[@]}" -d "Muted=true"
expect 404 "muting another account's participant from this path"
req DELETE "$B/$CF5/Participants/$CALL5.json" "${admin[@]}"
expect 404 "kicking another account's participant from this path"
OB="/Accounts/$OTHER/Conferences"
req GET "$OB.json" "${T[@]}"
assert_eq "$(last conferences)" "['5']" "the sub-account lists its own only"
req GET "$OB/$CF5/Participants.json" "${T[@]}"
assert_eq "$(jq_py '[x["call_sid"][-1] for x in d["calls"]]')" "['5']" "the sub-account's participants"
req GET "$OB/$CF1.json" "${T[@]}"
expect 404 "the parent's conference under the sub-account's path"
req GET "$OB/$CF1/Participants/$CALL1.json" "${T[@]}"
expect 404 "the parent's participant under the sub-account's path"
req GET "$B.json" "${T[@]}"
expect 403 "a sub-account cannot list its parent's conferences"
req POST "$B/$CF1.json" "${T[@]}" -d "Status=completed"
expect 403 "a sub-account cannot end its parent's conference"
req GET "$OB/$CF5.json" "${admin[@]}"
expect 200 "the parent sees the sub-account's conference under its path"

# ---- start-up recovery ----------------------------------------------------------------------
stop_server
start_server || fail "the server did not restart"
assert_log "closed 3 conferences and 4 participants left live by the last run" \
  "recovery at start-up closes the rooms and members a previous run left open"
req GET "$B/$CF1.json" "${admin[@]}"
assert_eq "$(jq_py '[d["status"], d["reason_conference_ended"]]')" "['completed', 'interrupted']" \
  "an in-progress room is completed, reason interrupted"
req GET "$B/$CF4.json" "${admin[@]}"
assert_eq "$(jq_py '[d["status"], d["reason_conference_ended"]]')" "['completed', 'interrupted']" \
  "an init room too"
req GET "$B/$CF2.json" "${admin[@]}"
assert_eq "$(jq_py '[d["reason_conference_ended"], d["date_updated"]]')" \
  "['last-participant-left', 'Wed, 3 Jan 2024 09:00:00 +0000']" "a completed room is untouched"
req GET "$P.json" "${admin[@]}"
assert_eq "$(jq_py 'd["total"]')" "0" "no current members left"
req GET "$P.json?Status=completed" "${admin[@]}"
assert_eq "$(jq_py '[x["call_sid"][-1] for x in d["calls"]]')" "['1', '2', '4', '3']" \
  "every member is in the history (by DateCreated)"
req POST "$B/$CF1.json" "${admin[@]}" -d "Status=completed"
expect 410 "ending a recovered room"
req POST "$P/$CALL1.json" "${admin[@]}" -d "Muted=true"
expect 410 "muting in a recovered room"
req GET "$OB/$CF5/Participants/$CALL5.json" "${T[@]}"
assert_eq "$(jq_py 'd["status"]')" "completed" "the other account's member too"

# ---- live rooms ---------------------------------------------------------------------------
# Two phones in one room (the rooms of core/call/conference.c): the live
# actions answer 200 / 204 and the rows follow; ending the room over REST
# ends both Dials, whose action documents then run.
source ../media_common/lib.sh
app_start
doc live.xml '<Response><Dial action="/after.xml"><Conference beep="false">live</Conference></Dial></Response>'
doc after.xml '<Response><Hangup/></Response>'
make_number 7001 /live.xml >/dev/null
listen_prepare a 25 TIMEOUT=40000 SCRIPT="silence:25"
listen_prepare b 25 TIMEOUT=40000 SCRIPT="silence:25"
listen_start a 7001
listen_start b 7001
live_room() { sql "SELECT sid FROM conferences WHERE friendly_name = 'live' AND status = 'in-progress'"; }
two_members() {
  local cf
  cf=$(live_room)
  [ -n "$cf" ] && [ "$(sql "SELECT count(*) FROM participants WHERE conference_sid = '$cf' AND status = 'connected'")" = 2 ]
}
wait_for 15 two_members || fail "live: two members never joined the room 'live'"
LCF=$(live_room)
LP="$B/$LCF/Participants"
req GET "$LP.json" "${admin[@]}"
assert_eq "$(jq_py 'len(d["calls"])')" "2" "live: the two members are listed"
MA=$(jq_py 'd["calls"][0]["call_sid"]')
MB=$(jq_py 'd["calls"][1]["call_sid"]')

req POST "$LP/$MA.json" "${admin[@]}" -d "Muted=true"
expect 200 "live: Muted=true"
assert_eq "$(jq_py '[d["sid"], d["muted"], d["hold"], d["status"]]')" "['$MA', True, False, 'connected']" \
  "live: the answer is the participant, muted"
assert_eq "$(sql "SELECT muted FROM participants WHERE call_sid = '$MA'")" "1" "live: the row is muted"
# The console lists the live room: two members, one muted.
row=$(timeout 10 "$SB_BIN" console -s "$SB_TMP/console.sock" -e \
  "local c = conferences(); return #c .. ' ' .. c[1].name .. ' ' .. c[1].members .. ' ' .. c[1].muted .. ' ' .. c[1].sid")
assert_eq "$row" "1 live 2 1 $LCF" "live: conferences() in the console"
req GET "$LP.json?Muted=true" "${admin[@]}"
assert_eq "$(jq_py '[x["sid"] for x in d["calls"]]')" "['$MA']" "live: listed as muted"
req POST "$LP/$MA" "${admin[@]}" -d "Mute=false"
expect 200 "live: Restcomm's Mute=false"
assert_eq "$(xml_py 'r.find("Call/Muted").text')" "false" "live: unmuted (XML answer)"
req POST "$LP/$MB.json" "${admin[@]}" -d "Hold=true" --data-urlencode "HoldUrl=$APP/hold.xml"
expect 200 "live: Hold=true with a HoldUrl"
assert_eq "$(jq_py '[d["hold"], d["muted"]]')" "[True, False]" "live: held"
req POST "$LP/$MB.json" "${admin[@]}" -d "Hold=false" -d "Muted=true"
expect 200 "live: Hold=false and Muted=true at once"
assert_eq "$(jq_py '[d["hold"], d["muted"]]')" "[False, True]" "live: unheld and muted"

req DELETE "$LP/$MB.json" "${admin[@]}"
expect 204 "live: DELETE removes the member (kick)"
[ -z "$RB" ] || fail "live: the 204 has a body: $RB"
req GET "$LP/$MB.json" "${admin[@]}"
assert_eq "$(jq_py 'd["status"]')" "completed" "live: the kicked member's row stays, completed"
req GET "$LP.json" "${admin[@]}"
assert_eq "$(jq_py '[x["sid"] for x in d["calls"]]')" "['$MA']" "live: one member left"
wait_eq 10 1 reqs /after.xml || fail "live: the kicked member's Dial action did not run"
pass "live: the kicked member's Dial ended and its document went on"
req DELETE "$LP/$MB.json" "${admin[@]}"
expect 410 "live: kicking it again"

req POST "$B/$LCF.json" "${admin[@]}" -d "Status=completed"
expect 200 "live: POST Status=completed ends the room"
assert_eq "$(jq_py '[d["status"], d["reason_conference_ended"], d["call_sid_ending_conference"]]')" \
  "['completed', 'conference-ended-via-api', None]" "live: the answer is the completed conference"
req GET "$LP.json" "${admin[@]}"
assert_eq "$(jq_py 'd["total"]')" "0" "live: nobody is left in the room"
wait_eq 10 2 reqs /after.xml || fail "live: the last member's Dial action did not run"
pass "live: the last member's Dial ended and its document went on"
req POST "$B/$LCF.json" "${admin[@]}" -d "Status=completed"
expect 410 "live: ending it again"
req POST "$LP/$MA.json" "${admin[@]}" -d "Muted=false"
expect 410 "live: muting in the ended room"
listen_wait a
listen_wait b
pass "live: both phones were hung up by their action documents"
