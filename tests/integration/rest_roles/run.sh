# REST roles: Restcomm's permission model (Administrator, Developer,
# Unprivileged, Guest) on every route of both dialects (Restcomm's
# /restcomm/2012-04-24 and Twilio's /2010-04-01): a refused request is 403
# with the permission named, an allowed one is anything else (200, 400,
# 404, 405: what the handler makes of it). Then role escalation (own
# role, a sub-account's role above the creator's, unknown role names),
# the default role of a sub-account, SubAccounts=true on Calls,
# Notifications and Recordings, EmailAddress validation, the capability
# defaults of a number, and the Notifications SortBy keys.
source ../rest_common/lib.sh

TW="http://127.0.0.1:$SB_HTTP_PORT/2010-04-01"

req GET "/Accounts.json/$SB_ADMIN_EMAIL" "${admin[@]}"
ROOT=$(jq_py 'd["sid"]')

# One sub-account per role, signed in with its AuthToken (no password
# hashing per request).
declare -A SID TOK
mk() { # mk NAME [ROLE]
  local extra=()
  [ -n "${2:-}" ] && extra=(-d "Role=$2")
  req POST /Accounts.json "${admin[@]}" -d "EmailAddress=$1@example.com" \
    -d "Password=Role-Test-Pw-$1-9" "${extra[@]}"
  expect 200 "create $1 ${2:-(default role)}"
  SID[$1]=$(jq_py 'd["sid"]')
  TOK[$1]=$(jq_py 'd["auth_token"]')
}
mk adm Administrator
mk dev
assert_eq "$(jq_py 'd["role"]')" "Developer" "a sub-account is a Developer by default"
mk unp Unprivileged
mk gst guest
assert_eq "$(jq_py 'd["role"]')" "Guest" "a role name is taken in any case and stored canonical"

ROLES="adm dev unp gst"

# ---- the matrix ------------------------------------------------------------------
# rule MASK METHOD PATH [curl args]: PATH under Accounts/{self} ("-" for
# none: then PATH is the whole path after the version, "{AC}" replaced).
# MASK: one character per role (adm dev unp gst), 1 allowed, 0 refused.
# Each rule runs in both dialects.
CHECKED=0
rule() {
  local mask=$1 m=$2 p=$3; shift 3
  local i=0 r
  for r in $ROLES; do
    local want=${mask:$i:1}; i=$((i + 1))
    local path=${p//\{AC\}/${SID[$r]}}
    local base
    for base in "$SB_BASE" "$TW"; do
      local url
      if [ "$base" = "$TW" ]; then
        # Twilio's paths end in .json on the last segment.
        case "$path" in
          *\?*) url="$base/${path%%\?*}.json?${path#*\?}" ;;
          *) url="$base/$path.json" ;;
        esac
      else
        url="$base/$path"
      fi
      local st
      st=$(curl -s -o "$SB_TMP/mbody" -w '%{http_code}' --max-time 20 -X "$m" \
             -u "${SID[$r]}:${TOK[$r]}" "$url" "$@")
      if [ "$want" = 1 ]; then
        [ "$st" != 403 ] || fail "$r may $m $url, got 403: $(cat "$SB_TMP/mbody")"
      else
        [ "$st" = 403 ] || fail "$r may not $m $url, got $st: $(cat "$SB_TMP/mbody")"
        grep -q "Insufficient permissions" "$SB_TMP/mbody" \
          || fail "$r $m $url: the 403 does not say why: $(cat "$SB_TMP/mbody")"
      fi
      CHECKED=$((CHECKED + 1))
    done
  done
}

APX=AP$(printf '%032x' 1)
CLX=CL$(printf '%032x' 1)
PNX=PN$(printf '%032x' 1)
NOX=NO$(printf '%032x' 1)
CAX=CA$(printf '%032x' 1)
REX=RE$(printf '%032x' 1)
CFX=CF$(printf '%032x' 1)
SMX=SM$(printf '%032x' 1)

