-- <Reject reason="rejected|busy"/>: refuse an unanswered call with
-- 603 Decline (reason="rejected", the default) or 486 Busy Here
-- (reason="busy"). The call is never answered, so nothing is billed.
-- On a call that is already answered Reject cannot apply (restcomm.md
-- 3.3): it is logged and the call is hung up instead.

local STATUS = { rejected = 603, busy = 486 }

plugin:verb("Reject", {
  attrs = {
    reason = { type = "enum", values = { "rejected", "busy" }, default = "rejected" },
  },
  nests = false,
}, function (call, node)
  if call.answered then
    plugin:log("warn", "call %s: <Reject> after answer, hanging up", call.sid)
    call:hangup()
    return false
  end
  local ok, err = call:reject(STATUS[node.attrs.reason])
  if not ok and err ~= "hangup" then
    return nil, err
  end
  return false
end)
