# REST Usage Records: /Usage/Records and its Daily, Monthly, Yearly,
# AllTime, Today, Yesterday, ThisMonth, LastMonth subresources, Category,
# StartDate and EndDate, in XML and JSON, computed from seeded calls, SMS
# and recordings rows (tables this test creates when the build has none).
source ../rest_common/lib.sh

req GET "/Accounts.json/$SB_ADMIN_EMAIL" "${admin[@]}"
AC=$(jq_py 'd["sid"]')
req POST /Accounts.json "${admin[@]}" -d "EmailAddress=tenant@example.com" -d "Password=Tenant-Account-Pw1"
OTHER=$(jq_py 'd["sid"]')
T=(-u "tenant@example.com:Tenant-Account-Pw1")
U="/Accounts/$AC/Usage/Records"

# Before anything is recorded: every category, all zero.
req GET "$U.json" "${admin[@]}"
expect 200 "usage with no activity"
assert_eq "$(jq_py 'sorted(set(r["usage"] for r in d if r["category"] != "phonenumbers"))')" "['0']" \
  "zero usage everywhere"
assert_contains "$(jq_py '[r["category"] for r in d]')" "'calls-inbound'" "calls-inbound listed"

python3 - "$SB_DB" "$AC" "$OTHER" <<'PY'
import sqlite3, sys, calendar, time
db, ac, other = sys.argv[1:4]
c = sqlite3.connect(db, timeout=10)
def t(s):
    return calendar.timegm(time.strptime(s, "%Y-%m-%d %H:%M:%S"))
