# REST Accounts: authentication (Basic with SID or e-mail, token or
# password), representations (XML, .json anywhere, Accept), the account
# resource (get, list, create, update, close, DELETE 405), isolation
# between accounts, and the bad-input answers.
source ../rest_common/lib.sh

# ---- authentication -------------------------------------------------------
req GET /Accounts
expect 401 "no credentials: 401"
assert_eq "$(header WWW-Authenticate)" 'Basic realm="Restcomm realm"' "401 carries Restcomm's realm"
assert_contains "$RB" "<RestcommResponse><Message>" "401 body is a Restcomm XML error"
req GET /Accounts.json
expect 401 "no credentials on .json: 401"
assert_eq "$(jq_py 'd["message"]')" "Unauthorized" "JSON error body has message"
req GET /Accounts -u "$SB_ADMIN_EMAIL:wrong-password"
expect 401 "wrong password: 401"
req GET /Accounts -u "nobody@example.com:$SB_ADMIN_PASSWORD"
expect 401 "unknown user: 401"
req GET /Accounts -H "Authorization: Bearer abc"
expect 401 "non-Basic scheme: 401"
req GET /Accounts -H "Authorization: Basic !!!notbase64"
expect 401 "malformed Basic credentials: 401"

req GET "/Accounts.json/$SB_ADMIN_EMAIL" "${admin[@]}"
expect 200 "admin by e-mail and password"
ADMIN_SID=$(jq_py 'd["sid"]')
TOKEN=$(jq_py 'd["auth_token"]')
want_sid="AC$(printf '%s' "$SB_ADMIN_EMAIL" | md5sum | cut -c1-32)"
assert_eq "$ADMIN_SID" "$want_sid" "account SID is AC + md5(e-mail)"
[[ "$TOKEN" =~ ^[0-9a-f]{32}$ ]] || fail "auth token is 32 hex: $TOKEN"
pass "auth token is 32 hex"
req GET "/Accounts/$ADMIN_SID.json" -u "$ADMIN_SID:$TOKEN"
expect 200 "SID and AuthToken authenticate"
req GET "/Accounts/$ADMIN_SID.json" -u "$SB_ADMIN_EMAIL:$TOKEN"
expect 200 "e-mail and AuthToken authenticate"
req GET "/Accounts/$ADMIN_SID.json" -u "$ADMIN_SID:$SB_ADMIN_PASSWORD"
expect 200 "SID and password authenticate"
req GET "/Accounts/$ADMIN_SID.json" -u "$ADMIN_SID:${TOKEN}x"
expect 401 "a token with an extra character is refused"
# The e-mail can also be given in the URL, with @ written %40.
RS=$(curl -s -o /dev/null -w '%{http_code}' \
  "http://${SB_ADMIN_EMAIL/@/%40}:$SB_ADMIN_PASSWORD@127.0.0.1:$SB_HTTP_PORT/restcomm/2012-04-24/Accounts")
expect 200 "credentials in the URL with %40"

# ---- representations --------------------------------------------------------
req GET "/Accounts/$ADMIN_SID" "${admin[@]}"
expect 200 "GET account (XML)"
assert_xml "account XML is well-formed"
assert_eq "$(xml_py 'r.tag')" "RestcommResponse" "XML root is RestcommResponse"
assert_eq "$(xml_py 'r.find("Account/Sid").text')" "$ADMIN_SID" "XML Sid (PascalCase)"
assert_eq "$(xml_py 'r.find("Account/EmailAddress").text')" "$SB_ADMIN_EMAIL" "XML EmailAddress"
assert_eq "$(xml_py 'r.find("Account/Status").text')" "active" "XML Status"
assert_eq "$(xml_py 'r.find("Account/Uri").text')" "/2012-04-24/Accounts/$ADMIN_SID" "XML Uri"
assert_eq "$(xml_py 'r.find("Account/SubresourceUris/Calls").text')" \
  "/2012-04-24/Accounts/$ADMIN_SID/Calls" "XML SubresourceUris"
assert_date "$(xml_py 'r.find("Account/DateCreated").text')" "XML DateCreated is RFC 2822"
assert_contains "$(header Content-Type)" "application/xml" "XML content type"
assert_eq "$(header Access-Control-Allow-Origin)" "*" "CORS header on API answers"

req OPTIONS "/Accounts/$ADMIN_SID" -H "Origin: http://ui.example.com" \
  -H "Access-Control-Request-Method: POST" -H "Access-Control-Request-Headers: Authorization"
