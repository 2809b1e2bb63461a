-- The default REFER handler: Restcomm's blind transfer (RFC 5589 6.1),
-- restcomm.md 1.2, with RFC 3515 progress NOTIFYs (unless the REFER says
-- Refer-Sub: false or the config sets refer.notify = false).
--
-- A REFER inside the dialog of either leg of a Dial bridge:
--   202 Accepted (Event: refer), NOTIFY "SIP/2.0 100 Trying";
--   the transferee (the other leg of the bridge) leaves the bridge, its
--   old RCML stops, and the number's Refer application runs on it (the
--   number the inbound call dialled; ReferApplicationSid wins over
--   ReferUrl; ReferMethod, default POST), with ReferTarget, Transferor and
--   Transferee added to every request of that session;
--   NOTIFY "SIP/2.0 200 OK" (Subscription-State: terminated) once the
--   application took over; then BYE to the transferor.
-- Refusals, each with Event: refer and a Reason (restcomm.md 1.7):
--   Refer-To not a SIP URI                      400
--   the transferor's call not in progress       403
--   no number, or no Refer URL/application      403, the call goes on
--   no single transferee (no bridge, or a
--   Dial still forking)                          404, and BYE to the
--                                                transferor
-- Restcomm answers 404 in the first three cases too. We do not: a 404 to
-- a request inside a dialog ends the whole dialog (RFC 5057 5.1), at the
-- phone and in our SIP stack alike, so the call could not go on; 403
-- refuses the transfer only. The option refuse_status changes it.
--
-- It registers with priority -100 so that handlers in other plugins
-- (priority 0 by default) run first; a handler that returns a value
-- stops the chain, so this one only runs when no other took the REFER.

local refuse_status = plugin:option_number("refuse_status", 403)

plugin:hook("refer", function (ev)
  if not ev.refer_to_sip then
    return ev:reject(400, "Refer-To is not a SIP URI")
  end
  local transferor = ev.transferor_call
  if transferor == nil or transferor.status ~= "in-progress" then
    return ev:reject(refuse_status,
      "SIP Refer pre-conditions failed, call info is null or call not in progress")
  end
  local number = ev.number
  if number == nil or number.refer_url == nil then
    return ev:reject(refuse_status,
      "SIP Refer failed. Set Refer URL or Refer application for incoming phone number")
  end
  local transferee = ev.transferee_call
  if transferee == nil or not transferee.alive then
    ev:reject(404,
      "SIP Refer failed. Transferee is not a Call actor, probably this is a conference")
    transferor:hangup()
    return true
  end

  ev:accept()
  plugin:log("info", "call %s: %s transfers %s to %s (%s %s)", transferor.sid,
    ev.transferor, ev.transferee, ev.target, number.refer_method, number.refer_url)
  local ok, err = transferee:redirect({
    url = number.refer_url,
    method = number.refer_method,
    peer = "keep",              -- the transferor is ended below, after the NOTIFY
    params = {
      { "ReferTarget", ev.target },
      { "Transferor", ev.transferor },
      { "Transferee", ev.transferee },
    },
  })
  if not ok then
    plugin:log("warn", "call %s: transfer failed: %s", transferor.sid, err)
    ev:notify(err == "hangup" and 487 or 503)
    if transferor.alive then
      transferor:hangup()
    end
    return true
  end
  ev:notify(200, "OK")
  if transferor.alive then
    transferor:hangup()
  end
  return true
end, -100)
