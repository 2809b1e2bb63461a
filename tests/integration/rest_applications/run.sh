# REST Applications: create, list, get, update, delete in XML and JSON,
# paging on request, validation, and isolation between accounts.
source ../rest_common/lib.sh

req GET "/Accounts.json/$SB_ADMIN_EMAIL" "${admin[@]}"
AC=$(jq_py 'd["sid"]')
req POST /Accounts.json "${admin[@]}" -d "EmailAddress=other@example.com" -d "Password=Other-Account-Pw1"
OTHER=$(jq_py 'd["sid"]')
O=(-u "other@example.com:Other-Account-Pw1")

# ---- create -----------------------------------------------------------------
req POST "/Accounts/$AC/Applications" "${admin[@]}" -d "RcmlUrl=http://127.0.0.1/app.xml"
expect 400 "create without FriendlyName"
assert_contains "$RB" "FriendlyName" "the 400 names FriendlyName"
req POST "/Accounts/$AC/Applications" "${admin[@]}" -d "FriendlyName=App" -d "Kind=fax"
expect 400 "unknown Kind"
req POST "/Accounts/$AC/Applications" "${admin[@]}" -d "FriendlyName=App" -d "RcmlUrl=ftp://x/y"
expect 400 "RcmlUrl that is not http(s)"
req POST "/Accounts/$AC/Applications" "${admin[@]}" -d "FriendlyName=App" -d "VoiceCallerIdLookup=maybe"
expect 400 "VoiceCallerIdLookup not a boolean"

req POST "/Accounts/$AC/Applications" "${admin[@]}" -d "FriendlyName=Voice app" \
  -d "RcmlUrl=http://127.0.0.1:9/app.xml" -d "Kind=voice" -d "VoiceCallerIdLookup=true"
expect 200 "create an application (XML)"
assert_xml "application XML is well-formed"
AP1=$(xml_py 'r.find("Application/Sid").text')
[[ "$AP1" =~ ^AP[0-9a-f]{32}$ ]] || fail "application SID form: $AP1"
pass "application SID is AP + 32 hex"
assert_eq "$(xml_py 'r.find("Application/FriendlyName").text')" "Voice app" "XML FriendlyName"
assert_eq "$(xml_py 'r.find("Application/AccountSid").text')" "$AC" "XML AccountSid"
assert_eq "$(xml_py 'r.find("Application/ApiVersion").text')" "2012-04-24" "XML ApiVersion"
assert_eq "$(xml_py 'r.find("Application/VoiceCallerIdLookup").text')" "true" "XML VoiceCallerIdLookup"
assert_eq "$(xml_py 'r.find("Application/RcmlUrl").text')" "http://127.0.0.1:9/app.xml" "XML RcmlUrl"
assert_eq "$(xml_py 'r.find("Application/Kind").text')" "voice" "XML Kind"
assert_eq "$(xml_py 'r.find("Application/Uri").text')" \
  "/2012-04-24/Accounts/$AC/Applications/$AP1" "XML Uri"
assert_date "$(xml_py 'r.find("Application/DateCreated").text')" "XML DateCreated"

req POST "/Accounts/$AC/Applications.json" "${admin[@]}" -d "FriendlyName=Second"
expect 200 "create an application (JSON)"
AP2=$(jq_py 'd["sid"]')
assert_eq "$(jq_py 'd["voice_caller_id_lookup"]')" "false" "JSON voice_caller_id_lookup default false"
assert_eq "$(jq_py 'd["rcml_url"]')" "null" "JSON rcml_url null when unset"
assert_eq "$(jq_py 'd["uri"]')" "/2012-04-24/Accounts/$AC/Applications/$AP2.json" "JSON uri ends in .json"