expect 204 "CORS preflight answered without credentials"
assert_contains "$(header Access-Control-Allow-Methods)" "POST" "preflight allows POST"
assert_contains "$(header Access-Control-Allow-Headers)" "Authorization" "preflight allows Authorization"

req GET "/Accounts/$ADMIN_SID" "${admin[@]}" -H "Accept: application/json"
expect 200 "GET account with Accept: application/json"
assert_json "Accept json gives JSON"
assert_eq "$(jq_py 'd["email_address"]')" "$SB_ADMIN_EMAIL" "JSON email_address (snake_case)"
assert_eq "$(jq_py 'd["uri"]')" "/2012-04-24/Accounts.json/$ADMIN_SID" "JSON uri"
assert_eq "$(jq_py 'd["subresource_uris"]["incoming_phone_numbers"]')" \
  "/2012-04-24/Accounts/$ADMIN_SID/IncomingPhoneNumbers.json" "JSON subresource_uris"
assert_date "$(jq_py 'd["date_updated"]')" "JSON date_updated is RFC 2822"
assert_contains "$(header Content-Type)" "application/json" "JSON content type"
req GET "/Accounts.json/$ADMIN_SID" "${admin[@]}"
expect 200 ".json on the collection segment"
assert_json ".json on the collection segment gives JSON"
req GET "/Accounts/$ADMIN_SID.json" "${admin[@]}"
assert_json ".json on the last segment gives JSON"

# ---- create -------------------------------------------------------------------
req POST /Accounts "${admin[@]}" -d "Password=Sub-Account-Pw1"
expect 400 "create without EmailAddress"
assert_contains "$RB" "EmailAddress" "the 400 names EmailAddress"
req POST /Accounts.json "${admin[@]}" -d "EmailAddress=sub1@example.com"
expect 400 "create without Password"
assert_contains "$(jq_py 'd["message"]')" "Password" "the 400 names Password"
req POST /Accounts "${admin[@]}" -d "EmailAddress=sub1@example.com" -d "Password=1234"
expect 400 "weak password"
assert_eq "$RB" "<RestcommResponse><Message>Password too weak</Message></RestcommResponse>" \
  "weak password body as Restcomm's"
req POST /Accounts "${admin[@]}" -d "EmailAddress=not-an-email" -d "Password=Sub-Account-Pw1"
expect 400 "invalid e-mail"
req POST /Accounts "${admin[@]}" -d "EmailAddress=Sub1@Example.com" \
  -d "Password=Sub-Account-Pw1" -d "FriendlyName=First sub"
expect 200 "create sub-account (XML)"
SUB1=$(xml_py 'r.find("Account/Sid").text')
assert_eq "$SUB1" "AC$(printf sub1@example.com | md5sum | cut -c1-32)" "SID from the lower-cased e-mail"
assert_eq "$(xml_py 'r.find("Account/EmailAddress").text')" "sub1@example.com" "e-mail stored lower-case"
assert_eq "$(xml_py 'r.find("Account/FriendlyName").text')" "First sub" "FriendlyName kept"
SUB1_TOKEN=$(xml_py 'r.find("Account/AuthToken").text')
req POST /Accounts.json "${admin[@]}" -d "EmailAddress=sub1@example.com" -d "Password=Sub-Account-Pw1"
expect 409 "duplicate e-mail"
assert_contains "$(jq_py 'd["message"]')" "already in use" "409 message"
req POST /Accounts.json "${admin[@]}" -d "EmailAddress=sub2@example.com" -d "Password=Sub-Account-Pw2"
expect 200 "create second sub-account (JSON)"
SUB2=$(jq_py 'd["sid"]')
assert_eq "$(jq_py 'd["friendly_name"]')" "sub2@example.com" "FriendlyName defaults to the e-mail"
assert_eq "$(jq_py 'd["status"]')" "active" "Status defaults to active"
# Restcomm creates a SIP client named after the e-mail's local part.
assert_eq "$(sql "SELECT account_sid FROM clients WHERE login='sub2'")" "$SUB2" \
  "the account's linked client exists"

req GET /Accounts "${admin[@]}"
expect 200 "list sub-accounts (XML)"
assert_eq "$(xml_py 'len(r.findall("Accounts/Account"))')" "2" "two sub-accounts listed"
req GET /Accounts.json "${admin[@]}"
assert_eq "$(jq_py 'len(d)')" "2" "JSON list is a bare array of two"
assert_eq "$(jq_py 'sorted(a["sid"] for a in d) == sorted(["'$SUB1'", "'$SUB2'"])')" "true" \
  "the list holds both sub-accounts"

