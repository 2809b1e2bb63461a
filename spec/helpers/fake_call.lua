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
-- call:gather returns a gather object whose :wait() replays the script
-- (see call:gather); call:record replays result tables (see call:record).

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
-- table ({ status = "completed", sid = ..., duration = ..., recording_url
-- = ... }), a reason string, or a function. The default result is a
-- completed dial. record must be nil, "none", "mixed" or "dual", as the
-- C side checks.
function call_mt:dial(spec)
  assert(type(spec) == "table" and type(spec.targets) == "table",
    "sb.call:dial: a table with targets expected")
  assert(spec.record == nil or spec.record == "none" or spec.record == "mixed"
    or spec.record == "dual", 'dial: record must be "none", "mixed" or "dual"')
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

-- Argument checks shared by call:gather and call:record, with the C
-- side's messages: a string (or nil), a number in min..max (or nil), a
-- boolean (or nil).
local function check_string(what, spec, name)
  local v = spec[name]
  assert(v == nil or type(v) == "string",
    ("%s: %s must be a string, got %s"):format(what, name, type(v)))
end

local function check_number(what, spec, name, min, max)
  local v = spec[name]
  assert(v == nil or type(v) == "number",
    ("%s: %s must be a number, got %s"):format(what, name, type(v)))
  assert(v == nil or (v >= min and v <= max),
    ("%s: %s must be in %g..%g"):format(what, name, min, max))
end

local function check_boolean(what, spec, name)
  local v = spec[name]
  assert(v == nil or type(v) == "boolean",
    ("%s: %s must be a boolean, got %s"):format(what, name, type(v)))
end

-- A shallow copy of a result table.
local function copy(t)
  local out = {}
  for k, v in pairs(t) do
    out[k] = v
  end
  return out
end

-- The gather object (the C one is "sb.gather"): g.spec is what call:gather
-- got; g.waited and g.canceled tell what happened to it.
local gather_mt = {}
gather_mt.__index = gather_mt

-- Outcome of gather:wait: the script entry is true or nil (no input: {
-- digits = "", how = "timeout" }), a result table { digits, how, key,
-- speech, confidence, speech_error } (a copy is returned, digits
-- defaulting to "" and how to "finish-key" with a key, "speech" with
-- speech, else "timeout"), a table { nil, reason } (nil, reason), or a
-- function(call, spec) returning the results. "hangup" also ends the call.
local function gather_outcome(call, r, spec)
  if type(r) == "function" then
    return r(call, spec)
  end
  if r == nil or r == true then
    return { digits = "", how = "timeout" }
  end
  if r[1] == nil and r[2] ~= nil then
    if r[2] == "hangup" then
      ended(call)
    end
    return nil, r[2]
  end
  local res = copy(r)
  res.digits = res.digits or ""
  res.how = res.how or (res.key and "finish-key") or (res.speech and "speech")
    or "timeout"
  return res
end

-- gather:wait(): records "gather_wait" and replays the script entry of
-- this gather (see gather_outcome). Once only, and not after cancel (it
-- raises, as the C side does). A call that ended meanwhile gives nil,
-- "hangup" (not recorded).
function gather_mt:wait()
  assert(not self.waited and not self.canceled, "gather:wait: the gather is over")
  self.waited = true
  local call = self.call
  if call.active_gather == self then
    call.active_gather = nil
  end
  if not call.alive then
    return nil, "hangup"
  end
  record(call, "gather_wait")
  return gather_outcome(call, self.outcome, self.spec)
end

-- gather:cancel(): records "gather_cancel" when it stops a gather that
-- was neither waited for nor cancelled; idempotent (nothing is recorded
-- then), as the C side.
function gather_mt:cancel()
  if self.waited or self.canceled then
    return
  end
  self.canceled = true
  if self.call.active_gather == self then
    self.call.active_gather = nil
  end
  record(self.call, "gather_cancel")
end

