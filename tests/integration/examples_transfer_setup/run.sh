# examples/transfer-abc/setup.sh is safe to run again: against a fresh
# server it creates the clients alice, bob and carol, the application B
# and the number 1000 (voice /a, Refer application B); run a second time
# it finds them and creates nothing twice; run with another APP it brings
# the application's and the number's URLs up to date. The example's
# administrator password is set over REST first, as the example's
# configuration would have it.
root=$(cd "$SB_TEST_DIR/../../.." && pwd)
setup=$root/examples/transfer-abc/setup.sh
B=$SB_BASE/Accounts.json/$SB_ADMIN_EMAIL
code=$(curl -s -o "$SB_TMP/pw.out" -w '%{http_code}' -u "$SB_ADMIN_EMAIL:$SB_ADMIN_PASSWORD" \
  "$B" -d Password=Example-Admin-Pw1)
[ "$code" = 200 ] || { cat "$SB_TMP/pw.out"; fail "the example's admin password: $code"; }

q() { sqlite3 "$SB_DB" "$1"; }
run_setup() { # RUN APP
  API=$SB_BASE APP=$2 timeout 60 bash "$setup" >"$SB_TMP/setup$1.out" 2>&1 \
    || { cat "$SB_TMP/setup$1.out"; fail "setup.sh run $1 exited with an error"; }
  pass "setup.sh run $1 succeeded"
}
state() {
  printf '%s|%s|%s|%s' \
    "$(q "SELECT group_concat(login, ',') FROM (SELECT login FROM clients WHERE login IN ('alice','bob','carol') ORDER BY login)")" \
    "$(q "SELECT count(*) || ':' || group_concat(rcml_url) FROM applications WHERE friendly_name = 'B'")" \
    "$(q "SELECT count(*) || ':' || group_concat(voice_url) FROM incoming_phone_numbers WHERE phone_number = '1000'")" \
    "$(q "SELECT count(*) FROM incoming_phone_numbers n JOIN applications a ON a.sid = n.refer_application_sid WHERE n.phone_number = '1000' AND a.friendly_name = 'B'")"
}

run_setup 1 http://127.0.0.1:8090
assert_eq "$(state)" "alice,bob,carol|1:http://127.0.0.1:8090/b|1:http://127.0.0.1:8090/a|1" \
  "first run: three clients, application B, number 1000 referring to B"
assert_contains "$(cat "$SB_TMP/setup1.out")" '"phone_number": "1000"' "first run prints the number"
first=$(state)

run_setup 2 http://127.0.0.1:8090
assert_eq "$(state)" "$first" "second run: nothing created twice, nothing changed"
assert_contains "$(cat "$SB_TMP/setup2.out")" "ready:" "second run ends with its ready line"

run_setup 3 http://127.0.0.1:8091
assert_eq "$(state)" "alice,bob,carol|1:http://127.0.0.1:8091/b|1:http://127.0.0.1:8091/a|1" \
  "third run with another APP: the application and the number are brought up to date"
assert_eq "$(q "SELECT count(*) FROM clients WHERE login IN ('alice','bob','carol')")" 3 \
  "still one client per login"
