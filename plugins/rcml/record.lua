-- <Record action method timeout finishOnKey maxLength playBeep trim
-- transcribe>: record what the caller says (restcomm.md 3.3).
--
-- After a beep (playBeep, default true), the caller's audio goes to a WAV
-- file in recordings.dir until `timeout` seconds of silence (default 5;
-- 0: no silence limit), a key of finishOnKey (default 1234567890*#; "-1"
-- or "" for none), maxLength seconds (default 3600) or the hang-up.
-- Silence is measured against the line's own noise floor, so background
-- noise does not keep a recording open. Trailing silence is cut
-- (trim="trim-silence", the default; "do-not-trim" keeps it).
--
-- The action (default: the current document) gets RecordingUrl (the WAV
-- on the REST API; the same path with .mp3 gives an MP3),
-- PublicRecordingUrl, RecordingSid, RecordingDuration (seconds) and
-- Digits (the key, or "hangup"). When the caller hangs up, the server
-- requests the action itself, with Digits=hangup. A recording with no
-- sound in it is not kept: the next verb runs, as when nothing was said.
--
-- Bad input: method 13610, timeout 13611, maxLength 13612, finishOnKey
-- 13613 (warnings, defaults used); transcribe="true" is a warning 13614
-- (transcription is not offered); a recording that fails (disk full,
-- folder not writable) is an error Notification 12400, and what was
-- written is kept and reported to the action.

plugin:verb("Record", {
  attrs = {
    action = { type = "string" },
    method = { type = "method", default = "POST", code = 13610 },
    timeout = { type = "integer", min = 0, max = 3600, default = 5, code = 13611 },
    finishOnKey = { type = "string" },
    maxLength = { type = "integer", min = 1, max = 86400, default = 3600, code = 13612 },
    playBeep = { type = "boolean", default = true, code = 12200 },
    trim = { type = "enum", values = { "trim-silence", "do-not-trim" },
             default = "trim-silence", code = 12200 },
    transcribe = { type = "boolean", default = false, code = 12200 },
    transcribeCallback = { type = "string" },
  },
  nests = false,
}, function (call, node, ctx)
  local a, line = node.attrs, node.line or 0
  local keys = a.finishOnKey
  if keys == nil then
    keys = "1234567890*#"
  elseif keys == "-1" then
    keys = ""
  elseif keys ~= "" and not keys:match("^[0-9*#]+$") then
    ctx:notify(13613, "warning",
      ("<Record> line %d: invalid finishOnKey=\"%s\"; using 1234567890*#")
        :format(line, keys))
    keys = "1234567890*#"
  end
  if a.transcribe then
    ctx:notify(13614, "warning",
      ("<Record> line %d: transcription is not offered by this server; " ..
       "recording without it"):format(line))
  end
  local action = a.action
  if action == nil or action == "" then
    action = ctx.url
  else
    action = ctx:resolve(action) or ctx.url
  end

  local res, reason, detail = call:record({
    max_length = a.maxLength, timeout = a.timeout, finish_on_key = keys,
    beep = a.playBeep, trim = a.trim == "trim-silence",
    action = action, method = a.method,
  })
  if not res then
    if reason == "hangup" or reason == "canceled" then
      return nil, "hangup"
    end
    if reason == "limit" then
      detail = "too many recordings at once (recordings.max_concurrent)"
    end
    ctx:notify(12400, "error", ("<Record> line %d: cannot record: %s")
      :format(line, tostring(detail or reason)))
    return true
  end
  if res.error then
    ctx:notify(12400, "error", ("<Record> line %d: the recording failed: %s")
      :format(line, res.error))
  end
  if not res.sid then
    return true                 -- nothing recorded: the next verb runs
  end
  return {
    url = action, method = a.method,
    params = {
      { "RecordingUrl", res.url },
      { "PublicRecordingUrl", res.url },
      { "RecordingSid", res.sid },
      { "RecordingDuration", tostring(math.floor(res.duration + 0.5)) },
      { "Digits", res.digits },
    },
  }
end)
