-- plugins/rcml/play.lua
local rcml = require "switchboard.rcml"
local fake_call = require "helpers.fake_call"
local fake_host = require "helpers.fake_host"

local URL = "http://a.test/app/x.xml"

local function run(body, call)
  local host = fake_host.new({
    plugins = { "rcml/play.lua", "rcml/pause.lua", "rcml/hangup.lua" },
    documents = { [URL] = "<Response>" .. body .. "</Response>" },
  })
  call = call or fake_call.new()
  return rcml.run(call, host, { url = URL }), call, host
end

-- The specs given to call:play, in order.
local function plays(call)
  local out = {}
  for _, a in ipairs(call.actions) do
    if a[1] == "play" then
      out[#out + 1] = a[2]
    end
  end
  return out
end

local function names_without_prefetch(call)
  local out = {}
  for _, n in ipairs(call:action_names()) do
    if n ~= "prefetch" then
      out[#out + 1] = n
    end
  end
  return out
end

describe("plugins/rcml/play.lua", function ()
  it("plays a relative URL once, resolved against the document", function ()
    local r, call, host = run("<Play>../audio/hello.wav</Play>")
    assert.are.equal("completed", r)
    assert.are.same({ { url = "http://a.test/audio/hello.wav", loop = 1 } }, plays(call))
    assert.are.same({ "play", "hangup" }, names_without_prefetch(call))
    assert.are.same({}, host.notifications)
  end)

  it("leaves answering to call:play (no separate answer)", function ()
    local answered_at_pause
    local call = fake_call.new({ script = { pause = { function (c)
      answered_at_pause = c.answered
      return true
    end } } })
    run("<Play>a.wav</Play><Pause/>", call)
    assert.is_true(answered_at_pause)
    assert.are.same({ "play", "pause", "hangup" }, names_without_prefetch(call))
  end)

  it("keeps absolute http, https and file URLs and drops the fragment", function ()
    local _, call = run([[
      <Play>https://cdn.test/a.mp3?v=2#frag</Play><Play>file:///srv/media/b.wav</Play>
    ]])
    assert.are.same({ "https://cdn.test/a.mp3?v=2", "file:///srv/media/b.wav" },
      { plays(call)[1].url, plays(call)[2].url })
  end)

  it("passes loop, 0 meaning until hangup", function ()
    local _, call = run("<Play loop=\"3\">a.wav</Play><Play loop=\"0\">b.wav</Play>")
    assert.are.same({ 3, 0 }, { plays(call)[1].loop, plays(call)[2].loop })
  end)

  for _, bad in ipairs({ "-1", "two", "1.5", "", "10001" }) do
    it(("reports loop=\"%s\" as 13410 and plays once"):format(bad), function ()
      local _, call, host = run(("<Play loop=\"%s\">a.wav</Play>"):format(bad))
      assert.are.same({ 13410 }, host:codes())
      assert.are.equal("warning", host.notifications[1].level)
      assert.are.equal(1, plays(call)[1].loop)
    end)
  end

  it("plays digits with an empty body", function ()
    local _, call, host = run("<Play digits=\"ww12*#W9\"/>")
    assert.are.same({ { digits = "ww12*#w9", loop = 1 } }, plays(call))
    assert.are.same({}, host.notifications)
  end)

  it("plays digits, not the URL, when both are given (warning 12200)", function ()
    local _, call, host = run("<Play digits=\"5\">a.wav</Play>")
    assert.are.same({ { digits = "5", loop = 1 } }, plays(call))
    assert.are.same({ 12200 }, host:codes())
    assert.are.equal("warning", host.notifications[1].level)
  end)

  it("reports invalid digits (12200) and plays the URL instead", function ()
    local _, call, host = run("<Play digits=\"12x\">a.wav</Play>")
    assert.are.same({ { url = "http://a.test/app/a.wav", loop = 1 } }, plays(call))
    assert.are.same({ 12200 }, host:codes())
  end)

  it("reports more than 64 digits and skips a Play with no URL", function ()
    local _, call, host = run(("<Play digits=\"%s\"/><Pause/>"):format(("1"):rep(65)))
    assert.are.same({}, plays(call))
    assert.are.same({ 12200, 11100 }, host:codes())
    assert.are.same({ "pause", "hangup" }, names_without_prefetch(call))
  end)

  it("reports an empty URL (11100) and runs the next verb", function ()
    local r, call, host = run("<Play>  </Play><Pause length=\"2\"/>")
    assert.are.equal("completed", r)
    assert.are.same({ 11100 }, host:codes())
    assert.are.equal("error", host.notifications[1].level)
    assert.are.equal(URL, host.notifications[1].url)
    assert.are.same({ "pause", "hangup" }, names_without_prefetch(call))
  end)

  it("reports a URL of another scheme (11100) and runs the next verb", function ()
    local _, call, host = run("<Play>ftp://h.test/a.wav</Play><Pause/>")
    assert.are.same({ 11100 }, host:codes())
    assert.matches("ftp://h.test/a.wav", host.notifications[1].message)
    assert.are.same({ "pause", "hangup" }, names_without_prefetch(call))
  end)

  -- The bad-input rule: each failure is a Notification and the next verb
  -- runs; the call is not hung up by the Play.
  local cases = {
    { "not-found", "HTTP 404 from http://a.test/app/b.wav", 21402 },
    { "not-found", "HTTP 500 from http://a.test/app/b.wav", 11200 },
    { "not-found", "not found", 21402 },
    { "network", "connection refused by a.test:80", 11205 },
    { "timeout", "no answer from a.test in 10 s", 11205 },
    { "format", "not a WAV or MP3 file", 12300 },
    { "format", "truncated data chunk", 12300 },
    { "too-big", "over 33554432 bytes", 11206 },
    { "forbidden", "file:// outside media.root", 11100 },
    { "invalid", "not a URL", 11100 },
    { "weird", "something new", 12400 },
  }
  for _, c in ipairs(cases) do
    it(("reports %s (%s) as %d and runs the next verb"):format(c[1], c[2], c[3]), function ()
      local call = fake_call.new({ script = { play = { true, { nil, c[1], c[2] } } } })
      local r, _, host = run("<Play>a.wav</Play><Play>b.wav</Play><Pause length=\"4\"/>", call)
      assert.are.equal("completed", r)
      assert.are.same({ c[3] }, host:codes())
      local n = host.notifications[1]
      assert.are.equal("error", n.level)
      assert.are.equal(call.sid, n.call_sid)
      assert.matches("<Play> line 1: " .. c[2]:gsub("%p", "%%%0"), n.message)
      assert.are.same({ "play", "play", "pause", "hangup" }, names_without_prefetch(call))
      assert.are.equal(4, call.actions[#call.actions - 1][2])
    end)
  end

  it("ends the document quietly when the caller hangs up while it plays", function ()
    local call = fake_call.new({ script = { play = { "hangup" } } })
    local r, _, host = run("<Play loop=\"0\">a.wav</Play><Pause/>", call)
    assert.are.equal("hangup", r)
    assert.are.same({ "play" }, names_without_prefetch(call))
    assert.are.same({}, host.notifications)
  end)

  it("ends the document quietly when its playback is canceled", function ()
    local call = fake_call.new({ script = { play = { "canceled" } } })
    local r, _, host = run("<Play>a.wav</Play><Pause/>", call)
    assert.are.equal("hangup", r)
    assert.are.same({ "play" }, names_without_prefetch(call))
    assert.are.same({}, host.notifications)
  end)

  it("treats \"interrupted\" (a Gather's input) as the end of the Play", function ()
    local call = fake_call.new({ script = { play = {
      { nil, "interrupted", "interrupted by the caller's input" },
    } } })
    local r, _, host = run("<Play>a.wav</Play><Play>b.wav</Play><Pause length=\"4\"/>", call)
    assert.are.equal("completed", r)
    assert.are.same({}, host.notifications)
    assert.are.same({ "play", "play", "pause", "hangup" }, names_without_prefetch(call))
  end)

  it("warns about nested elements and still plays", function ()
    local _, call, host = run("<Play>a.wav<Say>x</Say></Play>")
    assert.are.same({ 12200 }, host:codes())
    assert.are.equal(1, #plays(call))
  end)

  it("is prefetched with the document", function ()
    local _, call = run("<Pause/><Play>a.wav</Play>")
    assert.are.same("prefetch", call.actions[1][1])
    assert.are.same({ { url = "http://a.test/app/a.wav" } }, call.actions[1][2])
  end)
end)
