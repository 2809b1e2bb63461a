-- <Gather action method timeout finishOnKey numDigits input hints language
-- partialResultCallback partialResultCallbackMethod speechTimeout>: collect
-- digits (and speech) from the caller while the nested <Say>, <Play> and
-- <Pause> prompts play (restcomm.md 3.3).
--
-- Input is listened for from the start: a key pressed during a prompt
-- stops it (barge-in) and skips the remaining prompts. After the prompts,
-- the caller has `timeout` seconds for the first key, and again after
-- each key. Input ends on a key of finishOnKey (not part of Digits), on
-- numDigits keys, on the timeout, or with a recognized utterance.
--
--   action     where the input goes; default: the current document
--   method     POST (default) or GET; invalid: 13312 warning, POST
--   timeout    seconds, 1..86400, default 5; invalid: 13313 warning, 5
--   finishOnKey  keys that end the input, 0-9 * # (several allowed), ""
--              for none; default #. Invalid: 13310 warning, #
--   numDigits  1..128; invalid: 13314 warning, no limit
--   input      dtmf (default), speech, "dtmf speech"; invalid: 12200
--              warning, dtmf
--   hints      speech: the phrases to recognize ("sales, support"). Only
--              grammar-constrained recognition is offered: speech without
--              hints is a warning (12200) and only digits are gathered.
--   language   speech: en-US (only English models are installed)
--   speechTimeout  seconds of silence that end an utterance ("auto": 1)
--   partialResultCallback(Method)  partial speech results are sent
--              there (UnstableSpeechResult, Stability, SequenceNumber)
--
-- With input, the action is requested with Digits (and, for speech,
-- SpeechResult and Confidence) and its document runs. Without any (the
-- timeout, or only finishOnKey), NO ACTION IS REQUESTED and the next
-- verb runs (Restcomm's rule).

local uri = require "switchboard.uri"

local INPUTS = { dtmf = true, speech = true, ["dtmf speech"] = true,
                 ["speech dtmf"] = true }

local function keys_ok(k)
  return k == "" or (#k <= 16 and k:match("^[0-9*#]+$") ~= nil)
end

plugin:verb("Gather", {
  attrs = {
    action = { type = "string" },
    method = { type = "method", default = "POST", code = 13312 },
    timeout = { type = "integer", min = 1, max = 86400, default = 5, code = 13313 },
    finishOnKey = { type = "string" },
    numDigits = { type = "integer", min = 1, max = 128, code = 13314 },
    input = { type = "string" },
    hints = { type = "string" },
    language = { type = "string" },
    speechTimeout = { type = "string" },
    partialResultCallback = { type = "string" },
    partialResultCallbackMethod = { type = "method", default = "POST", code = 12200 },
  },
  nests = { "Say", "Play", "Pause" },
}, function (call, node, ctx)
  local a, line = node.attrs, node.line or 0
  local function warn(code, fmt, ...)
    ctx:notify(code, "warning", ("<Gather> line %d: " .. fmt):format(line, ...))
  end

  local keys = a.finishOnKey
  if keys == nil then
    keys = "#"
  elseif not keys_ok(keys) then
    warn(13310, "invalid finishOnKey=\"%s\"; using #", keys)
    keys = "#"
  end
  local input = (a.input or "dtmf"):lower():gsub("^%s+", ""):gsub("%s+$", "")
    :gsub("%s+", " ")
  if not INPUTS[input] then
    warn(12200, "invalid input=\"%s\"; using dtmf", a.input)
    input = "dtmf"
  end
  local hints = a.hints
  if input:find("speech") and (hints == nil or hints:match("^[%s,]*$")) then
    warn(12200, "speech without hints: open-vocabulary recognition is not " ..
      "offered; gathering digits only")
    input = "dtmf"
  end
  local speech_timeout = 1
  if a.speechTimeout ~= nil and a.speechTimeout ~= "auto" then
    local n = tonumber(a.speechTimeout)
    if n and n >= 0 and n <= 60 then
      speech_timeout = n
    else
      warn(12200, "invalid speechTimeout=\"%s\"; using auto", a.speechTimeout)
    end
  end
  local partial
  if a.partialResultCallback and a.partialResultCallback ~= "" then
    partial = ctx:resolve(a.partialResultCallback)
    if not partial or not uri.is_http(partial) then
      warn(11100, "invalid partialResultCallback \"%s\"", a.partialResultCallback)
      partial = nil
    end
  end

  -- A Gather answers the call: the caller cannot press keys on a ringing
  -- phone.
  if not call.answered then
    local ok, err = call:answer()
    if not ok then
      return nil, err == "hangup" and "hangup" or err
    end
  end

  local g, err = call:gather({
    input = input, timeout = a.timeout, finish_on_key = keys,
    num_digits = a.numDigits, hints = hints, language = a.language,
    speech_timeout = speech_timeout, partial_url = partial,
    partial_method = a.partialResultCallbackMethod,
  })
  if not g then
    if err == "hangup" then
      return nil, "hangup"
    end
    ctx:notify(12400, "error", ("<Gather> line %d: cannot gather input: %s")
      :format(line, tostring(err)))
    return true
  end

  -- The prompts: ordinary verbs, which input interrupts.
  local ok, r2 = ctx:run(node.children)
  if ok ~= true then
    g:cancel()
    if ok == nil then
      return nil, r2
    end
    return ok
  end

  local res, why = g:wait()
  if not res then
    return nil, why == "hangup" and "hangup" or why
  end
  if res.speech_error then
    warn(12200, "%s", res.speech_error)
  end
  local params = {}
  if res.speech and res.speech ~= "" then
    params[#params + 1] = { "SpeechResult", res.speech }
    params[#params + 1] = { "Confidence", ("%.2f"):format(res.confidence or 0) }
  end
  if res.digits ~= "" then
    params[#params + 1] = { "Digits", res.digits }
  end
  if #params == 0 then
    return true                 -- no input: the next verb runs
  end
  local action = a.action
  if action == nil or action == "" then
    action = ctx.url
  end
  return { url = action, method = a.method, params = params }
end)
