# The number pool (numbers.pool) and the other resources of issue 21, in
# both dialects: AvailablePhoneNumbers/{ISO}/Local|TollFree|Mobile with
# its filters, IncomingPhoneNumbers/AvailableCountries (Restcomm) and
# AvailablePhoneNumbers[/{ISO}] (Twilio), buying from the pool (POST
# IncomingPhoneNumbers; once only; never a number outside it), the pool
# file loaded when it appears, reloaded on change and on SIGHUP, a broken
# one refused (the old pool stays; at start-up the server does not
# start); OutgoingCallerIds CRUD; Transcriptions (empty); Version; and
# Twilio's error body on /2010-04-01.
source ../rest_common/lib.sh

req GET "/Accounts.json/$SB_ADMIN_EMAIL" "${admin[@]}"
AC=$(jq_py 'd["sid"]')
R="/Accounts/$AC"                               # Restcomm's dialect
T="/../../2010-04-01/Accounts/$AC"              # Twilio's (SB_BASE is /restcomm/...)
req POST /Accounts.json "${admin[@]}" -d "EmailAddress=other@example.com" -d "Password=Other-Pw-12345"
OTHER=$(jq_py 'd["sid"]')
O=(-u "other@example.com:Other-Pw-12345")

# ---- no pool file yet: nothing for sale ---------------------------------------
assert_log "pool file $SB_TMP/pool.csv does not exist yet" "a missing pool file is a warning"
req GET "$R/IncomingPhoneNumbers/AvailableCountries" "${admin[@]}"
expect 200 "AvailableCountries without a pool"
assert_eq "$RB" "<RestcommResponse><AvailableCountries></AvailableCountries></RestcommResponse>" \
  "no countries"
req GET "$R/AvailablePhoneNumbers/US/Local" "${admin[@]}"
expect 404 "no US numbers yet"

# ---- the file appears: loaded within the poll interval --------------------------
cat >"$SB_TMP/pool.csv.new" <<'CSV'
# country,type,number,capabilities,region,postal_code,locality,friendly_name
US,local,+14155550100,voice+sms,CA,94105,San Francisco
US,local,+1 (415) 555-0101,voice,CA,94105,San Francisco
US,local,+12125550102,voice+sms+mms,NY,10001,New York
US,local,+12125556677,all,NY,10002,New York,Manhattan desk
US,tollfree,+18005550199,voice
US,mobile,+13105550111,voice|sms,CA,90001,Los Angeles
GB,mobile,+447700900123,voice+sms,,,London
CSV
mv "$SB_TMP/pool.csv.new" "$SB_TMP/pool.csv"
for _ in $(seq 50); do
  grep -q "numbers: pool reloaded: 7 numbers" "$SB_LOG" && break
  sleep 0.1
done
assert_log "numbers: pool reloaded: 7 numbers from $SB_TMP/pool.csv" "the new file is loaded"

req GET "$R/IncomingPhoneNumbers/AvailableCountries" "${admin[@]}"
assert_eq "$(xml_py '[e.text for e in r.find("AvailableCountries")]')" "['GB', 'US']" \
  "AvailableCountries (XML): the pool's countries, sorted"
req GET "$R/IncomingPhoneNumbers/AvailableCountries.json" "${admin[@]}"
assert_eq "$RB" '["GB","US"]' "AvailableCountries (JSON): Restcomm's array of codes"

# Restcomm's XML: every element, empty ones included.
req GET "$R/AvailablePhoneNumbers/US/Local" "${admin[@]}"
expect 200 "US Local (XML)"
assert_xml "well-formed"
assert_eq "$(xml_py '[e.find("PhoneNumber").text for e in r.find("AvailablePhoneNumbers")]')" \
  "['+12125550102', '+12125556677', '+14155550100', '+14155550101']" \
  "the local numbers, sorted, separators gone"
assert_eq "$(xml_py '[e.tag for e in r.find("AvailablePhoneNumbers/AvailablePhoneNumber")]')" \
  "['FriendlyName', 'PhoneNumber', 'Lata', 'RateCenter', 'Latitude', 'Longitude', 'Region', 'PostalCode', 'IsoCountry', 'Capabilities']" \
  "Restcomm's element order"
