# Bad input and policy, with a scripted client (badinput.py): malformed
# Authorization headers (400, never a crash), replayed and foreign nonces
# (401 stale=true), a huge Expires (lowered to the maximum), a flood of
# contacts for one login (sip.max_contacts = 3 here, then 403), disabled
# clients and suspended accounts (403 only after a right password), an
# unknown login answered exactly like a wrong password, SHA-256 over TCP,
# registering someone else's address, a foreign domain, Contact: * misuse.
source ../registrar_common/lib.sh

make_client erin Erin-Secret-22 >/dev/null
make_client frank Frank-Secret-33 >/dev/null
GRACE=$(make_client grace Grace-Secret-44)
req POST /Accounts.json "${admin[@]}" -d "EmailAddress=tenant@example.com" \
  -d "Password=Tenant-Account-Pw1"
TENANT=$(jq_py 'd["sid"]')
req POST "/Accounts/$TENANT/Clients.json" -u "tenant@example.com:Tenant-Account-Pw1" \
  -d "Login=heidi" -d "Password=Heidi-Secret-55"
expect 200 "client of a sub-account"

# grace is disabled; the tenant account (heidi's) is suspended.
req POST "/Accounts/$ADMIN_SID/Clients/$GRACE.json" "${admin[@]}" -d "Status=0"
expect 200 "disable grace"
req POST "/Accounts.json/$TENANT" "${admin[@]}" -d "Status=suspended"
expect 200 "suspend the tenant account"

python3 "$SB_TEST_DIR/badinput.py" || fail "bad input"
assert_log "refused: client disabled" "disabled client logged"
assert_log "refused: account not active" "inactive account logged"
assert_log "malformed Authorization" "malformed credentials logged"
