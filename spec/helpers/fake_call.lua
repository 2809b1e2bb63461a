-- A call object double for specs (the C one is "sb.call"). It records
-- every action in call.actions and replays scripted outcomes:
--
--   local call = fake_call.new{ script = { pause = { true, "hangup" } } }
--
-- makes the first call:pause() succeed and the second end the call (as
-- if the caller hung up while it waited): it returns nil, "hangup" and
-- the call is dead from then on. An outcome is true (success), a reason
-- string (failure: nil, reason; "hangup" also ends the call), or a
-- function(call, ...) returning the results. call:play takes richer
-- outcomes ({ true, info }, { nil, reason, detail }: see play_outcome),
-- and call:prefetch records its list and returns its length.

local fake_call = {}

local call_mt = {}
call_mt.__index = call_mt

function fake_call.new(opts)
  opts = opts or {}
  return setmetatable({
    sid = opts.sid or "ID0123456789abcdef0123456789abcdef-CA0123456789abcdef0123456789abcdef",
    account_sid = opts.account_sid or "AC0123456789abcdef0123456789abcdef",
    from = opts.from or "bob",
    to = opts.to or "+15550100",
    direction = opts.direction or "inbound",
    status = opts.status or (opts.answered and "in-progress" or "ringing"),
    answered = opts.answered or false,
    caller_name = opts.caller_name,
    headers = opts.headers or {},       -- array of { name, value }
    refer = opts.refer,                 -- { target =, transferor =, transferee = }
    alive = true,
    actions = {},
    script = opts.script or {},
    counts = {},
  }, call_mt)
end

local function record(call, ...)
  table.insert(call.actions, table.pack(...))
end

local function ended(call)
  call.alive = false
  call.answered = false
  call.status = "completed"
end

-- The remote side hangs up.
function call_mt:remote_hangup()
  record(self, "remote_hangup")
  ended(self)
end

local function outcome(call, method, ...)
  local n = (call.counts[method] or 0) + 1
  call.counts[method] = n
  local list = call.script[method]
  local r = list and list[n]
  if r == nil or r == true then
    return true
  end
  if type(r) == "function" then
    return r(call, ...)
  end
  if r == "hangup" then
    ended(call)
  end
  return nil, r
end

