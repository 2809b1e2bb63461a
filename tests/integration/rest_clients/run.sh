# REST Clients: create, get, list, change password, update, delete in XML
# and JSON; Login rules and uniqueness in the SIP domain; what is stored
# for the registrar's digest authentication (HA1, never the password).
source ../rest_common/lib.sh

req GET "/Accounts.json/$SB_ADMIN_EMAIL" "${admin[@]}"
AC=$(jq_py 'd["sid"]')
req POST /Accounts.json "${admin[@]}" -d "EmailAddress=tenant@example.com" -d "Password=Tenant-Account-Pw1"
TENANT=$(jq_py 'd["sid"]')
T=(-u "tenant@example.com:Tenant-Account-Pw1")
REALM=127.0.0.1                    # the SIP domain: the first listen host

# ---- create -----------------------------------------------------------------
req POST "/Accounts/$AC/Clients" "${admin[@]}" -d "Password=Alice-Secret-77"
expect 400 "create without Login"
assert_contains "$RB" "Login" "the 400 names Login"
req POST "/Accounts/$AC/Clients.json" "${admin[@]}" -d "Login=alice"
expect 400 "create without Password"
assert_contains "$(jq_py 'd["message"]')" "Password" "the 400 names Password"
req POST "/Accounts/$AC/Clients.json" "${admin[@]}" -d "Login=alice" -d "Password=alice"
expect 400 "weak client password"
assert_eq "$(jq_py 'd["message"]')" "Password too weak" "weak password message"
for bad in 'al%3Fice' 'al%3Dice' 'al%40ice' 'al%3Aice' 'al+ice'; do
  req POST "/Accounts/$AC/Clients.json" "${admin[@]}" --data-binary "Login=$bad&Password=Alice-Secret-77"
  expect 400 "Login '$bad' is refused"
done
req POST "/Accounts/$AC/Clients.json" "${admin[@]}" -d "Login=alice" -d "Password=Alice-Secret-77" \
  -d "Status=7"
expect 400 "Status other than 0 or 1"
req POST "/Accounts/$AC/Clients.json" "${admin[@]}" -d "Login=alice" -d "Password=Alice-Secret-77" \
  -d "VoiceMethod=PUT"
expect 400 "VoiceMethod other than GET or POST"

req POST "/Accounts/$AC/Clients" "${admin[@]}" -d "Login=alice" -d "Password=Alice-Secret-77" \
  -d "VoiceUrl=http://127.0.0.1:9/alice.xml" -d "VoiceMethod=get"
expect 200 "create a client (XML)"
assert_xml "client XML is well-formed"
CL1=$(xml_py 'r.find("Client/Sid").text')
[[ "$CL1" =~ ^CL[0-9a-f]{32}$ ]] || fail "client SID form: $CL1"
pass "client SID is CL + 32 hex"
assert_eq "$(xml_py 'r.find("Client/Login").text')" "alice" "XML Login"
assert_eq "$(xml_py 'r.find("Client/FriendlyName").text')" "alice" "FriendlyName defaults to Login"
assert_eq "$(xml_py 'r.find("Client/Status").text')" "1" "Status defaults to 1 (enabled)"
assert_eq "$(xml_py 'r.find("Client/VoiceMethod").text')" "GET" "VoiceMethod upper-cased"
assert_eq "$(xml_py 'r.find("Client/VoiceFallbackMethod").text')" "POST" "VoiceFallbackMethod defaults to POST"
assert_eq "$(xml_py 'r.find("Client/Password_Algorithm").text')" "md5" "Password_Algorithm"
assert_eq "$(xml_py 'r.find("Client/Password")')" "null" "no Password element"
assert_eq "$(xml_py 'r.find("Client/Uri").text')" "/2012-04-24/Accounts/$AC/Clients/$CL1" "XML Uri"
case "$RB" in *Alice-Secret-77*) fail "the password appears in the answer" ;; esac
pass "the password is not in the answer"

