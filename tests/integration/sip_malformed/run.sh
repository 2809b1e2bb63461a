# Malformed SIP gets the right status or, when no answer is possible (no
# Via, not SIP at all, a stray ACK or response), is dropped; the server
# keeps answering and leaves no call behind. Hand-made cases over UDP, a
# request split into 7-byte TCP writes, then 3,000 seeded random mutations
# of valid INVITEs, REGISTERs, REFERs and SUBSCRIBEs (sipfuzz.py). Number 1000 rejects busy, so a mangled
# INVITE that is still valid SIP ends as 486.
source ../calls_common/lib.sh
app_start
doc busy.xml '<Response><Reject reason="busy"/></Response>'
make_number 1000 /busy.xml >/dev/null

python3 "$SB_TEST_DIR/sipfuzz.py" cases >"$SB_TMP/cases.out" || fail "sipfuzz cases ran"
expect_case() { # NAME STATUS WHY
  local got
  got=$(awk -v n="$1" '$1 == n { print $2 }' "$SB_TMP/cases.out")
  assert_eq "$got" "$2" "$1: $3"
}
expect_case garbage - "random bytes are dropped"
expect_case empty-lines - "keep-alive CRLFs are ignored"
expect_case no-via - "without Via there is nowhere to answer"
expect_case no-cseq 400 "no CSeq"
expect_case no-call-id 400 "no Call-ID"
expect_case no-from 400 "no From"
expect_case bad-cseq-number 400 "a CSeq that is not a number"
expect_case cseq-method-mismatch 400 "a CSeq method other than the request's"
expect_case bad-request-line 505 "SIP/3.0"
expect_case tel-uri 416 "a tel: Request-URI"
expect_case http-uri 416 "an http: Request-URI"
expect_case unknown-method 501 "an unknown method"
expect_case require-unknown 420 "Require of an unknown extension"
expect_case content-type-text 415 "an INVITE body that is not SDP"
expect_case content-length-short 400 "Content-Length shorter than the UDP body"
expect_case content-length-long 400 "Content-Length past the end of the datagram"
expect_case content-length-negative 400 "a negative Content-Length"
expect_case nul-in-header 400 "a NUL byte in a header"
expect_case sdp-garbage 400 "a body that is not SDP at all"
expect_case max-forwards-huge 486 "a huge Max-Forwards is still a call"
expect_case huge-header 486 "a 60 kB header is still a call"
expect_case many-headers 486 "2,000 extension headers are still a call"
expect_case ack-alone - "an ACK without a transaction is absorbed"
expect_case response-alone - "a response nobody asked for is absorbed"
expect_case register-repeated-header 401 "a REGISTER with a repeated Max-Forwards (an invented nonce: 401 stale, checked before the user)"
expect_case register-bad-authorization 400 "an unparsable Authorization header"
expect_case options 200 "OPTIONS afterwards"

assert_eq "$(python3 "$SB_TEST_DIR/sipfuzz.py" tcp-split)" "200 open" \
  "TCP: a request in 7-byte writes is answered; a short body waits for more"

for seed in 1 2 3 4 5 6; do
  assert_eq "$(python3 "$SB_TEST_DIR/sipfuzz.py" mutate 500 "$seed")" 200 \
    "500 random mutations (seed $seed), then OPTIONS is answered"
done
assert_eq "$(python3 "$SB_TEST_DIR/sipfuzz.py" mutate-tcp 1000 7)" 200 \
  "1,000 random mutations over TCP, then OPTIONS is answered"
wait_eq 10 0 live_calls || fail "no call left live ($(live_calls))"
pass "no call left live"
