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
-- The caller is answered when the dialled party answers (unless the
-- document answered before). When the Dial ends, with an action the
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

-- Appends a target for a noun to targets (nothing for an empty text).
-- Module-level, like split: a session waits in <Dial> for the whole call,
-- and closures made per <Dial> would stay alive with it.
local function add(targets, ctx, kind, text, attrs)
  text = (text or ""):match("^%s*(.-)%s*$")
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
    else
      ctx:notify(12200, "warning",
        ("<Dial> line %d: <%s> is not supported; ignored")
          :format(noun.line or 0, noun.name))
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