# What the registrar reads: HA1 = md5/sha256 of login:realm:password.
row=$(sql "SELECT login, status, ha1_md5, ha1_sha256 FROM clients WHERE sid='$CL1'")
want_md5=$(printf 'alice:%s:Alice-Secret-77' "$REALM" | md5sum | cut -c1-32)
want_sha=$(printf 'alice:%s:Alice-Secret-77' "$REALM" | sha256sum | cut -c1-64)
assert_eq "$row" "alice|1|$want_md5|$want_sha" "clients row holds the HA1 digests"
grep -q "Alice-Secret-77" "$SB_DB" "$SB_DB-wal" 2>/dev/null && fail "plain password in the database"
pass "the plain password is not in the database"

req POST "/Accounts/$AC/Clients.json" "${admin[@]}" -d "Login=bob" -d "Password=Bob-Secret-88" \
  -d "FriendlyName=Bob's phone" -d "Status=0"
expect 200 "create a client (JSON)"
CL2=$(jq_py 'd["sid"]')
assert_eq "$(jq_py 'd["friendly_name"]')" "Bob's phone" "JSON friendly_name"
assert_eq "$(jq_py 'repr(d["status"])')" "'0'" "JSON status is the string \"0\" (as Restcomm)"
assert_eq "$(jq_py 'd["voice_url"]')" "null" "JSON voice_url null"
assert_eq "$(jq_py '"password" in d')" "false" "no password member"
assert_eq "$(jq_py 'd["uri"]')" "/2012-04-24/Accounts/$AC/Clients/$CL2.json" "JSON uri"

# Same login again: the same account gets its client back; another gets 409.
req POST "/Accounts/$AC/Clients.json" "${admin[@]}" -d "Login=ALICE" -d "Password=Other-Secret-99"
expect 200 "same login, same account"
assert_eq "$(jq_py 'd["sid"]')" "$CL1" "returns the existing client"
req POST "/Accounts/$TENANT/Clients.json" "${T[@]}" -d "Login=alice" -d "Password=Alice-Secret-77"
expect 409 "login held by another account"
assert_contains "$(jq_py 'd["message"]')" "another account" "409 message"

# ---- get and list ----------------------------------------------------------------
req GET "/Accounts/$AC/Clients/$CL1.json" "${admin[@]}"
expect 200 "get (JSON)"
assert_eq "$(jq_py 'd["voice_url"]')" "http://127.0.0.1:9/alice.xml" "JSON voice_url"
req GET "/Accounts/$AC/Clients/$CL1" "${admin[@]}"
expect 200 "get (XML)"
req GET "/Accounts/$AC/Clients.json" "${admin[@]}"
expect 200 "list (JSON)"
assert_eq "$(jq_py 'sorted(c["login"] for c in d)')" "['alice', 'bob']" "JSON list of the two clients"
req GET "/Accounts/$AC/Clients" "${admin[@]}"
assert_eq "$(xml_py 'sorted(c.find("Login").text for c in r.findall("Clients/Client") if c.find("Login").text in ("alice","bob"))')" \
  "['alice', 'bob']" "XML list holds alice and bob"

# ---- update: password, URLs, application ----------------------------------------------
req POST "/Accounts/$AC/Clients/$CL1.json" "${admin[@]}" -d "Password=weak"
expect 400 "weak password on change"
req POST "/Accounts/$AC/Clients/$CL1.json" "${admin[@]}" -d "Password=Alice-Changed-55"
expect 200 "change a client's password"
want_md5=$(printf 'alice:%s:Alice-Changed-55' "$REALM" | md5sum | cut -c1-32)
assert_eq "$(sql "SELECT ha1_md5 FROM clients WHERE sid='$CL1'")" "$want_md5" "HA1 follows the new password"
req PUT "/Accounts/$AC/Clients/$CL1" "${admin[@]}" -d "FriendlyName=Alice desk"
expect 200 "update (XML)"
assert_eq "$(xml_py 'r.find("Client/FriendlyName").text')" "Alice desk" "XML update applied"
req POST "/Accounts/$AC/Clients/$CL1.json" "${admin[@]}" -d "Login=mallory"
assert_eq "$(jq_py 'd["login"]')" "alice" "Login cannot be changed"
req POST "/Accounts/$AC/Clients/$CL1.json" "${admin[@]}" -d "VoiceUrl=" -d "Status=0" \
  -d "VoiceFallbackUrl=https://127.0.0.1:9/fb" -d "VoiceFallbackMethod=GET"
