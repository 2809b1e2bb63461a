-- <Sms to="..." from="..." action="..." method="POST|GET"
--      statusCallback="...">body</Sms>: send an SMS, from a voice call's
-- document or from an SMS application's (restcomm.md 3.3).
--
-- to defaults to the caller (the sender of the received SMS), from to the
-- number called (the number that received the SMS). Without action the
-- message is queued and the next verb runs at once. With action the verb
-- waits for the first outcome (sent, or failed) and then fetches action
-- with the standard parameters plus SmsSid and SmsStatus, as Restcomm.
-- Refused input (no body, a From the account does not own, an unknown
-- Client, a body over sms.max_length) is a Notification (14101 To, 14102
-- From, 14103 Body); then action is fetched with SmsStatus=failed, or
-- the document goes on.

local CODES = {
  ["not-found"] = 14101,        -- Restcomm: invalid To
  forbidden = 14102,            -- Restcomm: invalid From
  invalid = 14103,              -- Restcomm: invalid Body (and others)
  ["too-big"] = 14103,
}

plugin:verb("Sms", {
  attrs = {
    to = { type = "string" },
    from = { type = "string" },
    action = { type = "string" },
    method = { type = "method", default = "POST", code = 14104 },
    statusCallback = { type = "string" },
  },
  nests = false,
}, function (call, node, ctx)
  local a = node.attrs
  local body = node.text
  local action = a.action ~= "" and a.action or nil
  local callback = a.statusCallback
  if callback ~= nil and callback ~= "" then
    callback = ctx:resolve(callback)
  else
    callback = nil
  end
  local sms_session = call.kind == "sms"
  local res, reason, message
  if body == nil or body == "" then
    reason, message = "invalid", "<Sms> has no body"
  else
    res, reason, message = sms.send{
      account_sid = call.account_sid,
      from = (a.from ~= nil and a.from ~= "") and a.from or call.to,
      to = (a.to ~= nil and a.to ~= "") and a.to or call.from,
      body = body,
      direction = sms_session and "outbound-reply" or "outbound-call",
      call_sid = not sms_session and call.sid or nil,
      status_callback = callback,
      wait = action ~= nil,
    }
  end
  if res == nil then
    if reason == "hangup" then
      return nil, "hangup"
    end
    ctx:notify(CODES[reason] or 14103, "error",
      ("<Sms> line %d: %s"):format(node.line or 0, tostring(message or reason)))
    if action then
      return { url = action, method = a.method,
               params = { { "SmsStatus", "failed" } } }
    end
    return true
  end
  if action then
    return { url = action, method = a.method,
             params = { { "SmsSid", res.sid }, { "SmsStatus", res.status } } }
  end
  return true
end)