# ---- get and list --------------------------------------------------------------
req GET "/Accounts/$AC/Applications/$AP1.json" "${admin[@]}"
expect 200 "get (JSON)"
assert_eq "$(jq_py 'd["kind"]')" "voice" "JSON kind"
req GET "/Accounts/$AC/Applications/$AP1" "${admin[@]}"
expect 200 "get (XML)"
req GET "/Accounts/$AC/Applications" "${admin[@]}"
expect 200 "list (XML)"
assert_eq "$(xml_py 'len(r.findall("Applications/Application"))')" "2" "XML list of two"
req GET "/Accounts/$AC/Applications.json" "${admin[@]}"
assert_eq "$(jq_py '[a["sid"] for a in d]')" "['$AP1', '$AP2']" "JSON bare array in creation order"
req GET "/Accounts/$AC/Applications.json?includeNumbers=true" "${admin[@]}"
assert_eq "$(jq_py 'd[0]["numbers"]')" "[]" "includeNumbers adds a numbers array"

# ---- update and delete --------------------------------------------------------
req POST "/Accounts/$AC/Applications/$AP1.json" "${admin[@]}" -d "FriendlyName=Renamed" \
  -d "Kind=sms"
expect 200 "update"
assert_eq "$(jq_py 'd["friendly_name"]')" "Renamed" "FriendlyName updated"
assert_eq "$(jq_py 'd["kind"]')" "sms" "Kind updated"
assert_eq "$(jq_py 'd["rcml_url"]')" "http://127.0.0.1:9/app.xml" "RcmlUrl untouched"
req PUT "/Accounts/$AC/Applications/$AP1.json" "${admin[@]}" -d "RcmlUrl="
expect 200 "PUT with an empty RcmlUrl"
assert_eq "$(jq_py 'd["rcml_url"]')" "null" "an empty value clears RcmlUrl"
req POST "/Accounts/$AC/Applications/$AP1" "${admin[@]}" -d "VoiceCallerIdLookup=false"
expect 200 "update (XML)"
assert_eq "$(xml_py 'r.find("Application/VoiceCallerIdLookup").text')" "false" "XML update applied"
req POST "/Accounts/$AC/Applications/$AP1" "${admin[@]}" -d "Kind=fax"
expect 400 "update with a bad Kind"

req DELETE "/Accounts/$AC/Applications/$AP2" "${admin[@]}"
expect 200 "delete"
req GET "/Accounts/$AC/Applications/$AP2" "${admin[@]}"
expect 404 "deleted application is gone"
req DELETE "/Accounts/$AC/Applications/$AP2" "${admin[@]}"
expect 404 "deleting twice is 404"

# ---- bad input ------------------------------------------------------------------
req GET "/Accounts/$AC/Applications/AP00000000000000000000000000000000" "${admin[@]}"
expect 404 "unknown application SID"
req GET "/Accounts/$AC/Applications/AP123" "${admin[@]}"
expect 400 "malformed application SID"
req GET "/Accounts/$AC/Applications/CL00000000000000000000000000000000" "${admin[@]}"
expect 400 "SID with the wrong prefix"
req PATCH "/Accounts/$AC/Applications/$AP1" "${admin[@]}"
expect 405 "PATCH is 405"
req DELETE "/Accounts/$AC/Applications" "${admin[@]}"
expect 405 "DELETE on the collection is 405"
req POST "/Accounts/$AC/Applications" "${admin[@]}" --data-binary $'FriendlyName=%C0%AF'
expect 400 "overlong UTF-8 in FriendlyName"

# ---- isolation --------------------------------------------------------------------
req POST "/Accounts/$OTHER/Applications.json" "${O[@]}" -d "FriendlyName=Theirs"
expect 200 "another account creates its application"
THEIRS=$(jq_py 'd["sid"]')
req GET "/Accounts/$OTHER/Applications/$THEIRS.json" "${admin[@]}"
expect 200 "the parent reads its sub-account's application"
req GET "/Accounts/$AC/Applications/$THEIRS" "${admin[@]}"
expect 404 "an application is not visible under another account's path"
req GET "/Accounts/$AC/Applications.json" "${O[@]}"
expect 403 "a sub-account cannot list its parent's applications"
req POST "/Accounts/$AC/Applications/$AP1" "${O[@]}" -d "FriendlyName=pwned"
expect 403 "a sub-account cannot update its parent's application"
req DELETE "/Accounts/$OTHER/Applications/$AP1" "${O[@]}"
expect 404 "a sub-account cannot delete its parent's application through its own path"
req GET "/Accounts/$AC/Applications/$AP1.json" "${admin[@]}"
assert_eq "$(jq_py 'd["friendly_name"]')" "Renamed" "the application is unchanged"

