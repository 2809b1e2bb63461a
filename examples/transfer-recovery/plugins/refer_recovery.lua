-- A REFER handler that keeps the transferor until the transfer worked
-- (RFC 5589 6.3), which Restcomm cannot do.
--
-- On a REFER inside a Dial bridge it accepts (202, NOTIFY 100 Trying),
-- takes the transferee out of the bridge (the transferor stays up,
-- without audio: on hold) and dials the transfer target itself:
--   - the target answers: NOTIFY 200 OK, BYE to the transferor; the
--     transferee and the target talk, and when that ends the transferee
--     is hung up;
--   - the target is busy, does not answer within `timeout` seconds, or
--     cannot be reached: NOTIFY with that status (486, 480, 503), and the
--     transferee is connected back to the transferor until one of them
--     hangs up.
-- Options (plugins.options.refer_recovery):
--   timeout = 20        ring time of the target, seconds
--   kind = "client"     how to dial the Refer-To user: "client" (a
--                       registered login), "number" (through
--                       sip.outbound_proxy) or "sip" (the Refer-To URI)
-- REFERs it does not take (no transferee, Refer-To not SIP) fall through
-- to the next handler (the default plugin refuses them).

local timeout = plugin:option_number("timeout", 20)
local kind = plugin:option("kind", "client")

local FAILURE_STATUS = {
  busy = 486, ["no-answer"] = 480, failed = 503, canceled = 487, hangup = 487,
}

plugin:hook("refer", function (ev)
  local transferee, transferor = ev.transferee_call, ev.transferor_call
  if not ev.refer_to_sip or transferee == nil or transferor == nil
    or transferor.status ~= "in-progress" or ev.target == nil or ev.target == "" then
    return nil                          -- not ours: the next handler decides
  end
  ev:accept()
  local ok, err = transferee:unbridge() -- the transferor is now on hold
  if not ok then
    ev:notify(487, err)
    return true
  end
  local dest = kind == "sip" and ev.refer_to.uri or ev.target
  plugin:log("info", "call %s: trying %s %s for %s", transferee.sid, kind, dest,
    ev.transferor)
  local res, derr = transferee:dial({
    targets = { { kind = kind, dest = dest } },
    timeout = timeout,
    wait = "answer",
  })
  if res and res.status == "answered" then
    ev:notify(200, "OK")
    if transferor.alive then
      transferor:hangup()
    end
    return true
  end
  local status = res and res.status or derr
  ev:notify(FAILURE_STATUS[status] or 503)
  plugin:log("info", "call %s: transfer to %s failed (%s): back to %s", transferee.sid,
    dest, tostring(status), ev.transferor)
  if transferee.alive and transferor.alive then
    transferee:bridge(transferor)       -- until one of them hangs up
  elseif transferee.alive then
    transferee:hangup()
  elseif transferor.alive then
    transferor:hangup()                 -- the transferee left meanwhile
  end
  return true
end)