# Accounts: the list and create; the account itself.
rule 1110 GET "Accounts"
rule 1100 POST "Accounts" -d "EmailAddress=bad-address" -d "Password=x"
rule 1110 GET "Accounts/{AC}"
rule 1100 POST "Accounts/{AC}" -d "FriendlyName=renamed"
rule 1100 PUT "Accounts/{AC}" -d "FriendlyName=renamed"
rule 1100 DELETE "Accounts/{AC}"
for res in Applications Clients IncomingPhoneNumbers; do
  case $res in Applications) x=$APX ;; Clients) x=$CLX ;; *) x=$PNX ;; esac
  rule 1100 GET "Accounts/{AC}/$res"
  rule 1100 POST "Accounts/{AC}/$res"
  rule 1100 GET "Accounts/{AC}/$res/$x"
  rule 1100 POST "Accounts/{AC}/$res/$x"
  rule 1100 PUT "Accounts/{AC}/$res/$x"
  rule 1100 DELETE "Accounts/{AC}/$res/$x"
done
for kind in Local TollFree Mobile; do
  rule 1100 GET "Accounts/{AC}/IncomingPhoneNumbers/$kind"
  rule 1100 POST "Accounts/{AC}/IncomingPhoneNumbers/$kind"
done
rule 1100 GET "Accounts/{AC}/Notifications"
rule 1100 GET "Accounts/{AC}/Notifications/$NOX"
rule 1100 GET "Accounts/{AC}/Calls"
rule 1100 POST "Accounts/{AC}/Calls"
rule 1100 GET "Accounts/{AC}/Calls/$CAX"
rule 1100 POST "Accounts/{AC}/Calls/$CAX" -d "Status=completed"
rule 1100 GET "Accounts/{AC}/Calls/$CAX/Notifications"
rule 1100 GET "Accounts/{AC}/Calls/$CAX/Recordings"
rule 1100 GET "Accounts/{AC}/Recordings"
rule 1100 GET "Accounts/{AC}/Recordings/$REX"
rule 1100 DELETE "Accounts/{AC}/Recordings/$REX"
rule 1100 GET "Accounts/{AC}/Conferences"
rule 1100 GET "Accounts/{AC}/Conferences/$CFX"
rule 1100 POST "Accounts/{AC}/Conferences/$CFX" -d "Status=completed"
rule 1100 GET "Accounts/{AC}/Conferences/$CFX/Participants"
rule 1100 GET "Accounts/{AC}/Conferences/$CFX/Participants/$CAX"
rule 1100 POST "Accounts/{AC}/Conferences/$CFX/Participants/$CAX" -d "Mute=true"
rule 1100 DELETE "Accounts/{AC}/Conferences/$CFX/Participants/$CAX"
rule 1100 GET "Accounts/{AC}/SMS/Messages"
rule 1100 POST "Accounts/{AC}/SMS/Messages"
rule 1100 GET "Accounts/{AC}/SMS/Messages/$SMX"
rule 1100 GET "Accounts/{AC}/Messages"
rule 1100 POST "Accounts/{AC}/Messages"
rule 1100 GET "Accounts/{AC}/Messages/$SMX"
rule 1100 GET "Accounts/{AC}/Email/Messages"
rule 1100 POST "Accounts/{AC}/Email/Messages"
rule 1100 GET "Accounts/{AC}/Usage/Records"
rule 1100 GET "Accounts/{AC}/Usage/Records/Daily"
rule 1100 GET "Accounts/{AC}/Plugins/none"
rule 1100 POST "Accounts/{AC}/Plugins/none"

