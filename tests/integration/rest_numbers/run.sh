# REST IncomingPhoneNumbers: create (plain, SIP, patterns, the Local /
# TollFree / Mobile factories), get, list (filters, SortBy, paging),
# update (Refer fields and their clearing rules), delete, in XML and JSON;
# the 21452 conflict; regex validation; Applications' includeNumbers.
source ../rest_common/lib.sh

req GET "/Accounts.json/$SB_ADMIN_EMAIL" "${admin[@]}"
AC=$(jq_py 'd["sid"]')
N="/Accounts/$AC/IncomingPhoneNumbers"
req POST /Accounts.json "${admin[@]}" -d "EmailAddress=neighbour@example.com" -d "Password=Neighbour-Pw-123"
OTHER=$(jq_py 'd["sid"]')
O=(-u "neighbour@example.com:Neighbour-Pw-123")
req POST "/Accounts/$AC/Applications.json" "${admin[@]}" -d "FriendlyName=Voice app"
VAPP=$(jq_py 'd["sid"]')
req POST "/Accounts/$AC/Applications.json" "${admin[@]}" -d "FriendlyName=Transfer app"
RAPP=$(jq_py 'd["sid"]')
req POST "/Accounts/$OTHER/Applications.json" "${O[@]}" -d "FriendlyName=Their app"
TAPP=$(jq_py 'd["sid"]')

# ---- create ---------------------------------------------------------------------
req POST "$N" "${admin[@]}" -d "FriendlyName=x"
expect 400 "create without PhoneNumber"
assert_contains "$RB" "PhoneNumber" "the 400 names PhoneNumber"
req POST "$N.json" "${admin[@]}" -d "PhoneNumber=call-me"
expect 400 "a non-SIP number must be digits"

req POST "$N" "${admin[@]}" --data-urlencode "PhoneNumber=+1 (555) 010-0100" \
  -d "VoiceUrl=http://127.0.0.1:9/voice.xml" -d "VoiceApplicationSid=$VAPP"
expect 200 "create a number (XML)"
assert_xml "number XML is well-formed"
PN1=$(xml_py 'r.find("IncomingPhoneNumber/Sid").text')
[[ "$PN1" =~ ^PN[0-9a-f]{32}$ ]] || fail "number SID form: $PN1"
pass "number SID is PN + 32 hex"
assert_eq "$(xml_py 'r.find("IncomingPhoneNumber/PhoneNumber").text')" "+15550100100" \
  "a plain number is normalized to +digits"
assert_eq "$(xml_py 'r.find("IncomingPhoneNumber/FriendlyName").text')" "+15550100100" \
  "FriendlyName defaults to the number"
assert_eq "$(xml_py 'r.find("IncomingPhoneNumber/VoiceMethod").text')" "POST" "VoiceMethod defaults to POST"
assert_eq "$(xml_py 'r.find("IncomingPhoneNumber/ReferMethod").text')" "POST" "ReferMethod defaults to POST"
assert_eq "$(xml_py 'r.find("IncomingPhoneNumber/ReferUrl")')" "null" "no ReferUrl element when unset"
assert_eq "$(xml_py 'r.find("IncomingPhoneNumber/VoiceApplicationName").text')" "Voice app" \
  "VoiceApplicationName shown with VoiceApplicationSid"
assert_eq "$(xml_py 'r.find("IncomingPhoneNumber/Capabilities/Voice").text')" "false" \
  "Capabilities/Voice defaults to false, as Restcomm"
assert_eq "$(xml_py 'r.find("IncomingPhoneNumber/Capabilities/Sms").text')" "false" "Capabilities/Sms"
assert_eq "$(xml_py 'r.find("IncomingPhoneNumber/Uri").text')" \
  "/2012-04-24/Accounts/$AC/IncomingPhoneNumbers/$PN1" "XML Uri"
assert_eq "$(xml_py '[e.tag for e in r.find("IncomingPhoneNumber")][:4]')" \
  "['Sid', 'AccountSid', 'FriendlyName', 'PhoneNumber']" "Restcomm's element order"

req POST "$N.json" "${admin[@]}" --data-urlencode "PhoneNumber=+15550100200" \
  -d "FriendlyName=Front desk" -d "ReferUrl=http://127.0.0.1:9/refer.xml" \
  -d "SmsCapable=true" -d "StatusCallback=http://127.0.0.1:9/status"