-- The names of the recorded actions, in order: { "pause", "hangup" }.
function call_mt:action_names()
  local out = {}
  for _, a in ipairs(self.actions) do
    out[#out + 1] = a[1]
  end
  return out
end

function call_mt:params()
  if not self.alive then
    return nil, "hangup"
  end
  local p = {
    { "CallSid", self.sid },
    { "InstanceId", self.sid:match("^(ID%x+)%-") or "" },
    { "AccountSid", self.account_sid },
    { "From", self.from },
    { "To", self.to },
    { "CallStatus", self.status },
    { "ApiVersion", "2012-04-24" },
    { "Direction", self.direction },
    { "CallerName", self.caller_name or "null" },
    { "ForwardedFrom", "null" },
    { "CallTimestamp", "2024-01-01T00:00:00Z" },
  }
  if self.refer then
    table.insert(p, { "ReferTarget", self.refer.target })
    table.insert(p, { "Transferor", self.refer.transferor })
    table.insert(p, { "Transferee", self.refer.transferee })
  end
  for _, h in ipairs(self.headers) do
    table.insert(p, { "SipHeader_" .. h[1], h[2] })
  end
  return p
end

function call_mt:hangup()
  if not self.alive then
    return nil, "hangup"
  end
  record(self, "hangup")
  ended(self)
  return true
end

function call_mt:reject(status)
  assert(type(status) == "number" and status >= 400 and status <= 699,
    "sb.call:reject: SIP status 400..699 expected")
  if not self.alive then
    return nil, "hangup"
  end
  if self.answered then
    return nil, "state"
  end
  record(self, "reject", status)
  ended(self)
  return true
end

function call_mt:answer()
  if not self.alive then
    return nil, "hangup"
  end
  record(self, "answer")
  local ok, err = outcome(self, "answer")
  if ok then
    self.answered = true
    self.status = "in-progress"
  end
  return ok, err
end

function call_mt:pause(seconds)
  assert(type(seconds) == "number" and seconds >= 0, "sb.call:pause: seconds expected")
  if not self.alive then
    return nil, "hangup"
  end
  record(self, "pause", seconds)
  return outcome(self, "pause", seconds)
end

-- call:dial(spec): records the spec; the scripted outcome is a result
-- table ({ status = "completed", sid = ..., duration = ... }), a reason
-- string, or a function. The default result is a completed dial.
function call_mt:dial(spec)
  assert(type(spec) == "table" and type(spec.targets) == "table",
    "sb.call:dial: a table with targets expected")
  if not self.alive then
    return nil, "hangup"
  end
  record(self, "dial", spec)
  local n = (self.counts.dial or 0) + 1
  self.counts.dial = n
  local r = self.script.dial and self.script.dial[n]
  if type(r) == "function" then
    return r(self, spec)
  end
  if type(r) == "string" then
    if r == "hangup" then
      ended(self)
    end
    return nil, r
  end
  if type(r) == "table" then
    return r
  end
  self.answered = true
  self.status = "in-progress"
  return { sid = "ID0-CAdialled", status = "completed", duration = 3,
           ring_duration = 2, headers = {} }
end

-- Outcome of call:play: the script entry is true or nil (success: true,
-- {}), a table { true, info } (success with info, e.g. { true, {
-- language_fallback = true } }), a reason string (nil, reason, "scripted
-- <reason>"), a table { reason, detail } or { nil, reason, detail }
-- (nil, reason, detail), or a function(call, spec) returning the results.
-- "hangup" also ends the call.
local function play_outcome(call, spec)
  local n = (call.counts.play or 0) + 1
  call.counts.play = n
  local r = call.script.play and call.script.play[n]
  if type(r) == "function" then
    return r(call, spec)
  end
  if r == nil or r == true then
    return true, {}
  end
  local reason, detail
  if type(r) == "table" then
    if r[1] == true then
      return true, r[2] or {}
    end
    if r[1] == nil then
      reason, detail = r[2], r[3]
    else
      reason, detail = r[1], r[2]
    end
  else
    reason, detail = r, "scripted " .. tostring(r)
  end
  if reason == "hangup" then
    ended(call)
  end
  return nil, reason, detail
end

-- call:play(spec): exactly one of url, text, tone, digits (or none:
-- silence for ms) as the C side checks; records the spec, answers the
-- call if it was not (no separate "answer" action: the C side answers
-- inside play), then replays the scripted outcome.
function call_mt:play(spec)
  if type(spec) == "string" then
    spec = { url = spec }                 -- call:play(url)
  end
  assert(type(spec) == "table", "sb.call:play: a table expected")
  local n = 0
  for _, k in ipairs({ "url", "text", "tone", "digits" }) do
    if spec[k] ~= nil then
      assert(type(spec[k]) == "string", "sb.call:play: " .. k .. " must be a string")
      n = n + 1
    end
  end
  assert(n <= 1, "sb.call:play: at most one of url, text, tone, digits")
  assert(spec.loop == nil or (math.type(spec.loop) == "integer" and spec.loop >= 0
    and spec.loop <= 10000), "sb.call:play: loop must be an integer in 0..10000")
  for _, k in ipairs({ "url", "text", "voice", "language", "tone", "digits" }) do
    assert(spec[k] ~= "", "sb.call:play: " .. k .. " must not be empty")
  end
  assert(n == 1 or (spec.ms or 0) > 0, "sb.call:play: nothing to play")
  if not self.alive then
    return nil, "hangup", "the call has ended"
  end
  record(self, "play", spec)
  if not self.answered then
    self.answered = true
    self.status = "in-progress"
  end
  return play_outcome(self, spec)
end

-- call:prefetch(list): records the list; returns the number of items (or
-- what script.prefetch[n], a function(call, list), returns; it may raise).
function call_mt:prefetch(list)
  assert(type(list) == "table", "sb.call:prefetch: a list expected")
  for _, item in ipairs(list) do
    assert(type(item) == "table" and (type(item.url) == "string"
      or type(item.text) == "string"),
      "sb.call:prefetch: items are { url = } or { text =, voice =, language = }")
  end
  record(self, "prefetch", list)
  local n = (self.counts.prefetch or 0) + 1
  self.counts.prefetch = n
  local r = self.script.prefetch and self.script.prefetch[n]
  if type(r) == "function" then
    return r(self, list)
  end
  if not self.alive then
    return 0
  end
  return #list
end

-- call:redirect(app), call:unbridge(), call:bridge(other): recorded;
-- scripted outcomes as for the other methods (default: success).
function call_mt:redirect(app)
  assert(type(app) == "table" and type(app.url) == "string",
    "sb.call:redirect: a table with url expected")
  if not self.alive then
    return nil, "hangup"
  end
  record(self, "redirect", app)
  return outcome(self, "redirect", app)
end

function call_mt:unbridge()
  if not self.alive then
    return nil, "hangup"
  end
  record(self, "unbridge")
  return outcome(self, "unbridge")
end

function call_mt:bridge(other)
  assert(type(other) == "table", "sb.call:bridge: a call expected")
  if not self.alive or not other.alive then
    return nil, "hangup"
  end
  record(self, "bridge", other)
  return outcome(self, "bridge", other)
end

return fake_call
