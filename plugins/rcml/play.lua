-- <Play loop="N" digits="...">URL</Play>: play an audio file (WAV or MP3,
-- fetched through the server's audio cache) or, with digits, DTMF tones.
-- The call is answered first if it was not (playback starts at the ACK).
--
--   loop    times to play, 0..10000; default 1, 0 = until the caller
--           hangs up. Invalid: Notification 13410 (Restcomm's "invalid
--           loop value"), warning, and 1.
--   digits  (Twilio) DTMF to play as in-band tones: 0-9 * #, 'w' = a
--           0.5 s pause, at most 64. With digits the URL may be empty; a
--           URL given too is ignored (warning 12200). Invalid digits:
--           warning 12200 and the URL, if any, is played instead.
--   URL     resolved against the document's URL; http, https or file
--           (under media.root). The fragment is dropped.
--
-- A Play that cannot play is reported and THE NEXT VERB RUNS (the call is
-- not hung up). Notifications (level error) by call:play's reason (Restcomm
-- codes; 11200 is Twilio's, Restcomm has none for it):
--
--   no URL and no digits, a URL that is not
--   http/https/file, "invalid", "forbidden"        11100 invalid URL
--   "network", "timeout"                           11205 HTTP connection failure
--   "not-found" with HTTP 404 (or no status)       21402 URL not found
--   "not-found" with another HTTP status           11200 HTTP retrieval failure
--   "format" (not audio, corrupt, truncated)       12300 invalid content type
--   "too-big" (file or duration over the limit)    11206 HTTP protocol violation
--   "media" or anything else                       12400 internal failure
--
-- "hangup" and "canceled" (the session is being stopped) end the document
-- quietly. "interrupted" (a Gather's input came during the prompt) is a
-- normal end: the next verb runs. The document's pre-scan (spec.prefetch below) starts every
-- Play's download when the document is parsed.

local uri = require "switchboard.uri"

local MAX_DIGITS = 64

local CODES = {
  invalid = 11100, forbidden = 11100,
  network = 11205, timeout = 11205,
  format = 12300,
  ["too-big"] = 11206,
}

local function failure_code(reason, detail)
  if reason == "not-found" then
    local status = type(detail) == "string"
      and tonumber(detail:match("HTTP (%d%d%d)")) or nil
    if status ~= nil and status ~= 404 then
      return 11200
    end
    return 21402
  end
  return CODES[reason] or 12400
end

-- The absolute URL to play, or nil and a message.
local function target(ctx, text)
  local url, err = ctx:resolve(text)
  if not url then
    return nil, err
  end
  url = uri.strip_fragment(url)
  local scheme = (uri.parse(url).scheme or ""):lower()
  if scheme == "file" or uri.is_http(url) then
    return url
  end
  return nil, ("'%s' is not an http, https or file URL"):format(text)
end

-- digits normalised ('W' -> 'w'), or nil when invalid.
local function check_digits(d)
  d = d:lower()
  if #d > MAX_DIGITS or not d:match("^[0-9*#w]+$") then
    return nil
  end
  return d
end

plugin:verb("Play", {
  attrs = {
    loop = { type = "integer", min = 0, max = 10000, default = 1, code = 13410 },
    digits = { type = "string" },
  },
  nests = false,
  -- The document pre-scan: what to warm in the audio cache.
  prefetch = function (node, ctx)
    local d = node.attrs.digits
    if node.text == "" or (d and d ~= "" and check_digits(d)) then
      return nil
    end
    local url = target(ctx, node.text)
    return url and { url = url } or nil
  end,
}, function (call, node, ctx)
  local line = node.line or 0
  local loop = node.attrs.loop
  local text = node.text
  local args
  local raw = node.attrs.digits
  if raw ~= nil and raw ~= "" then
    local digits = check_digits(raw)
    if digits == nil then
      ctx:notify(12200, "warning",
        ("<Play> line %d: invalid digits=\"%s\" (0-9 * # w, at most %d)")
          :format(line, raw, MAX_DIGITS))
    else
      if text ~= "" then
        ctx:notify(12200, "warning",
          ("<Play> line %d: digits given; the URL is ignored"):format(line))
      end
      args = { digits = digits, loop = loop }
    end
  end
  if args == nil then
    if text == "" then
      ctx:notify(11100, "error", ("<Play> line %d: no URL to play"):format(line))
      return true
    end
    local url, err = target(ctx, text)
    if not url then
      ctx:notify(11100, "error", ("<Play> line %d: %s"):format(line, err))
      return true
    end
    args = { url = url, loop = loop }
  end

  local ok, reason, detail = call:play(args)
  if ok or reason == "interrupted" then
    return true
  end
  if reason == "hangup" or reason == "canceled" then
    return nil, "hangup"
  end
  ctx:notify(failure_code(reason, detail), "error",
    ("<Play> line %d: %s"):format(line, detail ~= nil and tostring(detail)
      or ("%s (%s)"):format(tostring(reason), args.url or "digits")))
  return true
end)