assert_eq "$(xml_py 'r.find("AvailablePhoneNumbers/AvailablePhoneNumber/FriendlyName").text')" \
  "(212) 555-0102" "FriendlyName defaults to the national form"
assert_eq "$(xml_py '[e.find("FriendlyName").text for e in r.find("AvailablePhoneNumbers")][1]')" \
  "Manhattan desk" "FriendlyName from the file"
assert_eq "$(xml_py '[c.text for c in r.find("AvailablePhoneNumbers/AvailablePhoneNumber/Capabilities")]')" \
  "['true', 'true', 'true', 'false']" "Capabilities Voice, Sms, Mms, Fax"

# Restcomm's JSON: gson's bare array of camelCase members, nulls left out.
req GET "$R/AvailablePhoneNumbers/US/Local.json" "${admin[@]}"
expect 200 "US Local (JSON)"
assert_eq "$(jq_py 'len(d)')" 4 "a bare array of 4"
assert_eq "$(jq_py 'sorted(d[2].keys())')" \
  "['faxCapable', 'friendlyName', 'isoCountry', 'mmsCapable', 'phoneNumber', 'postalCode', 'rateCenter', 'region', 'smsCapable', 'voiceCapable']" \
  "Restcomm's JSON members"

# Twilio's: a page of available_phone_numbers with Twilio's members.
req GET "$T/AvailablePhoneNumbers/US/Local.json" "${admin[@]}"
expect 200 "US Local (Twilio)"
assert_eq "$(jq_py '[n["phone_number"] for n in d["available_phone_numbers"]]')" \
  "['+12125550102', '+12125556677', '+14155550100', '+14155550101']" "the same numbers"
assert_eq "$(jq_py 'd["available_phone_numbers"][2]["capabilities"]')" \
  "{'voice': True, 'SMS': True, 'MMS': False, 'fax': False}" "Twilio's capabilities"
assert_eq "$(jq_py '[d["available_phone_numbers"][2][k] for k in ("locality", "region", "postal_code", "iso_country", "friendly_name", "lata")]')" \
  "['San Francisco', 'CA', '94105', 'US', '(415) 555-0100', None]" "Twilio's members"
assert_eq "$(jq_py 'd["next_page_uri"]')" "null" "one page: next_page_uri null"

# ---- filters ---------------------------------------------------------------------
list() {  # list PATH: the phone numbers of a Twilio page
  req GET "$1" "${admin[@]}"
  [ "$RS" = 200 ] || fail "GET $1: $RS $RB"
  jq_py '" ".join(n["phone_number"] for n in d["available_phone_numbers"])'
}
assert_eq "$(list "$T/AvailablePhoneNumbers/US/Local.json?AreaCode=415")" \
  "+14155550100 +14155550101" "AreaCode=415"
assert_eq "$(list "$T/AvailablePhoneNumbers/us/Local.json?AreaCode=212&SmsEnabled=true")" \
  "+12125550102 +12125556677" "AreaCode with SmsEnabled (and a lower-case country)"
assert_eq "$(list "$T/AvailablePhoneNumbers/US/Local.json?SmsEnabled=false")" \
  "+14155550101" "SmsEnabled=false"
assert_eq "$(list "$T/AvailablePhoneNumbers/US/Local.json?MmsEnabled=true&VoiceEnabled=true")" \
  "+12125550102 +12125556677" "MmsEnabled and VoiceEnabled"
assert_eq "$(list "$T/AvailablePhoneNumbers/US/Local.json?FaxEnabled=true")" \
  "+12125556677" "FaxEnabled (capabilities 'all')"
assert_eq "$(list "$T/AvailablePhoneNumbers/US/Local.json?Contains=5550*0*")" \
  "+12125550102 +14155550100 +14155550101" "Contains with '*' (one digit each)"
