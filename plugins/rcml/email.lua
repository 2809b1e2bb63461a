-- <Email to="..." from="..." cc="..." bcc="..." subject="...">body</Email>:
-- send an e-mail over SMTP (email.smtp_url), from a voice call's document
-- or an SMS application's (restcomm.md 3.3). to is required; from
-- defaults to email.from; subject to "Restcomm Email Service". As in
-- Restcomm the document goes on at once; the outcome is recorded
-- (Email/Messages) and a failure is a Notification of the account.

plugin:verb("Email", {
  attrs = {
    to = { type = "string", required = true },
    from = { type = "string" },
    cc = { type = "string" },
    bcc = { type = "string" },
    subject = { type = "string", default = "Restcomm Email Service" },
    type = { type = "string" },
  },
  nests = false,
}, function (call, node, ctx)
  local a = node.attrs
  local res, reason, message = email.send{
    account_sid = call.account_sid,
    from = a.from, to = a.to, cc = a.cc, bcc = a.bcc,
    subject = a.subject, body = node.text or "", type = a.type,
    call_sid = call.kind ~= "sms" and call.sid or nil,
  }
  if res == nil then
    ctx:notify(12400, "error",
      ("<Email> line %d: %s"):format(node.line or 0, tostring(message or reason)))
  end
  return true
end)