# The resources added beside this test (AvailablePhoneNumbers,
# OutgoingCallerIds, Transcriptions, Version): checked when they exist.
present() { # present PATH: the route exists (not the router's 404)
  req GET "/Accounts/$ROOT/$1" "${admin[@]}"
  ! { [ "$RS" = 404 ] && [[ "$RB" == *"requested resource was not found"* ]]; }
}
if present "AvailablePhoneNumbers/US/Local"; then
  rule 1100 GET "Accounts/{AC}/AvailablePhoneNumbers/US/Local"
  rule 1100 GET "Accounts/{AC}/IncomingPhoneNumbers/AvailableCountries"
else echo "note: AvailablePhoneNumbers not served (yet): not checked"; fi
if present "OutgoingCallerIds"; then
  rule 1100 GET "Accounts/{AC}/OutgoingCallerIds"
  rule 1100 POST "Accounts/{AC}/OutgoingCallerIds"
else echo "note: OutgoingCallerIds not served (yet): not checked"; fi
if present "Transcriptions"; then
  rule 1100 GET "Accounts/{AC}/Transcriptions"
  rule 1000 DELETE "Accounts/{AC}/Transcriptions/TR$(printf '%032x' 1)"
else echo "note: Transcriptions not served (yet): not checked"; fi
if present "Version"; then
  rule 1100 GET "Accounts/{AC}/Version"
else echo "note: Version not served (yet): not checked"; fi
pass "role matrix: $CHECKED requests, each answered as its role allows"

# A Developer may not act on another account through Accounts/{AC}, not
# even its own child; its child's other resources stay open to it.
req POST /Accounts.json -u "${SID[dev]}:${TOK[dev]}" \
  -d "EmailAddress=devkid@example.com" -d "Password=Dev-Kid-Pw-42x"
expect 200 "a Developer creates a sub-account"
DEVKID=$(jq_py 'd["sid"]')
DEVKID_TOK=$(jq_py 'd["auth_token"]')
assert_eq "$(jq_py 'd["role"]')" "Developer" "its child is a Developer too"
req GET "/Accounts.json/$DEVKID" -u "${SID[dev]}:${TOK[dev]}"
expect 403 "a Developer cannot read its child account"
assert_contains "$(jq_py 'd["message"]')" "only an Administrator" "403 says why"
req GET "/Accounts/$DEVKID/Calls.json" -u "${SID[dev]}:${TOK[dev]}"
expect 200 "a Developer lists its child's calls"
req GET "/Accounts/${SID[dev]}.json" -u "${SID[adm]}:${TOK[adm]}"
expect 403 "an Administrator cannot reach outside its tree (a sibling)"
req GET "/Accounts/${SID[unp]}.json" -u "${SID[unp]}:${TOK[unp]}"
expect 200 "an Unprivileged account reads itself"
req GET "/Accounts/${SID[unp]}.json" -u "unp@example.com:Role-Test-Pw-unp-9"
expect 200 "... also with its password"
req GET "/Accounts/${SID[gst]}.json" -u "${SID[gst]}:${TOK[gst]}"
expect 403 "a Guest reads nothing, not even itself"
assert_contains "$(jq_py 'd["message"]')" "RestComm:Read:Accounts" "the 403 names the permission"
req GET "/Accounts/${SID[gst]}" -u "${SID[gst]}:${TOK[gst]}"
expect 403 "XML: 403"
assert_contains "$RB" "<RestcommResponse><Message>Insufficient permissions" "XML 403 body in Restcomm's form"
# A refused create leaves nothing behind.
req POST "/Accounts/${SID[unp]}/Applications.json" -u "${SID[unp]}:${TOK[unp]}" \
  -d "FriendlyName=not-made"
expect 403 "an Unprivileged account cannot create an application"
assert_eq "$(sql "SELECT count(*) FROM applications WHERE friendly_name='not-made'")" "0" \
  "the refused create stored nothing"