now = int(time.time())
today = now - now % 86400
has = {r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE type='table'")}
if "calls" not in has:
    c.execute("CREATE TABLE calls (sid TEXT PRIMARY KEY, account_sid TEXT NOT NULL, "
              "status TEXT NOT NULL, direction TEXT NOT NULL, duration INTEGER, price TEXT, "
              "date_created INTEGER NOT NULL, date_updated INTEGER NOT NULL)")
if "sms_messages" not in has:
    c.execute("CREATE TABLE sms_messages (sid TEXT PRIMARY KEY, account_sid TEXT NOT NULL, "
              "direction TEXT, price TEXT, date_created INTEGER NOT NULL)")
if "recordings" not in has:
    c.execute("CREATE TABLE recordings (sid TEXT PRIMARY KEY, account_sid TEXT NOT NULL, "
              "duration INTEGER, price TEXT, date_created INTEGER NOT NULL)")
calls = [
    # account, direction, duration (s), price, created
    (ac, "inbound", 61, "-0.02", t("2023-05-10 09:00:00")),
    (ac, "outbound-dial", 30, "-0.01", t("2023-05-10 18:00:00")),
    (ac, "inbound", 125, "-0.03", t("2023-06-01 12:00:00")),
    (ac, "outbound-api", 0, None, t("2024-02-29 23:59:59")),
    (ac, "inbound", 10, None, today + 3600),
    (ac, "inbound", 20, None, today - 86400 + 60),
    (other, "inbound", 600, "-1", t("2023-05-10 09:00:00")),
]
for i, (acc, d, dur, price, created) in enumerate(calls):
    c.execute("INSERT INTO calls (sid, account_sid, status, direction, duration, price, "
              "date_created, date_updated) VALUES (?,?,?,?,?,?,?,?)",
              ("CA%032x" % i, acc, "completed", d, dur, price, created, created))
for i, (d, created) in enumerate([("inbound", t("2023-05-10 10:00:00")),
                                  ("outbound-api", t("2023-05-11 10:00:00")),
                                  ("outbound-reply", t("2023-05-11 11:00:00"))]):
    c.execute("INSERT INTO sms_messages (sid, account_sid, direction, price, date_created) "
              "VALUES (?,?,?,?,?)", ("SM%032x" % i, ac, d, "-0.0075", created))
c.execute("INSERT INTO recordings (sid, account_sid, duration, price, date_created) "
          "VALUES (?,?,?,?,?)", ("RE%032x" % 1, ac, 90, None, t("2023-05-10 09:05:00")))
c.commit()
PY

rec() { # rec CATEGORY FIELD: the field of the only record of CATEGORY
  jq_py "[r['$2'] for r in d if r['category'] == '$1']"
}

req GET "$U.json" "${admin[@]}"
expect 200 "all-time usage (JSON)"
assert_eq "$(rec calls count)" "['6']" "six calls for the account (not the other's)"
assert_eq "$(rec calls usage)" "['5']" "calls minutes: ceil(246 s / 60)"
assert_eq "$(rec calls usage_unit)" "['minutes']" "usage unit"
assert_eq "$(rec calls count_unit)" "['calls']" "count unit"
assert_eq "$(rec calls price)" "['-0.06']" "summed price"
assert_eq "$(rec calls price_unit)" "['USD']" "price unit"
assert_eq "$(rec calls-inbound count)" "['4']" "inbound calls"
assert_eq "$(rec calls-outbound count)" "['2']" "outbound calls (dial and api)"
assert_eq "$(rec sms count)" "['3']" "SMS"
assert_eq "$(rec sms-outbound usage)" "['2']" "outbound SMS"
assert_eq "$(rec recordings usage)" "['2']" "recording minutes"
assert_eq "$(rec calls account_sid)" "['$AC']" "account_sid"
assert_eq "$(rec calls start_date)" "['1970-01-01']" "all time starts at the epoch"
assert_contains "$(rec calls uri)" "/2012-04-24/Accounts/$AC/Usage/Records.json?Category=calls&StartDate=1970-01-01" \
  "record uri"

req GET "$U?Category=calls" "${admin[@]}"
expect 200 "one category (XML)"
assert_eq "$(xml_py 'len(r.findall("UsageRecords/UsageRecord"))')" "1" "one XML record"
assert_eq "$(xml_py 'r.find("UsageRecords/UsageRecord/Count").text')" "6" "XML Count"
assert_eq "$(xml_py 'r.find("UsageRecords/UsageRecord/Description").text')" "Total Calls" "XML Description"

req GET "$U/Daily.json?Category=calls&StartDate=2023-05-01&EndDate=2023-06-30" "${admin[@]}"
expect 200 "daily"
assert_eq "$(jq_py '[(r["start_date"], r["end_date"], r["count"], r["usage"]) for r in d]')" \
  "[('2023-05-10', '2023-05-11', '2', '2'), ('2023-06-01', '2023-06-02', '1', '3')]" \
  "one record per active day (Restcomm's end date: the next day)"
req GET "$U/Monthly.json?Category=calls-inbound&StartDate=2023-01-01&EndDate=2024-12-31" "${admin[@]}"
assert_eq "$(jq_py '[(r["start_date"], r["end_date"], r["count"]) for r in d]')" \
  "[('2023-05-01', '2023-05-31', '1'), ('2023-06-01', '2023-06-30', '1')]" "monthly"
req GET "$U/Yearly.json?Category=calls&StartDate=2023-01-01&EndDate=2024-12-31" "${admin[@]}"
assert_eq "$(jq_py '[(r["start_date"], r["end_date"], r["count"]) for r in d]')" \
  "[('2023-01-01', '2023-12-31', '3'), ('2024-01-01', '2024-12-31', '1')]" "yearly"
req GET "$U/Yearly?Category=sms" "${admin[@]}"
assert_eq "$(xml_py 'r.find("UsageRecords/UsageRecord/StartDate").text')" "2023-01-01" "XML yearly"
req GET "$U/AllTime.json?Category=calls&StartDate=2023-05-10&EndDate=2023-05-10" "${admin[@]}"
assert_eq "$(rec calls count)" "['2']" "AllTime with a one-day range"
req GET "$U/Today.json?Category=calls" "${admin[@]}"
assert_eq "$(rec calls count)" "['1']" "Today"
req GET "$U/Yesterday.json?Category=calls" "${admin[@]}"
assert_eq "$(rec calls count)" "['1']" "Yesterday"
req GET "$U/ThisMonth.json?Category=calls" "${admin[@]}"
this_month=$(jq_py 'd[0]["count"]')
[ "$this_month" = 1 ] || [ "$this_month" = 2 ] || fail "ThisMonth: $this_month"
pass "ThisMonth counts this month's calls"
req GET "$U/LastMonth.json?Category=calls" "${admin[@]}"
assert_eq "$(jq_py 'len(d)')" "1" "LastMonth gives one record"
req GET "$U.json?Category=calls&StartDate=-2days" "${admin[@]}"
assert_eq "$(rec calls count)" "['2']" "a relative StartDate (-2days)"

# Bad input and isolation.
req GET "$U.json?Category=bogus" "${admin[@]}"
expect 400 "an unknown Category"
assert_contains "$(jq_py 'd["message"]')" "calls-inbound" "the 400 lists the categories"
req GET "$U.json?StartDate=2023-13-01" "${admin[@]}"
expect 400 "an invalid StartDate"
req GET "$U.json?StartDate=2023-06-01&EndDate=2023-05-01" "${admin[@]}"
expect 400 "EndDate before StartDate"
req GET "$U/Weekly.json" "${admin[@]}"
expect 404 "an unknown period"
req POST "$U" "${admin[@]}"
expect 405 "usage is read-only"
req GET "$U.json" "${T[@]}"
expect 403 "a sub-account cannot read its parent's usage"
req GET "/Accounts/$OTHER/Usage/Records.json?Category=calls" "${T[@]}"
assert_eq "$(rec calls count)" "['1']" "the sub-account sees its own"
