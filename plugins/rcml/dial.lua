-- <Dial action method timeout timeLimit callerId hangupOnStar>: call one
-- or more parties and bridge the first that answers to the caller
-- (restcomm.md 3.3). Nouns: <Number>, <Client>, <Sip>; bare text is a
-- Number. Up to 10 nouns ring in parallel; a Client rings every
-- registered contact of that login.
--
-- A noun's text may end in "?X-Header=value&X-Other=v": those X- headers
-- go into the INVITE. Nouns take statusCallback, statusCallbackMethod and
-- statusCallbackEvent ("initiated ringing answered completed"); <Sip>
-- also takes username and password for digest authentication.
--
-- The caller is answered when the Dial starts, as Restcomm does: it hears
-- the server's ringback (ringTone) until a dialled party sends early
-- media or answers, and a failed or busy Dial leaves it answered for
-- whatever the action decides (the action sees CallStatus=in-progress).
-- With the option answer_on_dial = false (Restcomm's enable-200-ok-delay:
-- plugins.options = { rcml = { dial = { answer_on_dial = false } } }) the
-- caller is answered only when a dialled party answers, and hears 180
-- (its phone's own ringback) or a party's early media meanwhile; a Dial
-- that fails then leaves it unanswered. When the Dial ends, with an action the
-- document at action is fetched with DialCallSid, DialCallStatus,
-- DialCallDuration, DialRingDuration (and, for <Sip>, DialSipCallId,
-- DialSipResponseCode and DialSipHeader_X-...); without one the next verb
-- runs.
--
-- record: "true" or Twilio's "record-from-answer" records both legs from
-- the answer to the end of the bridge into one Recording of the caller's
-- call (mixed); "record-from-answer-dual" puts each leg in its own
-- channel. The action then also gets RecordingUrl and PublicRecordingUrl.
--
-- ringTone (Twilio): the country whose ringback the caller hears while
-- the dial rings, as call:dial's ring_tone (at au bg br be ch cl cn cz de
-- dk ee es fi fr gr hu il in it lt jp mx my nl no nz ph pl pt ru se sg th
-- uk us tw ve za). Another value: warning 12200 and the server's default
-- (us).

local MAX_NOUNS = 10
local ANSWER_ON_DIAL = plugin:option_boolean("answer_on_dial", true)

-- record="true" and Twilio's record-from-answer: both legs into one
-- channel; record-from-answer-dual: one channel each.
local RECORD_MODES = {
  ["true"] = "mixed", ["record-from-answer"] = "mixed",
  ["record-from-answer-dual"] = "dual",
}

local RING_TONES = {
  "at", "au", "bg", "br", "be", "ch", "cl", "cn", "cz", "de", "dk", "ee",
  "es", "fi", "fr", "gr", "hu", "il", "in", "it", "lt", "jp", "mx", "my",
  "nl", "no", "nz", "ph", "pl", "pt", "ru", "se", "sg", "th", "uk", "us",
  "tw", "ve", "za",
}