assert_eq "$(list "$T/AvailablePhoneNumbers/US/Local.json?Contains=MOPS")" \
  "+12125556677" "Contains with Twilio's letters (MOPS = 6677)"
assert_eq "$(list "$T/AvailablePhoneNumbers/US/Local.json?InRegion=ny")" \
  "+12125550102 +12125556677" "InRegion (any case)"
assert_eq "$(list "$T/AvailablePhoneNumbers/US/Local.json?InPostalCode=10002")" \
  "+12125556677" "InPostalCode"
assert_eq "$(list "$T/AvailablePhoneNumbers/US/Local.json?InLocality=San%20Francisco")" \
  "+14155550100 +14155550101" "InLocality"
assert_eq "$(list "$T/AvailablePhoneNumbers/US/Local.json?AreaCode=999")" "" \
  "no match: an empty page"
assert_eq "$(list "$T/AvailablePhoneNumbers/US/TollFree.json")" "+18005550199" "TollFree"
assert_eq "$(list "$T/AvailablePhoneNumbers/US/Mobile.json")" "+13105550111" "Mobile"
assert_eq "$(list "$T/AvailablePhoneNumbers/GB/Mobile.json")" "+447700900123" "GB Mobile"
assert_eq "$(list "$T/AvailablePhoneNumbers/GB/Local.json")" "" "GB has no Local numbers"
req GET "$R/AvailablePhoneNumbers/US/Local.json?AreaCode=415&SmsEnabled=true" "${admin[@]}"
assert_eq "$(jq_py '[n["phoneNumber"] for n in d]')" "['+14155550100']" "filters in Restcomm's dialect"

# Paging: PageSize, Page, and the links.
req GET "$T/AvailablePhoneNumbers/US/Local.json?PageSize=3" "${admin[@]}"
assert_eq "$(jq_py 'len(d["available_phone_numbers"]), d["total"], d["num_pages"]')" "(3, 4, 1)" \
  "PageSize=3: 3 of 4"
NEXT=$(jq_py 'd["next_page_uri"]')
assert_contains "$NEXT" "Page=1&PageSize=3" "next_page_uri"
req GET "/../..$NEXT" "${admin[@]}"
assert_eq "$(jq_py '[n["phone_number"] for n in d["available_phone_numbers"]], d["next_page_uri"]')" \
  "(['+14155550101'], None)" "the last page"

# ---- bad input ---------------------------------------------------------------------
bad() {  # bad STATUS PATH WHAT: both dialects answer STATUS, in their forms
  req GET "$R$2" "${admin[@]}"
  expect "$1" "$3 (Restcomm)"
  assert_xml "$3: Restcomm's XML error"
  req GET "$T$2" "${admin[@]}"
  expect "$1" "$3 (Twilio)"
  assert_eq "$(jq_py 'd["status"] == '"$1"' and d["code"] > 20000 and d["message"] != "" and d["more_info"].startswith("https://www.twilio.com/docs/errors/")')" \
    true "$3: Twilio's error body"
}
bad 404 "/AvailablePhoneNumbers/FR/Local" "a country without numbers"
bad 404 "/AvailablePhoneNumbers/ZZ/Mobile" "an unknown country"
bad 400 "/AvailablePhoneNumbers/USA/Local" "a country code that is not two letters"
bad 400 "/AvailablePhoneNumbers/US/Local?AreaCode=41" "AreaCode of two digits"
bad 400 "/AvailablePhoneNumbers/US/Local?AreaCode=4x5" "AreaCode with a letter"
bad 400 "/AvailablePhoneNumbers/GB/Mobile?AreaCode=207" "AreaCode outside US and CA"
bad 400 "/AvailablePhoneNumbers/US/Local?Contains=5" "Contains of one character"
bad 400 "/AvailablePhoneNumbers/US/Local?Contains=55%25" "Contains with a '%'"
bad 400 "/AvailablePhoneNumbers/US/Local?SmsEnabled=yes" "SmsEnabled=yes"
bad 400 "/AvailablePhoneNumbers/US/Local?PageSize=0" "PageSize=0"
bad 400 "/AvailablePhoneNumbers/US/Local?PageSize=1001" "PageSize=1001"
bad 400 "/AvailablePhoneNumbers/US/Local?PageSize=2&Page=3" "a page past the last (Restcomm: Page > total / PageSize)"
bad 400 "/AvailablePhoneNumbers/US/Local?Page=-1" "a negative page"
bad 404 "/AvailablePhoneNumbers/US/Fixed" "an unknown number type"
req POST "$R/AvailablePhoneNumbers/US/Local" "${admin[@]}" -d "x=1"
expect 405 "POST on AvailablePhoneNumbers"
req GET "/Accounts/$AC/AvailablePhoneNumbers/US/Local" "${O[@]}"
expect 403 "another account's path"
req GET "/Accounts/$OTHER/AvailablePhoneNumbers/US/Local.json" "${O[@]}"
expect 200 "a sub-account sees the pool under its own path"

