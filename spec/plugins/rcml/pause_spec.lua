-- plugins/rcml/pause.lua
local rcml = require "switchboard.rcml"
local fake_call = require "helpers.fake_call"
local fake_host = require "helpers.fake_host"

local URL = "http://a/x"

local function run(body, call)
  local host = fake_host.new({
    plugins = { "rcml/pause.lua" },
    documents = { [URL] = "<Response>" .. body .. "</Response>" },
  })
  call = call or fake_call.new()
  return rcml.run(call, host, { url = URL }), call, host
end

describe("plugins/rcml/pause.lua", function ()
  it("waits one second by default", function ()
    local r, call = run("<Pause/>")
    assert.are.equal("completed", r)
    assert.are.equal("pause", call.actions[1][1])
    assert.are.equal(1, call.actions[1][2])
  end)

  it("waits length seconds", function ()
    local _, call = run("<Pause length=\"12\"/>")
    assert.are.equal(12, call.actions[1][2])
  end)

  it("does not wait for length 0", function ()
    local _, call = run("<Pause length=\"0\"/>")
    assert.are.same({ "hangup" }, call:action_names())
  end)

  -- Issue 23: Pause 0 counted as progress, so it defeated the guard
  -- against documents that do nothing but redirect.
  it("does not defeat the Redirect-loop guard with length 0", function ()
    local fetched = 0
    local host = fake_host.new({
      plugins = { "rcml/pause.lua", "rcml/redirect.lua" },
      documents = { [URL] = function (req)
        fetched = fetched + 1           -- the spec ends an endless loop itself
        local body = fetched < 100 and "<Response><Pause length=\"0\"/>"
          .. "<Redirect>x</Redirect></Response>" or "<Response/>"
        return { status = 200, body = body, content_type = "text/xml", url = req.url }
      end },
    })
    local call = fake_call.new()
    assert.are.equal("failed", rcml.run(call, host, { url = URL }))
    assert.are.same({ 11215 }, host:codes())
    assert.is_true(fetched <= 12)
    -- A Pause that waits is progress: 15 such documents are no loop.
    local n = 0
    host.documents[URL] = function (req)
      n = n + 1
      local body = n <= 15 and "<Response><Pause length=\"1\"/><Redirect>x</Redirect>"
        .. "</Response>" or "<Response/>"
      return { status = 200, body = body, content_type = "text/xml", url = req.url }
    end
    host.notifications = {}
    assert.are.equal("completed", rcml.run(fake_call.new(), host, { url = URL }))
    assert.are.equal(16, n)
    assert.are.same({}, host:codes())
  end)

  it("does not answer the call", function ()
    local _, call = run("<Pause length=\"2\"/>")
    for _, a in ipairs(call.actions) do
      assert.are_not.equal("answer", a[1])
    end
  end)

  it("waits up to call:pause's limit, 86400 s", function ()
    local _, call, host = run("<Pause length=\"86400\"/>")
    assert.are.same({}, host.notifications)
    assert.are.equal(86400, call.actions[1][2])
  end)

  it("waits on an answered call between prompts (silence on the media clock)", function ()
    local host = fake_host.new({
      plugins = { "rcml/pause.lua", "rcml/play.lua", "rcml/say.lua" },
      documents = { [URL] = "<Response><Say>one</Say><Pause length=\"2\"/>"
        .. "<Play>two.wav</Play></Response>" },
    })
    local answered
    local call = fake_call.new({ script = { pause = { function (c, seconds)
      answered = c.answered
      return seconds == 2 or nil
    end } } })
    assert.are.equal("completed", rcml.run(call, host, { url = URL }))
    assert.is_true(answered)
    assert.are.same({ "prefetch", "play", "pause", "play", "hangup" }, call:action_names())
  end)

  for _, bad in ipairs({ "-1", "1.5", "soon", "", "86401", "99999999999999999999", "1e3" }) do
    it(("reports length=\"%s\" as 13910 and waits 1 s"):format(bad), function ()
      local _, call, host = run(("<Pause length=\"%s\"/>"):format(bad))
      assert.are.same({ 13910 }, host:codes())
      assert.are.equal("warning", host.notifications[1].level)
      assert.are.equal(1, call.actions[1][2])
    end)
  end

  it("treats \"interrupted\" (a Gather's input) as the end of the Pause", function ()
    local r, call, host = run("<Pause length=\"5\"/><Pause length=\"2\"/>",
      fake_call.new({ script = { pause = { "interrupted" } } }))
    assert.are.equal("completed", r)
    assert.are.same({}, host.notifications)
    assert.are.same({ "pause", "pause", "hangup" }, call:action_names())
    assert.are.equal(2, call.actions[2][2])
  end)

  it("returns nil, \"hangup\" when the call ends while waiting", function ()
    local host = fake_host.new({ plugins = { "rcml/pause.lua" } })
    local call = fake_call.new({ script = { pause = { "hangup" } } })
    local ok, err = host.manager:verb("Pause").fn(call, { attrs = { length = 5 } })
    assert.is_nil(ok)
    assert.are.equal("hangup", err)
  end)

  it("ends the application quietly on hangup", function ()
    local r, call, host = run("<Pause/><Pause/>",
      fake_call.new({ script = { pause = { "hangup" } } }))
    assert.are.equal("hangup", r)
    assert.are.same({ "pause" }, call:action_names())
    assert.are.same({}, host.notifications)
  end)
end)
