-- A transfer policy in front of the default REFER handler: it refuses
-- transfers to targets outside an allow-list, and any transfer outside
-- business hours, and lets every other REFER through to the next handler
-- (plugins/refer.lua, which does the transfer).
--
-- Options (plugins.options.refer_policy):
--   allow = { "alice", "carol", "^1%d%d%d$" }   Lua patterns matched
--                         against the whole Refer-To user; empty: all
--   hours = { from = 8, to = 18 }               local hours [from, to)
--   days = { 1, 2, 3, 4, 5 }                    weekdays allowed
--                         (os.date's wday - 1: Monday is 1, Sunday 0)
--   utc = false                                 use UTC instead of
--                                               local time
-- A refusal is 403 with a Reason the transferor's phone can show; the
-- call goes on.

local allow = plugin:option("allow", {})
local hours = plugin:option("hours", { from = 0, to = 24 })
local days = plugin:option("days", { 0, 1, 2, 3, 4, 5, 6 })
local utc = plugin:option_boolean("utc", false)

local open_days = {}
for _, d in ipairs(days) do
  open_days[d] = true
end

local function allowed_target(user)
  if #allow == 0 then
    return true
  end
  for _, p in ipairs(allow) do
    if user:match("^" .. p:gsub("^%^", ""):gsub("%$$", "") .. "$") then
      return true
    end
  end
  return false
end

local function open_now()
  local t = os.date(utc and "!*t" or "*t")
  return open_days[t.wday - 1] == true and t.hour >= hours.from and t.hour < hours.to
end

plugin:hook("refer", function (ev)
  local target = ev.target or ""
  if not allowed_target(target) then
    plugin:log("info", "call %s: transfer to %s refused by policy", ev.transferor_sid,
      target)
    return ev:reject(403, "Transfer target not allowed")
  end
  if not open_now() then
    plugin:log("info", "call %s: transfer outside business hours refused",
      ev.transferor_sid)
    return ev:reject(403, "Transfers are not available now")
  end
  return nil                            -- allowed: the next handler transfers
end, 10)