# ---- buying ---------------------------------------------------------------------
req POST "$R/IncomingPhoneNumbers.json" "${admin[@]}" --data-urlencode "PhoneNumber=+14155550100" \
  --data-urlencode "VoiceUrl=http://127.0.0.1:9/v.xml"
expect 200 "buy +14155550100 from the pool"
PN=$(jq_py 'd["sid"]')
assert_eq "$(jq_py 'd["friendly_name"], d["capabilities"]["sms_capable"], d["capabilities"]["mms_capable"]')" \
  "('(415) 555-0100', True, False)" "its name and capabilities come from the pool"
assert_eq "$(list "$T/AvailablePhoneNumbers/US/Local.json?AreaCode=415")" "+14155550101" \
  "a bought number is no longer available"
req POST "$R/IncomingPhoneNumbers" "${admin[@]}" --data-urlencode "PhoneNumber=+14155550100"
expect 400 "buying it twice"
assert_eq "$RB" "21452" "Restcomm's body 21452"
req POST "/Accounts/$OTHER/IncomingPhoneNumbers" "${O[@]}" --data-urlencode "PhoneNumber=+14155550100"
expect 400 "another account buying it"
req POST "$T/IncomingPhoneNumbers.json" "${admin[@]}" --data-urlencode "PhoneNumber=+14155550100"
expect 400 "buying it twice (Twilio)"
assert_eq "$(jq_py 'd["code"], d["status"]')" "(21452, 400)" "Twilio's error 21452"
req POST "$R/IncomingPhoneNumbers" "${admin[@]}" --data-urlencode "PhoneNumber=+14155559999"
expect 400 "a number outside the pool"
assert_eq "$RB" "21452" "Restcomm's body 21452"
req POST "$T/IncomingPhoneNumbers.json" "${admin[@]}" --data-urlencode "PhoneNumber=+14155559999"
expect 400 "a number outside the pool (Twilio)"
assert_eq "$(jq_py 'd["code"]')" "21452" "Twilio's error 21452"
req POST "$R/IncomingPhoneNumbers.json" "${admin[@]}" -d "PhoneNumber=alice-desk" -d "isSIP=true"
expect 200 "SIP numbers are not sold from the pool"
req POST "$T/IncomingPhoneNumbers/TollFree.json" "${admin[@]}" --data-urlencode "PhoneNumber=+18005550199" \
  -d "SmsCapable=true"
expect 200 "buy the toll-free number through Twilio's TollFree factory"
assert_eq "$(jq_py 'd["capabilities"]')" "{'voice': True, 'sms': True, 'mms': False, 'fax': False}" \
  "a parameter given wins over the pool; Twilio's capability names"
req GET "$R/AvailablePhoneNumbers/US/TollFree" "${admin[@]}"
assert_eq "$(xml_py 'len(r.find("AvailablePhoneNumbers"))')" 0 "TollFree is empty once bought"
req DELETE "$R/IncomingPhoneNumbers/$PN" "${admin[@]}"
expect 204 "release the number"
assert_eq "$(list "$T/AvailablePhoneNumbers/US/Local.json?AreaCode=415")" \
  "+14155550100 +14155550101" "a released number is available again"

