# A flood of wrong-password logins (issue 23) used to take every pending
# password check, so that a correct login got 503. Failed-login work is
# limited per address (4 checks at once, then a back-off after 10
# failures, answered 429 with Retry-After); a good login from another
# address is checked meanwhile, in bounded time.
source ../rest_common/lib.sh

# A sub-account whose password the server has never checked (the admin's
# is checked, and cached, by this request).
for who in good other; do
  req POST /Accounts.json "${admin[@]}" --data-urlencode "EmailAddress=$who@example.com" \
    --data-urlencode "Password=Good-Login-Pw-42"
  expect 200 "sub-account $who created"
done

out=$(python3 flood.py "$SB_HTTP_PORT" "$SB_ADMIN_EMAIL" wrong-password-1 \
        good@example.com Good-Login-Pw-42)
read -r st secs <<<"$(head -n1 <<<"$out")"
echo "flood: $(tail -n1 <<<"$out")"
assert_eq "$st" 200 "a correct login during a wrong-password flood is served"
python3 -c "exit(0 if $secs < 10 else 1)" || fail "the good login took $secs s"
pass "in $secs s"
assert_contains "$(tail -n1 <<<"$out")" "429=" "the flood is refused with 429"
assert_log "api: 127\.0\.0\.2: [0-9]+ failed logins; password checks from it refused" \
  "the back-off is logged"

# The flooding address is in its back-off: a password never checked
# before is refused without a check (429, Retry-After); a login the cache
# knows costs no check and is served.
st=$(curl -s -o /dev/null -D "$SB_TMP/hdrs" --interface 127.0.0.2 -w '%{http_code}' \
  -u "other@example.com:Good-Login-Pw-42" "$SB_BASE/Accounts.json/other@example.com")
assert_eq "$st" 429 "an unchecked password from the flooding address waits for its back-off"
[ -n "$(header Retry-After)" ] || fail "429 without Retry-After"
pass "429 carries Retry-After: $(header Retry-After)"
st=$(curl -s -o /dev/null --interface 127.0.0.2 -w '%{http_code}' \
  -u "good@example.com:Good-Login-Pw-42" "$SB_BASE/Accounts.json/good@example.com")
assert_eq "$st" 200 "a cached good login from it is still served"