# An account of an unknown role (written outside the API) has no rights.
python3 - "$SB_DB" "${SID[unp]}" <<'PY'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1], timeout=10)
c.execute("UPDATE accounts SET role='Superuser' WHERE sid=?", (sys.argv[2],))
c.commit()
PY
req GET "/Accounts/${SID[unp]}.json" -u "${SID[unp]}:${TOK[unp]}"
expect 403 "an unknown stored role counts as Guest"
python3 - "$SB_DB" "${SID[unp]}" <<'PY'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1], timeout=10)
c.execute("UPDATE accounts SET role='Unprivileged' WHERE sid=?", (sys.argv[2],))
c.commit()
PY

# An uninitialized Guest may still set its password (and nothing else).
req POST /Accounts.json "${admin[@]}" -d "EmailAddress=newguest@example.com" \
  -d "Password=New-Guest-Pw-42a" -d "Status=uninitialized" -d "Role=Guest"
expect 200 "create an uninitialized Guest"
NG=$(jq_py 'd["sid"]')
req POST "/Accounts.json/$NG" -u "newguest@example.com:New-Guest-Pw-42a" -d "Password=New-Guest-Pw-42b"
expect 200 "an uninitialized Guest sets its password"
req GET "/Accounts.json/$NG" -u "newguest@example.com:New-Guest-Pw-42b"
expect 403 "... and then, active, is still a Guest"

# ---- escalation ------------------------------------------------------------------
D=(-u "${SID[dev]}:${TOK[dev]}")
A=(-u "${SID[adm]}:${TOK[adm]}")
req POST "/Accounts.json/${SID[dev]}" "${D[@]}" -d "Role=Administrator"
expect 403 "a Developer cannot raise its own role"
assert_eq "$(jq_py 'd["message"]')" "Only Administrator allowed" "Restcomm's message"
req POST "/Accounts.json/${SID[dev]}" "${D[@]}" -d "Role=Guest"
expect 403 "a Developer cannot change its own role at all"
req POST /Accounts.json "${D[@]}" -d "EmailAddress=devkid2@example.com" \
  -d "Password=Dev-Kid-Pw-42y" -d "Role=Administrator"
expect 403 "a Developer cannot create an Administrator"
assert_contains "$(jq_py 'd["message"]')" "above its creator's (Developer)" "the 403 says why"
assert_eq "$(sql "SELECT count(*) FROM accounts WHERE email_address='devkid2@example.com'")" "0" \
  "the refused account was not created"
curl -s -o "$SB_TMP/body" -w '%{http_code}' -u "${SID[dev]}:${TOK[dev]}" -X POST \
  "$TW/Accounts.json" -d "FriendlyName=tw-kid" -d "Role=Administrator" >"$SB_TMP/st"
assert_eq "$(cat "$SB_TMP/st")" "403" "the same refusal in Twilio's dialect"
req POST /Accounts.json "${D[@]}" -d "EmailAddress=devkid3@example.com" \
  -d "Password=Dev-Kid-Pw-42z" -d "Role=Unprivileged"
expect 200 "a Developer may create an account of a lower role"
assert_eq "$(jq_py 'd["role"]')" "Unprivileged" "the lower role is kept"
req POST "/Accounts.json/$DEVKID" "${D[@]}" -d "Role=Administrator"
expect 403 "a Developer cannot raise its child's role"
req POST "/Accounts.json/$DEVKID" -u "$DEVKID:$DEVKID_TOK" -d "Role=Administrator"
expect 403 "nor can the child itself"
req POST "/Accounts.json/$DEVKID" "${admin[@]}" -d "Role=Administrator"
expect 200 "an Administrator may raise a descendant's role"
assert_eq "$(jq_py 'd["role"]')" "Administrator" "role raised by the Administrator"
req POST /Accounts.json "${A[@]}" -d "EmailAddress=admkid@example.com" \
  -d "Password=Adm-Kid-Pw-42x" -d "Role=Administrator"