# ---- reloads ---------------------------------------------------------------------
loads() { grep -c "numbers: pool reloaded" "$SB_LOG"; }
before=$(loads)
echo "FR,local,+33140000000,voice+sms,,75001,Paris" >>"$SB_TMP/pool.csv"
for _ in $(seq 50); do [ "$(loads)" -gt "$before" ] && break; sleep 0.1; done
assert_eq "$(list "$T/AvailablePhoneNumbers/FR/Local.json")" "+33140000000" \
  "a changed file is reloaded (FR appears)"
cp "$SB_TMP/pool.csv" "$SB_TMP/pool.good"
echo "DE,landline,+4930123456,voice" >>"$SB_TMP/pool.csv"
for _ in $(seq 50); do grep -q "pool not reloaded" "$SB_LOG" && break; sleep 0.1; done
assert_log "pool.csv:10: type 'landline' is not local, tollfree or mobile" \
  "a broken file is refused with file:line and the reason"
assert_eq "$(list "$T/AvailablePhoneNumbers/FR/Local.json")" "+33140000000" "the old pool stays"
echo "US,local,+14155550100,voice" >"$SB_TMP/pool.csv.new"
echo "US,local,+14155550100,sms" >>"$SB_TMP/pool.csv.new"
mv "$SB_TMP/pool.csv.new" "$SB_TMP/pool.csv"
for _ in $(seq 50); do grep -q "is listed twice" "$SB_LOG" && break; sleep 0.1; done
assert_log "\\+14155550100 is listed twice" "a number listed twice is refused"
assert_eq "$(list "$T/AvailablePhoneNumbers/FR/Local.json")" "+33140000000" "the old pool stays"
# SIGHUP reloads at once (the poll would too; the count proves which ran).
cp "$SB_TMP/pool.good" "$SB_TMP/pool.csv"
sed -i '/^FR,/d' "$SB_TMP/pool.csv"
before=$(loads)
kill -HUP "$server_pid"
for _ in $(seq 30); do [ "$(loads)" -gt "$before" ] && break; sleep 0.1; done
[ "$(loads)" -gt "$before" ] || fail "SIGHUP reloads the pool"
pass "SIGHUP reloads the pool"
req GET "$T/AvailablePhoneNumbers/FR/Local.json" "${admin[@]}"
expect 404 "FR is gone with its line"
assert_eq "$(list "$T/AvailablePhoneNumbers/US/Local.json?AreaCode=415")" \
  "+14155550100 +14155550101" "the rest is as before"

# A changed line is rewritten; a large change is written in steps (500
# numbers each), all of it in the end.
before=$(loads)
sed -i 's|^US,local,+1 (415) 555-0101,voice,|US,local,+1 (415) 555-0101,voice+sms,|' "$SB_TMP/pool.csv"
python3 -c 'for i in range(1200): print("CA,local,+1604555%04d,voice" % i)' >>"$SB_TMP/pool.csv"
for _ in $(seq 100); do [ "$(loads)" -gt "$before" ] && break; sleep 0.1; done
assert_log "pool reloaded: 1207 numbers from $SB_TMP/pool.csv \\(1201 changes\\)" \
  "only the changes are written (1200 new numbers, one changed)"
assert_eq "$(list "$T/AvailablePhoneNumbers/US/Local.json?AreaCode=415&SmsEnabled=true")" \
  "+14155550100 +14155550101" "the changed number has its new capabilities"
req GET "$T/AvailablePhoneNumbers/CA/Local.json?PageSize=1000&Page=1" "${admin[@]}"
assert_eq "$(jq_py 'd["total"], len(d["available_phone_numbers"]), d["available_phone_numbers"][-1]["phone_number"]')" \
  "(1200, 200, '+16045551199')" "all 1200 new numbers, written in three steps"
assert_eq "$(list "$T/AvailablePhoneNumbers/CA/Local.json?AreaCode=604&Contains=5551199")" \
  "+16045551199" "AreaCode in Canada"