expect 200 "create a number (JSON)"
PN2=$(jq_py 'd["sid"]')
assert_eq "$(jq_py 'd["refer_url"]')" "http://127.0.0.1:9/refer.xml" "JSON refer_url"
assert_eq "$(jq_py 'd["refer_method"]')" "POST" "JSON refer_method"
assert_eq "$(jq_py 'd["refer_application_sid"]')" "null" "JSON refer_application_sid null"
assert_eq "$(jq_py '"refer_application_name" in d')" "false" "no refer_application_name without a SID"
assert_eq "$(jq_py 'd["capabilities"]["sms_capable"]')" "true" "JSON capabilities"
assert_eq "$(jq_py 'd["status_callback"]')" "http://127.0.0.1:9/status" "JSON status_callback"
assert_eq "$(jq_py 'd["sms_url"]')" "null" "JSON sms_url null"

# A number already taken in the domain: 400 with body 21452, whoever asks.
req POST "$N" "${admin[@]}" --data-urlencode "PhoneNumber=+15550100200"
expect 400 "the same number again"
assert_eq "$RB" "21452" "body is 21452"
req POST "/Accounts/$OTHER/IncomingPhoneNumbers" "${O[@]}" -d "PhoneNumber=15550100200"
expect 400 "the same number from another account (and without +)"
assert_eq "$RB" "21452" "body is 21452"

# SIP numbers: kept as given; patterns are compiled and refused with a reason.
req POST "$N.json" "${admin[@]}" -d "PhoneNumber=alice-desk" -d "isSIP=true"
expect 200 "a SIP number is kept as given"
assert_eq "$(jq_py 'd["phone_number"]')" "alice-desk" "SIP number unchanged"
req POST "$N.json" "${admin[@]}" --data-urlencode "PhoneNumber=16.*" -d "isSIP=true"
expect 200 "a pattern number"
PAT=$(jq_py 'd["sid"]')
req POST "$N.json" "${admin[@]}" --data-urlencode "PhoneNumber=^*77...33#\$" -d "isSIP=true"
expect 200 "Restcomm's documented pattern ^*77...33#\$"
req POST "$N.json" "${admin[@]}" --data-urlencode "PhoneNumber=*" -d "isSIP=true"
expect 200 "the catch-all number *"
req POST "$N.json" "${admin[@]}" --data-urlencode "PhoneNumber=(12|3" -d "isSIP=true"
expect 400 "an invalid regular expression"
assert_contains "$(jq_py 'd["message"]')" "unclosed group" "the 400 gives the reason"
req POST "$N.json" "${admin[@]}" --data-urlencode "PhoneNumber=(1)\\1" -d "isSIP=true"
expect 400 "a back-reference"
assert_contains "$(jq_py 'd["message"]')" "back-references" "the reason names back-references"
# Exponential for a backtracking engine; linear for ours, so accepted.
req POST "$N.json" "${admin[@]}" --data-urlencode "PhoneNumber=^(1+)+2" -d "isSIP=true"
expect 200 "a catastrophic-backtracking pattern is harmless and accepted"
req POST "$N.json" "${admin[@]}" --data-urlencode "PhoneNumber=^((1{1000}){1000}){1000}" \
  -d "isSIP=true"
expect 400 "a pattern too large to compile"
assert_contains "$(jq_py 'd["message"]')" "too complex" "the reason says too complex"
req POST "$N.json" "${admin[@]}" --data-urlencode "PhoneNumber=16.*" -d "isSIP=true"
expect 400 "a pattern taken already"
req GET "/Accounts.json/$AC" "${admin[@]}"
expect 200 "the server answers at once after the hostile pattern"

# Method and reference rules.
req POST "$N.json" "${admin[@]}" -d "PhoneNumber=5550100300" -d "ReferMethod=PUT"
expect 400 "ReferMethod other than GET or POST"
assert_contains "$(jq_py 'd["message"]')" "ReferMethod" "the 400 names ReferMethod"
req POST "$N.json" "${admin[@]}" -d "PhoneNumber=5550100300" -d "ReferApplicationSid=$TAPP"
expect 400 "ReferApplicationSid of another account"
req POST "$N.json" "${admin[@]}" -d "PhoneNumber=5550100300" -d "VoiceUrl=not a url"
expect 400 "invalid VoiceUrl"

# ---- update: the Refer fields ---------------------------------------------------------
req POST "$N/$PN1.json" "${admin[@]}" -d "ReferUrl=http://127.0.0.1:9/transfer.xml" \
  -d "ReferMethod=get"