-- call:gather(spec): checks the spec as the C side does (input, when
-- given, must name dtmf or speech; num_digits 0..128, timeout 0..86400,
-- speech_timeout 0..60; finish_on_key at most 16 of 0-9 * # A-D; the
-- other options strings) and raises on misuse. Records the spec and
-- returns a gather object, or nil, "hangup" on an ended call, or nil,
-- "state" while another gather of the call is open (neither waited for
-- nor cancelled). Does not answer the call. The script entry is the
-- outcome of the object's :wait() (see gather_outcome), or a reason
-- string: call:gather itself returns nil, reason ("hangup" ends the call).
--
--   local call = fake_call.new{ answered = true, script = { gather = {
--     { digits = "42", key = "#" },       -- first Gather: 42#
--     true,                               -- second: no input
--     { nil, "hangup" },                  -- third: hangs up while waiting
--   } } }
function call_mt:gather(spec)
  local what = "call:gather"
  assert(type(spec) == "table", "call:gather: a table expected")
  for _, k in ipairs({ "input", "hints", "language", "finish_on_key",
                       "partial_url", "partial_method" }) do
    check_string(what, spec, k)
  end
  check_number(what, spec, "num_digits", 0, 128)
  check_number(what, spec, "timeout", 0, 86400)
  check_number(what, spec, "speech_timeout", 0, 60)
  local input = spec.input
  assert(input == nil or input:find("dtmf", 1, true) or input:find("speech", 1, true),
    "call:gather: input must name dtmf or speech")
  if not self.alive then
    return nil, "hangup"
  end
  local keys = spec.finish_on_key
  assert(keys == nil or (#keys <= 16 and keys:match("^[0-9*#A-Da-d]*$")),
    "call:gather: invalid finish_on_key")
  if self.active_gather then
    return nil, "state"
  end
  record(self, "gather", spec)
  local n = (self.counts.gather or 0) + 1
  self.counts.gather = n
  local r = self.script.gather and self.script.gather[n]
  if type(r) == "string" then
    if r == "hangup" then
      ended(self)
    end
    return nil, r
  end
  local g = setmetatable({ call = self, spec = spec, outcome = r,
                           waited = false, canceled = false }, gather_mt)
  self.active_gather = g
  return g
end

-- call:record(spec): checks the spec as the C side does (max_length
-- 1..86400, timeout 0..3600, beep and trim booleans, finish_on_key,
-- action and method strings) and raises on misuse; records the spec and
-- answers the call if it was not (the beep does, on the C side: no
-- separate "answer" action). The script entry is
--
--   true or nil          a recording: { sid = "RE...", url = ".../RE....wav",
--                        duration = 4.2, digits = "" }
--   a result table       { sid, url, duration, digits, error }: a copy,
--                        digits defaulting to "" and duration to 0 (no
--                        sid: nothing was recorded)
--   a reason string      nil, reason, "scripted <reason>"
--   { nil, reason, detail } or { reason, detail }   nil, reason, detail
--   a function(call, spec)   returning the results
--
-- "hangup" also ends the call.
function call_mt:record(spec)
  local what = "call:record"
  assert(type(spec) == "table", "call:record: a table expected")
  check_number(what, spec, "max_length", 1, 86400)
  check_number(what, spec, "timeout", 0, 3600)
  check_boolean(what, spec, "beep")
  check_boolean(what, spec, "trim")
  for _, k in ipairs({ "finish_on_key", "action", "method" }) do
    check_string(what, spec, k)
  end
  if not self.alive then
    return nil, "hangup", "the call has ended"
  end
  record(self, "record", spec)
  if not self.answered then
    self.answered = true
    self.status = "in-progress"
  end
  local n = (self.counts.record or 0) + 1
  self.counts.record = n
  local r = self.script.record and self.script.record[n]
  if type(r) == "function" then
    return r(self, spec)
  end
  if r == nil or r == true then
    local sid = ("RE%032x"):format(n)
    return {
      sid = sid, duration = 4.2, digits = "",
      url = ("http://127.0.0.1:8080/restcomm/2012-04-24/Accounts/%s/Recordings/%s.wav")
        :format(self.account_sid, sid),
    }
  end
  local reason, detail
  if type(r) == "table" then
    if r[1] == nil and r[2] == nil then
      local res = copy(r)
      res.digits = res.digits or ""
      res.duration = res.duration or 0
      return res
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
    ended(self)
  end
  return nil, reason, detail
end

-- call:conference(spec): records the spec and returns a membership whose
-- waiting() is true for the first script.conference_waits calls (default
-- 0) and whose wait() returns { reason = "conference-ended",
-- conference_sid = "CF..." }; script.conference = { "limit" } (or another
-- reason) makes the join fail with nil, reason.
function call_mt:conference(spec)
  assert(type(spec) == "table", "call:conference: a table expected")
  assert(type(spec.name) == "string" and spec.name ~= "",
    "call:conference: name is required")
  if not self.alive then
    return nil, "hangup"
  end
  record(self, "conference", spec)
  local n = (self.counts.conference or 0) + 1
  self.counts.conference = n
  local r = self.script.conference and self.script.conference[n]
  if type(r) == "string" then
    return nil, r
  end
  local call, waits = self, self.script.conference_waits or 0
  return {
    waiting = function ()
      if waits > 0 then
        waits = waits - 1
        return true
      end
      return false
    end,
    wait = function ()
      if not call.alive then
        return nil, "hangup"
      end
      return { reason = "conference-ended",
               conference_sid = "CF0123456789abcdef0123456789abcdef" }
    end,
    leave = function () record(call, "conference_leave") end,
  }
end

return fake_call