# A broken file at start-up: the server does not start, and says where.
printf 'US,local,555-CALL,voice\n' >"$SB_TMP/bad.csv"
sed -e "s|$SB_TMP/pool.csv|$SB_TMP/bad.csv|" -e "s|$SB_DB|$SB_TMP/bad.db|" \
    -e "s|:$SB_SIP_PORT|:$SB_AUX_PORT|g" -e "s|:$SB_HTTP_PORT|:$SB_AUX_PORT2|" \
    -e 's|/console\.sock"|/bad.sock"|' "$SB_CONF" >"$SB_TMP/bad.conf.lua"
out=$(timeout 20 "$SB_BIN" -c "$SB_TMP/bad.conf.lua" 2>&1)
rc=$?
[ $rc -ne 0 ] && [ $rc -ne 124 ] || fail "a broken pool at start-up: exit $rc"
assert_contains "$out" "bad.csv:1: '555-CALL' is not a phone number" "the start-up error names file:line"

# ---- OutgoingCallerIds -----------------------------------------------------------
req POST "$R/OutgoingCallerIds" "${admin[@]}" -d "PhoneNumber=(415) 555-0142"
expect 200 "create a caller ID (XML)"
CID=$(xml_py 'r.find("OutgoingCallerId/Sid").text')
[[ "$CID" =~ ^PN[0-9a-f]{32}$ ]] || fail "caller ID SID: $CID"
pass "caller ID SID is PN + 32 hex, as Restcomm's"
assert_eq "$(xml_py '[e.tag for e in r.find("OutgoingCallerId")]')" \
  "['Sid', 'AccountSid', 'FriendlyName', 'PhoneNumber', 'DateCreated', 'DateUpdated', 'Uri']" \
  "Restcomm's fields, in order"
assert_eq "$(xml_py 'r.find("OutgoingCallerId/PhoneNumber").text')" "+14155550142" \
  "ten digits are a US number, in E.164"
assert_eq "$(xml_py 'r.find("OutgoingCallerId/FriendlyName").text')" "(415) 555-0142" \
  "FriendlyName defaults to the national form"
assert_date "$(xml_py 'r.find("OutgoingCallerId/DateCreated").text')" "DateCreated"
assert_eq "$(xml_py 'r.find("OutgoingCallerId/Uri").text')" "/2012-04-24$R/OutgoingCallerIds/$CID" "Uri"
req POST "$T/OutgoingCallerIds.json" "${admin[@]}" --data-urlencode "PhoneNumber=+442079460000" \
  -d "FriendlyName=London office"
expect 200 "create a caller ID (Twilio)"
CID2=$(jq_py 'd["sid"]')
assert_eq "$(jq_py 'd["phone_number"], d["friendly_name"], d["uri"]')" \
  "('+442079460000', 'London office', '/2010-04-01/Accounts/$AC/OutgoingCallerIds/$CID2.json')" \
  "its members"
req POST "$R/OutgoingCallerIds.json" "${admin[@]}" -d "PhoneNumber=4155550142"
expect 400 "the same number twice"
req POST "$T/OutgoingCallerIds.json" "${admin[@]}" -d "PhoneNumber=4155550142"
assert_eq "$(jq_py 'd["code"]')" 21450 "... Twilio's code 21450"
req POST "$R/OutgoingCallerIds.json" "${admin[@]}" -d "FriendlyName=x"
expect 400 "no PhoneNumber"
req POST "$R/OutgoingCallerIds.json" "${admin[@]}" -d "PhoneNumber=call-me"
expect 400 "a PhoneNumber that is not a number"
assert_eq "$(jq_py 'd["message"]')" "Invalid phone number." "Restcomm's message"
req POST "/Accounts/$OTHER/OutgoingCallerIds.json" "${O[@]}" -d "PhoneNumber=4155550142"
expect 200 "the same number in another account"
req GET "$R/OutgoingCallerIds.json" "${admin[@]}"
assert_eq "$(jq_py '[c["phone_number"] for c in d]')" "['+14155550142', '+442079460000']" \
  "list: Restcomm's bare array, this account's only"
