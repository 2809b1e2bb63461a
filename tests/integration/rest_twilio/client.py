"""Drives Switchboard with Twilio's own helper library (the Debian package
python3-twilio), as a Twilio application would, pointed at the server:

    client = Client(account_sid, auth_token)
    client.api.base_url = "http://HOST:PORT/restcomm"
    client.api.v2010.version = "2012-04-24"

Arguments: base URL, AccountSid, AuthToken, application server URL, the
number the sipp callee answers as, and the dialect: "restcomm" (the
library pointed at /restcomm with version 2012-04-24, as above) or
"twilio" (only the host changed: the library's own /2010-04-01 paths). Prints one "ok: ..." line per check and
the created call's SID as "call: SID"; exits non-zero on the first
failure. Every request goes through the library, so the server must
answer what the library parses.
"""
import datetime
import sys
import time

from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

base, sid, token, app, callee, dialect = sys.argv[1:7]
client = Client(sid, token)
if dialect == "restcomm":
    client.api.base_url = base + "/restcomm"
    client.api.v2010.version = "2012-04-24"
else:
    client.api.base_url = base      # the library's own version, 2010-04-01


def check(cond, what):
    if not cond:
        print("FAIL: " + what, flush=True)
        sys.exit(1)
    print("ok: " + what, flush=True)


def expect_error(status, what, fn):
    try:
        fn()
    except TwilioRestException as e:
        check(e.status == status, "%s: HTTP %d (%s)" % (what, e.status, e.msg))
        return
    check(False, what + ": no error raised")


def until(what, fn, secs=10):
    end = time.time() + secs
    while time.time() < end:
        if fn():
            return
        time.sleep(0.2)
    check(False, what)


# Accounts, applications, numbers, notifications: read.
acct = client.api.accounts(sid).fetch()
check(acct.sid == sid, "accounts(sid).fetch(): sid")
check(acct.status == "active", "accounts(sid).fetch(): status active")
# Under /2012-04-24 Restcomm answers an unpaged Applications list as a
# bare array, which the library cannot read: it needs a page size there.
# Under /2010-04-01 every list is a page, as Twilio's.
apps = client.applications.list(page_size=50 if dialect == "restcomm" else None)
check([a.friendly_name for a in apps] == ["twilio-app"],
      "applications.list(): the application made for the test")
accts = client.api.accounts.list(page_size=50 if dialect == "restcomm" else None)
check([a.friendly_name for a in accts][:1] == ["twilio-sub"],
      "accounts.list(): the sub-account (Restcomm lists sub-accounts)")
check(client.applications(apps[0].sid).fetch().sid == apps[0].sid,
      "applications(sid).fetch()")
nums = client.incoming_phone_numbers.list()
check([n.phone_number for n in nums] == ["+15557770000"],
      "incoming_phone_numbers.list()")
check(client.incoming_phone_numbers(nums[0].sid).fetch().voice_url == app + "/talk.xml",
      "incoming_phone_numbers(sid).fetch(): voice_url")
notes = client.notifications.list()
check(len(notes) == 1 and str(notes[0].error_code) == "21402",
      "notifications.list(): the 404 of the test's first call")

# More of the surface: usage records, recordings, conferences (empty
# here, but read and parsed), and in Twilio's dialect the writes it
# names its own way: an application's voice_url, a DELETE answered 204, a
# sub-account made from a friendly name alone.
ps = 50 if dialect == "restcomm" else None   # see applications above
if dialect == "twilio":     # Restcomm's usage list is a bare array
    usage = client.usage.records.list(category="calls")
    check(len(usage) == 1 and usage[0].category == "calls",
          "usage.records.list(category='calls')")
check(client.recordings.list(page_size=ps) == [], "recordings.list(): none yet")
check(client.conferences.list(page_size=ps) == [], "conferences.list(): none yet")
if dialect == "twilio":
    made = client.applications.create(friendly_name="tw-app", voice_url=app + "/talk.xml")
    check(made.voice_url == app + "/talk.xml", "applications.create(voice_url=): voice_url")
    check(client.applications(made.sid).delete() is True,
          "applications(sid).delete(): 204")
    sub = client.api.accounts.create(friendly_name="tw-sub")
    check(sub.sid.startswith("AC") and sub.friendly_name == "tw-sub",
          "accounts.create(friendly_name=): a sub-account")
    sub_client = Client(sub.sid, sub.auth_token)
    sub_client.api.base_url = base
    check(sub_client.api.accounts(sub.sid).fetch().status == "active",
          "the sub-account signs in with its AuthToken")

# A call: created, answered by sipp, listed with filters, redirected, ended.
call = client.calls.create(
    to=callee, from_="+15551234", url=app + "/talk.xml", method="POST",
    status_callback=app + "/cb/twilio",
    status_callback_event=["initiated", "answered", "completed"], timeout=20)
print("call: " + call.sid, flush=True)
check(call.status == "queued", "calls.create(): status queued")
check(call.direction == "outbound-api", "calls.create(): direction outbound-api")
check(call.to == callee, "calls.create(): to")
until("the callee answers", lambda: client.calls(call.sid).fetch().status == "in-progress")
check(True, "calls(sid).fetch(): in-progress once answered")
# The library turns Twilio's RFC 2822 dates into datetimes (an ISO 8601
# string it cannot parse stays a string). Restcomm writes StartTime in
# ISO 8601 (Joda's form): only Twilio's dialect is checked.
live = client.calls(call.sid).fetch()
if dialect == "twilio":
    check(isinstance(live.start_time, datetime.datetime) and
          isinstance(live.date_created, datetime.datetime),
          "calls(sid).fetch(): start_time and date_created in RFC 2822")
listed = client.calls.list(to=callee, status="in-progress")
check([c.sid for c in listed] == [call.sid], "calls.list(to=, status=): the live call")
check(client.calls.list(to="+19999999999") == [], "calls.list(to=): no other call")
page = client.calls.page(page_size=1)
check(len(list(page)) == 1 and page.next_page_url is not None,
      "calls.page(page_size=1): one record and a next page")
everything = client.calls.list()
check(call.sid in [c.sid for c in everything] and len(everything) >= 2,
      "calls.list() follows next_page_uri to the end (%d calls)" % len(everything))
updated = client.calls(call.sid).update(url=app + "/after.xml", method="POST")
check(updated.sid == call.sid, "calls(sid).update(url=): the call")
expect_error(400, "calls.create() with an ftp Url",
             lambda: client.calls.create(to=callee, from_="1", url="ftp://x/y"))
expect_error(404, "calls(unknown).update()",
             lambda: client.calls("CA" + "0" * 32).update(status="completed"))
done = client.calls(call.sid).update(status="completed")
check(done.sid == call.sid, "calls(sid).update(status='completed')")
until("the call is completed", lambda: client.calls(call.sid).fetch().status == "completed")
check(True, "calls(sid).fetch(): completed")
expect_error(410, "update() of a completed call",
             lambda: client.calls(call.sid).update(status="completed"))