# A grandchild, then the depth limit (three levels in all).
S1=(-u "sub1@example.com:Sub-Account-Pw1")
req POST /Accounts.json "${S1[@]}" -d "EmailAddress=grand@example.com" -d "Password=Grand-Child-Pw3"
expect 200 "sub-account creates its own sub-account"
GRAND=$(jq_py 'd["sid"]')
req POST /Accounts.json -u "grand@example.com:Grand-Child-Pw3" \
  -d "EmailAddress=great@example.com" -d "Password=Great-Child-Pw4"
expect 400 "a fourth level is refused"
assert_contains "$(jq_py 'd["message"]')" "not allowed to have sub-accounts" "depth message"

# ---- isolation ----------------------------------------------------------------
req GET "/Accounts.json/$GRAND" "${admin[@]}"
expect 200 "an account sees its grandchild"
req GET "/Accounts.json/$ADMIN_SID" "${S1[@]}"
expect 403 "a sub-account cannot read its parent"
req GET "/Accounts.json/$SUB2" "${S1[@]}"
expect 403 "a sub-account cannot read its sibling"
req POST "/Accounts.json/$SUB2" "${S1[@]}" -d "FriendlyName=hijack"
expect 403 "a sub-account cannot write its sibling"
req GET "/Accounts.json" "${S1[@]}"
assert_eq "$(jq_py '[a["sid"] for a in d]')" "['$GRAND']" "a sub-account lists only its children"
req GET "/Accounts.json/AC00000000000000000000000000000000" "${admin[@]}"
expect 404 "unknown account SID"
req GET "/Accounts.json/not-a-sid" "${admin[@]}"
expect 400 "malformed account SID"
req GET "/Accounts.json/ghost@example.com" "${admin[@]}"
expect 404 "unknown account e-mail"

# ---- update ---------------------------------------------------------------------
req POST "/Accounts.json/$SUB1" "${admin[@]}" -d "FriendlyName=Renamed"
expect 200 "update FriendlyName"
assert_eq "$(jq_py 'd["friendly_name"]')" "Renamed" "FriendlyName changed"
req PUT "/Accounts/$SUB1" "${admin[@]}" -d "FriendlyName=Renamed again"
expect 200 "PUT updates as POST does"
assert_eq "$(xml_py 'r.find("Account/FriendlyName").text')" "Renamed again" "PUT applied"
req GET "/Accounts.json/$SUB1" "${S1[@]}"
assert_eq "$(jq_py 'd["role"]')" "Developer" "a sub-account is a Developer by default"
req POST "/Accounts.json/$SUB1" "${S1[@]}" -d "Role=Administrator"
expect 403 "a Developer cannot raise its own role"
req POST "/Accounts.json/$SUB2" "${admin[@]}" -d "Role=Developer"
expect 200 "an Administrator sets a role"
assert_eq "$(jq_py 'd["role"]')" "Developer" "role changed"
req POST "/Accounts.json/$SUB2" -u "sub2@example.com:Sub-Account-Pw2" -d "Role=Administrator"
expect 403 "only an Administrator sets roles"
req POST /Accounts.json -u "sub2@example.com:Sub-Account-Pw2" \
  -d "EmailAddress=dev-child@example.com" -d "Password=Dev-Child-Pw7" -d "Role=Administrator"
expect 403 "a Developer cannot create an Administrator"
req POST /Accounts.json -u "sub2@example.com:Sub-Account-Pw2" \
  -d "EmailAddress=dev-child@example.com" -d "Password=Dev-Child-Pw7"
expect 200 "a Developer creates a sub-account"
assert_eq "$(jq_py 'd["role"]')" "Developer" "the child is a Developer"
req POST "/Accounts.json/$GRAND" -u "grand@example.com:Grand-Child-Pw3" -d "FriendlyName=me"
expect 200 "an account updates itself"
req POST "/Accounts.json/$SUB1" "${admin[@]}" -d "Password=weak"
expect 400 "weak password on update"

# Password change: new token, the old token and password stop working.
req POST "/Accounts.json/$SUB1" "${admin[@]}" -d "Password=New-Sub1-Password9"
expect 200 "change a sub-account's password"
NEW_TOKEN=$(jq_py 'd["auth_token"]')
[ "$NEW_TOKEN" != "$SUB1_TOKEN" ] || fail "the token did not rotate"
pass "the password change rotated the token"
req GET "/Accounts.json/$SUB1" -u "$SUB1:$SUB1_TOKEN"
expect 401 "the old token is refused"
req GET "/Accounts.json/$SUB1" "${S1[@]}"
expect 401 "the old password is refused"
req GET "/Accounts.json/$SUB1" -u "$SUB1:$NEW_TOKEN"
expect 200 "the new token works"
S1=(-u "sub1@example.com:New-Sub1-Password9")
req GET "/Accounts.json/$SUB1" "${S1[@]}"
expect 200 "the new password works"