req GET "$T/OutgoingCallerIds.json?PhoneNumber=%2B442079460000" "${admin[@]}"
assert_eq "$(jq_py '[c["sid"] for c in d["outgoing_caller_ids"]]')" "['$CID2']" \
  "Twilio's page, filtered by PhoneNumber"
req PUT "$R/OutgoingCallerIds/$CID.json" "${admin[@]}" -d "FriendlyName=Front desk" \
  -d "PhoneNumber=+19999999999"
expect 200 "update"
assert_eq "$(jq_py 'd["friendly_name"], d["phone_number"]')" "('Front desk', '+14155550142')" \
  "FriendlyName changes, PhoneNumber does not"
req GET "/Accounts/$OTHER/OutgoingCallerIds/$CID.json" "${O[@]}"
expect 404 "another account's caller ID is not found"
req GET "$R/OutgoingCallerIds/NO0123.json" "${admin[@]}"
expect 400 "a malformed SID"
req DELETE "$R/OutgoingCallerIds/$CID" "${admin[@]}"
expect 200 "delete (Restcomm: 200)"
req DELETE "$T/OutgoingCallerIds/$CID2.json" "${admin[@]}"
expect 204 "delete (Twilio: 204)"
req GET "$T/OutgoingCallerIds/$CID2.json" "${admin[@]}"
expect 404 "gone"
assert_eq "$(jq_py 'd["code"]')" 20404 "Twilio's 20404"

# ---- Transcriptions --------------------------------------------------------------
req GET "$R/Transcriptions" "${admin[@]}"
expect 200 "Transcriptions (XML)"
assert_eq "$(xml_py 'r.find("Transcriptions").get("total"), len(r.find("Transcriptions"))')" \
  "('0', 0)" "empty"
req GET "$R/Transcriptions.json" "${admin[@]}"
assert_eq "$(jq_py 'd["transcriptions"], d["total"]')" "([], 0)" "empty (JSON page)"
req GET "$T/Transcriptions.json" "${admin[@]}"
assert_eq "$(jq_py 'd["transcriptions"], d["next_page_uri"]')" "([], None)" "empty (Twilio)"
req GET "$R/Transcriptions/TR0123456789abcdef0123456789abcdef.json" "${admin[@]}"
expect 404 "an unknown transcription"
req GET "$R/Transcriptions/RE0123456789abcdef0123456789abcdef.json" "${admin[@]}"
expect 400 "not a TR SID"
req GET "$R/Transcriptions.json?Page=1" "${admin[@]}"
expect 400 "a page past the last"
req GET "$R/Transcriptions.json?StartTime=yesterday" "${admin[@]}"
expect 400 "a bad StartTime"
req GET "$T/Recordings/RE0123456789abcdef0123456789abcdef/Transcriptions.json" "${admin[@]}"
expect 200 "a recording's transcriptions (Twilio)"
# A row written as transcription will write it is rendered in both forms.
python3 - "$SB_DB" "$AC" <<'PY'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1], timeout=5)
c.execute("INSERT INTO transcriptions (sid, account_sid, recording_sid, status, duration, "
          "transcription_text, price, date_created, date_updated) VALUES "
          "('TR0123456789abcdef0123456789abcdef', ?, 'RE0123456789abcdef0123456789abcdef', "
          "'completed', 3.5, 'hello world', '0.05', 1700000000, 1700000000)", (sys.argv[2],))
c.commit()
PY
req GET "$R/Transcriptions/TR0123456789abcdef0123456789abcdef" "${admin[@]}"
expect 200 "a transcription (XML)"
assert_eq "$(xml_py '[e.tag for e in r.find("Transcription")]')" \
  "['Sid', 'DateCreated', 'DateUpdated', 'AccountSid', 'Status', 'RecordingSid', 'Duration', 'TranscriptionText', 'Price', 'PriceUnit', 'Uri']" \
  "Restcomm's fields, in order"