expect 200 "set ReferUrl and ReferMethod"
assert_eq "$(jq_py 'd["refer_url"]')" "http://127.0.0.1:9/transfer.xml" "refer_url set"
assert_eq "$(jq_py 'd["refer_method"]')" "GET" "refer_method upper-cased"
req POST "$N/$PN1.json" "${admin[@]}" -d "ReferApplicationSid=$RAPP"
expect 200 "set ReferApplicationSid"
assert_eq "$(jq_py 'd["refer_application_sid"]')" "$RAPP" "refer_application_sid set"
assert_eq "$(jq_py 'd["refer_application_name"]')" "Transfer app" "refer_application_name shown"
assert_eq "$(jq_py 'd["refer_method"]')" "GET" "ReferMethod untouched when absent"
assert_eq "$(jq_py 'd["refer_url"]')" "http://127.0.0.1:9/transfer.xml" "ReferUrl kept"
req PUT "$N/$PN1" "${admin[@]}" -d "ReferUrl="
expect 200 "an empty ReferUrl (XML)"
assert_eq "$(xml_py 'r.find("IncomingPhoneNumber/ReferUrl")')" "null" "an empty ReferUrl clears it"
assert_eq "$(xml_py 'r.find("IncomingPhoneNumber/ReferApplicationName").text')" "Transfer app" \
  "XML ReferApplicationName"
req POST "$N/$PN1.json" "${admin[@]}" -d "ReferApplicationSid="
assert_eq "$(jq_py 'd["refer_application_sid"]')" "null" "an empty ReferApplicationSid clears it"
req POST "$N/$PN1.json" "${admin[@]}" -d "ReferMethod="
expect 400 "an empty ReferMethod is refused"
req POST "$N/$PN1.json" "${admin[@]}" --data-urlencode "PhoneNumber=+19999999999"
assert_eq "$(jq_py 'd["phone_number"]')" "+15550100100" "PhoneNumber cannot be changed"
req POST "$N/$PN1.json" "${admin[@]}" -d "SmsUrl=https://127.0.0.1:9/sms" -d "SmsMethod=GET" \
  -d "UssdUrl=http://127.0.0.1:9/ussd" -d "VoiceCallerIdLookup=true" -d "FaxCapable=true"
expect 200 "update the Sms, Ussd and capability fields"
assert_eq "$(jq_py 'd["sms_url"]')" "https://127.0.0.1:9/sms" "sms_url"
assert_eq "$(jq_py 'd["sms_method"]')" "GET" "sms_method"
assert_eq "$(jq_py 'd["ussd_url"]')" "http://127.0.0.1:9/ussd" "ussd_url"
assert_eq "$(jq_py 'd["voice_caller_id_lookup"]')" "true" "voice_caller_id_lookup"
assert_eq "$(jq_py 'd["capabilities"]["fax_capable"]')" "true" "fax_capable"

# ---- factories ---------------------------------------------------------------------------
req POST "$N/Local.json" "${admin[@]}" -d "PhoneNumber=15550100400"
expect 200 "provision a Local number"
LOCAL=$(jq_py 'd["sid"]')
req POST "$N/TollFree" "${admin[@]}" -d "PhoneNumber=18005550100"
expect 200 "provision a TollFree number (XML)"
req POST "$N/Mobile.json" "${admin[@]}" -d "PhoneNumber=15550100500"
expect 200 "provision a Mobile number"
req GET "$N/Local.json" "${admin[@]}"
expect 200 "list Local numbers"
assert_eq "$(jq_py '[n["sid"] for n in d["incomingPhoneNumbers"]]')" "['$LOCAL']" \
  "only the Local number is listed"

# ---- get, list, filters, paging ------------------------------------------------------------
req GET "$N/$PN2.json" "${admin[@]}"
expect 200 "get (JSON)"
assert_eq "$(jq_py 'd["friendly_name"]')" "Front desk" "get returns the number"
req GET "$N/$PN2" "${admin[@]}"
expect 200 "get (XML)"
req GET "$N.json" "${admin[@]}"
expect 200 "list (JSON)"
TOTAL=$(jq_py 'd["total"]')
assert_eq "$TOTAL" "10" "ten numbers"
assert_eq "$(jq_py 'd["incomingPhoneNumbers"] == sorted(d["incomingPhoneNumbers"], key=lambda n: n["phone_number"])')" \
  "true" "sorted by PhoneNumber by default"
req GET "$N" "${admin[@]}"
assert_eq "$(xml_py 'r.find("IncomingPhoneNumbers").get("total")')" "10" "XML list total"
req GET "$N.json?PhoneNumber=0100" "${admin[@]}"
assert_eq "$(jq_py 'sorted(n["phone_number"] for n in d["incomingPhoneNumbers"])')" \
  "['+15550100100', '+15550100200', '+15550100400', '+15550100500', '+18005550100']" \
  "PhoneNumber filter matches anywhere"
req GET "$N.json?PhoneNumber=%2B1555*1**4" "${admin[@]}"
assert_eq "$(jq_py '[n["phone_number"] for n in d["incomingPhoneNumbers"]]')" "['+15550100400']" \
  "* matches one character"
