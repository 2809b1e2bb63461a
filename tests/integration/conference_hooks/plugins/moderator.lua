-- A test plugin on the conference hooks: logs every event, and keeps a
-- room to one speaker: whoever joins after the first is muted.
for _, name in ipairs({ "join", "leave", "start", "end", "mute" }) do
  plugin:hook("conference." .. name, function (ev)
    plugin:log("info", "hook %s room=%s members=%d muted=%s call=%s", ev.event, ev.name,
      ev.members, tostring(ev.muted), ev.call_sid or "-")
    if ev.event == "join" and ev.members > 1 and ev.call then
      assert(ev.call:mute(true))
    end
  end)
end