expect 200 "update URLs and status"
assert_eq "$(jq_py 'd["voice_url"]')" "null" "an empty VoiceUrl clears it"
assert_eq "$(jq_py 'd["status"]')" "0" "Status changed"
assert_eq "$(jq_py 'd["voice_fallback_url"]')" "https://127.0.0.1:9/fb" "VoiceFallbackUrl set"
assert_eq "$(jq_py 'd["voice_fallback_method"]')" "GET" "VoiceFallbackMethod set"

req POST "/Accounts/$AC/Applications.json" "${admin[@]}" -d "FriendlyName=Client app"
APP=$(jq_py 'd["sid"]')
req POST "/Accounts/$TENANT/Applications.json" "${T[@]}" -d "FriendlyName=Tenant app"
TAPP=$(jq_py 'd["sid"]')
req POST "/Accounts/$AC/Clients/$CL1.json" "${admin[@]}" -d "VoiceApplicationSid=$APP"
expect 200 "set VoiceApplicationSid"
assert_eq "$(jq_py 'd["voice_application_sid"]')" "$APP" "voice_application_sid set"
req POST "/Accounts/$AC/Clients/$CL1.json" "${admin[@]}" -d "VoiceApplicationSid=$TAPP"
expect 400 "VoiceApplicationSid of another account"
req POST "/Accounts/$AC/Clients/$CL1.json" "${admin[@]}" -d "VoiceApplicationSid=AP12"
expect 400 "malformed VoiceApplicationSid"
req DELETE "/Accounts/$AC/Applications/$APP" "${admin[@]}"
req GET "/Accounts/$AC/Clients/$CL1.json" "${admin[@]}"
assert_eq "$(jq_py 'd["voice_application_sid"]')" "null" "deleting the application clears the reference"
req POST "/Accounts/$AC/Clients/$CL1.json" "${admin[@]}" -d "VoiceApplicationSid="
expect 200 "an empty VoiceApplicationSid is accepted (clears)"

# ---- isolation and bad input ---------------------------------------------------------
req GET "/Accounts/$TENANT/Clients/$CL1.json" "${T[@]}"
expect 404 "another account's client is not found under one's own path"
req GET "/Accounts/$AC/Clients/$CL1.json" "${T[@]}"
expect 403 "a sub-account cannot read its parent's clients"
req DELETE "/Accounts/$AC/Clients/$CL1" "${T[@]}"
expect 403 "a sub-account cannot delete its parent's clients"
req GET "/Accounts/$AC/Clients/CL00000000000000000000000000000000" "${admin[@]}"
expect 404 "unknown client SID"
req GET "/Accounts/$AC/Clients/CL-bad" "${admin[@]}"
expect 400 "malformed client SID"
req PATCH "/Accounts/$AC/Clients/$CL1" "${admin[@]}"
expect 405 "PATCH is 405"

# ---- delete ----------------------------------------------------------------------------
req DELETE "/Accounts/$AC/Clients/$CL2" "${admin[@]}"
expect 200 "delete a client"
req GET "/Accounts/$AC/Clients/$CL2.json" "${admin[@]}"
expect 404 "the deleted client is gone"
assert_eq "$(sql "SELECT count(*) FROM clients WHERE login='bob'")" "0" "its row is gone"
req POST "/Accounts/$TENANT/Clients.json" "${T[@]}" -d "Login=bob" -d "Password=Bob-Secret-88"
expect 200 "a freed login can be taken by another account"
