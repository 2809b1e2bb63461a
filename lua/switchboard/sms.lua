-- switchboard.sms: the SMS interpreter. A message received by a number
-- runs the number's SMS application (SmsUrl or SmsApplicationSid) through
-- the same RCML interpreter as calls (switchboard.rcml), with:
--
--   * a message object in place of the call: sid (the SM... SID),
--     account_sid, from, to, body, kind = "sms", alive, params() giving
--     Restcomm's SMS parameters (SmsSid, AccountSid, From, To, Body,
--     SmsStatus = "received", ApiVersion), hangup() that only ends the
--     session;
--   * only the verbs an SMS application may use, as Restcomm's
--     SmsInterpreter: Sms, Email and Redirect. Any other verb is a
--     warning Notification and is skipped;
--   * Notifications raised for the account, with no call.
--
-- core/lua/lua_api_msg.c starts one session per message:
-- sms.run(message, app).

local rcml = require "switchboard.rcml"

local sms = {}

sms.VERBS = { Sms = true, Email = true, Redirect = true }

local message_mt = {}
message_mt.__index = message_mt

function message_mt:params()
  return {
    { "SmsSid", self.sid },
    { "MessageSid", self.sid },
    { "AccountSid", self.account_sid },
    { "From", self.from },
    { "To", self.to },
    { "Body", self.body },
    { "SmsStatus", "received" },
    { "ApiVersion", "2012-04-24" },
  }
end

function message_mt:hangup()
  self.alive = false
  return true
end

-- A host for rcml.run built on the server's: the verbs limited, the
-- Notifications about the account only.
local function sms_host(base, msg)
  return setmetatable({
    verb = function(name)
      if sms.VERBS[name] then
        return base.verb(name)
      end
      return nil
    end,
    notify = function(_, n)
      -- No call: the base host leaves the SIDs as they are.
      n.account_sid = msg.account_sid
      base.notify(nil, n)
    end,
  }, { __index = base })
end

-- Runs app ({ url, method, fallback_url, fallback_method }) for msg
-- ({ sid, account_sid, from, to, body }) on base (default: the server's
-- host, switchboard.host.get()). Returns what rcml.run returns.
function sms.run(msg, app, base)
  base = base or require("switchboard.host").get()
  local m = setmetatable({
    sid = msg.sid, account_sid = msg.account_sid, from = msg.from,
    to = msg.to, body = msg.body, kind = "sms", alive = true,
    direction = "inbound", status = "received",
  }, message_mt)
  return rcml.run(m, sms_host(base, msg), app)
end

return sms