assert_eq "$(xml_py 'r.find("Transcription/Duration").text')" "3.5" "Duration"
req GET "$T/Transcriptions/TR0123456789abcdef0123456789abcdef.json" "${admin[@]}"
assert_eq "$(jq_py 'd["duration"], d["price"], d["transcription_text"], d["api_version"], d["type"]')" \
  "('4', '-0.05000', 'hello world', '2012-04-24', 'fast')" "Twilio's members"
req GET "$T/Recordings/RE0123456789abcdef0123456789abcdef/Transcriptions.json" "${admin[@]}"
assert_eq "$(jq_py '[t["sid"] for t in d["transcriptions"]]')" \
  "['TR0123456789abcdef0123456789abcdef']" "listed under its recording"
req DELETE "$T/Transcriptions/TR0123456789abcdef0123456789abcdef.json" "${admin[@]}"
expect 204 "delete (Twilio)"

# ---- Version ---------------------------------------------------------------------
req GET "$R/Version" "${admin[@]}"
expect 200 "Version (XML)"
assert_eq "$(xml_py '[e.tag for e in r]')" "['Name', 'Version', 'Revision', 'Date']" \
  "Restcomm's elements, straight inside RestcommResponse"
req GET "$R/Version.json" "${admin[@]}"
assert_eq "$(jq_py 'd["Name"], d["Version"] != "", d["Revision"] != ""')" \
  "('Switchboard', True, True)" "Restcomm's JSON members"
req GET "$T/Version.json" "${admin[@]}"
assert_eq "$(jq_py 'sorted(d)')" "['date', 'name', 'revision', 'version']" "Twilio's dialect"
req GET "$R/Version.json" -u "$SB_ADMIN_EMAIL:wrong-password"
expect 401 "Version needs credentials"
req GET "$T/Version.json" -u "$SB_ADMIN_EMAIL:wrong-password"
expect 401 "... in Twilio's dialect too"
assert_eq "$(jq_py 'd["code"], d["status"]')" "(20003, 401)" "Twilio's 20003"

# ---- Twilio's members on Calls and Messages ---------------------------------------
python3 - "$SB_DB" "$AC" <<'PY'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1], timeout=5)
c.execute("INSERT INTO calls (sid, account_sid, sender, recipient, status, direction, price, "
          "date_created, date_updated) VALUES ('CA0123456789abcdef0123456789abcdef', ?, "
          "'+14155550100', 'client:alice', 'completed', 'inbound', '0.0075', 1700000000, 1700000000)",
          (sys.argv[2],))
c.execute("INSERT INTO sms_messages (sid, account_sid, sender, recipient, body, status, price, "
          "date_created) VALUES ('SM0123456789abcdef0123456789abcdef', ?, '+14155550100', "
          "'+12125550102', 'hi', 'sent', NULL, 1700000000)", (sys.argv[2],))
c.commit()
PY
req GET "$T/Calls/CA0123456789abcdef0123456789abcdef.json" "${admin[@]}"
expect 200 "a call (Twilio)"
assert_eq "$(jq_py 'd["from_formatted"], d["to_formatted"], d["price"], d["price_unit"]')" \
  "('(415) 555-0100', 'client:alice', '-0.00750', 'USD')" \
  "from_formatted, to_formatted (not a number: as is), price as Twilio writes it"
req GET "$R/Calls/CA0123456789abcdef0123456789abcdef.json" "${admin[@]}"
assert_eq "$(jq_py '"from_formatted" in d, "to_formatted" in d, d["price"]')" \
  "(False, False, '0.0075')" "Restcomm's JSON: no formatted members, the price as stored"
req GET "$R/Calls/CA0123456789abcdef0123456789abcdef" "${admin[@]}"
assert_eq "$(xml_py 'r.find("Call/Price").text, r.find("Call/FromFormatted")')" "('0.0075', None)" \
  "Restcomm's XML: Price as stored"
req GET "$T/Messages/SM0123456789abcdef0123456789abcdef.json" "${admin[@]}"
assert_eq "$(jq_py '"price" in d and d["price"] is None')" "true" "a message without a price: null"
