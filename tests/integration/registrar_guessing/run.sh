# Password guessing against the registrar (issue 23: 3,254 guesses/s and
# no limit): per-address and per-login failure limits with a back-off
# that doubles, refusals that cost no check, and warnings in the log.
source ../registrar_common/lib.sh

make_client alice Alice-Secret-77 >/dev/null
python3 "$SB_TEST_DIR/guess.py" || fail "guessing"
assert_log "WARN .*sip: REGISTER: 127\.0\.0\.2: 10 failed authentications; refused for 5 s" \
  "the address's back-off is logged"
assert_log "WARN .*sip: REGISTER: login alice: 20 failed authentications; refused for 5 s" \
  "the login's back-off is logged"