expect 200 "an Administrator sub-account may create an Administrator"
ADMKID=$(jq_py 'd["sid"]')
req POST "/Accounts.json/$ADMKID" "${A[@]}" -d "Role=Developer"
expect 200 "an Administrator sub-account sets its child's role"
req POST /Accounts.json "${admin[@]}" -d "EmailAddress=odd@example.com" \
  -d "Password=Odd-Role-Pw-42x" -d "Role=Superuser"
expect 400 "an unknown role on create"
assert_contains "$(jq_py 'd["message"]')" "must be one of" "the 400 lists the roles"
req POST "/Accounts.json/${SID[dev]}" "${admin[@]}" -d "Role=root"
expect 400 "an unknown role on update"
req POST "/Accounts/${SID[dev]}" "${admin[@]}" -d "Role="
expect 400 "an empty role"
assert_contains "$RB" "<RestcommResponse><Message>Role" "XML 400 body"
req POST /Accounts.json "${admin[@]}" -d "EmailAddress=plain@example.com" \
  -d "Password=Plain-Role-Pw-42x"
expect 200 "the top-level Administrator creates without Role"
assert_eq "$(jq_py 'd["role"]')" "Developer" "... and gets a Developer, not an Administrator"

# ---- EmailAddress ----------------------------------------------------------------
for bad in "no-at-sign" "two@@example.com" "@example.com" "x@" "sp ace@example.com" \
           "x@.example.com" "x@example..com" "x@exa_mple.com" "a\"b@example.com"; do
  req POST /Accounts.json "${admin[@]}" --data-urlencode "EmailAddress=$bad" \
    -d "Password=Mail-Test-Pw-42x"
  expect 400 "EmailAddress '$bad' refused on create"
  assert_eq "$(jq_py 'd["message"]')" "Provided email address $bad is not valid" \
    "Restcomm's message for '$bad'"
done
req POST "/Accounts.json/${SID[dev]}" "${admin[@]}" -d "EmailAddress=broken"
expect 400 "EmailAddress refused on update"
assert_eq "$(jq_py 'd["message"]')" "Provided email address broken is not valid" "its message"
req POST "/Accounts.json/${SID[dev]}" "${admin[@]}" -d "EmailAddress=new@example.com"
expect 200 "a valid EmailAddress on update is accepted"
assert_eq "$(jq_py 'd["email_address"]')" "dev@example.com" "... and ignored, as Restcomm"

# ---- capability defaults ---------------------------------------------------------
req POST "/Accounts/$ROOT/IncomingPhoneNumbers.json" "${admin[@]}" \
  -d "PhoneNumber=%2B15550001111" -d "isSIP=true"
expect 200 "create a number without capabilities"
assert_eq "$(jq_py 'd["capabilities"]')" \
  "{'voice_capable': False, 'sms_capable': False, 'mms_capable': False, 'fax_capable': False}" \
  "every capability defaults to false, as Restcomm"
req POST "/Accounts/$ROOT/IncomingPhoneNumbers.json" "${admin[@]}" \
  -d "PhoneNumber=%2B15550001112" -d "isSIP=true" -d "VoiceCapable=true" -d "SmsCapable=true"
assert_eq "$(jq_py '[d["capabilities"]["voice_capable"], d["capabilities"]["sms_capable"]]')" \
  "[True, True]" "capabilities as given"