-- "dest?X-A=1&X-B=2" -> dest, { {"X-A", "1"}, {"X-B", "2"} }
local function split(text)
  local dest, query = text:match("^([^?]*)%?(.*)$")
  if not dest then
    return text, {}
  end
  local headers = {}
  for pair in query:gmatch("[^&]+") do
    local name, value = pair:match("^([^=]+)=?(.*)$")
    if name and name:sub(1, 2):upper() == "X-" then
      value = value:gsub("%+", " "):gsub("%%(%x%x)", function (h)
        return string.char(tonumber(h, 16))
      end)
      headers[#headers + 1] = { name, value }
    end
  end
  return dest, headers
end

-- Longest noun text (a number, a Client login, a SIP URI with its
-- headers) taken from a document; a longer one is a warning and skipped.
local MAX_NOUN = 4096

-- s without leading and trailing white space, in linear time. The usual
-- ("^%s*(.-)%s*$") backtracks over every run of white space inside the
-- text, which is quadratic in text the document controls.
local function trim(s)
  local first = s:find("%S")
  if not first then
    return ""
  end
  return s:sub(first, s:match("^.*()%S"))
end

-- Appends a target for a noun to targets (nothing for an empty text).
-- Module-level, like split: a session waits in <Dial> for the whole call,
-- and closures made per <Dial> would stay alive with it.
local function add(targets, ctx, kind, text, attrs)
  text = text or ""
  if #text > MAX_NOUN then
    ctx:notify(12200, "warning", ("<Dial>: a %s of %d characters (more than %d) "
      .. "skipped"):format(kind, #text, MAX_NOUN))
    return
  end
  text = trim(text)
  if text == "" then
    return
  end
  local dest, headers = split(text)
  attrs = attrs or {}
  targets[#targets + 1] = {
    kind = kind, dest = dest, headers = headers,
    username = attrs.username, password = attrs.password,
    status_callback = attrs.statusCallback and ctx:resolve(attrs.statusCallback)
      or nil,
    status_callback_method = attrs.statusCallbackMethod,
    status_events = attrs.statusCallbackEvent,
  }
end

-- The argument of call:dial, taking the targets out of box. The action
-- goes too: when the caller hangs up while bridged, the session cannot
-- fetch it any more and the call module requests it (Restcomm reports
-- the outcome then too).
local function dial_args(box, attrs, ctx)
  local targets = box[1]
  box[1] = nil
  local action = attrs.action
  return {
    targets = targets,
    timeout = attrs.timeout,
    time_limit = attrs.timeLimit,
    caller_id = attrs.callerId,
    hangup_on_star = attrs.hangupOnStar,
    action_url = action and action ~= "" and ctx:resolve(action) or nil,
    action_method = attrs.method,
    ring_tone = attrs.ringTone,
    record = RECORD_MODES[attrs.record] or "none",
  }
end

-- <Dial><Conference>room</Conference></Dial>: the caller joins the room
-- of that name of its account (created by its first member, live on this
-- server until its last member leaves or a member with
-- endConferenceOnExit does). Attributes of the noun:
--
--   muted                   false; the member hears, nobody hears it
--   beep                    true | false | onEnter | onExit: a beep in
--                           the room when it comes and/or goes
--   startConferenceOnEnter  true; with false the member waits (hearing
--                           the wait music) until one with true comes
--   endConferenceOnExit     false; with true the room ends when it goes
--   waitUrl, waitMethod     RCML played in a loop while it waits: only
--                           Play, Say, Pause and Redirect (others are a
--                           warning 12200 and skipped); default the
--                           server's own wait music; "" for silence
--   maxParticipants         1..1000, default 40; a caller who finds the
--                           room full gets the Dial action with
--                           DialCallStatus=busy at once
--   statusCallback, statusCallbackMethod, statusCallbackEvent
--                           (start end join leave mute hold)
--   record                  record-from-start (or true): the room, all
--                           its voices, from its creation to its end, into
--                           one Recording with its ConferenceSid (given
--                           by the member that creates the room)
--
-- The Dial action, when there is one, runs when the member leaves (the
-- room ended, it was kicked over REST, or it hung up: then there is no
-- document to run) with DialCallStatus=completed and ConferenceSid.

local CONF_WAIT_VERBS = { Play = true, Say = true, Pause = true, Redirect = true }
local CONF_BEEP = { ["true"] = { true, true }, ["false"] = { false, false },
                    onenter = { true, false }, onexit = { false, true } }

local function bool_attr(v, default)
  if v == nil or v == "" then
    return default
  end
  v = v:lower()
  if v == "true" then
    return true
  elseif v == "false" then
    return false
  end
  return nil
end

-- Plays waitUrl (its Play, Say, Pause, Redirect) in a loop while m waits.
-- Module-level: the session waits here for the whole wait.
local function conference_wait_music(call, ctx, m, url, method, line)
  local warned = false
  local rounds = 0
  while m:waiting() and call.alive ~= false do
    local tree, sub = ctx:fetch_document(url, method)
    if not tree then
      if sub == "hangup" then
        return "hangup"
      end
      return nil                -- notified; the member waits in silence
    end
    local nodes, sound = {}, false
    for _, c in ipairs(tree.children or {}) do
      if CONF_WAIT_VERBS[c.name] then
        nodes[#nodes + 1] = c
        sound = sound or c.name ~= "Redirect"
      elseif not warned then
        warned = true
        ctx:notify(12200, "warning", ("<Conference> line %d: <%s> is not allowed " ..
          "in a waitUrl document (only Play, Say, Pause, Redirect); skipped")
          :format(line, tostring(c.name)))
      end
    end
    local r, why = sub:run(nodes)
    if r == nil and why == "hangup" then
      return "hangup"
    end
    if type(r) == "table" then
      url, method = r.url, r.method   -- a Redirect: the next document
    end
    rounds = rounds + 1
    if not sound and m:waiting() then
      call:pause(1)             -- a document with nothing to hear: no storm
    end
  end
  return nil
end

local function conference(call, node, noun, ctx)
  local a, line = noun.attrs or {}, noun.line or node.line or 0
  local name = trim(noun.text or "")
  local function warn(fmt, ...)
    ctx:notify(12200, "warning", ("<Conference> line %d: " .. fmt):format(line, ...))
  end
  if name == "" or #name > 255 then
    return nil, "invalid-rcml", ("<Conference> line %d: the room name must be 1 to 255 "
      .. "characters"):format(line)
  end
  local function flag(attr, default)
    local v = bool_attr(a[attr], default)
    if v == nil then
      warn("invalid %s=\"%s\"; using %s", attr, a[attr], tostring(default))
      return default
    end
    return v
  end
  local beep = CONF_BEEP[(a.beep or "true"):lower()]
  if not beep then
    warn("invalid beep=\"%s\"; using true", a.beep)
    beep = CONF_BEEP["true"]
  end
  local max = 40
  if a.maxParticipants then
    local n = math.tointeger(tonumber(a.maxParticipants))
    if n and n >= 1 and n <= 1000 then
      max = n
    else
      warn("invalid maxParticipants=\"%s\"; using 40", a.maxParticipants)
    end
  end
  local wait_url = a.waitUrl
  local record = false
  if a.record ~= nil and a.record ~= "" then
    local r = a.record:lower()
    if r == "record-from-start" or r == "true" then
      record = true
    elseif r ~= "do-not-record" and r ~= "false" then
      warn("invalid record=\"%s\"; not recording", a.record)
    end
  end
  local sc = a.statusCallback and a.statusCallback ~= "" and ctx:resolve(a.statusCallback)
    or nil
  if not call.answered then
    local ok, err = call:answer()
    if not ok then
      return nil, err == "hangup" and "hangup" or err
    end
  end
  local m, err = call:conference({
    name = name, muted = flag("muted", false),
    beep_enter = beep[1], beep_exit = beep[2],
    start_on_enter = flag("startConferenceOnEnter", true),
    end_on_exit = flag("endConferenceOnExit", false),
    max_participants = max,
    hold_music = wait_url == nil,
    status_callback = sc, status_callback_method = a.statusCallbackMethod,
    status_events = a.statusCallbackEvent,
    record = record,
  })
  if not m then
    if err == "hangup" then
      return nil, "hangup"
    end
    if err ~= "limit" then
      return nil, err, ("<Conference> line %d: cannot join '%s': %s")
        :format(line, name, tostring(err))
    end
    plugin:log("info", "call %s: conference %s is full", call.sid, name)
    return { status = "busy" }
  end
  if wait_url and wait_url ~= "" and m:waiting() then
    if conference_wait_music(call, ctx, m, wait_url, a.waitMethod, line) == "hangup" then
      return nil, "hangup"
    end
  end
  local res, why = m:wait()
  if not res then
    return nil, why
  end
  return { status = "completed", conference_sid = res.conference_sid }
end

plugin:verb("Dial", {
  attrs = {
    action = { type = "string" },
    method = { type = "method", default = "POST", code = 13210 },
    timeout = { type = "integer", min = 1, max = 86400, default = 30, code = 13212 },
    timeLimit = { type = "integer", min = 1, max = 604800, default = 14400,
                  code = 13216 },
    callerId = { type = "string", code = 13214 },
    hangupOnStar = { type = "boolean", default = false },
    record = { type = "enum", values = { "true", "false", "record-from-answer",
               "record-from-answer-dual", "do-not-record" }, default = "false",
               code = 12200 },
    ringTone = { type = "enum", values = RING_TONES },
  },
  nests = { "Number", "Client", "Sip", "Conference" },
}, function (call, node, ctx)
  local targets = {}
  for _, noun in ipairs(node.children) do
    if #targets >= MAX_NOUNS then
      ctx:notify(12200, "warning",
        ("<Dial> line %d: more than %d nouns; the rest are ignored")
          :format(node.line or 0, MAX_NOUNS))
      break
    end
    if noun.name == "Number" then
      add(targets, ctx, "number", noun.text, noun.attrs)
    elseif noun.name == "Client" then
      add(targets, ctx, "client", noun.text, noun.attrs)
    elseif noun.name == "Sip" then
      add(targets, ctx, "sip", noun.text, noun.attrs)
    elseif noun.name == "Conference" then
      -- handled above
    else
      ctx:notify(12200, "warning",
        ("<Dial> line %d: <%s> is not supported; ignored")
          :format(noun.line or 0, noun.name))
    end
  end
  for _, noun in ipairs(node.children) do
    if noun.name == "Conference" then
      -- A conference is the whole Dial (other nouns are ignored).
      local r, e1, e2 = conference(call, node, noun, ctx)
      if not r then
        return nil, e1, e2
      end
      local action = node.attrs.action
      if action == nil or action == "" then
        return call.alive ~= false or nil, call.alive == false and "hangup" or nil
      end
      if call.alive == false then
        return nil, "hangup"
      end
      local params = { { "DialCallStatus", r.status } }
      if r.conference_sid then
        params[#params + 1] = { "ConferenceSid", r.conference_sid }
      end
      return { url = action, method = node.attrs.method, params = params }
    end
  end
  if #node.children == 0 then
    add(targets, ctx, "number", node.text)
  end
  if #targets == 0 then
    return nil, "invalid-rcml", "<Dial> has nothing to dial"
  end

  local has_sip = false
  for _, t in ipairs(targets) do
    has_sip = has_sip or t.kind == "sip"
  end
  local attrs = node.attrs
  if ANSWER_ON_DIAL and not call.answered then
    local ok, aerr = call:answer()
    if not ok then
      return nil, aerr == "hangup" and "hangup" or aerr
    end
  end
  -- The session waits in call:dial for the whole call: hand the targets
  -- over in a box emptied on the way (dial_args), so that no local keeps
  -- them alive meanwhile (call:dial copies what it needs).
  local box = { targets }
  targets = nil
  local res, err = call:dial(dial_args(box, attrs, ctx))
  if not res then
    if err == "hangup" then
      return nil, "hangup"
    end
    return nil, err, ("<Dial> line %d: cannot dial: %s"):format(node.line or 0, err)
  end
  plugin:log("info", "call %s: dial %s (%s)", call.sid, res.status,
    res.sid or "no leg")

  local action = attrs.action
  if action == nil or action == "" then
    if not call.alive then
      return nil, "hangup"
    end
    return true
  end
  local params = {
    { "DialCallSid", res.sid or "null" },
    { "DialCallStatus", res.status },
    { "DialCallDuration", tostring(res.duration or 0) },
  }
  if res.ring_duration then
    params[#params + 1] = { "DialRingDuration", tostring(res.ring_duration) }
  end
  if res.recording_url then
    params[#params + 1] = { "RecordingUrl", res.recording_url }
    params[#params + 1] = { "PublicRecordingUrl", res.recording_url }
  end
  if has_sip then
    params[#params + 1] = { "DialSipCallId", res.sip_call_id or "null" }
    params[#params + 1] = { "DialSipResponseCode", tostring(res.sip_status or 0) }
    for _, h in ipairs(res.headers or {}) do
      params[#params + 1] = { "DialSipHeader_" .. h[1], h[2] }
    end
  end
  if not call.alive then
    -- The caller hung up while the dialled party talked: there is no call
    -- left to run a document on (the call module requested the action).
    return nil, "hangup"
  end
  return { url = action, method = attrs.method, params = params }
end)