req GET "$N.json?PhoneNumber=%25" "${admin[@]}"
expect 200 "a % in the filter"
assert_eq "$(jq_py 'd["total"]')" "0" "% is literal, not a SQL wildcard"
req GET "$N.json?PhoneNumber=_" "${admin[@]}"
assert_eq "$(jq_py 'd["total"]')" "0" "_ is literal, not a SQL wildcard"
req GET "$N.json?FriendlyName=%27%20OR%201%3D1%20--" "${admin[@]}"
assert_eq "$(jq_py 'd["total"]')" "0" "a quote in the filter is only text"
req GET "$N.json?FriendlyName=front" "${admin[@]}"
assert_eq "$(jq_py '[n["sid"] for n in d["incomingPhoneNumbers"]]')" "['$PN2']" "FriendlyName filter"
req GET "$N.json?SortBy=FriendlyName:desc" "${admin[@]}"
NAMES=$(jq_py '[n["friendly_name"] for n in d["incomingPhoneNumbers"]]')
assert_eq "$(jq_py '[n["friendly_name"] for n in d["incomingPhoneNumbers"]] == sorted([n["friendly_name"] for n in d["incomingPhoneNumbers"]], reverse=True)')" \
  "true" "SortBy=FriendlyName:desc"
req GET "$N.json?Reverse=true" "${admin[@]}"
assert_eq "$(jq_py 'd["incomingPhoneNumbers"][0]["phone_number"]')" "alice-desk" "Reverse=true"
req GET "$N.json?SortBy=Nonsense" "${admin[@]}"
expect 400 "an unknown SortBy"
req GET "$N.json?PageSize=4&Page=1" "${admin[@]}"
expect 200 "page 1 of 4"
assert_eq "$(jq_py 'd["num_pages"]')" "2" "num_pages"
assert_eq "$(jq_py 'len(d["incomingPhoneNumbers"])')" "4" "four on page 1"
assert_eq "$(jq_py 'd["start"]')" "4" "start"
NEXT=$(jq_py 'd["next_page_uri"]')
req GET "${NEXT#/2012-04-24}" "${admin[@]}"
assert_eq "$(jq_py 'len(d["incomingPhoneNumbers"])')" "2" "next page (AfterSid) has the last two"
req GET "$N.json?PageSize=4&Page=3" "${admin[@]}"
expect 400 "a page past the end"

# ---- Applications with includeNumbers --------------------------------------------------------
req POST "$N/$PN2.json" "${admin[@]}" -d "ReferApplicationSid=$VAPP"
req GET "/Accounts/$AC/Applications.json?includeNumbers=true" "${admin[@]}"
expect 200 "applications with includeNumbers"
assert_eq "$(jq_py 'sorted(n["phone_number"] for a in d if a["sid"] == "'$VAPP'" for n in a["numbers"])')" \
  "['+15550100100', '+15550100200']" "the voice and the refer user of the application"
assert_eq "$(jq_py '[n.get("refer_application_sid") for a in d if a["sid"] == "'$VAPP'" for n in a["numbers"] if n["sid"] == "'$PN2'"]')" \
  "['$VAPP']" "the summary carries ReferApplicationSid"
req GET "/Accounts/$AC/Applications?includeNumbers=true" "${admin[@]}"
assert_eq "$(xml_py 'len(r.findall("Applications/Application/Numbers/Number"))')" "2" \
  "XML Numbers/Number"
req DELETE "/Accounts/$AC/Applications/$VAPP" "${admin[@]}"
req GET "$N/$PN1.json" "${admin[@]}"
assert_eq "$(jq_py 'd["voice_application_sid"]')" "null" "deleting the application clears the number's reference"

# ---- isolation and delete ------------------------------------------------------------------------
req GET "/Accounts/$OTHER/IncomingPhoneNumbers/$PN1.json" "${O[@]}"
expect 404 "another account's number under one's own path"
req GET "$N/$PN1.json" "${O[@]}"
expect 403 "a sub-account cannot read its parent's numbers"
req GET "/Accounts/$OTHER/IncomingPhoneNumbers.json" "${O[@]}"
assert_eq "$(jq_py 'd["total"]')" "0" "the sub-account has no numbers"
req GET "$N/PN00000000000000000000000000000000" "${admin[@]}"
expect 404 "unknown number SID"
req GET "$N/PN42" "${admin[@]}"
expect 400 "malformed number SID"
req PATCH "$N" "${admin[@]}"
expect 405 "PATCH is 405"
req DELETE "$N/$PN2" "${admin[@]}"
expect 204 "delete (204, as Restcomm)"
req GET "$N/$PN2" "${admin[@]}"
expect 404 "the deleted number is gone"
req POST "$N.json" "${admin[@]}" --data-urlencode "PhoneNumber=+15550100200"
expect 200 "a deleted number can be taken again"