# ---- SubAccounts=true -------------------------------------------------------------
# Rows for the root, dev, dev's child, and a sibling (adm): dev with
# SubAccounts sees its own and its child's.
python3 - "$SB_DB" "$ROOT" "${SID[dev]}" "$DEVKID" "${SID[adm]}" <<'PY'
import sqlite3, sys
db, root, dev, kid, sib = sys.argv[1:6]
c = sqlite3.connect(db, timeout=10)
n = 0
for acc, count in ((root, 2), (dev, 3), (kid, 4), (sib, 5)):
    for i in range(count):
        n += 1
        t = 1700000000 + n * 60
        c.execute("INSERT INTO calls (sid, account_sid, status, direction, duration, "
                  "date_created, date_updated) VALUES (?,?,?,?,?,?,?)",
                  ("CA%032x" % (1000 + n), acc, "completed", "inbound", n, t, t))
        c.execute("INSERT INTO notifications (sid, account_sid, call_sid, log, error_code, "
                  "more_info, message_text, message_date, request_url, request_method, "
                  "date_created, date_updated) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                  ("NO%032x" % (1000 + n), acc, "CA%032x" % (1000 + (n * 7) % 14), n % 2,
                   11200 + n % 3, "x", "text %02d" % ((n * 5) % 14), t * 1000, "http://x/",
                   "POST", t, t))
        c.execute("INSERT INTO recordings (sid, account_sid, call_sid, duration, channels, "
                  "source, status, start_time, date_created, date_updated) "
                  "VALUES (?,?,?,?,?,?,?,?,?,?)",
                  ("RE%032x" % (1000 + n), acc, "CA%032x" % (1000 + n), 1.0, 1,
                   "RecordVerb", "completed", t - 1, t, t))
c.commit()
PY
for res in Calls Notifications Recordings; do
  member=$(echo "$res" | tr 'A-Z' 'a-z')
  req GET "/Accounts/${SID[dev]}/$res.json" "${D[@]}"
  expect 200 "$res of dev"
  assert_eq "$(jq_py 'd["total"]')" "3" "$res: without SubAccounts, the account's own"
  req GET "/Accounts/${SID[dev]}/$res.json?SubAccounts=true" "${D[@]}"
  expect 200 "$res of dev with SubAccounts=true"
  assert_eq "$(jq_py 'd["total"]')" "7" "$res: SubAccounts=true adds the child's"
  assert_eq "$(jq_py 'sorted(set(x["account_sid"] for x in d["'$member'"]))' )" \
    "$(python3 -c 'import sys; print(sorted(sys.argv[1:]))' "${SID[dev]}" "$DEVKID")" \
    "$res: the account's and its child's, nobody else's"
  req GET "/Accounts/${SID[dev]}/$res.json?SubAccounts=true&PageSize=2&Page=3" "${D[@]}"
  expect 200 "$res: SubAccounts pages"
  assert_eq "$(jq_py 'len(d["'$member'"])')" "1" "$res: the last page of 7 by 2 holds 1"
  req GET "/Accounts/${SID[dev]}/$res.json?SubAccounts=false" "${D[@]}"
  assert_eq "$(jq_py 'd["total"]')" "3" "$res: SubAccounts=false is the default"
  req GET "/Accounts/${SID[dev]}/$res.json?SubAccounts=maybe" "${D[@]}"
  expect 400 "$res: SubAccounts must be true or false"
  req GET "/Accounts/$ROOT/$res.json?SubAccounts=true" "${admin[@]}"
  assert_eq "$(jq_py 'd["total"]')" "14" "$res: the root with SubAccounts sees the whole tree"
  req GET "/Accounts/$DEVKID/$res.json?SubAccounts=true" -u "$DEVKID:$DEVKID_TOK"
  assert_eq "$(jq_py 'd["total"]')" "4" "$res: a leaf's SubAccounts is itself"
  curl -s -o "$SB_TMP/body" -u "${SID[dev]}:${TOK[dev]}" \
    "$TW/Accounts/${SID[dev]}/$res.json?SubAccounts=true"
  assert_eq "$(jq_py 'len(d["'$member'"])')" "7" "$res: SubAccounts in Twilio's dialect too"
done
req GET "/Accounts/${SID[dev]}/Calls?SubAccounts=true" "${D[@]}"
assert_eq "$(xml_py 'r.find("Calls").get("total")')" "7" "XML Calls with SubAccounts"
req GET "/Accounts/${SID[adm]}/Calls.json?SubAccounts=true" "${D[@]}"
expect 403 "SubAccounts does not open a sibling's tree"

