-- <Hangup/>: end the call. No attributes, no nested elements.
-- The verbs after it never run.

plugin:verb("Hangup", { nests = false }, function (call)
  call:hangup()                         -- nil, "hangup" if already gone
  return false                          -- the application is over
end)
