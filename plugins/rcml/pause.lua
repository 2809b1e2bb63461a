-- <Pause length="N"/>: wait N seconds (default 1) before the next verb.
-- A Pause does not answer the call: as the first verb it delays the
-- answer (the caller keeps hearing ringing). Once the call is answered,
-- call:pause sends silence on the media clock, so a Pause between two
-- Plays or Says is exactly N seconds of silence in the stream. length
-- must be a whole number >= 0 (at most 86400, call:pause's limit);
-- anything else is reported as Notification 13910 (Restcomm's "invalid
-- Pause length") and the default is used. A Pause of 0 does nothing and
-- says so ("idle"), so it is no progress for the Redirect-loop guard: a
-- document of <Pause length="0"/> and <Redirect> still ends as a loop.

plugin:verb("Pause", {
  attrs = {
    length = { type = "integer", min = 0, max = 86400, default = 1, code = 13910 },
  },
  nests = false,
}, function (call, node)
  local length = node.attrs.length
  if length == 0 then
    return true, "idle"
  end
  local ok, err = call:pause(length)   -- waits; nil, "hangup" on hangup
  if not ok and err ~= "interrupted" then  -- a Gather's input ends it
    return nil, err
  end
  return true
end)