# ---- SortBy on Calls and Notifications ----------------------------------------------
C=(-u "${SID[dev]}:${TOK[dev]}")
for key in DateCreated From To Direction Status Duration Price; do
  req GET "/Accounts/${SID[dev]}/Calls.json?SortBy=$key:asc" "${C[@]}"
  expect 200 "Calls SortBy=$key"
done
req GET "/Accounts/${SID[dev]}/Calls.json?SortBy=Duration:desc&SubAccounts=true" "${C[@]}"
assert_eq "$(jq_py '[c["duration"] for c in d["calls"]]')" "[9, 8, 7, 6, 5, 4, 3]" \
  "Calls SortBy=Duration:desc"
req GET "/Accounts/${SID[dev]}/Calls.json?SortBy=Bogus" "${C[@]}"
expect 400 "Calls: unknown SortBy key"
for key in DateCreated Log ErrorCode CallSid MessageText; do
  req GET "/Accounts/${SID[dev]}/Notifications.json?SortBy=$key:asc&SubAccounts=true" "${C[@]}"
  expect 200 "Notifications SortBy=$key"
done
req GET "/Accounts/${SID[dev]}/Notifications.json?SortBy=MessageText:asc&SubAccounts=true" "${C[@]}"
assert_eq "$(jq_py '[n["message_text"] for n in d["notifications"]] == sorted(n["message_text"] for n in d["notifications"])')" \
  "true" "Notifications SortBy=MessageText:asc is in text order"
req GET "/Accounts/${SID[dev]}/Notifications.json?SortBy=CallSid:desc&SubAccounts=true" "${C[@]}"
assert_eq "$(jq_py '[n["call_sid"] for n in d["notifications"]] == sorted((n["call_sid"] for n in d["notifications"]), reverse=True)')" \
  "true" "Notifications SortBy=CallSid:desc is in reverse SID order"
req GET "/Accounts/${SID[dev]}/Notifications.json?SortBy=Sid" "${C[@]}"
expect 400 "Notifications: unknown SortBy key"

# Paging a sort on a column that may be NULL (CallSid): following
# next_page_uri (AfterSid) reaches every row, the NULL ones too.
python3 - "$SB_DB" "$ADMKID" <<'PY'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1], timeout=10)
for i, cs in enumerate(["CA%032x" % 5, None, "CA%032x" % 7, None, "CA%032x" % 6]):
    t = 1710000000 + i
    c.execute("INSERT INTO notifications (sid, account_sid, call_sid, log, error_code, "
              "more_info, message_text, message_date, request_url, request_method, "
              "date_created, date_updated) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
              ("NO%032x" % (5000 + i), sys.argv[2], cs, 0, 11200, "x", None if cs else "t",
               t * 1000, "http://x/", "POST", t, t))
c.commit()
PY
for order in CallSid:desc CallSid:asc MessageText:desc; do
  seen=""
  next="/restcomm/2012-04-24/Accounts/$ADMKID/Notifications.json?SortBy=$order&PageSize=1"
  for _ in 1 2 3 4 5 6 7; do
    [ "$next" = null ] && break
    RS=$(curl -s -o "$SB_TMP/body" -w '%{http_code}' -u "$SB_ADMIN_EMAIL:$SB_ADMIN_PASSWORD" \
      "http://127.0.0.1:$SB_HTTP_PORT$next")
    expect 200 "page of SortBy=$order"
    seen="$seen $(jq_py '",".join(n["sid"][-2:] for n in d["notifications"])')"
    next=$(jq_py 'd["next_page_uri"]')
    [ "$next" = null ] || next="/restcomm$next"
  done
  assert_eq "$(echo $seen | tr ' ' '\n' | sort | tr '\n' ' ')" "88 89 8a 8b 8c " \
    "SortBy=$order: paging by AfterSid reaches all five rows, NULLs included"
done
