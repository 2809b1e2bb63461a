-- Visual Designer (RVD) variables in fetched RCML (restcomm.md 4).
--
-- Before a document is parsed, every $name in its text is replaced with
-- the value of a variable built from the request parameters the document
-- was fetched with:
--   * a builtin parameter (CallSid, From, ReferTarget, ...) is $core_<Name>;
--   * SipHeader_<H> and DialSipHeader_<H> are $core_<h>, <h> lower-cased
--     with every character outside [A-Za-z0-9_] turned into "_"
--     (SipHeader_X-My-Header -> $core_x_my_header);
--   * sticky_* and module_* keep their names; every other parameter is
--     a variable of the same name.
-- A name is looked up as name, module_name, sticky_name; an unknown one
-- becomes "" (RVD's rule; option keep_unknown = true leaves it as is).
-- Values are XML-escaped, since they land inside XML text.
--
-- It is an ordinary hook on "rcml.document": a deployment disables it with
-- plugins.options.visual_designer = { enabled = false } or replaces it
-- with its own file of the same name earlier in plugins.paths.

local keep_unknown = plugin:option_boolean("keep_unknown", false)

local BUILTIN = {}
for _, name in ipairs({
  "CallSid", "AccountSid", "From", "To", "Body", "CallStatus", "ApiVersion",
  "Direction", "CallerName", "CallTimestamp", "ForwardedFrom", "SmsSid",
  "SmsStatus", "InstanceId", "ReferTarget", "Transferor", "Transferee",
  -- step results set on action callbacks
  "DialCallStatus", "DialCallSid", "DialCallDuration", "DialRingDuration",
  "RecordingUrl", "PublicRecordingUrl", "RecordingDuration", "Digits",
  "SpeechResult", "UnstableSpeechResult", "EmailSid", "EmailStatus",
  "FaxSid", "FaxStatus",
}) do
  BUILTIN[name] = true
end

local ESCAPES = {
  ["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;", ['"'] = "&quot;",
  ["'"] = "&apos;",
}

local function escape(s)
  return (s:gsub("[&<>\"']", ESCAPES))
end

-- Request parameters (array of { name, value } or a map) -> variables.
local function variables(params)
  local vars = {}
  local function add(name, value)
    value = tostring(value)
    if BUILTIN[name] then
      vars["core_" .. name] = value
      return
    end
    local header = name:match("^SipHeader_(.+)$")
      or name:match("^DialSipHeader_(.+)$")
    if header then
      vars["core_" .. header:lower():gsub("[^%w_]", "_")] = value
      return
    end
    vars[name] = value                  -- sticky_*, module_* and the rest
  end
  if params[1] ~= nil then
    for _, p in ipairs(params) do
      add(p[1], p[2])
    end
  else
    for k, v in pairs(params) do
      add(k, v)
    end
  end
  return vars
end

local function lookup(vars, name)
  return vars[name] or vars["module_" .. name] or vars["sticky_" .. name]
end

plugin:hook("rcml.document", function (ev)
  local text = ev.text
  if type(text) ~= "string" or not text:find("$", 1, true) then
    return nil
  end
  local vars = variables(ev.params or {})
  ev.text = text:gsub("%$([%a][%w_]*)", function (name)
    local v = lookup(vars, name)
    if v ~= nil then
      return escape(v)
    end
    if keep_unknown then
      return nil                        -- gsub keeps the match
    end
    return ""
  end)
  return nil                            -- let later hooks see ev.text
end)
