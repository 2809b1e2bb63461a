-- <Say voice="man" language="en" loop="1">text</Say>: speak text with the
-- server's text-to-speech (espeak-ng). The call is answered first if it
-- was not (speech starts at the ACK).
--
--   voice     man (default), woman (Restcomm); alice, Polly.*, Google.*
--             (Twilio) are accepted and mapped by the synthesizer to its
--             nearest voice. Anything else: Notification 13511
--             (Restcomm's "invalid voice value"), warning, and man.
--   language  en (default), en-gb, es, fr, de, it, pt-BR, ... A language
--             the synthesizer does not know is spoken in English, with a
--             warning Notification 13512 (Restcomm uses English silently).
--   loop      times to speak, 0..10000; default 1, 0 = until the
--             caller hangs up. Invalid: Notification 13510 (Restcomm's
--             "invalid loop value"), warning, and 1.
--
-- Bad input is reported and THE NEXT VERB RUNS (the call is not hung up):
--
--   empty or whitespace-only text, text longer
--   than 4096 characters (option max_chars),
--   call:play's "invalid" or "too-big"          13520 Say: invalid text
--                                               (Twilio's), warning
--   "media" (the synthesizer failed) or any
--   other reason                                12400 internal failure, error
--
-- "hangup" and "canceled" end the document quietly. The document's
-- pre-scan (spec.prefetch below) synthesizes every Say when the document
-- is parsed, so that the speech is ready before its turn.

-- Keep in step with tts.max_chars when that is raised:
-- plugins.options = { rcml = { say = { max_chars = 8000 } } }.
local MAX_CHARS = plugin:option_integer("max_chars", 4096)

local VOICES = { man = "man", woman = "woman", alice = "alice" }

-- The voice passed to call:play, and whether the attribute was valid.
local function voice_of(v)
  if v == nil or v == "" then
    return "man", true
  end
  local known = VOICES[v:lower()]
  if known then
    return known, true
  end
  if v:match("^Polly%.[%w%-]+$") or v:match("^Google%.[%w%-]+$") then
    return v, true
  end
  return "man", false
end

local function language_of(l)
  if l == nil or l == "" then
    return "en"
  end
  return l
end

local function too_long(text)
  return (utf8.len(text) or #text) > MAX_CHARS
end

plugin:verb("Say", {
  attrs = {
    voice = { type = "string" },
    language = { type = "string" },
    loop = { type = "integer", min = 0, max = 10000, default = 1, code = 13510 },
  },
  nests = false,
  -- The document pre-scan: what to synthesize ahead.
  prefetch = function (node)
    local text = node.text
    if text:match("^%s*$") or too_long(text) then
      return nil
    end
    return {
      text = text,
      voice = (voice_of(node.attrs.voice)),
      language = language_of(node.attrs.language),
    }
  end,
}, function (call, node, ctx)
  local line = node.line or 0
  local text = node.text
  if text:match("^%s*$") then
    ctx:notify(13520, "warning", ("<Say> line %d: no text to say"):format(line))
    return true
  end
  if too_long(text) then
    ctx:notify(13520, "warning",
      ("<Say> line %d: text longer than %d characters"):format(line, MAX_CHARS))
    return true
  end
  local voice, valid = voice_of(node.attrs.voice)
  if not valid then
    ctx:notify(13511, "warning",
      ("<Say> line %d: invalid voice=\"%s\"; using man"):format(line, node.attrs.voice))
  end
  local language = language_of(node.attrs.language)

  local ok, info, detail = call:play({
    text = text, voice = voice, language = language, loop = node.attrs.loop,
  })
  if ok then
    if type(info) == "table" and info.language_fallback then
      ctx:notify(13512, "warning",
        ("<Say> line %d: language \"%s\" is not available; English was used")
          :format(line, language))
    end
    return true
  end
  local reason = info
  if reason == "interrupted" then
    return true                 -- a Gather's input came: the next prompt
  end
  if reason == "hangup" or reason == "canceled" then
    return nil, "hangup"
  end
  local msg = ("<Say> line %d: %s"):format(line, tostring(detail or reason))
  if reason == "invalid" or reason == "too-big" then
    ctx:notify(13520, "warning", msg)
  else
    ctx:notify(12400, "error", msg)
  end
  return true
end)
