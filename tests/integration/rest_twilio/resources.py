"""The resources of issue 21 through Twilio's helper library (python3-twilio),
pointed at the server's /2010-04-01 paths (only the host changed), as
client.py is: available phone numbers from the operator's pool (countries,
one country, Local / TollFree / Mobile with filters, buying one), outgoing
caller IDs (create through validation_requests, list, fetch, update,
delete), transcriptions (empty lists), and Twilio's error body read by the
library as TwilioRestException(code=...).

Arguments: base URL, AccountSid, AuthToken. Prints one "ok: ..." line per
check; exits non-zero on the first failure.
"""
import json
import sys

from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.rest import Client

base, sid, token = sys.argv[1:4]
client = Client(sid, token)
client.api.base_url = base      # the library's own version, 2010-04-01


def check(cond, what):
    if not cond:
        print("FAIL: " + what, flush=True)
        sys.exit(1)
    print("ok: " + what, flush=True)


def expect_error(status, code, what, fn):
    try:
        fn()
    except TwilioRestException as e:
        check(e.status == status and e.code == code,
              "%s: HTTP %d, code %s (%s)" % (what, e.status, e.code, e.msg))
        return
    except TwilioException as e:
        # A list's page: the library hands over the response itself.
        r = e.args[1]
        body = json.loads(r.text)
        check(r.status_code == status and body["code"] == code and
              body["status"] == status,
              "%s: HTTP %d, code %s (%s)" % (what, r.status_code, body["code"],
                                             body["message"]))
        return
    check(False, what + ": no error raised")


# ---- available phone numbers -------------------------------------------------
countries = client.available_phone_numbers.list()
check([c.country_code for c in countries] == ["GB", "US"],
      "available_phone_numbers.list(): the pool's countries")
us = client.available_phone_numbers("US").fetch()
check(us.country_code == "US" and us.subresource_uris["local"].endswith("/US/Local.json"),
      "available_phone_numbers('US').fetch(): its subresource URIs")
local = client.available_phone_numbers("US").local.list()
check([n.phone_number for n in local] == ["+12125550102", "+14155550100", "+14155550101"],
      "available_phone_numbers('US').local.list()")
check(local[1].friendly_name == "(415) 555-0100" and local[1].region == "CA" and
      local[1].postal_code == "94105" and local[1].iso_country == "US" and
      local[1].locality == "San Francisco",
      "an available number's members")
check(local[1].capabilities == {"voice": True, "SMS": True, "MMS": False, "fax": False},
      "its capabilities, Twilio's names")
sf = client.available_phone_numbers("US").local.list(area_code=415, sms_enabled=True)
check([n.phone_number for n in sf] == ["+14155550100"], "local.list(area_code=, sms_enabled=)")
check([n.phone_number for n in
       client.available_phone_numbers("US").local.list(contains="JKL*1*1")] ==
      ["+14155550101"], "local.list(contains=) with letters and '*'")
check([n.phone_number for n in client.available_phone_numbers("US").local.list(
       in_region="NY")] == ["+12125550102"], "local.list(in_region=)")
paged = client.available_phone_numbers("US").local.list(page_size=2)
check(len(paged) == 3, "local.list(page_size=2) follows next_page_uri to the end")
check([n.phone_number for n in client.available_phone_numbers("US").toll_free.list()] ==
      ["+18005550199"], "toll_free.list()")
check([n.phone_number for n in client.available_phone_numbers("GB").mobile.list()] ==
      ["+447700900123"], "mobile.list() of GB")
expect_error(404, 20404, "available_phone_numbers('FR').local.list()",
             lambda: client.available_phone_numbers("FR").local.list())
expect_error(400, 20001, "local.list(area_code='41')",
             lambda: client.available_phone_numbers("US").local.list(area_code="41"))

bought = client.incoming_phone_numbers.create(phone_number=sf[0].phone_number)
check(bought.phone_number == "+14155550100" and bought.friendly_name == "(415) 555-0100",
      "incoming_phone_numbers.create(phone_number=) buys it")
check([n.phone_number for n in client.available_phone_numbers("US").local.list(
       area_code=415)] == ["+14155550101"], "the bought number is no longer available")
expect_error(400, 21452, "buying it again",
             lambda: client.incoming_phone_numbers.create(phone_number="+14155550100"))
expect_error(400, 21452, "buying a number outside the pool",
             lambda: client.incoming_phone_numbers.create(phone_number="+14155550999"))
check(client.incoming_phone_numbers(bought.sid).delete() is True,
      "incoming_phone_numbers(sid).delete() releases it")

# ---- outgoing caller IDs -----------------------------------------------------
made = client.validation_requests.create(phone_number="+14155550142",
                                         friendly_name="Front desk")
check(made.phone_number == "+14155550142" and made.friendly_name == "Front desk" and
      made.account_sid == sid, "validation_requests.create(): the caller ID")
ids = client.outgoing_caller_ids.list()
check([c.phone_number for c in ids] == ["+14155550142"], "outgoing_caller_ids.list()")
cid = ids[0].sid
check(client.outgoing_caller_ids(cid).fetch().friendly_name == "Front desk",
      "outgoing_caller_ids(sid).fetch()")
check(client.outgoing_caller_ids.list(phone_number="+14155550142")[0].sid == cid,
      "outgoing_caller_ids.list(phone_number=)")
check(client.outgoing_caller_ids(cid).update(friendly_name="Reception").friendly_name ==
      "Reception", "outgoing_caller_ids(sid).update(friendly_name=)")
expect_error(400, 21450, "the same caller ID again",
             lambda: client.validation_requests.create(phone_number="+14155550142"))
check(client.outgoing_caller_ids(cid).delete() is True, "outgoing_caller_ids(sid).delete()")
expect_error(404, 20404, "a deleted caller ID",
             lambda: client.outgoing_caller_ids(cid).fetch())

# ---- transcriptions ----------------------------------------------------------
check(client.transcriptions.list() == [], "transcriptions.list(): none yet")
check(client.recordings("RE" + "0" * 32).transcriptions.list() == [],
      "recordings(sid).transcriptions.list(): none")
expect_error(404, 20404, "transcriptions(unknown).fetch()",
             lambda: client.transcriptions("TR" + "0" * 32).fetch())