# ---- paging (on request) ------------------------------------------------------------
for i in 1 2 3 4 5 6 7; do
  req POST "/Accounts/$OTHER/Applications.json" "${O[@]}" -d "FriendlyName=Paged $i"
done
# 8 applications in OTHER.
req GET "/Accounts/$OTHER/Applications.json?PageSize=3" "${O[@]}"
expect 200 "paged list (JSON)"
assert_eq "$(jq_py 'd["total"]')" "8" "total is the real count"
assert_eq "$(jq_py 'd["num_pages"]')" "2" "num_pages = total / page size (Restcomm)"
assert_eq "$(jq_py 'd["page"]')" "0" "page 0"
assert_eq "$(jq_py 'd["page_size"]')" "3" "page_size"
assert_eq "$(jq_py 'd["start"]')" "0" "start"
assert_eq "$(jq_py 'd["end"]')" "2" "end"
assert_eq "$(jq_py 'len(d["applications"])')" "3" "three items"
assert_eq "$(jq_py 'd["previous_page_uri"] is None')" true "previous_page_uri on page 0 is JSON null, not the string"
assert_eq "$(jq_py 'd["uri"]')" "/2012-04-24/Accounts/$OTHER/Applications.json" "uri"
assert_eq "$(jq_py 'd["first_page_uri"]')" \
  "/2012-04-24/Accounts/$OTHER/Applications.json?Page=0&PageSize=3" "first_page_uri"
assert_eq "$(jq_py 'd["last_page_uri"]')" \
  "/2012-04-24/Accounts/$OTHER/Applications.json?Page=2&PageSize=3" "last_page_uri"
LAST=$(jq_py 'd["applications"][-1]["sid"]')
assert_eq "$(jq_py 'd["next_page_uri"]')" \
  "/2012-04-24/Accounts/$OTHER/Applications.json?Page=1&PageSize=3&AfterSid=$LAST" \
  "next_page_uri carries AfterSid"
NEXT=$(jq_py 'd["next_page_uri"]')
req GET "${NEXT#/2012-04-24}" "${O[@]}"
expect 200 "follow next_page_uri"
assert_eq "$(jq_py 'd["page"]')" "1" "page 1"
assert_eq "$(jq_py 'd["applications"][0]["friendly_name"]')" "Paged 3" "page 1 starts after page 0"
req GET "/Accounts/$OTHER/Applications.json?PageSize=3&Page=1" "${O[@]}"
assert_eq "$(jq_py 'd["applications"][0]["friendly_name"]')" "Paged 3" "offset paging agrees"
req GET "/Accounts/$OTHER/Applications?PageSize=3&Page=2" "${O[@]}"
expect 200 "last page (XML)"
assert_eq "$(xml_py 'r.find("Applications").get("page")')" "2" "XML page attribute"
assert_eq "$(xml_py 'r.find("Applications").get("numpages")')" "2" "XML numpages attribute"
assert_eq "$(xml_py 'r.find("Applications").get("pagesize")')" "3" "XML pagesize attribute"
assert_eq "$(xml_py 'r.find("Applications").get("total")')" "8" "XML total is the real count"
assert_eq "$(xml_py 'r.find("Applications").get("start")')" "6" "XML start"
assert_eq "$(xml_py 'r.find("Applications").get("end")')" "8" "XML end on the last page (Restcomm)"
assert_eq "$(xml_py 'r.find("Applications").get("nextpageuri")')" "null" "XML nextpageuri on the last page"
assert_eq "$(xml_py 'len(r.findall("Applications/Application"))')" "2" "two items on the last page"
req GET "/Accounts/$OTHER/Applications.json?PageSize=3&Page=3" "${O[@]}"
expect 400 "a page past the end"
req GET "/Accounts/$OTHER/Applications.json?PageSize=0" "${O[@]}"
expect 400 "PageSize 0"
req GET "/Accounts/$OTHER/Applications.json?Page=-1" "${O[@]}"
expect 400 "negative Page"
req GET "/Accounts/$OTHER/Applications.json?PageSize=3&AfterSid=bogus" "${O[@]}"
expect 400 "malformed AfterSid"