# Status: suspended accounts get 403; closing applies to the sub-tree.
req POST "/Accounts.json/$SUB1" "${S1[@]}" -d "Status=suspended"
expect 403 "an account cannot change its own status"
req POST "/Accounts.json/$SUB1" "${admin[@]}" -d "Status=bogus"
expect 400 "unknown Status value"
req POST "/Accounts.json/$SUB1" "${admin[@]}" -d "Status=suspended"
expect 200 "suspend a sub-account"
assert_eq "$(jq_py 'd["status"]')" "suspended" "status is suspended"
req GET "/Accounts.json/$SUB1" "${S1[@]}"
expect 403 "a suspended account gets 403"
assert_eq "$(jq_py 'd["message"]')" "Provided Account is not active" "403 message as Restcomm's"
req GET "/Accounts.json/$GRAND" "${admin[@]}"
assert_eq "$(jq_py 'd["status"]')" "suspended" "the status applied to the sub-tree"
req POST "/Accounts.json/$SUB1" "${admin[@]}" -d "Status=active"
expect 200 "re-activate"
req GET "/Accounts.json/$SUB1" "${S1[@]}"
expect 200 "a re-activated account works again"

sql "SELECT count(*) FROM clients WHERE account_sid='$GRAND'" | grep -qx 1 \
  || fail "the grandchild has its linked client"
req POST "/Accounts.json/$SUB1" "${admin[@]}" -d "Status=closed"
expect 200 "close a sub-account"
req GET "/Accounts.json/$GRAND" "${admin[@]}"
assert_eq "$(jq_py 'd["status"]')" "closed" "closing applies to the sub-tree"
assert_eq "$(sql "SELECT count(*) FROM clients WHERE account_sid IN ('$SUB1','$GRAND')")" "0" \
  "closing removed the clients of the sub-tree"
req POST "/Accounts.json/$SUB1" "${admin[@]}" -d "Status=active"
expect 400 "a closed account cannot be changed"

# DELETE is not supported (close instead).
req DELETE "/Accounts.json/$SUB2" "${admin[@]}"
expect 405 "DELETE account is 405"

# ---- uninitialized accounts -----------------------------------------------------
req POST /Accounts.json "${admin[@]}" -d "EmailAddress=fresh@example.com" \
  -d "Password=Fresh-Start-Pw5" -d "Status=uninitialized"
expect 200 "create an uninitialized account"
FRESH=$(jq_py 'd["sid"]')
F=(-u "fresh@example.com:Fresh-Start-Pw5")
req GET "/Accounts.json/$FRESH" "${F[@]}"
expect 403 "an uninitialized account cannot read"
req POST "/Accounts.json/$FRESH" "${F[@]}" -d "FriendlyName=x"
expect 403 "an uninitialized account cannot change anything but its password"
req POST "/Accounts.json/$FRESH" "${F[@]}" -d "Password=Fresh-Chosen-Pw6"
expect 200 "an uninitialized account sets its password"
assert_eq "$(jq_py 'd["status"]')" "active" "setting the password activates it"
req GET "/Accounts.json/$FRESH" -u "fresh@example.com:Fresh-Chosen-Pw6"
expect 200 "the activated account works"

# ---- generic bad input ---------------------------------------------------------
req PATCH /Accounts "${admin[@]}"
expect 405 "wrong method on a collection"
assert_contains "$(header Allow)" "GET" "405 lists the allowed methods"
req GET /Nowhere "${admin[@]}"
expect 404 "unknown resource"
req POST /Accounts.json "${admin[@]}" --data-binary $'EmailAddress=x%FFy@example.com&Password=Sub-Account-Pw1'
expect 400 "invalid UTF-8 in a parameter"
req GET "/Accounts.json?FriendlyName=%C3%28" "${admin[@]}"
expect 400 "invalid UTF-8 in the query"
head -c 2000000 /dev/zero | tr '\0' 'a' >"$SB_TMP/big"
req POST /Accounts.json "${admin[@]}" --data-binary "@$SB_TMP/big"
expect 413 "oversize body"
